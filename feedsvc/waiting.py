"""A refresher (`clock` or `serve`) started with a config that does not validate, where feeds
are published already, waits for a valid config rather than exiting.

Exiting took the whole site down: honcho and foreman stop every process of a Procfile when one
exits, `web` included, and `serve` is the web tier itself. Waiting, it holds the refresher's
role (a second refresher declines, and `feedsvc reload` reaches this one), says why in
/healthz, and starts once the config validates, read again each second. What is published
stays served meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from feedsvc.clock import POLL_SECONDS
from feedsvc.config import Config, config_path, load_config, state_dir_of
from feedsvc.control import (
    STATUS_FILE,
    read_status,
    refresher_role,
    request_control,
    take_control,
    write_status,
)
from feedsvc.errors import ConfigError
from feedsvc.publish import current_id, publish_dir

log = logging.getLogger(__name__)


def published_state_dir(config_file: str | None) -> Path | None:
    """The state_dir a config that does not validate names, if feeds are published there."""
    state_dir = state_dir_of(config_path(config_file))
    if state_dir is None or current_id(publish_dir(state_dir)) is None:
        return None
    return state_dir


def valid_config(
    config_file: str | None, state_dir: Path, error: ConfigError, stopping: threading.Event
) -> Config | None:
    """The config once it validates; None if `stopping` is set first."""
    path = config_path(config_file)
    said = str(error)
    # the role first: a second refresher, declining, must not speak for the running one
    with refresher_role(state_dir), sighup_asks_for_a_reload(state_dir):
        log.error("%s; the refresher waits for a valid config; what is published is served", said)
        _tell_healthz(state_dir, said)
        # Read again each second, not only when the file changes: a directory it names may
        # appear (a mount up late, a deploy moving articles/ in after the restart).
        while not stopping.wait(POLL_SECONDS):
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
            except ConfigError as e:
                if str(e) != said:
                    said = str(e)
                    log.error("%s; the refresher still waits for a valid config", said)
                    _tell_healthz(state_dir, said)
                continue
            log.info("%s is valid now: the refresher starts", path)
            return config
    return None


@contextlib.contextmanager
def sighup_asks_for_a_reload(state_dir: Path) -> Iterator[None]:
    """SIGHUP, which would end the process by default, asks as `feedsvc reload` does."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGHUP, lambda *_: request_control(state_dir, "reload"))
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


def _tell_healthz(state_dir: Path, error: str) -> None:
    """Where /healthz reads it: the web tier, serving what was published meanwhile, would say
    "ok" until the feeds went stale, and not why."""
    if not (state_dir / STATUS_FILE).exists():
        return
    status = read_status(state_dir)
    status["config_error"] = f"{error}; the refresher waits for a valid config: fix the file"
    status["error"] = "the refresher waits for a valid config (config_error)"
    with contextlib.suppress(OSError):  # said in the log anyway
        write_status(state_dir, status)
