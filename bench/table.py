"""The suite's results (the dict `suite.py` fills) as one Markdown table of figures and ratios.

python bench/table.py RESULTS.json     re-renders a saved run
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Sequence
from typing import Any

HEADER = "| figure | N | feedsvc | beside it, same run | ratio | goal (issue 5) |"
RULE = "|---|---:|---|---|---|---|"


def median(values: Sequence[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.median(found) if found else None


def secs(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def mb(kb: float | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.0f} MB"


def kilo(n: int | str) -> str:
    n = int(n)
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def verdict(ok: bool | None, goal: str) -> str:
    if ok is None:
        return goal
    return f"{goal}: **{'met' if ok else 'not met'}**"


def build_rows(results: dict[str, Any], quick: bool) -> list[str]:
    samples = results.get("build", {})
    corpus = results.get("corpus_bytes", {})
    rows = []
    ns = sorted({int(key.rsplit("-", 1)[1]) for key in samples})

    def figure(key: str) -> tuple[float | None, float | None, int]:
        got = samples.get(key, [])
        rss = max((s["rss_kb"] for s in got), default=None)
        return median([s["seconds"] for s in got]), rss, len(got)

    def written(key: str) -> str:
        """Files in the output; for feedsvc, the time its refresh reported (the rest is the
        interpreter starting, the imports and the copy into --out)."""
        got = samples.get(key, [])
        files = max((s.get("files", 0) for s in got), default=0)
        inner = [s["refresh_s"] for s in got if s.get("refresh_s") is not None]
        parts = [f"refresh {secs(median(inner))}"] if inner else []
        parts += [f"{files:,} files"] if files else []
        return f" ({', '.join(parts)})" if parts else ""

    for n in ns:
        hugo, hugo_rss, hugo_runs = figure(f"hugo-markdown-{n}")
        pelican, pelican_rss, pelican_runs = figure(f"pelican-markdown-{n}")
        for fmt, label in (("seed", "seed .txt"), ("markdown", "Markdown")):
            ours, rss, runs = figure(f"feedsvc-{fmt}-{n}")
            if ours is None:
                continue
            beside, ratio = [], []
            if hugo is not None:
                hugo_files = written(f"hugo-markdown-{n}")
                beside.append(f"Hugo {secs(hugo)} · {mb(hugo_rss)} (x{hugo_runs}){hugo_files}")
                ratio.append(f"{ours / hugo:.2f}x Hugo")
            if pelican is not None:
                beside.append(f"Pelican {secs(pelican)} · {mb(pelican_rss)} (x{pelican_runs})")
                ratio.append(f"{ours / pelican:.2f}x Pelican")
            size = corpus.get(f"{fmt}-{n}")
            if size and not beside:
                beside.append(f"corpus {size / 2**20:.0f} MB on disk")
                ratio.append(f"peak RSS {rss / 1024 / (size / 2**20):.2f}x corpus" if rss else "")
            if n == 10_000 and hugo is not None:
                goal = verdict(ours <= 0.8 * hugo, "≤ 0.8x Hugo")
            elif n == 100_000 and size and rss:
                goal = verdict(rss * 1024 < size / 2, "peak RSS well under corpus size (< ½)")
            else:
                goal = "-"
            rows.append(
                f"| 1 cold build, {label} | {kilo(n)} | {secs(ours)} · {mb(rss)} (x{runs})"
                f"{written(f'feedsvc-{fmt}-{n}')} "
                f"| {'; '.join(beside) or '-'} | {'; '.join(ratio) or '-'} | {goal} |"
            )
    return rows


REFRESH_GOALS = {
    ("nothing", 10_000): 0.030,
    ("nothing", 100_000): 0.300,
    ("one", 10_000): 0.050,
    ("one", 100_000): 0.500,
}


def refresh_rows(results: dict[str, Any]) -> list[str]:
    found = results.get("refresh", {})
    rows = []
    ns = sorted({int(key.rsplit("-", 1)[1]) for key in found})
    kinds = (
        ("nothing", "nothing changed"),
        ("one", "one article changed, full scan"),
        ("one_watched", "one article changed, as the watcher reports it"),
    )
    for kind, label in kinds:
        for n in ns:
            cells, worst, rss = [], 0.0, []
            for fmt, short in (("seed", "txt"), ("markdown", "md")):
                got = found.get(f"{fmt}-{n}")
                if not got or f"{kind}_s" not in got:
                    continue
                value = median(got[f"{kind}_s"])
                if value is None:
                    continue
                worst = max(worst, value)
                rss.append(got["peak_rss_kb"])
                cells.append(f"{short} {secs(value)}")
            if not cells:
                continue
            goal = REFRESH_GOALS.get((kind.split("_")[0], n))
            runs = len(next(iter(found.values())).get(f"{kind}_s", []))
            goal_text = verdict(worst <= goal, f"≤ {secs(goal)}") if goal else "-"
            rows.append(
                f"| 2 refresh, {label} (in-process, median of {runs}) | {kilo(n)} "
                f"| {' · '.join(cells)} | refresher peak RSS {mb(max(rss))} | - | {goal_text} |"
            )
    return rows


def latency_rows(results: dict[str, Any]) -> list[str]:
    found = results.get("latency", {})
    hugo = results.get("hugo_server", {})
    rows = []
    for key, got in sorted(found.items(), key=lambda kv: int(kv[0].rsplit("-", 1)[1])):
        n = int(key.rsplit("-", 1)[1])
        served = {how: median([s["served_s"] for s in got[how]]) for how in ("rename", "write")}
        disk = {how: median([s["disk_s"] for s in got[how]]) for how in ("rename", "write")}
        probe = (
            hugo.get(str(n)) or hugo.get("1000") or (next(iter(hugo.values())) if hugo else None)
        )
        probe_n = next((k for k, v in hugo.items() if v is probe), None)
        beside = ratio = "-"
        if probe:
            wall = probe["reaction_wall_median_s"]
            beside = f"hugo server, write → feed on disk: {secs(wall)} ({kilo(probe_n or 0)})"
            worst = max((v for v in served.values() if v is not None), default=None)
            worst_disk = max((v for v in disk.values() if v is not None), default=None)
            ratio = f"served {worst / wall:.2f}x Hugo" if worst else "-"
            if worst_disk:
                ratio += f"; on disk {worst_disk / wall:.2f}x Hugo"
        worst_served = max((v for v in served.values() if v is not None), default=None)
        ok = None if worst_served is None or got["timeouts"] else worst_served <= 0.25
        if got["timeouts"]:
            ok = False
        runs = len(got["rename"])
        late = f" · {got['timeouts']} timed out (20 s)" if got["timeouts"] else ""
        rows.append(
            f"| 3 publish latency, watch on: new file → entry served (on disk), x{runs} "
            f"| {kilo(n)} | rename {secs(served['rename'])} ({secs(disk['rename'])}) · "
            f"write+close {secs(served['write'])} ({secs(disk['write'])}){late} "
            f"| {beside} | {ratio} | {verdict(ok, '≤ 250 ms at 10k') if n == 10_000 else '-'} |"
        )
    return rows


def startup_rows(results: dict[str, Any]) -> list[str]:
    found = results.get("startup", {})
    rows = []
    for name, label in (
        ("gunicorn", "gunicorn -w 2"),
        ("serve", "feedsvc serve (refresh starts too)"),
    ):
        keys = sorted(
            (k for k in found if k.startswith(name + "-")), key=lambda k: int(k.rsplit("-", 1)[1])
        )
        if not keys:
            continue
        small, big = keys[0], keys[-1]

        def fig(key: str) -> tuple[float | None, float | None, int]:
            got = found[key]
            rss = median([s["worker_rss_kb"] for s in got])
            return median([s["seconds"] for s in got]), rss, len(got)

        big_s, big_rss, runs = fig(big)
        small_s, small_rss, _ = fig(small)
        n_big, n_small = int(big.rsplit("-", 1)[1]), int(small.rsplit("-", 1)[1])
        ratio = (
            f"{big_s / small_s:.2f}x time · {big_rss / small_rss:.2f}x RSS"
            if (big_s and small_s and big_rss and small_rss)
            else "-"
        )
        goal = "-"
        if name == "gunicorn" and n_big == 100_000 and big_s is not None:
            goal = verdict(big_s <= 1.0, "≤ 1 s, independent of N; worker RSS too")
        rows.append(
            f"| 4 start-up to first feed served, {label}, x{runs} | {kilo(n_big)} "
            f"| {secs(big_s)} · RSS {mb(big_rss)} | {kilo(n_small)}: {secs(small_s)} · RSS "
            f"{mb(small_rss)} | {ratio} | {goal} |"
        )
    return rows


def serving_rows(results: dict[str, Any]) -> list[str]:
    found = results.get("serving")
    if not found or not found.get("rps"):
        return []
    rps = {name: median(values) for name, values in found["rps"].items()}
    runs = len(next(iter(found["rps"].values())))
    base = rps.get("trivial route")
    checks = found.get("checks", {})
    n = kilo(found["n"])
    bare = rps.get("bare wsgi")
    rows = [
        f"| 5 serving, gunicorn -w 2, wrk -t2 -c32, x{runs}: trivial route `/bench/trivial` "
        f"(baseline: a Flask route of the same app) | {n} | {base:,.0f} req/s | - | 1.00 | - |"
    ]
    if bare and base:
        rows.append(
            f"| 5 serving: `/bench/bare`, answered by the outermost WSGI layer (before the "
            f"published-files layer and Flask) | {n} | {bare:,.0f} req/s | - "
            f"| {bare / base:.2f}x trivial | - |"
        )

    def size(name: str) -> str:
        check = checks.get(name, {})
        return f"{check.get('bytes', 0) / 1024:.0f} KB" if check.get("status") == 200 else "304"

    for name, label in (
        ("/feeds.opml", "`/feeds.opml` (a tiny published file)"),
        ("feed plain", f"`{found['feed']}` plain"),
        ("feed gzip", f"`{found['feed']}` gzip"),
        ("feed 304", f"`{found['feed']}` 304 (If-None-Match, gzip)"),
    ):
        ours = rps.get(name)
        if ours is None or not base:
            continue
        nginx_name = {
            "feed plain": "nginx plain",
            "feed gzip": "nginx gzip",
            "feed 304": "nginx 304",
        }
        theirs = rps.get(nginx_name.get(name, ""))
        beside = f"nginx {theirs:,.0f} req/s" if theirs else "-"
        ratio = f"{ours / base:.2f}x trivial"
        if bare:
            ratio += f"; {ours / bare:.2f}x bare"
        if theirs:
            ratio += f"; {ours / theirs:.2f}x nginx"
        goal = "-"
        if name in ("feed gzip", "feed 304"):
            goal = verdict(ours >= 0.9 * base, "≥ 0.9x trivial")
        rows.append(
            f"| 5 serving: {label}, {size(name)} | {n} | {ours:,.0f} req/s | {beside} "
            f"| {ratio} | {goal} |"
        )
    return rows


def bytes_rows(results: dict[str, Any]) -> list[str]:
    got = results.get("bytes")
    if not got:
        return []
    share = got["share_of_naive"]
    total = got["bytes"]
    return [
        f"| 6 bytes per poll, simulated day: {got['feeds']} feeds polled every 5 min, one article "
        f"every 10 min ({got['polls_per_mode']} polls) | - | conditional + gzip: "
        f"{share['polite'] * 100:.1f} % of naive ({total['polite'] / 2**20:.1f} MB) "
        f"| naive {total['naive'] / 2**20:.0f} MB; gzip alone {share['gzip'] * 100:.1f} %; "
        f"conditional alone {share['conditional'] * 100:.1f} % | {share['polite']:.3f} "
        f"| {verdict(share['polite'] <= 0.05, '≤ 5 %')} |"
    ]


def render(results: dict[str, Any], quick: bool) -> str:
    rows = [
        HEADER,
        RULE,
        *build_rows(results, quick),
        *refresh_rows(results),
        *latency_rows(results),
        *startup_rows(results),
        *serving_rows(results),
        *bytes_rows(results),
    ]
    notes = [
        "",
        "Medians; (xk) = repetitions, interleaved with the peer's in the same run. Sizes in "
        "MB are peak RSS (`/usr/bin/time %M`, max over runs) unless said otherwise.",
        "Cold builds: (refresh ...) is the time feedsvc reports for its refresh, in-process; "
        "the rest is the interpreter starting, the imports and the copy into --out. "
        "(N files) counts the files in the output directory.",
    ]
    if quick:
        notes.append(
            "Quick run: smoke sizes; the goals stated at 10k and 100k are not judged "
            "(serving and bytes per poll do not depend on N)."
        )
    for error in results.get("errors", []):
        notes.append(f"- problem: {error[:300]}")
    return "\n".join(rows + notes)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        saved = json.load(handle)
    print("\n".join(saved.get("machine", [])) + "\n")
    print(render(saved, saved.get("plan") == "quick"))
