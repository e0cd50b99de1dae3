"""What the processes sharing one `state_dir` tell each other, through files: the status
`/healthz` reports, requests to the refresher, and the locks that keep one refresher at a time.

Kept apart from `refresh` so that a web process, which only reads the status and asks for
refreshes, does not import the refresher (readers, renderers, worker processes) at start-up.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from feedsvc.errors import LockedError

STATUS_FILE = "status.json"


def write_status(state_dir: Path, status: dict[str, object]) -> None:
    """Replace `status.json`: `/healthz` never reads half of one."""
    write_json(state_dir / STATUS_FILE, status, indent=1)


def read_status(state_dir: Path) -> dict[str, object]:
    return read_json(state_dir / STATUS_FILE)


def write_json(target: Path, value: object, indent: int | None = None) -> None:
    """Atomically replace a JSON file of the state_dir: a reader sees the old one or the new."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    temporary.write_text(json.dumps(value, indent=indent), "utf-8")
    os.replace(temporary, target)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from the state_dir; {} if missing, unreadable or not an object."""
    try:
        loaded = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


@contextmanager
def build_lock(state_dir: Path) -> Iterator[None]:
    """One refresh at a time per state directory, across processes (waits its turn)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "build.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def refresher_role(state_dir: Path) -> Iterator[None]:
    """Held for the life of `clock` or `serve`: a second one declines instead of racing."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "refresher.lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise LockedError(
                f"another refresher (pid {holder}) already runs on {state_dir}; "
                "run one `clock` (or one `serve`) per state_dir, and any number of `web` processes"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def request_control(state_dir: Path, name: str) -> None:
    """Ask the refresher, from any process, to "refresh" or "reload" at its next poll."""
    control = state_dir / "control"
    control.mkdir(parents=True, exist_ok=True)
    (control / name).touch()


def take_control(state_dir: Path) -> set[str]:
    """The requests waiting for the refresher, removed as they are taken."""
    taken: set[str] = set()
    for name in ("refresh", "reload"):
        try:
            (state_dir / "control" / name).unlink()
        except FileNotFoundError:
            continue
        taken.add(name)
    return taken


def refresher_pid(state_dir: Path) -> int | None:
    """The pid of the refresher (`clock` or `serve`) of `state_dir`, if one seems to run."""
    try:
        pid = int((state_dir / "refresher.lock").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid
