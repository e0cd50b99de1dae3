"""Where feedsvc spends its time: cProfile of a cold build and of refreshes, in-process.

    python bench/profile_feedsvc.py --work /tmp/feedsvc-bench [--code DIR] [--build-n 10000]
                            [--refresh-n 100000] [--format seed] [--top 30]

Uses the corpora `run.sh` made under WORK (and its kept 100k state when there is one; else it
makes one, untimed). --code puts a snapshot (e.g. WORK/code-<commit>) first on sys.path, as the
suite does. Writes WORK/profile/*.prof and *.txt (pstats by cumulative and by own time) and
prints the top of each. A profile slows Python code down several times: read it for shares,
not for absolute times. Not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import time
from pathlib import Path

# bench/suite.py, beside this file: the suite's own config, so that a profile runs what it times
from suite import write_config


def report(profile: cProfile.Profile, name: str, out: Path, top: int, seconds: float) -> None:
    text = io.StringIO()
    text.write(f"# {name}: {seconds:.3f} s under the profiler\n")
    for key in ("cumulative", "tottime"):
        text.write(f"\n## sorted by {key}\n")
        stats = pstats.Stats(profile, stream=text)
        stats.strip_dirs().sort_stats(key).print_stats(top)
    profile.dump_stats(out / f"{name}.prof")
    (out / f"{name}.txt").write_text(text.getvalue(), "utf-8")
    print(text.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/feedsvc-bench"))
    parser.add_argument("--code", type=Path, help="a feedsvc snapshot to import instead")
    parser.add_argument("--build-n", type=int, default=10_000)
    parser.add_argument("--refresh-n", type=int, default=100_000)
    parser.add_argument("--format", default="seed", choices=("seed", "markdown"))
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    if args.code:
        sys.path.insert(0, str(args.code.resolve()))
    from feedsvc.config import load_config
    from feedsvc.refresh import Refresher

    work: Path = args.work.resolve()
    out = work / "profile"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    # -- a cold build: fresh state, every article read, every feed rendered and published
    corpus = work / f"corpus-{args.format}-{args.build_n}"
    if not corpus.is_dir():
        sys.exit(f"no corpus {corpus}: run bench/run.sh first (or make_corpus.py)")
    config = write_config(out / "build" / "config.toml", corpus, out / "build" / "state")
    refresher = Refresher(load_config(config))
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(refresher.refresh)
    report(
        profile,
        f"cold-build-{args.format}-{args.build_n}",
        out,
        args.top,
        time.perf_counter() - started,
    )
    refresher.close()

    # -- refreshes at refresh-n: nothing changed, then one article changed
    corpus = work / f"corpus-{args.format}-{args.refresh_n}"
    kept = work / "kept" / f"{args.format}-{args.refresh_n}" / "state"
    scratch = out / "refresh"
    scratch.mkdir()
    subprocess.run(["cp", "-al", str(corpus), str(scratch / "articles")], check=True)
    if kept.is_dir():
        subprocess.run(["cp", "-a", str(kept), str(scratch / "state")], check=True)
    config = write_config(scratch / "config.toml", scratch / "articles", scratch / "state")
    refresher = Refresher(load_config(config))
    refresher.refresh()  # a cold build if no state was kept; else the config changed: re-render
    refresher.refresh()
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(refresher.refresh)
    name = f"refresh-nothing-{args.format}-{args.refresh_n}"
    report(profile, name, out, args.top, time.perf_counter() - started)

    newest = max((scratch / "articles").rglob("*.*"), key=lambda p: p.stat().st_mtime_ns)
    data = newest.read_bytes().rstrip(b"\n") + b" Corrected.\n"
    mtime = newest.stat().st_mtime_ns + 1_000_000_000
    temp = newest.with_name("." + newest.name + ".tmp")
    temp.write_bytes(data)
    os.utime(temp, ns=(mtime, mtime))
    os.replace(temp, newest)
    profile = cProfile.Profile()
    started = time.perf_counter()
    result = profile.runcall(refresher.refresh)
    name = f"refresh-one-{args.format}-{args.refresh_n}"
    report(profile, name, out, args.top, time.perf_counter() - started)
    print(result.summary())
    refresher.close()
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(out / "build", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
