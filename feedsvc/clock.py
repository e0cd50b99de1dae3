"""The schedule: APScheduler runs the refresh every interval, at start, and whenever asked.

Asking is done through control files (`control.request_control`), so that a web process, the
CLI and a signal handler all ask the same way. Optional file watching (watchdog) asks too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from feedsvc.control import (
    HEARTBEAT_SECONDS,
    STATUS_FILE,
    end_by,
    heartbeat,
    read_status,
    state_dir_error,
    take_control,
)
from feedsvc.errors import MovedAsideError
from feedsvc.listing import listed
from feedsvc.refresh import SETTLE_SECONDS, Progress, Refresher, RefreshReport, failed_refresh

log = logging.getLogger(__name__)

REFRESH_JOB = "refresh"
POLL_JOB = "poll"
#: how often control files (`feedsvc reload`, SIGHUP, `POST /admin/refresh`) are looked for
POLL_SECONDS = 1.0
#: Never skip work silently: late runs still run, piled-up runs become one, one at a time.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
#: files still being written get this many quick second looks before waiting for the schedule
DEFERRED_RETRIES = 3


class Clock:
    """Runs `refresher.refresh` on a schedule; a refresh asked for while one runs runs next."""

    def __init__(self, refresher: Refresher, scheduler: BaseScheduler) -> None:
        self.refresher = refresher
        self.scheduler = scheduler
        self._lock = threading.Lock()
        self._running = False  #: a tick is under way
        self._stopped = False  #: no tick starts any more
        #: a signal asked the `clock` process to stop: its next `poll` stops the schedule
        self.stop_asked = False
        self._idle = threading.Condition(self._lock)  #: notified when a tick ends
        self._again = False  #: asked for while it ran: it runs once more
        self._retries = 0
        #: what the watcher reported since the last refresh; None: look at everything
        self._paths: set[str] | None = None
        #: the schedule's full scan stays the safety net under the watcher's short cuts
        self._next_full = 0.0
        self._observer: Any = None
        #: what the observer watches (`_watch_target`); None: nothing
        self._watching: _Watched | None = None
        self._watch_lock = threading.Lock()  #: `poll` and `tick` run on different threads
        self._previous_sighup: Any = None
        self._sighup = False  #: a SIGHUP came: `poll` takes it as a reload
        self._control_failed: str | None = None  #: why control files could not be taken
        self._aside: str | None = None  #: why refreshes are skipped (`MovedAsideError`)
        self._status_seen = 0  #: the mtime of status.json when `_follow_schedule` last read it
        self._followed: str | None = None  #: the due time it last moved the refresh to
        self._warmed = False  #: `Refresher.warm` was called
        self._heard = 0.0  #: when `poll` next says it runs (`heartbeat`), by `time.monotonic`

    def start(self) -> None:
        interval = self.refresher.config.refresh.interval_seconds
        self.scheduler.add_job(
            self.tick,
            "interval",
            seconds=interval,
            id=REFRESH_JOB,
            next_run_time=datetime.now(UTC),  # once at start, then every interval
            **JOB_DEFAULTS,
        )
        self.scheduler.add_job(
            self.poll, "interval", seconds=POLL_SECONDS, id=POLL_JOB, **JOB_DEFAULTS
        )
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)
        self._keep_watching()
        if threading.current_thread() is threading.main_thread():
            self._previous_sighup = signal.signal(signal.SIGHUP, self._on_sighup)
        log.info("refreshing every %d s; SIGHUP or `feedsvc reload` rereads the config", interval)
        self.scheduler.start()

    def tick(self) -> None:
        """One scheduled run, repeated while new requests arrived during it."""
        with self._lock:
            if self._stopped:
                return  # submitted before `stop`, started after it
            self._running = True
        report: RefreshReport | None = None
        try:
            while True:
                with self._lock:
                    self._again = False
                report = self._refresh()
                if report is not None and not self._warmed:
                    self._warm()
                self._follow_config()
                with self._lock:
                    if not self._again or self._stopped:
                        # In the same hold as the look at `_again`: a request from now on
                        # finds no tick running and starts one of its own.
                        self._running = False
                        self._idle.notify_all()
                        break
        except BaseException:
            with self._lock:
                self._running = False
                self._idle.notify_all()
            raise
        if report is not None and report.deferred and self._retries < DEFERRED_RETRIES:
            self._retries += 1
            self._run_soon(SETTLE_SECONDS)
        else:
            self._retries = 0

    def _refresh(self) -> RefreshReport | None:
        with self._lock:
            paths, self._paths = self._paths, set()
        # Without a watcher only a full scan sees a change. With one, the schedule's ticks still
        # scan in full: an interval apart, they may fire a little sooner after this one started
        # than measured here, hence half an interval.
        if paths is None or self._watching is None or time.monotonic() >= self._next_full:
            paths = None
            self._next_full = time.monotonic() + self.refresher.config.refresh.interval_seconds / 2
        # A first refresh of a large archive takes a while: say how far it got, now and then.
        progress = Progress(lambda text, final: log.info("%s", text), every=5.0)
        try:
            report = self.refresher.refresh(progress, paths=paths)
        except MovedAsideError as e:
            # Said once while it lasts; once the state_dir is back, everything is looked at.
            if str(e) != self._aside:
                log.error("%s", e)
            self._aside = str(e)
            self.changed(None)
            return None
        except Exception as e:
            failed_refresh(self.refresher, e)  # logged; the next tick tries again
            report = None
        self._aside = None
        return report

    def _warm(self) -> None:
        """Once, after the first refresh that worked, in the tick: a change seen meanwhile
        runs the refresh again right after it, as during a refresh."""
        self._warmed = True
        try:
            self.refresher.warm()
        except Exception as e:  # a head start for the next publish, never worth a failed tick
            log.warning(
                "could not render the published entries ahead of time (the next publish "
                "renders what it needs): %s: %s",
                type(e).__name__,
                e,
            )
            log.debug("the failed warm-up", exc_info=e)

    def poll(self) -> None:
        if self.stop_asked:  # here, with the scheduler running, whenever the signal came
            self.stop()
            return
        # not into a copy restored where the state_dir was moved from: it refreshes nothing
        if time.monotonic() >= self._heard and self.refresher.in_place():
            heartbeat(self.refresher.state_dir)
            self._heard = time.monotonic() + HEARTBEAT_SECONDS
        taken = self._taken()
        if taken:
            log.info("%s asked for: refreshing now", " and ".join(sorted(taken)))
            self.changed(None)  # whoever asked wants everything looked at
            self.trigger()
        else:
            self._keep_watching()  # articles/ replaced (a deploy's rename) is watched anew
        self._follow_schedule()

    def _taken(self) -> set[str]:
        """What was asked for: a SIGHUP, and the control files (their failure logged once while
        it lasts: this runs every second)."""
        taken = set()
        if self._sighup:
            self._sighup = False
            taken.add("reload")
        try:
            taken |= take_control(self.refresher.state_dir)
        except OSError as e:
            failed = str(state_dir_error(self.refresher.state_dir, e))
            if failed != self._control_failed:
                log.error("cannot take requests to refresh or reload: %s", failed)
            self._control_failed = failed
        else:
            self._control_failed = None
        return taken

    def _follow_schedule(self) -> None:
        """A refresh when the soonest scheduled entry is due, whichever refresh found it (this
        process's, or `feedsvc refresh`'s): it is published on time, not at the next tick."""
        try:
            written = (self.refresher.state_dir / STATUS_FILE).stat().st_mtime_ns
        except OSError:
            return
        if written == self._status_seen:
            return  # read only when rewritten: it lists every problem, and this runs each second
        self._status_seen = written
        last = read_status(self.refresher.state_dir).get("last_refresh")
        due = last.get("next_scheduled") if isinstance(last, dict) else None
        if not isinstance(due, str):
            return
        with contextlib.suppress(TypeError, ValueError):  # not an aware date: another feedsvc's
            when = datetime.fromisoformat(due)
            if due == self._followed and when <= datetime.now(UTC):
                # A past due time once: a failed refresh rewrites the status with the last
                # report, and it would otherwise be retried every second. One still to come is
                # followed again: a refresh run sooner (an edit, a reload) took its place.
                return
            if self._run_at(when):
                self._followed = due  # not before: a tick due earlier reports it again

    def changed(self, path: str | None) -> None:
        """The watcher saw `path` change (None: something only a full scan can tell)."""
        with self._lock:
            if path is None:
                self._paths = None
            elif self._paths is not None:
                self._paths.add(path)

    def trigger(self, delay: float = 0.0) -> None:
        """Refresh as soon as possible (after `delay`), without ever running two at once."""
        with self._lock:
            if self._running:
                self._again = True
                return
        self._run_soon(delay)

    def _run_soon(self, delay: float) -> None:
        self._run_at(datetime.now(UTC) + timedelta(seconds=delay))

    def _run_at(self, wanted: datetime) -> bool:
        """The next refresh at `wanted`, unless one is due earlier; whether it was moved."""
        with self._lock:
            job = self.scheduler.get_job(REFRESH_JOB)
            if job is not None and (job.next_run_time is None or wanted < job.next_run_time):
                self.scheduler.modify_job(REFRESH_JOB, next_run_time=wanted)
                return True
            return False

    def _on_skipped(self, event: JobSubmissionEvent) -> None:
        """A tick came while a (long) refresh ran: run once more right after it, not never
        (and now, if it ended meanwhile)."""
        if event.job_id == REFRESH_JOB:
            self.trigger()

    def _follow_config(self) -> None:
        """Apply a reloaded interval and watch settings."""
        wanted = self.refresher.config.refresh.interval_seconds
        job = self.scheduler.get_job(REFRESH_JOB)
        if job is not None and job.trigger.interval != timedelta(seconds=wanted):
            self.scheduler.reschedule_job(REFRESH_JOB, trigger="interval", seconds=wanted)
            log.info("refresh interval is now %d s", wanted)
        self._keep_watching()

    def _on_sighup(self, signum: int, frame: object) -> None:
        # Only a flag: neither the scheduler's locks nor file I/O (which may fail, and would
        # then end the process) belong in a signal handler. `poll` takes it within a second.
        self._sighup = True

    def _watch_target(self) -> _Watched | None:
        """What should be watched, the directory as it is now (a deploy may have replaced it);
        None when watching is off."""
        config = self.refresher.config  # one config: a reload may swap it meanwhile
        refresh, directory = config.refresh, config.content.articles_dir
        if not refresh.watch:
            return None
        try:
            info = os.stat(directory)
        except OSError:
            return _Watched(directory, refresh.debounce_seconds, None)
        return _Watched(directory, refresh.debounce_seconds, (info.st_dev, info.st_ino))

    def _keep_watching(self) -> None:
        """Watch what `_watch_target` says, starting over when that changed: the setting, the
        directory or its debounce reloaded, or the directory replaced. What changed while no
        observer was watching is then found by a full refresh, asked for once it watches."""
        with self._watch_lock:
            # a tick ending after `stop` must not watch again
            target = None if self._stopped else self._watch_target()
            if target == self._watching:
                return
            self._unwatch()
            self._watching = target
            if target is None:
                return
            observer = Observer()
            observer.daemon = True
            try:
                observer.schedule(
                    _Changes(self, target.debounce), str(target.directory), recursive=True
                )
                observer.start()
            except OSError as e:
                observer.stop()
                log.warning(
                    "cannot watch %s (%s); the schedule still refreshes every %d s",
                    target.directory,
                    e.strerror or e,
                    self.refresher.config.refresh.interval_seconds,
                )
                return
            self._observer = observer
            log.info("watching %s for changes", target.directory)
        self.changed(None)
        self.trigger()

    def _unwatch(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer = None

    def stop(self, wait: bool = False) -> None:
        """`wait`: until a tick under way ends, for a caller about to close the refresher (a
        `clock` or `serve` stopping closes it, so that the store's file is whole); no tick
        starts after this. The scheduler is never asked to wait: it would hold its job-store
        lock meanwhile, which the tick takes to look at its job (a deadlock)."""
        with self._lock:
            self._stopped = True
        with self._watch_lock:
            self._unwatch()
            self._watching = None
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if wait:
            with self._idle:
                self._idle.wait_for(lambda: not self._running)
        # as `start` took it: only the main thread may (a stop from another leaves it, asking a
        # stopped clock's state_dir for a reload)
        main = threading.current_thread() is threading.main_thread()
        if self._previous_sighup is not None and main:
            signal.signal(signal.SIGHUP, self._previous_sighup)
            self._previous_sighup = None


class _Watched(NamedTuple):
    directory: Path
    debounce: float
    identity: tuple[int, int] | None  #: device and inode; None: the directory is missing


class _Changes(FileSystemEventHandler):
    """Any change to an article file asks for a refresh, debounced."""

    def __init__(self, clock: Clock, debounce: float) -> None:
        self.clock = clock
        self.debounce = debounce

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        root = self.clock.refresher.config.content.articles_dir
        source = os.path.relpath(os.fsdecode(event.src_path), root)
        # An editor's atomic save arrives as a move onto the target name: count the target.
        destination = os.fsdecode(getattr(event, "dest_path", "") or "")
        target = os.path.relpath(destination, root) if destination else source
        if event.is_directory:
            # a directory created, moved or deleted: its files with it
            if event.event_type != "modified" and (
                listed(source, directory=True) or listed(target, directory=True)
            ):
                self.clock.changed(None)
                self.clock.trigger(self.debounce)
            return
        wanted = False
        if event.event_type == "moved" and listed(source):  # gone from the old name
            self.clock.changed(source)
            wanted = True
        if listed(target):
            if event.event_type in ("closed", "moved"):
                # Closed after writing, or moved into place whole: complete, no need to settle.
                self.clock.refresher.saw_closed(target)
            self.clock.changed(target)
            wanted = True
        if wanted:
            self.clock.trigger(self.debounce)


class _SkipsHandled(logging.Filter):
    """APScheduler warns when a tick comes while a refresh runs; `Clock._on_skipped` runs it
    right after, so the warning would alarm an operator for nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in record.getMessage()


_SKIPS_HANDLED = _SkipsHandled()


def run_clock(refresher: Refresher, blocking: bool) -> Clock:
    """Start the schedule: `blocking` for the `clock` process, in the background for `serve`.
    Blocking, it returns once SIGTERM or Ctrl-C stopped it, its refresher closed."""
    # One line per event of our own; APScheduler's "running job" chatter every second is not one.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.scheduler").addFilter(_SKIPS_HANDLED)
    # The jobs carry JOB_DEFAULTS themselves; the scheduler's time zone is theirs.
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
    )
    clock = Clock(refresher, scheduler)
    if not blocking:
        clock.start()
        return clock
    with _stopped_by_signals(clock):
        try:
            clock.start()
        finally:  # a refresh under way ends first, whole; then the store is closed, whole
            clock.stop(wait=True)
            refresher.close()
    return clock


@contextlib.contextmanager
def _stopped_by_signals(clock: Clock) -> Iterator[None]:
    """SIGTERM (honcho, systemd, docker) and Ctrl-C ask the clock to stop, which its next
    `poll` does: an interrupt raised in the main thread, inside the blocking scheduler's loop,
    was swallowed there (it catches every exception around submitting a job), and one that
    came before the scheduler ran was lost. A second signal ends the process at once, by that
    signal, the store left open rather than closed under the refresh still running. A signal
    ignored as the process started (a `clock &` of a script) stays ignored."""
    taken = [
        number
        for number in (signal.SIGTERM, signal.SIGINT)
        if signal.getsignal(number) is not signal.SIG_IGN
    ]
    previous = {number: signal.getsignal(number) or signal.SIG_DFL for number in taken}

    def stop(signum: int, frame: object) -> None:
        for number in taken:
            signal.signal(number, lambda number, frame: end_by(number))
        clock.stop_asked = True

    for number in taken:
        signal.signal(number, stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
