"""Two commits' cold builds measured alternately in the same run, beside Hugo: the A/B of a
change to the build.

    python bench/ab_build.py BEFORE [AFTER] [--n 10000] [--rounds 4]

Each round runs `feedsvc build --out` of each commit on the seed and the Markdown corpus of N
articles, each into a fresh state_dir, and Hugo on the Markdown corpus (it cannot read the
.txt format), in an order reversed every other round so that no case always follows another.
The table gives the median wall times, the ratio of the two commits and AFTER against Hugo.
AFTER defaults to HEAD. Commits are taken and byte-compiled as `run.sh --rev` does; the
corpora and Hugo's site are those `run.sh` made under BENCH_WORK (run it once first).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bench/suite.py, beside this file
from suite import BIN, WORK, Trash, code_env, compared_commits, in_turn, write_config

FORMATS = ("seed", "markdown")


def timed(cmd: list[object], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run([str(part) for part in cmd], env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    args, sides = compared_commits(parser, rounds=4)
    corpora = {fmt: WORK / f"corpus-{fmt}-{args.n}" for fmt in FORMATS}
    hugo_site = WORK / "peers" / "hugo-site"
    missing = [p for p in (*corpora.values(), hugo_site) if not p.is_dir()]
    if missing:
        sys.exit(f"ab_build: no {', '.join(map(str, missing))}: run bench/run.sh once first")

    trash = Trash(WORK / "trash")  # emptied at the end: see `Trash`

    def feedsvc(code: Path, fmt: str) -> float:
        run = Path(tempfile.mkdtemp(dir=trash.root))  # already in it: never deleted while timed
        config = write_config(run / "config.toml", corpora[fmt], run / "state")
        command = [BIN / "feedsvc", "build", "--config", config, "--out", run / "out"]
        return timed(command, code_env(code))

    def hugo() -> float:
        run = Path(tempfile.mkdtemp(dir=trash.root))
        site = ["-s", hugo_site, "--contentDir", corpora["markdown"]]
        return timed(["hugo", "--quiet", *site, "-d", run / "out", "--cacheDir", run / "cache"])

    cases = [(f"{name} {fmt}", code, fmt) for fmt in FORMATS for name, code in sides]
    times: dict[str, list[float]] = {}
    try:
        for number in range(args.rounds):
            for label, code, fmt in in_turn([*cases, ("hugo markdown", None, "markdown")], number):
                seconds = feedsvc(code, fmt) if code is not None else hugo()
                times.setdefault(label, []).append(seconds)
                print(f"round {number + 1} {label}: {seconds:.2f} s", file=sys.stderr)
    finally:
        trash.empty()
    (before, _), (after, _) = sides
    peer = statistics.median(times["hugo markdown"])
    print(f"| cold build {args.n} | {before} | {after} | ratio | Hugo | {after} x Hugo |")
    print("|---|---:|---:|---:|---:|---:|")
    for fmt in FORMATS:
        old, new = (statistics.median(times[f"{side} {fmt}"]) for side in (before, after))
        ratios = f"{new / old:.2f}x | {peer:.2f} s | {new / peer:.2f}x"
        print(f"| {fmt} | {old:.2f} s | {new:.2f} s | {ratios} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
