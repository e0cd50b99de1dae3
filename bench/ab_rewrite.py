"""Two commits' refresh of one large file rewritten whole, measured alternately in the same
run: the A/B of a change to how a file's articles are paired with its stored entries.

    python bench/ab_rewrite.py BEFORE [AFTER] [--stories 3000] [--rounds 3]

Each round runs `rewrite_probe.py` once per commit (the file built, then its stories all
replaced, then all edited, each refresh timed; a fresh directory each time), BEFORE first in
odd rounds and AFTER first in even ones. The table gives the medians, each rewrite as a
multiple of the build of the same file in the same run, and AFTER against BEFORE. AFTER
defaults to HEAD; commits are taken as `run.sh --rev` takes them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from suite import WORK, Trash, compared_commits, in_turn, probe  # bench/suite.py

FIGURES = {
    "build_s": "built",
    "replaced_s": "every story replaced",
    "edited_s": "every story edited",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=3000)
    args, sides = compared_commits(parser, rounds=3)
    trash = Trash(WORK / "trash")  # emptied at the end: see `Trash`
    times: dict[str, dict[str, list[float]]] = {name: {} for name, _ in sides}
    try:
        for number in range(args.rounds):
            for name, code in in_turn(sides, number):
                run = Path(tempfile.mkdtemp(dir=trash.root)) / "run"
                found = probe(code, "rewrite_probe.py", run, "--stories", args.stories)
                for key in FIGURES:
                    times[name].setdefault(key, []).append(found[key])
                line = ", ".join(f"{FIGURES[key]} {found[key]:.2f} s" for key in FIGURES)
                print(f"round {number + 1} {name}: {line}", file=sys.stderr)
    finally:
        trash.empty()
    (before, _), (after, _) = sides
    median = {side: {k: statistics.median(v) for k, v in times[side].items()} for side in times}
    print(f"| one file of {args.stories} stories | {before} | {after} | ratio |")
    print("|---|---:|---:|---:|")
    for key, label in FIGURES.items():
        old, new = median[before][key], median[after][key]
        print(f"| {label} | {old:.2f} s | {new:.2f} s | {new / old:.2f}x |")
    for key in ("replaced_s", "edited_s"):
        print(
            f"\n{FIGURES[key]}: {median[before][key] / median[before]['build_s']:.1f}x the build "
            f"at {before}, {median[after][key] / median[after]['build_s']:.1f}x at {after}."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
