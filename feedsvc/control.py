"""What the processes sharing one `state_dir` tell each other, through files: the status
`/healthz` reports, requests to the refresher, and the locks that keep one refresher at a time.

Kept apart from `refresh` so that a web process, which only reads the status and asks for
refreshes, does not import the refresher (readers, renderers, worker processes) at start-up.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import pwd
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from feedsvc.errors import LockedError, MovedAsideError, StateError

STATUS_FILE = "status.json"
#: in the state_dir: locked by the one refresher, its pid written in it while it runs
REFRESHER_LOCK = "refresher.lock"


def write_status(state_dir: Path, status: dict[str, object]) -> None:
    """Replace `status.json`: `/healthz` never reads half of one. One the disk refuses (full,
    read-only) is kept for this process's own /healthz (`serve`), and the error raised."""
    try:
        write_json(state_dir / STATUS_FILE, status, indent=1)
    except OSError:
        _UNWRITTEN[state_dir] = status
        raise
    _UNWRITTEN.pop(state_dir, None)


def read_status(state_dir: Path) -> dict[str, object]:
    return _UNWRITTEN.get(state_dir) or read_json(state_dir / STATUS_FILE)


#: the last status this process could not write, by state_dir: a web app in the process of
#: the refresher (`serve`) says it all the same, where it said "ok" until the feeds went
#: stale; a web process apart (gunicorn) has only the file
_UNWRITTEN: dict[Path, dict[str, object]] = {}


def amend_status(state_dir: Path, **said: object) -> None:
    """Say a reason on /healthz before the next whole status: where there is one (a status
    made of a reason alone would lack the rest), and never failing (the log says it too)."""
    status = read_status(state_dir)
    if not status:
        return
    with contextlib.suppress(OSError):
        write_status(state_dir, status | said)


def write_json(target: Path, value: object, indent: int | None = None) -> None:
    """Atomically replace a JSON file of the state_dir: a reader sees the old one or the new."""
    temporary = temporary_beside(target)
    temporary.write_text(json.dumps(value, indent=indent), "utf-8")
    os.replace(temporary, target)


def temporary_beside(target: Path) -> Path:
    """Where this process writes what it then renames over `target`: hidden (never served,
    never listed), and with `target`'s name cut short, as a page's may be as long as the file
    system allows."""
    return target.with_name(f".{target.name[:64]}.{os.getpid()}.tmp")


def end_by(signum: int) -> None:
    """End this process by `signum` itself: how systemd tells a stop from a failure."""
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from the state_dir; {} if missing, unreadable or not an object."""
    try:
        loaded = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def state_dir_error(state_dir: Path, error: OSError) -> StateError:
    """What an operator reads when `state_dir` cannot be used: what is wrong, where, and the
    fix, which is never to move the state store aside (it holds every published entry id)."""
    where = Path(error.filename) if error.filename else state_dir
    if error.errno == errno.EROFS:
        return StateError(
            f"state_dir {state_dir} is on a read-only file system: mount it read-write, or set "
            "content.state_dir to a directory on a writable one"
        )
    if isinstance(error, PermissionError):
        user = f"this user (uid {os.geteuid()})"
        # what was refused: `where`, or the directory `where` was to be made in
        refused = next((p for p in (where, *where.parents) if os.path.lexists(p)), where)
        if not refused.is_relative_to(state_dir):  # the state_dir itself was to be made
            return StateError(
                f"state_dir {state_dir} cannot be created by {user}: fix the ownership or "
                f"permissions of {refused}, or create {state_dir} for this user"
            )
        what = (
            "its ownership or permissions"
            if refused == state_dir
            else f"the ownership or permissions of {refused}"
        )
        return StateError(
            f"state_dir {state_dir} is not writable by {user}: fix {what}, or run feedsvc as "
            "the user that owns it"
        )
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        blocked = blocked_state_dir(state_dir, where)
        if blocked is not None:
            return blocked
    if isinstance(error, IsADirectoryError):  # os.replace names the target second
        return StateError(
            f"{error.filename2 or where} is a directory, where feedsvc keeps a file of its "
            "state_dir: move it aside"
        )
    if isinstance(error, FileNotFoundError):
        return StateError(
            f"state_dir {state_dir} cannot be created ({error.strerror}): create it, or set "
            "content.state_dir to a directory on a writable file system"
        )
    return StateError(f"state_dir {state_dir} cannot be used: {where}: {error.strerror or error}")


def blocked_state_dir(state_dir: Path, where: Path | None = None) -> StateError | None:
    """Why `state_dir` (or `where` in it) cannot be a directory, if a file is in the way: found
    without writing, so `feedsvc check` says it too."""
    blocking = not_a_directory(where or state_dir)
    if blocking is None:
        return None
    kind = describe(blocking)
    if blocking == state_dir:
        return StateError(
            f"state_dir {state_dir} {kind}: move it aside, or set content.state_dir to a directory"
        )
    if blocking.is_relative_to(state_dir):
        return StateError(
            f"{blocking} {kind}, where feedsvc keeps a directory of its state_dir: move it aside"
        )
    return StateError(
        f"state_dir {state_dir} cannot be created: {blocking} {kind}; set content.state_dir to "
        "a directory that can be made"
    )


def refused_beside_another_user(state_dir: Path) -> StateError | None:
    """Why this process must not write `state_dir`, if so: its refresher runs as another user,
    who may then not replace or link to what this one writes (a `sudo feedsvc refresh` beside
    a `clock` run as a service user stopped every refresh after it). With no refresher running,
    anyone who may write the directory may refresh it (a container run as root on a mount)."""
    pid = refresher_pid(state_dir)
    if pid is None or pid == os.getpid():
        return None
    try:
        owner = os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None  # no /proc: nothing to compare
    if owner == os.geteuid():
        return None
    try:
        name = pwd.getpwuid(owner).pw_name
    except KeyError:
        name = f"uid {owner}"
    return StateError(
        f"the refresher of {state_dir} (pid {pid}) runs as {name}, and this is uid "
        f"{os.geteuid()}: run feedsvc as {name} (sudo -u {name} feedsvc ...); files this user "
        f"wrote there would stop that refresher (if some were, chown -R {name} {state_dir})"
    )


def unwritable(state_dir: Path, *files: Path) -> StateError | None:
    """Why this process may not write `state_dir`, or one of the `files` in it that exist; None
    if it may. The store opened from a directory it may not write would seem to work, and fail
    at the first change (after a version was published), or be taken for a corrupt one."""
    for path in (state_dir, *files):
        if not os.path.lexists(path) or os.access(path, os.W_OK):
            continue
        try:
            read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        code = errno.EROFS if read_only else errno.EACCES
        return state_dir_error(state_dir, OSError(code, os.strerror(code), str(path)))
    return None


def not_a_directory(path: Path) -> Path | None:
    """The first of `path` and its parents that exists and is not a directory (a file where a
    directory is wanted), if any."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return None if candidate.is_dir() else candidate
    return None


