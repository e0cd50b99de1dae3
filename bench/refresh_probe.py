"""Figure 2: one refresh with nothing changed, then with one article changed, in-process.

The one-change refresh is timed both ways a running service does it: the schedule's full scan,
and the watcher's (`refresh(paths=[the file])`, what a file-system event triggers).

    python bench/refresh_probe.py CONFIG CHANGED_FILE [--reps 7]

CONFIG must point at a state_dir that a cold build already filled and at a corpus (a copy: the
changed file is replaced by rename, as an editor's atomic save does, so a hard-linked copy of
the corpus stays intact). One `Refresher` is kept for every refresh, as `feedsvc serve` and
`feedsvc clock` keep theirs, and warmed as theirs are; untimed refreshes first (see below).
Only `refresh()` is timed. Prints one JSON object; the article gets its original bytes and
mtime back at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

try:
    from feedsvc import listing
except ImportError:  # a commit before the scan had its own module
    from feedsvc import corpus as listing
from feedsvc.config import load_config
from feedsvc.refresh import Refresher


def replace(target: Path, data: bytes, mtime_ns: int) -> None:
    """Write a new version of `target` as an editor's atomic save does: temp file, rename."""
    tmp = target.with_name(f".{target.name}.bench")
    tmp.write_bytes(data)
    os.utime(tmp, ns=(mtime_ns, mtime_ns))
    os.replace(tmp, target)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("changed_file", type=Path)
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()

    config = load_config(args.config)
    refresher = Refresher(config)
    started = time.perf_counter()
    warmup = refresher.refresh()
    warmup_s = time.perf_counter() - started
    # A scheduled refresh that finds nothing comes an interval (minutes) after the last change:
    # by then the directory has settled and is not listed again. The corpus copy was made just
    # now, so wait until it counts as settled, and let one untimed refresh list it.
    settled_ns = getattr(listing, "SETTLED_NS", 0)
    changed_ns = os.stat(config.content.articles_dir).st_ctime_ns
    time.sleep(max(0, changed_ns + settled_ns - time.time_ns()) / 1e9)
    refresher.refresh()
    # As the clock of `serve` and `clock` does after its first refresh. Older commits, which
    # ab_refresh.py measures with this probe, have no `warm`: their first timed edit reads and
    # renders every entry the feeds show.
    if hasattr(refresher, "warm"):
        refresher.warm()

    nothing: list[float] = []
    for _ in range(args.reps):
        started = time.perf_counter()
        report = refresher.refresh()
        nothing.append(time.perf_counter() - started)
        if report.files_read or report.published:
            print(f"unexpected work in a no-change refresh: {report.summary()}", file=sys.stderr)

    target: Path = args.changed_file
    original = target.read_bytes()
    mtime_ns = target.stat().st_mtime_ns
    relative = str(target.resolve().relative_to(refresher.config.content.articles_dir))
    one: list[float] = []
    watched: list[float] = []
    last = ""
    try:
        for rep in range(2 * args.reps):
            # the last paragraph gets a correction: the body changes, so does the content hash;
            # the mtime moves a second per edit (never "now": the refresher leaves a file modified
            # in the last 50 ms for the next scan)
            edited = original.rstrip(b"\n") + f" Corrected, edit {rep + 1}.\n".encode()
            replace(target, edited, mtime_ns + (rep + 1) * 1_000_000_000)
            # Odd reps: as the watcher asks (just the reported path); even: the full scan.
            paths = [relative] if rep % 2 else None
            started = time.perf_counter()
            report = refresher.refresh(paths=paths)
            (watched if paths else one).append(time.perf_counter() - started)
            last = report.summary()
            if report.updated != 1 or not report.published:
                print(f"one-change refresh did not publish one update: {last}", file=sys.stderr)
    finally:
        replace(target, original, mtime_ns)
        refresher.refresh()
        refresher.close()
    print(
        json.dumps(
            {
                "warmup_s": warmup_s,
                "warmup": warmup.summary(),
                "nothing_s": nothing,
                "one_s": one,
                "one_watched_s": watched,
                "one_last": last,
                "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
