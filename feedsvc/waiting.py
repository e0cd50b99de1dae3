"""A refresher (`clock` or `serve`) that cannot start where feeds are published, its config
invalid or its state store refused, waits until it can rather than exiting.

Exiting took the whole site down: honcho and foreman stop every process of a Procfile when one
exits, `web` included, and `serve` is the web tier itself. Waiting, it holds the refresher's
role (a second refresher declines, and `feedsvc reload` reaches this one), says why in
/healthz, and tries again each second: the config read, the store opened. What is published
stays served meanwhile. It never makes a state_dir or a store afresh: one moved aside (to be
restored) is waited for, and a whole copy moved into its place is taken up.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from feedsvc.clock import POLL_SECONDS
from feedsvc.config import config_path, load_config, state_dir_of
from feedsvc.control import (
    RefresherRole,
    amend_status,
    heartbeat,
    request_control,
    take_control,
)
from feedsvc.errors import ConfigError, FeedsvcError, StateError
from feedsvc.publish import current_id, publish_dir
from feedsvc.refresh import Refresher

log = logging.getLogger(__name__)


def published_state_dir(config_file: str | None) -> Path | None:
    """The state_dir a config that does not validate names, if feeds are published there."""
    state_dir = state_dir_of(config_path(config_file))
    if state_dir is None or not is_published(state_dir):
        return None
    return state_dir


def is_published(state_dir: Path) -> bool:
    """A version is current there: what a waiting refresher keeps up."""
    return current_id(publish_dir(state_dir)) is not None


def ready_refresher(
    config_file: str | None,
    role: RefresherRole,
    error: FeedsvcError,
    stopping: threading.Event,
    logged: bool = False,
) -> Refresher | None:
    """The refresher once the config validates and its store opens; None if `stopping` is set
    first. Called holding the refresher `role`: a second refresher, declining, must not speak
    for this one. It ends (`LockedError`) if another refresher took the role there meanwhile
    (one started where the state_dir was moved aside). `logged`: `error` was logged already
    in this process (by `serve`'s web app, serving meanwhile)."""
    path = config_path(config_file)
    state_dir = role.state_dir
    said = str(error)
    _tell_healthz(state_dir, error)
    if not logged:
        log.error("%s; %s; what is published is served", said.rstrip("."), _waits_for(error))
    # Tried again each second, not only when a file changes: a directory the config names may
    # appear (a mount up late, a deploy moving articles/ in after the restart), a store be
    # restored from a backup, a full disk freed.
    while not stopping.wait(POLL_SECONDS):
        heartbeat(state_dir)  # waiting, not killed
        with contextlib.suppress(OSError):  # requests are a shortcut: each second anyway
            take_control(state_dir)
        try:
            config = load_config(path)
            moved = config.content.state_dir.resolve() != state_dir.resolve()
            if moved:  # as a running refresher refuses it: ids would be minted anew there
                raise ConfigError(
                    f"content.state_dir is now {config.content.state_dir}, not "
                    f"{state_dir}, where the feeds are published: restart to move"
                )
            if not is_published(state_dir):
                # Moved aside to be restored, in two moves: the copy comes back in a moment.
                raise StateError(
                    f"nothing is published in {state_dir} now (moved aside?): put it back "
                    "whole; it is never made afresh here (to start afresh, restart the refresher)"
                )
            # Moved aside from here on, neither it nor its store is made afresh.
            role.keep()  # a restored copy moved into its place
            refresher = Refresher(config, published=True, busy_wait=POLL_SECONDS)
        except (ConfigError, StateError) as e:
            if str(e) != said:
                said = str(e)
                _tell_healthz(state_dir, e)
                log.error("%s; %s", said.rstrip("."), _waits_for(e, still=True))
            continue
        log.info("%s is valid and its state store opens: the refresher starts", path)
        return refresher
    return None


@contextlib.contextmanager
def sighup_asks_for_a_reload(state_dir: Path) -> Iterator[None]:
    """SIGHUP, which would end the process by default, asks as `feedsvc reload` does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def asks(signum: int, frame: object) -> None:
        with contextlib.suppress(FeedsvcError):  # the next second's look rereads it anyway
            request_control(state_dir, "reload")

    previous = signal.signal(signal.SIGHUP, asks)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


def _waits_for(error: FeedsvcError, still: bool = False) -> str:
    waits = "still waits" if still else "waits"
    if isinstance(error, ConfigError):
        return f"the refresher {waits} for a valid config"
    return f"the refresher {waits} until its state store opens, trying again each second"


def _tell_healthz(state_dir: Path, error: FeedsvcError) -> None:
    """Where /healthz reads it: the web tier, serving what was published meanwhile, would say
    "ok" until the feeds went stale, and not why. Before the log says it, as a failed refresh."""
    said, waits = str(error).rstrip("."), _waits_for(error)
    if isinstance(error, ConfigError):
        amend_status(
            state_dir,
            config_error=f"{said}; {waits}: fix the file",
            error=f"{waits} (config_error)",
        )
    else:
        amend_status(state_dir, config_error=None, error=f"{said}; {waits}")
