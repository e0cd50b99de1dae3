"""`feedsvc serve | clock | build | check | refresh | reload | backup`."""

from __future__ import annotations

import argparse
import errno
import gc
import json
import logging
import resource
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from feedsvc import logs
from feedsvc.config import Config, config_path, load_config, state_dir_of
from feedsvc.control import (
    RefresherRole,
    blocked_state_dir,
    build_lock,
    describe,
    end_by,
    not_a_directory,
    refresher_pid,
    refresher_role,
    refused_beside_another_user,
    request_control,
)
from feedsvc.corpus import check_files, files_gone, over_the_limit, sections_unpublished
from feedsvc.errors import ConfigError, FeedsvcError, LockedError, StateError
from feedsvc.export import RECORD, export
from feedsvc.listing import scan
from feedsvc.publish import Version, archived_pages, load_current, publish_dir
from feedsvc.refresh import Progress, Refresher, RefreshReport
from feedsvc.state import SIDE_FILES, STATE_FILE, StateStore
from feedsvc.urls import base_path, say_local_base_url, say_other_port

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from waitress.server import BaseWSGIServer, MultiSocketServer


log = logging.getLogger("feedsvc")


def main(argv: Sequence[str] | None = None) -> int:
    """`argv` None: this is the `feedsvc` command, in a process of its own."""
    if argv is None:
        # What is imported by now lives until the process ends. Frozen, the cycle collector no
        # longer walks it: not in each full collection, not in the workers a `build` forks
        # (their copies of it stay shared), not at exit, which took ~40 ms of a `feedsvc
        # build` (~16 ms frozen). Not for a caller's argv (a test's): its objects would be
        # frozen too.
        gc.freeze()
        signal.signal(signal.SIGTERM, _terminated)
    parser = _parser()
    args = parser.parse_args(argv)
    logs.configure()
    try:
        result: int
        if args.command is reload_command:
            result = reload_command(args)  # works with a broken config too: that is its point
        else:
            try:
                config = load_config(args.config)
            except ConfigError as e:
                if args.command not in (clock_command, serve_command):
                    raise
                return _start_when_valid(args, e)
            result = args.command(config, args)
        return result
    except FeedsvcError as e:
        if args.command is check_command and args.json:  # the config, or its state_dir
            print(json.dumps({"config_error": str(e)}, indent=1))  # for the script that asked
        print(f"feedsvc: {e}", file=sys.stderr)
        return 2
    except Terminated:
        end_by(signal.SIGTERM)  # once stopped
        return 128 + signal.SIGTERM  # as a shell says it, should the signal come late
    except KeyboardInterrupt:
        return 130


