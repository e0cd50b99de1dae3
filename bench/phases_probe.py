"""One `feedsvc build`, as the command runs it, with the time each phase started and ended.

    python bench/phases_probe.py --config CONFIG --out DIR

Runs `feedsvc.cli.main` in this process (what the `feedsvc` command runs), its phases wrapped
to note when each started and ended, in wall time and in this process's CPU time. Prints one
JSON object last: the phases in order, the time the imports took, the CPU of this process and
of its worker processes (reaped when the refresher closes), in seconds. A phase that runs
several times (a feed rendered per section) is noted from its first start to its last end.
Not a test; `build_phases.py` runs it round after round.
"""

from __future__ import annotations

import functools
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

STARTED = time.perf_counter()

from feedsvc import cli, refresh  # noqa: E402  (timed: the imports are the first phase)

IMPORTED = time.perf_counter()

#: (owner, attribute, phase): what `feedsvc build` calls, in the order it calls them
PHASES: list[tuple[Any, str, str]] = [
    (refresh, "scan", "scan"),
    (refresh, "update", "read and identify"),
    (refresh.Refresher, "_show_all", "entries rendered (workers)"),
    (refresh._Plan, "pages", "pages rendered"),
    (refresh._Plan, "feed", "feeds collected"),
    (refresh, "write_version", "version written"),
    (refresh.Refresher, "_publish", "publish (all of it)"),
    (refresh.Refresher, "close", "workers stopped"),
    (cli, "export", "copied to --out"),
]

marks: dict[str, list[float]] = {}  #: phase → [first start, last end, CPU inside]


def noted(phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            mark = marks.setdefault(phase, [start - STARTED, 0.0, 0.0])
            mark[1] = time.perf_counter() - STARTED
            mark[2] += time.process_time() - cpu

    return wrapper


def main() -> int:
    for owner, name, phase in PHASES:
        setattr(owner, name, noted(phase, getattr(owner, name)))
    sys.argv = ["feedsvc", "build", *sys.argv[1:]]  # as the command: `main()` then freezes gc
    status = cli.main()
    ended = time.perf_counter() - STARTED
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    phases = [
        {"phase": phase, "start": mark[0], "end": mark[1], "cpu": mark[2]}
        for _, _, phase in PHASES
        if (mark := marks.get(phase)) is not None
    ]
    print(
        json.dumps(
            {
                "status": status,
                "imports": IMPORTED - STARTED,
                "phases": phases,
                "ended": ended,
                "cpu": own.ru_utime + own.ru_stime,
                "workers_cpu": workers.ru_utime + workers.ru_stime,
            }
        )
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
