"""Peak memory of a command and every process it starts (worker processes included).

    python bench/tree_memory.py [--every 0.02] -- COMMAND...

`/usr/bin/time %M` reports the largest single process; a refresher with worker processes is
several. This samples /proc every `--every` seconds and prints one JSON object: the peak of the
summed PSS (proportional set size: pages shared after a fork counted once, split between the
processes sharing them), the peak RSS of the command's own process, and how many processes ran
at once at most. Linux only. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        with os.scandir(f"/proc/{pid}/task") as tasks:
            for task in tasks:
                with open(f"/proc/{pid}/task/{task.name}/children") as listing:
                    found += [int(child) for child in listing.read().split()]
    except OSError:
        pass
    return found


def tree(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += children(pid)
    return pids


def kilobytes(pid: int, field: str, source: str) -> int:
    try:
        with open(f"/proc/{pid}/{source}") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=float, default=0.02)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    peak_pss = peak_rss = most = 0
    while process.poll() is None:
        pids = tree(process.pid)
        peak_pss = max(peak_pss, sum(kilobytes(p, "Pss", "smaps_rollup") for p in pids))
        peak_rss = max(peak_rss, kilobytes(process.pid, "VmHWM", "status"))
        most = max(most, len(pids))
        time.sleep(args.every)
    result = {
        "seconds": round(time.perf_counter() - started, 3),
        "exit": process.returncode,
        "peak_tree_pss_kb": peak_pss,
        "peak_main_rss_kb": peak_rss,
        "most_processes": most,
    }
    print(json.dumps(result))
    return process.returncode


if __name__ == "__main__":
    sys.exit(main())