class Terminated(KeyboardInterrupt):
    """SIGTERM (honcho, systemd and docker stop so), taken as Ctrl-C is: a refresh under way
    ends, and the state store is closed, its latest commits written into its own file."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


def _start_when_valid(args: argparse.Namespace, error: ConfigError) -> int:
    """`clock` or `serve` started with an invalid config: where feeds are published, it waits
    for a valid one (`waiting`); where none are, it exits."""
    from feedsvc.waiting import published_state_dir

    state_dir = published_state_dir(args.config)
    if state_dir is None:
        raise error
    with refresher_role(state_dir) as role:
        return _wait_to_start(args, role, error, None)


def _wait_to_start(
    args: argparse.Namespace, role: RefresherRole, error: FeedsvcError, config: Config | None
) -> int:
    """A refresher that cannot start yet, holding its `role`: `clock` waits until it can,
    `serve` serves what is published meanwhile. `config`: None while it does not validate."""
    from feedsvc.waiting import ready_refresher, sighup_asks_for_a_reload

    if args.command is serve_command:
        return _serve_meanwhile(args, role, error, config)
    with sighup_asks_for_a_reload(role.state_dir):
        refresher = ready_refresher(args.config, role, error, threading.Event())
    if refresher is not None:
        _run_clock(refresher)
    return 0


def _run_clock(refresher: Refresher) -> None:
    """The Procfile's refresher, from its start: a `base_url` that would mint ids of this
    machine for good is said then, whether it started at once or waited (`serve` is how one
    tries feedsvc on one machine: it says nothing)."""
    from feedsvc.clock import run_clock

    say_local_base_url(refresher.config.site.base_url)
    run_clock(refresher, blocking=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedsvc", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(
        run: Callable[[Config, argparse.Namespace], int] | Callable[[argparse.Namespace], int],
        name: str,
        text: str,
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--config", help="config file (default: $FEEDSVC_CONFIG or ./config.toml)")
        sub.set_defaults(command=run)
        return sub

    serve = command(serve_command, "serve", "refresh on the schedule and serve, in one process")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--threads", type=_threads, default=8)
    command(clock_command, "clock", "refresh on the schedule (the Procfile's clock process)")
    build = command(build_command, "build", "refresh, then copy the site into a directory")
    build.add_argument("--out", required=True, type=Path, help="directory for the static site")
    check = command(check_command, "check", "report every problem of every article file")
    check.add_argument("--json", action="store_true", help="one JSON object instead of lines")
    refresh = command(refresh_command, "refresh", "run one refresh now and print what changed")
    refresh.add_argument(
        "--emptied",
        action="store_true",
        help="articles_dir was emptied on purpose: unpublish what its files published",
    )
    command(reload_command, "reload", "ask the running refresher to reread the config now")
    backup = command(backup_command, "backup", "copy the state store, whole, while it runs")
    backup.add_argument("file", type=Path, help="the copy to write (replaced if it exists)")
    return parser


def check_command(config: Config, args: argparse.Namespace) -> int:
    blocked = blocked_state_dir(config.content.state_dir)
    if blocked is not None:  # as every refresh would refuse it
        raise blocked
    files, entries, read = check_files(config)
    problems = [*config.problems, *read]
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    summary = {"files": files, "entries": entries, "warnings": warnings, "errors": errors}
    if args.json:
        print(json.dumps({"problems": [asdict(p) for p in problems], "summary": summary}, indent=1))
    else:
        for problem in problems:
            print(problem)
        print(f"{files} files, {entries} entries, {warnings} warnings, {errors} errors")
    return 1 if errors else 0


def _refresh_once(config: Config, emptied: bool = False) -> tuple[RefreshReport, Version | None]:
    """One refresh, with progress on a terminal: the report and the version now current."""
    refresher = Refresher(config)
    try:
        return refresher.refresh(_progress(), emptied=emptied), refresher.current
    finally:
        refresher.close()


def refresh_command(config: Config, args: argparse.Namespace) -> int:
    report, _ = _refresh_once(config, args.emptied)
    _say(report)
    return 0


def _say(report: RefreshReport) -> None:
    """What a refresh did, and every problem it knows of: a file left out is said each time."""
    print(report.summary())
    for problem in report.problems:
        print(problem)


def build_command(config: Config, args: argparse.Namespace) -> int:
    out: Path = args.out
    state_dir, articles_dir = config.content.state_dir, config.content.articles_dir
    for kept, what in ((state_dir, "the state_dir"), (articles_dir, "articles_dir")):
        try:
            mixed = _overlap(out, kept)
        except RuntimeError as e:  # Python before 3.13 says a symbolic link loop so
            print(f"feedsvc: --out {out}: {e}", file=sys.stderr)
            return 2
        if mixed:
            print(
                f"feedsvc: --out {out} would mix the site with {what} ({kept}); "
                "choose a directory outside both",
                file=sys.stderr,
            )
            return 2
    blocking = not_a_directory(out)
    if blocking is not None:  # refused now, not once the refresh is done
        where = f"--out {out}" if blocking == out else f"--out {out}: {blocking}"
        print(
            f"feedsvc: {where} {describe(blocking)}; choose a directory (it is made if missing)",
            file=sys.stderr,
        )
        return 2
    report, version = _refresh_once(config)
    if version is None:  # a first build whose articles changed while it rendered them
        _say(report)
        print(
            f"feedsvc: nothing was published, so nothing was written to {out}: "
            f"{_some(report.deferred)} changed while being read; "
            "run the build again once they are saved",
            file=sys.stderr,
        )
        return 1
    # Under the lock nothing is published, and the current version is never collected: it is
    # the one exported, newer than this refresh's if a refresher ran meanwhile.
    with build_lock(state_dir):
        root = publish_dir(state_dir)
        current = load_current(root) or version
        archived = archived_pages(root)
        removed = export(current, out, state_dir / RECORD, archived)
    _say(report)  # a static deploy hears of a file left out as a refresh's reader does
    also = f" and {len(archived)} pages of articles no feed shows" if archived else ""
    zipped = sum(resource.precompressed for resource in current.resources.values())
    files = f"{len(current.resources)} files ({zipped} with a .gz beside them)"
    print(f"wrote {files}{also} to {out}")
    if removed:
        print(f"removed {len(removed)} files that an earlier build wrote there: {_some(removed)}")
    return 0


def _some(names: Sequence[str]) -> str:
    """Names for a line on a terminal: a bulk copy may hold thousands."""
    return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if names[10:] else "")


def _overlap(one: Path, other: Path) -> bool:
    """Whether either directory is, or is inside, the other."""
    a, b = one.resolve(), other.resolve()
    return a.is_relative_to(b) or b.is_relative_to(a)


def reload_command(args: argparse.Namespace) -> int:
    """Ask the refresher to reread the config now; say at once if the new one is invalid."""
    path = config_path(args.config)
    problem: str | None = None
    config: Config | None = None
    try:
        config = load_config(path)
        state_dir = config.content.state_dir
    except ConfigError as e:
        problem = str(e)
        found = state_dir_of(path)
        if found is None:
            raise
        state_dir = found
    # the control file made as this user: another user's refresher could not take it
    refused = refused_beside_another_user(state_dir)
    if refused is not None:
        raise refused
    # Asked first, a state_dir that cannot be one, or be written, is said as by every command;
    # and left there: a refresher on another host sharing it is not seen from here. But not a
    # state_dir a broken file only seems to name (cut short before its line: the default),
    # which would then exist, and web workers would serve it.
    asked = (problem is None or state_dir.is_dir()) and request_control(state_dir, "reload")
    missing = not asked and not state_dir.exists()  # moved aside to be restored, say
    pid = refresher_pid(state_dir)
    if pid is None:
        if problem is not None:
            print(f"feedsvc: {problem}", file=sys.stderr)
        start = (
            "it does not exist: if it was moved aside, put it back whole (a refresher waiting "
            "for it takes it up; one started where nothing is published starts afresh, every "
            "entry with a new id)"
            if missing
            else "one reads the config as it starts (`feedsvc clock` or `feedsvc serve`)"
        )
        restart = "restart it"
        if not (state_dir / STATE_FILE).is_file():  # a refresher started there starts afresh
            restart = (
                "stop it, move its state_dir here whole, then start it: started where no state "
                "store is, it makes a new one, and readers see every article again, under new ids"
            )
        print(
            f"feedsvc: no refresher runs on {state_dir}: {start}. If content.state_dir was just "
            f"changed, the running refresher still uses the old one: {restart}",
            file=sys.stderr,
        )
        return 1
    print(f"asked the refresher (pid {pid}) of {state_dir} to reread {path}")
    if config is not None:  # as read and asked for: the refresher reads it again
        _say_unpublished(config)
        return 0
    print(f"feedsvc: {problem}", file=sys.stderr)
    print(
        "feedsvc: this config will be rejected: the refresher keeps the one it runs with "
        "(or, waiting for a valid one, waits on), and /healthz shows the error until the "
        "file is fixed",
        file=sys.stderr,
    )
    return 1


def _say_unpublished(config: Config) -> None:
    """What the refresher is about to unpublish: a section renamed in config.toml alone, the
    files an articles_dir changed leaves out, or a max_file_bytes lowered (listed, not read)."""
    store = StateStore.read_only(config.content.state_dir)
    if store is None:
        return
    try:
        listing, published = scan(config.content.articles_dir), store.path_counts()
        for problem in [
            *sections_unpublished(config, store.section_counts(), "reload"),
            *files_gone(config, store, listing, published),
            *over_the_limit(config, store, listing, published),
        ]:
            print(f"feedsvc: {problem}", file=sys.stderr)
    except (StateError, sqlite3.DatabaseError):  # a damaged store: the refresher says so
        pass
    finally:
        store.close()


def backup_command(config: Config, args: argparse.Namespace) -> int:
    """The store holds every published id: a copy of `state.sqlite3` alone, while a refresher
    runs (or after one was killed), holds none of its latest commits, or no table at all."""
    target: Path = args.file
    refused = _not_a_backup(target, config.content.state_dir / STATE_FILE)
    if refused is not None:
        print(f"feedsvc: {target} {refused}; choose another file", file=sys.stderr)
        return 2
    store = StateStore.read_only(config.content.state_dir)
    if store is None:
        print(f"feedsvc: no state store to back up in {config.content.state_dir}", file=sys.stderr)
        return 2
    try:
        entries = sum(store.path_counts().values())
        store.backup(target)
    except (OSError, sqlite3.Error) as e:
        print(f"feedsvc: could not back up the state store to {target}: {e}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"backed up the state store ({entries} published entries) to {target}")
    return 0


def _not_a_backup(target: Path, store: Path) -> str | None:
    """Why `target` may not be replaced by a backup: the store itself (or a file beside it), or
    something else than an earlier backup (`feedsvc backup config.toml`, a slip for
    `--config`, replaced the config)."""
    resolved = target.resolve()
    own = {store.name + suffix for suffix in ("", *SIDE_FILES)}
    if resolved.parent == store.resolve().parent and resolved.name in own:
        return "is the state store itself, or one of its files"
    try:
        with target.open("rb") as file:
            head = file.read(16)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return "is a directory"
    except OSError as e:
        return f"cannot be read: {e.strerror or e}"
    if head and head != b"SQLite format 3\x00":  # an empty file: a name made for it
        return "exists and is not an SQLite file, as a backup is: it is not replaced"
    return None


def clock_command(config: Config, args: argparse.Namespace) -> int:
    with refresher_role(config.content.state_dir) as role:
        opened = _opened(config)
        if isinstance(opened, StateError):
            return _wait_to_start(args, role, opened, config)
        _run_clock(opened)
    return 0


def serve_command(config: Config, args: argparse.Namespace) -> int:
    from feedsvc.app import create_app
    from feedsvc.clock import run_clock

    with refresher_role(config.content.state_dir) as role:
        opened = _opened(config)
        if isinstance(opened, StateError):
            return _wait_to_start(args, role, opened, config)
        # Bound before the first refresh: a port in use is said at once, and nothing runs.
        app = create_app(config.path, by_port=False)
        server = _listen(app, args)
        clock = run_clock(opened, blocking=False)
        try:
            _say_serving(args, server, config)
            server.run()
        finally:
            server.close()
            clock.stop(wait=True)
            opened.close()
    return 0


def _opened(config: Config) -> Refresher | StateError:
    """The refresher; or, where feeds are published, why its state store is refused: it
    waits for the store (`waiting`) rather than exit."""
    from feedsvc.clock import POLL_SECONDS
    from feedsvc.state import BUSY_TIMEOUT
    from feedsvc.waiting import is_published

    published = is_published(config.content.state_dir)
    try:
        # it will wait, trying each second: a store busy for longer is refused at once then, so
        # that Ctrl-C ends a refresher starting beside another process's long write
        return Refresher(config, busy_wait=POLL_SECONDS if published else BUSY_TIMEOUT)
    except StateError as e:
        if not published:
            raise
        return e


def _serve_meanwhile(
    args: argparse.Namespace, role: RefresherRole, error: FeedsvcError, config: Config | None
) -> int:
    """`serve` that cannot start its refresher yet: what is published, served as a `web`
    process serves it; the refresher starts in the background once it can."""
    from feedsvc.app import create_app
    from feedsvc.clock import run_clock
    from feedsvc.waiting import ready_refresher, sighup_asks_for_a_reload

    server = _listen(create_app(args.config, by_port=False), args)
    stopping = threading.Event()

    def refresher_when_ready() -> None:
        try:
            # the web app said a config error as it started: "serving what is published"
            logged = isinstance(error, ConfigError)
            refresher = ready_refresher(args.config, role, error, stopping, logged)
            if refresher is None:
                return
            if stopping.is_set():  # stopped as it became ready: no first refresh in the shutdown
                refresher.close()
                return
            clock = run_clock(refresher, blocking=False)
        except LockedError as e:
            log.error("%s; this serve answers on, as a web process", e)
            return
        except Exception as e:  # said here or nowhere: the thread ends, the site is served on
            role.release()  # for a refresher started meanwhile, and `reload` not to find it
            log.error("the refresher stops: %s; restart serve once this is fixed", e)
            return
        try:
            stopping.wait()
        finally:
            clock.stop(wait=True)
            refresher.close()

    refresher = threading.Thread(target=refresher_when_ready, name="refresher")
    refresher.start()
    try:
        with sighup_asks_for_a_reload(role.state_dir):
            _say_serving(args, server, config)
            server.run()
    finally:
        stopping.set()
        server.close()
        refresher.join()
    return 0


def _say_serving(
    args: argparse.Namespace, server: MultiSocketServer | BaseWSGIServer, config: Config | None
) -> None:
    """Where to find it, and base_url's port if another: `config` None, one that does not
    validate, and says neither."""
    port = int(getattr(server, "effective_port", args.port))  # --port 0: the one bound
    if config is None:
        log.info("serving on http://%s:%s/", args.host, port)
        return
    log.info("serving on http://%s:%s%s/", args.host, port, base_path(config.site.base_url))
    say_other_port(config.site.base_url, port)


def _listen(app: WSGIApplication, args: argparse.Namespace) -> MultiSocketServer | BaseWSGIServer:
    """A waitress server bound to `--host` and `--port`, not yet serving."""
    from waitress.server import create_server

    try:
        return create_server(
            app,
            host=args.host,
            port=args.port,
            threads=args.threads,
            connection_limit=_connection_limit(),
            channel_timeout=IDLE_TIMEOUT,
            asyncore_use_poll=True,  # select() stops at descriptor 1,024
        )
    except ValueError as e:  # waitress: a host name that does not resolve
        raise FeedsvcError(
            f"--host {args.host} cannot be listened on ({e}); give this machine's address or "
            "name, e.g. 127.0.0.1 or 0.0.0.0"
        ) from e
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            why = "is already in use (another feedsvc serve, or another server)"
        elif e.errno == errno.EADDRNOTAVAIL:
            why = "cannot be listened on: no interface of this machine has that address"
        elif e.errno == errno.EACCES:
            why = "needs privileges this user does not have (ports below 1024)"
        else:
            why = f"cannot be listened on: {e.strerror or e}"
        raise FeedsvcError(
            f"port {args.port} on {args.host} {why}; choose another with --port (or --host)"
        ) from e


#: seconds a connection may send nothing before `serve` closes it (waitress's default, 120 s,
#: let 100 connections that never finish a request shut every other client out for two minutes)
IDLE_TIMEOUT = 30
#: connections `serve` holds open at once, where the process may open as many descriptors
MAX_CONNECTIONS = 1000


def _connection_limit() -> int:
    """As many connections as the descriptors allow (100 are kept for the store, the logs, the
    files served and the workers), up to `MAX_CONNECTIONS`: waitress's 100, one client could
    hold them all. A client holding this many is a proxy's to stop (README)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(100, min(MAX_CONNECTIONS, soft - 100))


def _port(text: str) -> int:
    return _whole_number(text, 0, 65535, "a port: expected 1 to 65535 (0: any)")


def _threads(text: str) -> int:  # none: waitress listens and answers nothing
    return _whole_number(text, 1, 1000, "a thread count: expected 1 to 1000")


def _whole_number(text: str, low: int, high: int, what: str) -> int:
    number = int(text) if text.isdecimal() else low - 1
    if not low <= number <= high:
        raise argparse.ArgumentTypeError(f"{text} is not {what}")
    return number


def _progress() -> Progress | None:
    """Files read of total, with a rate, on a terminal only."""
    if not sys.stderr.isatty():
        return None

    def show(text: str, final: bool) -> None:
        print(f"\r{text}", end="\n" if final else "", file=sys.stderr, flush=True)

    return Progress(show, every=0.2)
