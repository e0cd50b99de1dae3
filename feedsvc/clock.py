"""The schedule: APScheduler runs the refresh every interval, at start, and whenever asked.

Asking is done through control files (`refresh.request_control`), so that a web process, the
CLI and a signal handler all ask the same way. Optional file watching (watchdog) asks too.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from feedsvc.corpus import is_ignored
from feedsvc.refresh import Refresher, failed_refresh, request_control, take_control

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
#: Never skip work silently: late runs still run, piled-up runs become one, one at a time.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


class Clock:
    """Runs `refresher.refresh` on a schedule; a refresh asked for while one runs runs next."""

    def __init__(self, refresher: Refresher, scheduler: BaseScheduler) -> None:
        self.refresher = refresher
        self.scheduler = scheduler
        self._again = threading.Event()
        self._observer: Any = None

    def start(self) -> None:
        interval = self.refresher.config.refresh.interval_seconds
        self.scheduler.add_job(
            self.tick,
            "interval",
            seconds=interval,
            id="refresh",
            next_run_time=datetime.now(UTC),
        )
        self.scheduler.add_job(self.poll, "interval", seconds=POLL_SECONDS, id="poll")
        self._watch()
        signal.signal(signal.SIGHUP, self._on_sighup)
        log.info("refreshing every %d s; SIGHUP or `feedsvc reload` rereads the config", interval)
        self.scheduler.start()

    def tick(self) -> None:
        """One scheduled run, repeated while new requests arrived during it."""
        while True:
            self._again.clear()
            try:
                self.refresher.refresh()
            except Exception as e:
                failed_refresh(self.refresher, e)
            self._follow_config()
            if not self._again.is_set():
                return

    def poll(self) -> None:
        if take_control(self.refresher.state_dir):
            self.trigger()

    def trigger(self, delay: float = 0.0) -> None:
        """Refresh as soon as possible (after `delay`), without ever running two at once."""
        self._again.set()
        self.scheduler.modify_job(
            "refresh", next_run_time=datetime.now(UTC) + timedelta(seconds=delay)
        )

    def _follow_config(self) -> None:
        """Apply a reloaded interval and watch setting."""
        wanted = self.refresher.config.refresh.interval_seconds
        job = self.scheduler.get_job("refresh")
        if job is not None and job.trigger.interval != timedelta(seconds=wanted):
            self.scheduler.reschedule_job("refresh", trigger="interval", seconds=wanted)
            log.info("refresh interval is now %d s", wanted)
        if self.refresher.config.refresh.watch != (self._observer is not None):
            self._watch()

    def _on_sighup(self, signum: int, frame: object) -> None:
        # Only a file touch here: the scheduler's locks are not safe to take in a signal handler.
        request_control(self.refresher.state_dir, "reload")

    def _watch(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer = None
        config = self.refresher.config
        if not config.refresh.watch:
            return
        observer = Observer()
        observer.schedule(
            _Changes(self, config.refresh.debounce_seconds),
            str(config.content.articles_dir),
            recursive=True,
        )
        observer.daemon = True
        observer.start()
        self._observer = observer
        log.info("watching %s for changes", config.content.articles_dir)

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


class _Changes(FileSystemEventHandler):
    """Any change to an article file asks for a refresh, debounced."""

    def __init__(self, clock: Clock, debounce: float) -> None:
        self.clock = clock
        self.debounce = debounce

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        # An editor's atomic save arrives as a move onto the target name: count the target.
        path = str(getattr(event, "dest_path", "") or event.src_path)
        if is_ignored(path.rsplit("/", 1)[-1]):
            return
        self.clock.trigger(self.debounce)


def run_clock(refresher: Refresher, blocking: bool) -> Clock:
    """Start the schedule: `blocking` for the `clock` process, in the background for `serve`."""
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
        if blocking
        else BackgroundScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
    )
    clock = Clock(refresher, scheduler)
    clock.start()
    return clock
