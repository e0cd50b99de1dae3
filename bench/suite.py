"""The benchmark suite of issue 5: feedsvc beside Hugo and Pelican, in one Markdown table.

    bash bench/run.sh [--quick] [--out DIR] [--only build,refresh,...]   (see bench/README.md)

Run by run.sh with the project's venv Python. The code measured is a snapshot of a commit
(`git archive`, HEAD unless --rev), put first on PYTHONPATH of every feedsvc process, so that
edits in progress in the work tree do not change the figures half-way; --worktree measures the
work tree as it is. Comparisons run side by side in the same run, interleaved repetition by
repetition, and the median is quoted. Nothing here is a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from table import render  # bench/table.py, beside this file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent  # the project's venv: feedsvc, gunicorn
SEED_FILE = ROOT / "articles" / "000_c5ae1000a567dda7.txt"
SECTIONS = ("America", "Europe", "Middle East", "Asia", "Diplomacy")
FORMATS = ("seed", "markdown")
FEED = "/feeds/all.atom"  #: the 50-entry feed of the serving figure
TRIVIAL = "/bench/trivial"  #: bench_app.TRIVIAL_PATH
BARE = "/bench/bare"  #: bench_app.BARE_PATH
FIGURES = ("build", "refresh", "latency", "startup", "serving", "bytes")
STARTED = time.monotonic()
#: corpora, snapshots and runs (`run.sh --work`, else $BENCH_WORK)
WORK = Path(os.environ.get("BENCH_WORK", "/tmp/feedsvc-bench"))

CONFIG = """\
[site]
title = "World Desk"
base_url = "http://127.0.0.1:8000"
author = "World Desk newsroom"
description = "International news from the World Desk, by section."

[content]
articles_dir = {articles}
state_dir = {state}

[feeds]
max_entries = 50

[refresh]
watch = {watch}
"""


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - STARTED:5.0f} s] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


@dataclass(frozen=True)
class Plan:
    peer_ns: tuple[int, ...]  #: cold build beside Hugo and Pelican
    big_ns: tuple[int, ...]  #: cold build, feedsvc alone
    build_reps: Callable[[str, int], int]
    refresh_ns: tuple[int, ...]
    refresh_reps: int
    latency_ns: tuple[int, ...]  #: seed corpus, feedsvc serve with watch = true
    latency_reps: int  #: per way of writing the file
    hugo_probe_ns: tuple[int, ...]
    startup_ns: tuple[int, ...]
    startup_reps: int
    serving_n: int
    wrk_seconds: int
    wrk_reps: int
    bytes_n: int


def _full_reps(tool: str, n: int) -> int:
    if n > 10_000:
        return 3
    return 3 if tool == "pelican" and n > 3000 else 5


FULL = Plan(
    peer_ns=(1000, 10_000),
    big_ns=(100_000,),
    build_reps=_full_reps,
    refresh_ns=(1000, 10_000, 100_000),
    refresh_reps=7,
    latency_ns=(1000, 10_000),
    latency_reps=5,
    hugo_probe_ns=(1000, 10_000),
    startup_ns=(1000, 100_000),
    startup_reps=5,
    serving_n=1000,
    wrk_seconds=5,
    wrk_reps=3,
    bytes_n=1000,
)
QUICK = Plan(
    peer_ns=(300,),
    big_ns=(1500,),
    build_reps=lambda tool, n: 2,
    refresh_ns=(300, 1500),
    refresh_reps=3,
    latency_ns=(300,),
    latency_reps=2,
    hugo_probe_ns=(300,),
    startup_ns=(300, 1500),
    startup_reps=2,
    serving_n=300,
    wrk_seconds=2,
    wrk_reps=1,
    bytes_n=300,
)


# -- small helpers ---------------------------------------------------------------------------
def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def snapshot(commit: str, work: Path) -> tuple[str, Path]:
    """The commit's short id and `work/code-<commit>`, holding its `feedsvc/` (made once)."""
    short = git("rev-parse", "--short", commit)
    code = work / f"code-{short}"
    if not (code / "feedsvc" / "__init__.py").exists():
        shutil.rmtree(code, ignore_errors=True)
        code.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", short, "feedsvc"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
        # byte-compiled, as an installed package is: processes run with PYTHONDONTWRITEBYTECODE
        # and would otherwise compile feedsvc at every start (~30-50 ms here)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(code)], check=True)
    return short, code


