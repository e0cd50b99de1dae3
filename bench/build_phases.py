"""Where a cold build's time goes: each phase of `feedsvc build --out`, round after round.

    python bench/build_phases.py [COMMIT] [--n 10000] [--rounds 5] [--formats seed,markdown]

Each round runs `phases_probe.py` (the `feedsvc build` command, its phases noted) on the seed
and the Markdown corpus of N articles that `run.sh` made under BENCH_WORK, each into a fresh
state_dir and --out, and times the whole process from outside. Prints, per format, the median
start, end and length of each phase, and the CPU this process spent in it; then the whole
process's wall time, its CPU and its workers' CPU. What the phases leave out of the wall time
is the interpreter's start and exit. COMMIT (default HEAD) is taken and byte-compiled as
`run.sh --rev` does. Phases overlap where one runs inside another (the publish holds the
rendering and the writing). Not a test; a cold build's figure itself is `run.sh`'s and
`ab_build.py`'s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# bench/suite.py, beside this file
from suite import FORMATS, WORK, Trash, in_turn, probe, snapshot, write_config


def build(code: Path, corpus: Path, trash: Trash) -> dict[str, Any]:
    run = Path(tempfile.mkdtemp(dir=trash.root))  # already in it: never deleted while timed
    config = write_config(run / "config.toml", corpus, run / "state")
    started = time.perf_counter()
    phases = probe(code, "phases_probe.py", "--config", config, "--out", run / "out")
    return {**phases, "wall": time.perf_counter() - started}


def table(fmt: str, n: int, runs: list[dict[str, Any]]) -> list[str]:
    def med(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.0f}"

    lines = [
        f"### {fmt}, {n} articles: medians of {len(runs)} rounds, in ms",
        "",
        "| phase | start | end | length | CPU of the process |",
        "|---|---:|---:|---:|---:|",
        f"| imports | 0 | {med([r['imports'] for r in runs])} | "
        f"{med([r['imports'] for r in runs])} | - |",
    ]
    for index, first in enumerate(runs[0]["phases"]):
        phases = [r["phases"][index] for r in runs]
        lengths = [p["end"] - p["start"] for p in phases]
        lines.append(
            f"| {first['phase']} | {med([p['start'] for p in phases])} | "
            f"{med([p['end'] for p in phases])} | {med(lengths)} | "
            f"{med([p['cpu'] for p in phases])} |"
        )
    lines += [
        "",
        f"Whole process: {med([r['wall'] for r in runs])} ms of wall time (the probe's own "
        f"clock ended at {med([r['ended'] for r in runs])}); CPU {med([r['cpu'] for r in runs])}"
        f" ms in it, {med([r['workers_cpu'] for r in runs])} ms in its workers.",
        "",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("commit", nargs="?", default="HEAD")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--formats", default=",".join(FORMATS))
    args = parser.parse_args()
    formats = args.formats.split(",")
    corpora = {fmt: WORK / f"corpus-{fmt}-{args.n}" for fmt in formats}
    missing = [str(path) for path in corpora.values() if not path.is_dir()]
    if missing:
        sys.exit(f"build_phases: no {', '.join(missing)}: run bench/run.sh once first")
    short, code = snapshot(args.commit, WORK)
    trash = Trash(WORK / "trash")  # emptied at the end: see `Trash`
    runs: dict[str, list[dict[str, Any]]] = {fmt: [] for fmt in formats}
    try:
        for number in range(args.rounds + 1):  # the first round warms the page cache: untimed
            for fmt in in_turn(formats, number):
                result = build(code, corpora[fmt], trash)
                if number:
                    runs[fmt].append(result)
                print(f"round {number} {fmt}: {result['wall']:.2f} s", file=sys.stderr)
    finally:
        trash.empty()
    print(f"## `feedsvc build --out` at {short}, phase by phase\n")
    for fmt in formats:
        print("\n".join(table(fmt, args.n, runs[fmt])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
