"""Two commits' refreshes measured alternately in the same run: the A/B of a change.

    python bench/ab_refresh.py CONFIG CHANGED_FILE BEFORE [AFTER] [--rounds 5] [--reps 15]

Each round runs `refresh_probe.py` (nothing changed, one article changed by the full scan and
as the watcher reports it) once per commit, so that both see the machine as it is at that
moment, BEFORE first in odd rounds and AFTER first in even ones, so that neither always runs
right after the other; the table gives the medians of the round medians and their ratio.
AFTER defaults to HEAD. Each commit's `feedsvc/` is taken with `git archive` into
`BENCH_WORK/code-<commit>` and put first on `PYTHONPATH`, as `run.sh --rev` does; the probe is
this tree's. CONFIG and CHANGED_FILE are as `refresh_probe.py` wants them: a state_dir filled
by a cold build (both commits use it in turn; the first refresh of each, untimed, renders what
the other rendered differently) and a corpus that may be edited and is restored at the end.
When the store's schema changed between the two, the older commit cannot open the newer's store:
give AFTER a config of its own (`--after-config`, another state_dir over the same corpus).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from suite import compared_commits, in_turn, probe  # bench/suite.py, beside this file

FIGURES = {
    "nothing_s": "nothing changed",
    "one_s": "one changed, full scan",
    "one_watched_s": "one changed, watcher",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("changed_file")
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--after-config", help="AFTER's own config, if the schema changed")
    args, sides = compared_commits(parser, rounds=5)
    changed = str(Path(args.changed_file).resolve())
    (before, _), (after, _) = sides
    configs = {
        before: str(Path(args.config).resolve()),
        after: str(Path(args.after_config or args.config).resolve()),
    }
    rounds: dict[str, dict[str, list[float]]] = {name: {} for name, _ in sides}
    for number in range(args.rounds):
        for name, code in in_turn(sides, number):
            found = probe(code, "refresh_probe.py", configs[name], changed, "--reps", args.reps)
            for key in FIGURES:
                rounds[name].setdefault(key, []).append(statistics.median(found[key]))
            line = ", ".join(f"{FIGURES[k]} {1e3 * rounds[name][k][-1]:.1f} ms" for k in FIGURES)
            print(f"round {number + 1} {name}: {line}", file=sys.stderr)
    print(f"| refresh | {before} | {after} | ratio |\n|---|---:|---:|---:|")
    for key, label in FIGURES.items():
        old, new = (statistics.median(rounds[side][key]) for side in (before, after))
        print(f"| {label} | {1e3 * old:.1f} ms | {1e3 * new:.1f} ms | {new / old:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