def code_env(code: Path) -> dict[str, str]:
    """The environment of a feedsvc process that runs the code under `code` (a snapshot)."""
    return {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"}


def probe(code: Path, script: str, *args: object) -> Any:
    """Run `script`, a probe beside this file, on the code under `code`, as the A/B scripts
    do; what it printed last, as JSON."""
    done = subprocess.run(
        [sys.executable, str(HERE / script), *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        env=code_env(code),
        cwd=code,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def compared_commits(
    parser: argparse.ArgumentParser, rounds: int
) -> tuple[argparse.Namespace, list[tuple[str, Path]]]:
    """An A/B script's arguments (its own, then BEFORE [AFTER] [--rounds]) and the snapshots of
    the two commits under WORK."""
    parser.add_argument("before")
    parser.add_argument("after", nargs="?", default="HEAD")
    parser.add_argument("--rounds", type=int, default=rounds)
    args = parser.parse_args()
    return args, [snapshot(args.before, WORK), snapshot(args.after, WORK)]


Case = TypeVar("Case")


class Trash:
    """Where a run puts what it is done with, deleted once nothing more is timed.

    Each file created on this VM's ext4 (no journal) first skips, one lookup each, the inodes
    freed in the last minute, or 6 minutes while their inode table block is not yet written
    back (`recently_deleted`): a build that ran right after the suite removed another build's
    ~600 files paid for them (a peer writing 12 files, hardly). Renaming a directory here frees
    no inode.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)  # a killed run's is emptied with this one's

    def discard(self, path: Path) -> None:
        if path.exists() or path.is_symlink():
            path.rename(self.root / f"{time.time_ns()}-{path.name}")

    def fresh(self, path: Path) -> Path:
        """An empty directory at `path`; whatever was there, discarded."""
        self.discard(path)
        path.mkdir(parents=True)
        return path

    def empty(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def in_turn(cases: Sequence[Case], number: int) -> Sequence[Case]:
    """Round `number`'s order: reversed every other round, so that no case always runs right
    after the same other one."""
    return cases if number % 2 == 0 else cases[::-1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def secs(value: float | None) -> str:
    if value is None or value != value:
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def mb(kb: float | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.0f} MB"


def kilo(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(
    port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One GET on loopback (a new connection, as most aggregators make)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def wait_for(
    port: int, path: str, timeout: float, proc: subprocess.Popen[bytes] | None = None
) -> float:
    """Seconds until `path` answers 200 (polled every 10 ms); BenchError past `timeout`."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc is not None and proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode} before serving {path}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if get(port, path)[0] == 200:
                return time.perf_counter() - started
        time.sleep(0.01)
    raise BenchError(f"{path} not served within {timeout} s")


@contextlib.contextmanager
def process(
    args: Sequence[object], log: Path, env: dict[str, str], cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A child in its own session, stopped (its group, by its pid) and reaped on the way out."""
    with open(log, "ab") as handle:
        proc = subprocess.Popen(
            [str(a) for a in args],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=15)


def own_rss_kb(pid: int) -> list[int]:
    """[VmRSS of `pid`], or [] when it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return [int(line.split()[1])]
    return []


def children_rss_kb(pid: int) -> list[int]:
    """VmRSS of the direct children of `pid` (gunicorn's workers)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for kid in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            found += own_rss_kb(int(kid))
    return found


def write_config(path: Path, articles: Path, state: Path, watch: bool = False) -> Path:
    text = CONFIG.format(
        articles=json.dumps(str(articles)),
        state=json.dumps(str(state)),
        watch=str(watch).lower(),
    )
    for name in SECTIONS:
        text += f'\n[[sections]]\nname = "{name}"\n'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def newest_file(directory: Path) -> Path:
    best: tuple[int, str] | None = None
    for root, _dirs, files in os.walk(directory):
        for name in files:
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            mtime = os.stat(path).st_mtime_ns
            if best is None or (mtime, path) > best:
                best = (mtime, path)
    if best is None:
        raise BenchError(f"no files in {directory}")
    return Path(best[1])


def read_through(directory: Path) -> int:
    """Read every file once (the OS page cache is then warm, as for every tool); total bytes."""
    total = 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            with open(os.path.join(root, name), "rb") as handle:
                total += len(handle.read())
    return total


def count_feeds(tool: str, out: Path) -> tuple[int, int]:
    """(feed files written, entries in the combined Atom feed)."""
    if tool == "feedsvc":
        feeds = [p for p in (out / "feeds").glob("*") if p.suffix in (".atom", ".rss", ".json")]
        combined = out / "feeds" / "all.atom"
    elif tool == "hugo":
        feeds = [*out.rglob("index.xml"), *out.rglob("atom.xml")]
        combined = out / "atom.xml"
    else:
        feeds = list((out / "feeds").glob("*.xml"))
        combined = out / "feeds" / "all.atom.xml"
    items = len(re.findall(rb"<entry[\s>]", combined.read_bytes())) if combined.exists() else 0
    return len(feeds), items


def version_of(args: Sequence[str]) -> str:
    try:
        done = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable ({e})"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0] if text else "?"


# -- the suite -------------------------------------------------------------------------------
class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.plan = QUICK if args.quick else FULL
        self.quick = args.quick
        self.work: Path = args.work.resolve()
        self.out: Path = (args.out or self.work / "results").resolve()
        self.pelican: str = args.pelican
        self.only = set(args.only.split(",")) if args.only else set(FIGURES)
        self.work.mkdir(parents=True, exist_ok=True)
        self.out.mkdir(parents=True, exist_ok=True)
        self.scratch = self.work / "scratch"
        self.runs = self.work / "runs"
        self.kept_root = self.work / "kept"
        self.trash = Trash(self.work / "trash")
        for d in (self.scratch, self.runs):
            self.trash.fresh(d)
        # the peers' configurations, copied: Hugo writes a lock file into its site directory
        self.peers = self.work / "peers"
        self.trash.discard(self.peers)
        shutil.copytree(args.peers, self.peers)
        self.code, self.commit = self._code(args)
        self.env = code_env(self.code)
        self.results: dict[str, Any] = {"plan": "quick" if self.quick else "full", "errors": []}
        self.kept: dict[tuple[str, int], Path] = {}

    def _code(self, args: argparse.Namespace) -> tuple[Path, str]:
        if args.worktree:
            return ROOT, "work tree of " + git("rev-parse", "--short", "HEAD")
        commit, code = snapshot(args.rev, self.work)
        return code, commit

    def py(self) -> list[str]:
        return [sys.executable]

    # -- corpora and kept states -------------------------------------------------------------
    def corpus(self, fmt: str, n: int) -> Path:
        directory = self.work / f"corpus-{fmt}-{n}"
        done = self.work / f"corpus-{fmt}-{n}.done"
        if not done.exists():
            shutil.rmtree(directory, ignore_errors=True)
            say(f"making the {fmt} corpus of {n} articles")
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "make_corpus.py"),
                    str(directory),
                    str(n),
                    "--format",
                    fmt,
                    "--seed-file",
                    str(SEED_FILE),
                ],
                check=True,
            )
            done.write_text(datetime.now(UTC).isoformat())
        return directory

    def keep(self, fmt: str, n: int, run_dir: Path) -> None:
        """Keep the state of a feedsvc cold build for the figures that start from one."""
        kept = self.kept_root / f"{fmt}-{n}"
        self.trash.discard(kept)
        kept.parent.mkdir(parents=True, exist_ok=True)
        self.trash.discard(run_dir / "out")
        run_dir.rename(kept)
        self.kept[(fmt, n)] = kept

    def state(self, fmt: str, n: int) -> Path:
        """A state_dir filled by a cold build of this run (made now, untimed, if none was)."""
        if (fmt, n) not in self.kept:
            say(f"cold build of {fmt} {n} to start from (untimed)")
            run_dir = self.cold_build("feedsvc", fmt, n, "prep")[1]
            self.keep(fmt, n, run_dir)
        return self.kept[(fmt, n)] / "state"

    def scratch_dir(self, name: str) -> Path:
        return self.trash.fresh(self.scratch / name)

    def linked_copy(self, source: Path, target: Path) -> Path:
        """Hard-linked copy of a corpus: new and renamed-over files never touch the original."""
        subprocess.run(["cp", "-al", str(source), str(target)], check=True)
        return target

    # -- figure 1: cold build ----------------------------------------------------------------
    def timed(self, cmd: Sequence[object], run_dir: Path, timeout: float) -> tuple[float, int, str]:
        """Wall seconds, peak RSS in KB and what the command printed."""
        rss_file = run_dir / "peak-rss.txt"
        full = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *(str(c) for c in cmd)]
        started = time.perf_counter()
        done = subprocess.run(
            full,
            capture_output=True,
            timeout=timeout,
            env=self.env,
            cwd=run_dir,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace")[-1500:]
            raise BenchError(f"{cmd[0]} exited with {done.returncode}: {tail}")
        return seconds, int(rss_file.read_text().split()[-1]), done.stdout.decode(errors="replace")

    def cold_build(self, tool: str, fmt: str, n: int, rep: object) -> tuple[dict[str, Any], Path]:
        run_dir = self.trash.fresh(self.runs / f"{tool}-{fmt}-{n}-{rep}")
        corpus = self.corpus(fmt, n)
        out = run_dir / "out"
        if tool == "feedsvc":
            # a fresh config.toml and a fresh state_dir for every build
            config = write_config(run_dir / "config.toml", corpus, run_dir / "state")
            cmd: list[object] = [BIN / "feedsvc", "build", "--config", config, "--out", out]
        elif tool == "hugo":
            site = self.peers / "hugo-site"
            cache = run_dir / "hugo-cache"
            cmd = ["hugo", "--quiet", "-s", site, "--contentDir", corpus, "-d", out]
            cmd += ["--cacheDir", cache]
        else:
            conf = self.peers / "pelican-site" / "pelicanconf.py"
            cmd = [self.pelican, "-q", corpus, "-s", conf, "-o", out]
        seconds, rss, printed = self.timed(cmd, run_dir, timeout=1800)
        feeds, items = count_feeds(tool, out)
        sample = {"seconds": seconds, "rss_kb": rss, "feeds": feeds, "items": items}
        # Every file is created twice by feedsvc (the version, then the copy in --out), once by
        # the peers: creating a file costs 0.1-1 ms of kernel time on this VM's ext4.
        sample["files"] = sum(1 for p in out.rglob("*") if p.is_file())
        if tool == "feedsvc":  # its refresh alone, as it reports it: "... (923 ms)"
            found = re.search(r"\((\d+) ms\)$", printed.splitlines()[0] if printed else "")
            sample["refresh_s"] = int(found.group(1)) / 1000 if found else None
        return sample, run_dir

    def figure_build(self) -> None:
        samples: dict[str, list[dict[str, Any]]] = {}
        self.results["build"] = samples
        self.results["corpus_bytes"] = {}
        for n in (*self.plan.peer_ns, *self.plan.big_ns):
            cases = [("feedsvc", "seed"), ("feedsvc", "markdown")]
            if n in self.plan.peer_ns:
                cases += [("hugo", "markdown"), ("pelican", "markdown")]
            for fmt in FORMATS:
                self.results["corpus_bytes"][f"{fmt}-{n}"] = read_through(self.corpus(fmt, n))
            if n <= 10_000:
                for tool, fmt in cases:
                    say(f"cold build {tool} {fmt} {n}: warm-up (not counted)")
                    try:
                        self.trash.discard(self.cold_build(tool, fmt, n, "warm")[1])
                    except (BenchError, subprocess.TimeoutExpired) as e:
                        self.error(f"cold build {tool} {fmt} {n} warm-up: {e}")
            failed: set[str] = set()
            rounds = max(self.plan.build_reps(tool, n) for tool, _ in cases)
            for rep in range(rounds):
                for tool, fmt in cases:  # interleaved: each round runs every case once
                    key = f"{tool}-{fmt}-{n}"
                    if rep >= self.plan.build_reps(tool, n) or key in failed:
                        continue
                    try:
                        sample, run_dir = self.cold_build(tool, fmt, n, rep)
                    except (BenchError, subprocess.TimeoutExpired) as e:
                        self.error(f"cold build {key}: {e}")
                        failed.add(key)
                        continue
                    samples.setdefault(key, []).append(sample)
                    say(
                        f"cold build {key} #{rep + 1}: {sample['seconds']:.2f} s, "
                        f"{mb(sample['rss_kb'])}, {sample['feeds']} feeds, "
                        f"{sample['items']} entries in the combined Atom feed"
                    )
                    if tool == "feedsvc":
                        self.keep(fmt, n, run_dir)
                    else:
                        self.trash.discard(run_dir)

    # -- figure 2: refresh -------------------------------------------------------------------
    def figure_refresh(self) -> None:
        found: dict[str, Any] = {}
        self.results["refresh"] = found
        for n in self.plan.refresh_ns:
            for fmt in FORMATS:
                state = self.state(fmt, n)
                scratch = self.scratch_dir(f"refresh-{fmt}-{n}")
                articles = self.linked_copy(self.corpus(fmt, n), scratch / "articles")
                config = write_config(scratch / "config.toml", articles, state)
                target = newest_file(articles)
                say(f"refresh {fmt} {n}: {self.plan.refresh_reps} x nothing changed, x one changed")
                try:
                    done = subprocess.run(
                        [
                            *self.py(),
                            str(HERE / "refresh_probe.py"),
                            str(config),
                            str(target),
                            "--reps",
                            str(self.plan.refresh_reps),
                        ],
                        capture_output=True,
                        text=True,
                        timeout=3600,
                        env=self.env,
                        cwd=scratch,
                    )
                except subprocess.TimeoutExpired as e:
                    self.error(f"refresh {fmt} {n}: {e}")
                    continue
                if done.returncode != 0 or done.stderr.strip():
                    self.error(f"refresh {fmt} {n}: {done.stderr.strip()[-1500:]}")
                if done.returncode == 0:
                    result = json.loads(done.stdout.strip().splitlines()[-1])
                    found[f"{fmt}-{n}"] = result
                    say(
                        f"refresh {fmt} {n}: nothing {secs(median(result['nothing_s']))}, "
                        f"one {secs(median(result['one_s']))}, "
                        f"one watched {secs(median(result.get('one_watched_s', [])))} "
                        f"({result['one_last']})"
                    )
                self.trash.discard(scratch)

    # -- figure 3: publish latency -----------------------------------------------------------
    def figure_latency(self) -> None:
        found: dict[str, Any] = {}
        self.results["latency"] = found
        for n in self.plan.latency_ns:
            try:
                found[f"seed-{n}"] = self._latency(n)
            except (BenchError, OSError) as e:
                self.error(f"latency {n}: {e}")
        hugo: dict[str, Any] = {}
        self.results["hugo_server"] = hugo
        for n in self.plan.hugo_probe_ns:
            scratch = self.scratch_dir(f"hugo-server-{n}")
            content = scratch / "content"
            # a real copy: the probe appends to an article in place (and restores it)
            shutil.copytree(self.corpus("markdown", n), content)
            say(f"hugo server probe {n} (5 edits)")
            try:
                done = subprocess.run(
                    [
                        sys.executable,
                        str(self.peers / "hugo_server_probe.py"),
                        str(self.peers / "hugo-site"),
                        str(content),
                        str(scratch / "out" / "public"),
                        "5",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=900,
                    cwd=scratch,
                )
                hugo[str(n)] = json.loads(done.stdout.strip().splitlines()[-1])
                say(f"hugo server {n}: {hugo[str(n)]}")
            except (subprocess.TimeoutExpired, ValueError, IndexError) as e:
                self.error(f"hugo server probe {n}: {e}")
            self.trash.discard(scratch)

    def _latency(self, n: int) -> dict[str, Any]:
        scratch = self.scratch_dir(f"latency-{n}")
        # A copy: the probes' entries would otherwise stay in the kept state, whose feeds the
        # serving figure serves (unless the start-up figure's refresh removed them first).
        state = scratch / "state"
        shutil.copytree(self.state("seed", n), state, symlinks=True)
        articles = self.linked_copy(self.corpus("seed", n), scratch / "articles")
        config = write_config(scratch / "config.toml", articles, state, watch=True)
        port = free_port()
        status_file = state / "status.json"
        before = status_file.stat().st_mtime_ns if status_file.exists() else 0
        on_disk = state / "publish" / "current" / "feeds" / "all.json"
        token = f"{os.getpid()}x{int(time.time())}"
        result: dict[str, Any] = {"rename": [], "write": [], "timeouts": 0}
        serve = [BIN / "feedsvc", "serve", "--config", config, "--port", port, "--threads", 4]
        with process(serve, scratch / "serve.log", self.env, scratch) as proc:
            wait_for(port, "/feeds/all.json", 120, proc)
            deadline = time.monotonic() + 600
            # the first refresh (at start) must be over before the first probe
            while not (status_file.exists() and status_file.stat().st_mtime_ns > before):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise BenchError("feedsvc serve never finished its first refresh")
                time.sleep(0.05)
            time.sleep(1.5)
            say(f"publish latency {n}: feedsvc serve is up, probing")
            for rep in range(self.plan.latency_reps):
                for how in ("rename", "write"):  # interleaved
                    title = f"Latency probe {how} {rep} {token}"
                    text = f"Europe\n{title}\n\nA new article, timed on its way to the feed.\n"
                    final = articles / f"zz-latency-{token}-{how}-{rep}.txt"
                    if how == "rename":  # an editor's atomic save: a hidden temp file, renamed
                        temp = articles / f".zz-latency-{token}-{rep}.part"
                        temp.write_text(text, "utf-8")
                        os.rename(temp, final)
                    else:  # a plain write and close on the final name
                        with open(final, "w", encoding="utf-8") as handle:
                            handle.write(text)
                    started = time.perf_counter()
                    disk = served = None
                    while time.perf_counter() - started < 20:
                        if disk is None:
                            with contextlib.suppress(OSError):
                                if title.encode() in on_disk.read_bytes():
                                    disk = time.perf_counter() - started
                        with contextlib.suppress(OSError, http.client.HTTPException):
                            if title.encode() in get(port, "/feeds/all.json")[2]:
                                served = time.perf_counter() - started
                                break
                        time.sleep(0.01)
                    if served is None:
                        result["timeouts"] += 1
                    result[how].append({"disk_s": disk, "served_s": served})
                    say(
                        f"publish latency {n} {how} #{rep + 1}: "
                        f"on disk {secs(disk)}, served {secs(served)}"
                    )
                    time.sleep(1.5)
        self.trash.discard(scratch)
        return result

    # -- figure 4: start-up ------------------------------------------------------------------
    def figure_startup(self) -> None:
        found: dict[str, Any] = {}
        self.results["startup"] = found
        for n in self.plan.startup_ns:
            state = self.state("seed", n)
            scratch = self.scratch_dir(f"startup-{n}")
            config = write_config(scratch / "config.toml", self.corpus("seed", n), state)
            env = {**self.env, "FEEDSVC_CONFIG": str(config)}
            for name in ("gunicorn", "serve"):
                samples: list[dict[str, Any]] = []
                for rep in range(self.plan.startup_reps if name == "gunicorn" else 3):
                    port = free_port()
                    if name == "gunicorn":
                        cmd: list[object] = [BIN / "gunicorn", "-w", 2, "-b", f"127.0.0.1:{port}"]
                        cmd.append("feedsvc.app:create_app()")
                    else:
                        cmd = [BIN / "feedsvc", "serve", "--config", config, "--port", port]
                    try:
                        with process(cmd, scratch / f"{name}.log", env, scratch) as proc:
                            seconds = wait_for(port, FEED, 120, proc)
                            rss = children_rss_kb(proc.pid) if name == "gunicorn" else []
                            if name == "serve":
                                rss = own_rss_kb(proc.pid)
                            # the refresh `serve` starts with must not be cut off mid-write
                            time.sleep(0.3)
                    except BenchError as e:
                        self.error(f"start-up {name} {n}: {e}")
                        break
                    samples.append({"seconds": seconds, "worker_rss_kb": max(rss, default=None)})
                    say(
                        f"start-up {name} {n} #{rep + 1}: {secs(seconds)}, "
                        f"RSS {mb(max(rss, default=None))}"
                    )
                found[f"{name}-{n}"] = samples
            self.trash.discard(scratch)

    # -- figure 5: serving -------------------------------------------------------------------
    def figure_serving(self) -> None:
        n = self.plan.serving_n
        state = self.state("seed", n)
        scratch = self.scratch_dir("serving")
        config = write_config(scratch / "config.toml", self.corpus("seed", n), state)
        env = {**self.env, "FEEDSVC_CONFIG": str(config)}
        gport, nport = free_port(), free_port()
        prefix = scratch / "nginx"
        (prefix / "tmp").mkdir(parents=True)
        os.symlink(state / "publish" / "current", prefix / "current")
        os.symlink(state / "publish" / "archive", prefix / "archive")
        conf = (HERE / "nginx.conf").read_text("utf-8")
        conf = conf.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{nport};")
        (prefix / "nginx.conf").write_text(conf, "utf-8")
        gunicorn = [BIN / "gunicorn", "-w", 2, "-b", f"127.0.0.1:{gport}"]
        gunicorn += ["--pythonpath", HERE, "bench_app:create_app()"]
        nginx = ["nginx", "-p", f"{prefix}/", "-c", prefix / "nginx.conf"]
        nginx += ["-e", prefix / "error.log", "-g", "daemon off;"]
        found: dict[str, Any] = {"n": n, "feed": FEED, "rps": {}, "checks": {}, "wrk_errors": {}}
        self.results["serving"] = found
        with (
            process(gunicorn, scratch / "gunicorn.log", env, scratch) as gproc,
            process(nginx, scratch / "nginx.log", env, scratch) as nproc,
        ):
            wait_for(gport, FEED, 60, gproc)
            wait_for(nport, FEED, 30, nproc)
            cases = self._serving_cases(gport, nport, found["checks"])
            say(
                f"serving: {len(cases)} cases x {self.plan.wrk_reps}, "
                f"wrk -t2 -c32 -d{self.plan.wrk_seconds}s"
            )
            for rep in range(self.plan.wrk_reps):
                for name, port, path, headers in cases:  # interleaved
                    rps, errors = self.wrk(port, path, headers)
                    found["rps"].setdefault(name, []).append(rps)
                    if errors:
                        found["wrk_errors"].setdefault(name, []).append(errors)
                    say(f"serving #{rep + 1} {name}: {rps:,.0f} req/s {errors or ''}")

    def _serving_cases(
        self, gport: int, nport: int, checks: dict[str, Any]
    ) -> list[tuple[str, int, str, dict[str, str]]]:
        gz = {"Accept-Encoding": "gzip"}
        cases: list[tuple[str, int, str, dict[str, str]]] = [
            ("trivial route", gport, TRIVIAL, {}),
            ("bare wsgi", gport, BARE, {}),
            ("/feeds.opml", gport, "/feeds.opml", {}),
            ("feed plain", gport, FEED, {}),
            ("feed gzip", gport, FEED, gz),
        ]
        etag = get(gport, FEED, gz)[1].get("etag", "")
        cases.append(("feed 304", gport, FEED, {**gz, "If-None-Match": etag}))
        cases.append(("nginx plain", nport, FEED, {}))
        cases.append(("nginx gzip", nport, FEED, gz))
        etag = get(nport, FEED, gz)[1].get("etag", "")
        cases.append(("nginx 304", nport, FEED, {**gz, "If-None-Match": etag}))
        for name, port, path, headers in cases:
            status, got, body = get(port, path, headers)
            checks[name] = {
                "status": status,
                "bytes": len(body),
                "content-encoding": got.get("content-encoding"),
                "content-type": got.get("content-type"),
                "etag": got.get("etag"),
            }
            wanted = 304 if name.endswith("304") else 200
            gzipped = got.get("content-encoding") == "gzip"
            if status != wanted or gzipped != ("Accept-Encoding" in headers and wanted == 200):
                self.error(f"serving check {name}: {checks[name]}")
        return cases

    def wrk(self, port: int, path: str, headers: dict[str, str]) -> tuple[float, str]:
        cmd = ["wrk", "-t2", "-c32", f"-d{self.plan.wrk_seconds}s"]
        for key, value in headers.items():
            cmd += ["-H", f"{key}: {value}"]
        cmd.append(f"http://127.0.0.1:{port}{path}")
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=self.plan.wrk_seconds + 60
        )
        found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
        if not found:
            raise BenchError(f"wrk said: {done.stdout} {done.stderr}")
        errors = " ".join(
            line.strip()
            for line in done.stdout.splitlines()
            if "Non-2xx" in line or "Socket errors" in line
        )
        return float(found.group(1)), errors

    # -- figure 6: bytes per poll ------------------------------------------------------------
    def figure_bytes(self) -> None:
        n = self.plan.bytes_n
        state = self.state("seed", n)
        scratch = self.scratch_dir("bytes")
        shutil.copytree(state, scratch / "state", symlinks=True)
        articles = self.linked_copy(self.corpus("seed", n), scratch / "articles")
        config = write_config(scratch / "config.toml", articles, scratch / "state")
        say("bytes per poll: a simulated day")
        done = subprocess.run(
            [*self.py(), str(HERE / "bytes_probe.py"), str(config)],
            capture_output=True,
            text=True,
            timeout=3600,
            env=self.env,
            cwd=scratch,
        )
        if done.returncode != 0 or done.stderr.strip():
            self.error(f"bytes per poll: {done.stderr.strip()[-1500:]}")
        if done.returncode == 0:
            self.results["bytes"] = json.loads(done.stdout.strip().splitlines()[-1])
            say(f"bytes per poll: {self.results['bytes']['share_of_naive']}")
        self.trash.discard(scratch)

    # -- the run -----------------------------------------------------------------------------
    def error(self, message: str) -> None:
        say("!! " + message)
        self.results["errors"].append(message)

    def machine(self) -> list[str]:
        cpu = "?"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = 0
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
        code = subprocess.run(
            [*self.py(), "-c", "import feedsvc; print(feedsvc.__file__)"],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.work,
        ).stdout.strip()
        pelican_py = str(Path(self.pelican).parent / "python")
        markdown = version_of(
            [pelican_py, "-c", "import markdown; print('Python-Markdown', markdown.__version__)"]
        )
        tools = [
            version_of(["hugo", "version"]).split(" BuildDate")[0],
            "Pelican " + version_of([self.pelican, "--version"]) + " + " + markdown,
            version_of(["wrk", "--version"]).split(" Copyright")[0],
            version_of(["nginx", "-v"]),
            version_of([str(BIN / "gunicorn"), "--version"]),
            "Python " + platform.python_version(),
        ]
        return [
            f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}; plan: "
            + ("quick (smoke sizes, not the issue's)" if self.quick else "full"),
            f"- machine: {cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.1f} GiB RAM, "
            f"Linux {platform.release()}; load average at start {os.getloadavg()[0]:.2f}",
            f"- feedsvc: commit {self.commit} ({code})",
            "- tools: " + "; ".join(tools),
        ]

    def run(self) -> int:
        try:
            return self._figures()
        finally:
            self.trash.empty()

    def _figures(self) -> int:
        info = self.machine()
        self.results["machine"] = info
        for line in info:
            say(line)
        for figure in FIGURES:
            if figure not in self.only:
                continue
            try:
                getattr(self, f"figure_{figure}")()
            except (BenchError, OSError, subprocess.SubprocessError) as e:
                self.error(f"figure {figure} failed: {type(e).__name__}: {e}")
            (self.out / "results.json").write_text(json.dumps(self.results, indent=1, default=str))
        text = "\n".join(info) + "\n\n" + render(self.results, self.quick) + "\n"
        (self.out / "results.md").write_text(text, "utf-8")
        (self.out / "results.json").write_text(json.dumps(self.results, indent=1, default=str))
        print(text)
        say(f"written to {self.out}/results.md and results.json")
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--out", type=Path, help="results directory (default WORK/results)")
    parser.add_argument("--pelican", default="pelican", help="the pelican executable")
    parser.add_argument("--peers", type=Path, default=HERE / "peers")
    parser.add_argument("--only", help="comma-separated subset of " + ",".join(FIGURES))
    parser.add_argument("--rev", default="HEAD", help="the commit to measure (default HEAD)")
    parser.add_argument("--worktree", action="store_true", help="measure the work tree as is")
    args = parser.parse_args()
    return Suite(args).run()


if __name__ == "__main__":
    sys.exit(main())