def describe(blocking: Path) -> str:
    """What `not_a_directory` found, as said after its name."""
    return "is a file, not a directory" if blocking.is_file() else "is not a directory"


@contextmanager
def state_dir_errors(state_dir: Path) -> Iterator[None]:
    """An `OSError` met making or writing `state_dir` becomes a `StateError` that says why."""
    try:
        yield
    except OSError as e:
        raise state_dir_error(state_dir, e) from e


def make_state_dir(state_dir: Path) -> None:
    with state_dir_errors(state_dir):
        state_dir.mkdir(parents=True, exist_ok=True)


@contextmanager
def build_lock(state_dir: Path) -> Iterator[None]:
    """One refresh at a time per state directory, across processes (waits its turn).

    Never makes the state_dir, which the store's opening made: one gone since was moved aside,
    and made afresh it would take versions beside no store, and block the move back."""
    with state_dir_errors(state_dir):  # a MovedAsideError is none: it passes through
        try:
            handle = open(state_dir / "build.lock", "a+b")  # noqa: SIM115 - closed below
        except FileNotFoundError as e:
            raise MovedAsideError(
                f"state_dir {state_dir} is gone (moved aside?): nothing is made there until "
                "it is put back whole"
            ) from e
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def refresher_role(state_dir: Path) -> Iterator[RefresherRole]:
    """Held for the life of `clock` or `serve`: a second one declines instead of racing."""
    role = RefresherRole(state_dir)
    role.take()
    try:
        yield role
    finally:
        role.release()


class RefresherRole:
    """The lock on `refresher.lock` a refresher holds, and its pid in it for `feedsvc reload`.

    A refresher that waits to start (`waiting`) may find its state_dir changed meanwhile: a
    restored copy moved into its place, or made writable again; `keep` takes the role there as
    it is before it starts."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / REFRESHER_LOCK
        self._handle: IO[str] | None = None
        self._pid_said = False

    def take(self, make: bool = True) -> None:
        """`make`: the state_dir, if it does not exist."""
        if make:
            make_state_dir(self.state_dir)
        writable = True
        with state_dir_errors(self.state_dir):
            try:
                handle = open(self.path, "a+")  # noqa: SIM115 - closed by `release`
            except OSError as e:
                # A state_dir this user may not write, or on a file system gone read-only: the
                # lock is still held through a file opened for reading, and the refresher
                # waits for its store (`waiting`), which says why.
                if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS) or not os.path.isfile(
                    self.path
                ):
                    raise
                handle = open(self.path)  # noqa: SIM115 - closed by `release`
                writable = False
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            holder = refresher_pid(self.state_dir) or "unknown"
            raise LockedError(
                f"another refresher (pid {holder}) already runs on {self.state_dir}; "
                "run one `clock` (or one `serve`) per state_dir, and any number of `web` processes"
            ) from None
        self._handle, self._pid_said = handle, False
        if writable:
            try:
                self._say_pid()
            except StateError:
                self.release()
                raise
        _open_to_requests(self.state_dir / CONTROL)

    def keep(self) -> None:
        """Before a refresher that waited starts: the role in the state_dir as it is now."""
        if not self._held_here():
            self.release()
            self.take(make=False)  # never made afresh under an operator restoring it
        elif not self._pid_said:
            self._say_pid()

    def release(self) -> None:
        if self._handle is None:
            return
        if self._pid_said and self._held_here():
            with contextlib.suppress(OSError):  # no pid left to be taken for a refresher
                os.truncate(self.path, 0)
        self._handle.close()
        self._handle = None

    def _held_here(self) -> bool:
        """The file locked is still `refresher.lock`, not one removed with its state_dir."""
        try:
            return self._handle is not None and os.path.samestat(
                os.fstat(self._handle.fileno()), os.stat(self.path)
            )
        except OSError:
            return False

    def _say_pid(self) -> None:
        # unbuffered: a write the disk refused would be tried again as the file closes, and
        # its error would hide this one
        with state_dir_errors(self.state_dir):
            fd = os.open(self.path, os.O_WRONLY | os.O_TRUNC)
            try:
                os.write(fd, str(os.getpid()).encode())
            finally:
                os.close(fd)
        self._pid_said = True


#: in the state_dir: the requests a refresher takes ("refresh", "reload")
CONTROL = "control"

#: how often a running refresher touches `refresher.lock`, whatever it is doing: a web process
#: (gunicorn apart, another container) tells a refresher killed from one stopped by its mtime
HEARTBEAT_SECONDS = 10
#: silent this long while its pid is still written there: killed (SIGKILL, out of memory)
SILENT_SECONDS = 6 * HEARTBEAT_SECONDS


def heartbeat(state_dir: Path) -> None:
    with contextlib.suppress(OSError):  # a state_dir refusing it is said by the refreshes
        os.utime(state_dir / REFRESHER_LOCK)


def silent_since(state_dir: Path) -> datetime | None:
    """When the refresher whose pid `refresher.lock` still holds was last heard from, if that
    is over `SILENT_SECONDS` ago: not stopped (that empties the file), so killed, or hung."""
    try:
        path = state_dir / REFRESHER_LOCK
        heard = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        if not path.read_text().strip():
            return None
    except OSError:
        return None
    return heard if datetime.now(UTC) - heard > timedelta(seconds=SILENT_SECONDS) else None


def _open_to_requests(control: Path) -> None:
    """A web tier run as another user asks for refreshes here: anyone may leave a request, and
    only the refresher, which owns it, takes them (the sticky bit of /tmp). Where it cannot be
    made so, the clock says so when it looks for requests."""
    with contextlib.suppress(OSError):
        control.mkdir(exist_ok=True)
        if control.stat().st_uid == os.geteuid():
            os.chmod(control, 0o1733)


def request_control(state_dir: Path, name: str) -> bool:
    """Ask the refresher, from any process, to "refresh" or "reload" at its next poll; False
    where there is no state_dir (moved aside to be restored, or not made yet). It is never
    made here: made anew, the copy put back would land inside it."""
    control = state_dir / CONTROL
    with state_dir_errors(state_dir):
        try:
            control.mkdir(exist_ok=True)
        except FileNotFoundError:
            return False
        (control / name).touch()
    return True


def take_control(state_dir: Path) -> set[str]:
    """The requests waiting for the refresher, removed as they are taken."""
    taken: set[str] = set()
    for name in ("refresh", "reload"):
        try:
            (state_dir / CONTROL / name).unlink()
        except FileNotFoundError:
            continue
        taken.add(name)
    return taken


def refresher_pid(state_dir: Path) -> int | None:
    """The pid of the refresher (`clock` or `serve`) of `state_dir`, if one runs.

    The process holding the lock file, where the kernel says (`/proc/locks`, which every user
    may read): not the pid written in the file, which a refresher killed leaves behind (and
    pids are reused), and which one holding the role through a file it may not write
    (`RefresherRole.take`) cannot write. A refresher in another PID namespace (a container)
    is not listed there, nor one on another host sharing the directory. Without
    `/proc/locks`: a live process of the pid written.
    """
    path = state_dir / REFRESHER_LOCK
    holders = _flock_holders(path)
    if holders is not None:
        return holders[0] if holders else None  # an exclusive lock: one holder
    try:
        written = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(written, 0)
    except PermissionError:
        return written  # alive, another user's (a web tier and its refresher as two users)
    except OSError:
        return None
    return written


def _flock_holders(path: Path) -> list[int] | None:
    """The pids of this PID namespace holding a `flock` on `path`; None where the kernel does
    not say (no `/proc/locks`)."""
    try:
        info = os.stat(path)
        with open("/proc/locks", encoding="ascii") as locks:
            listed = locks.read()
    except OSError:
        return None
    inode = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    # "3: FLOCK  ADVISORY  WRITE 22798 fe:00:2353684 0 EOF"; a waiter's has "->" after "3:"
    fields = (line.split() for line in listed.splitlines())
    return [int(f[4]) for f in fields if f[1:2] == ["FLOCK"] and f[5:6] == [inode]]
