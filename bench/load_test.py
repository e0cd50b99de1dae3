"""Load test of issue 4: feeds polled hard while the clock refreshes every second and a writer
adds and edits articles. Not a test of the suite (it asserts nothing about speed); it reports.

    python bench/load_test.py [--seconds 30] [--articles 300] [--threads 4]

Runs on loopback only, everything bounded in time:
- `feedsvc clock` with `refresh.interval_seconds = 1` and `gunicorn -w 2` (the Procfile's two
  processes) over a fresh corpus of `--articles` articles (bench/make_corpus.py);
- a writer that adds a new article (atomic rename) or rewrites one in place every 0.3 s;
- `wrk` (Debian) from a second process, with bench/load.lua: plain and conditional GETs of all
  18 feeds, each response checked as a whole feed, every ETag collected;
- beside it, a checker that fetches every feed four times a second and parses it for real
  (lxml for Atom and RSS, json for JSON Feed), and a watcher of the publish directory that
  records every ETag each published version carries.

Prints one JSON object and a Markdown row: requests per second, the 304 share, errors,
incomplete or invalid feeds, and ETags that belong to no published version (all three must be 0).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from lxml import etree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
SEED = ROOT / "articles" / "000_c5ae1000a567dda7.txt"
SLUGS = ["all", "america", "europe", "middle-east", "asia", "diplomacy"]
SECTIONS = ["America", "Europe", "Middle East", "Asia", "Diplomacy"]
FEEDS = [f"/feeds/{slug}.{fmt}" for slug in SLUGS for fmt in ("atom", "rss", "json")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(root: Path, port: int) -> Path:
    sections = "".join(f'[[sections]]\nname = "{name}"\n\n' for name in SECTIONS)
    config = root / "config.toml"
    config.write_text(
        f'[site]\ntitle = "Load"\nbase_url = "http://127.0.0.1:{port}"\nauthor = "Desk"\n\n'
        '[content]\narticles_dir = "articles"\nstate_dir = "var"\n\n'
        "[refresh]\ninterval_seconds = 1\n\n" + sections,
        encoding="utf-8",
    )
    return config


class Writer(threading.Thread):
    """Adds and edits articles until told to stop; counts what it did."""

    def __init__(self, articles: Path, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.articles = articles
        self.stop = stop
        self.added = self.edited = 0

    def run(self) -> None:
        number = 0
        while not self.stop.wait(0.3):
            number += 1
            section = SECTIONS[number % len(SECTIONS)]
            if number % 2:
                temporary = self.articles / f".new-{number}.tmp"
                temporary.write_text(
                    f"{section}\nLoad test story {number}\n\nWritten under load, {number}.\n",
                    encoding="utf-8",
                )
                os.replace(temporary, self.articles / f"load-{number:05d}.txt")
                self.added += 1
            else:
                target = self.articles / f"load-{number - 1:05d}.txt"
                target.write_text(
                    f"{section}\nLoad test story {number - 1}\n\nEdited under load, {number}.\n",
                    encoding="utf-8",
                )
                self.edited += 1


class PublishedETags(threading.Thread):
    """Every ETag any published version carried, read from the manifests as they appear."""

    def __init__(self, publish: Path, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.publish = publish
        self.stop = stop
        self.etags: set[str] = set()
        self.versions: set[str] = set()

    def run(self) -> None:
        while True:
            self.collect()
            if self.stop.wait(0.02):
                self.collect()
                return

    def collect(self) -> None:
        for manifest in (self.publish / "versions").glob("*/manifest.json"):
            if manifest.parent.name in self.versions:
                continue
            try:
                data = json.loads(manifest.read_text("utf-8"))
            except (OSError, ValueError):
                continue  # being collected: another look next time
            for resource in data["resources"].values():
                self.etags.update({resource["etag"], resource["etag"] + "-gz"})
            self.versions.add(manifest.parent.name)


class Checker(threading.Thread):
    """Fetches every feed four times a second and parses it for real."""

    def __init__(self, url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = stop
        self.checked = 0
        self.invalid: list[str] = []

    def run(self) -> None:
        session = requests.Session()
        while not self.stop.wait(0.25):
            for path in FEEDS:
                try:
                    response = session.get(self.url + path, timeout=10)
                    if response.status_code != 200:
                        raise ValueError(f"status {response.status_code}")
                    if path.endswith(".json"):
                        json.loads(response.content)
                    else:
                        etree.fromstring(response.content)
                except (requests.RequestException, ValueError, etree.XMLSyntaxError) as e:
                    self.invalid.append(f"{path}: {e}")
                self.checked += 1


def wait_until_served(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/feeds/all.atom", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} never served a feed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    root = Path(tempfile.mkdtemp(prefix="feedsvc-load-"))
    articles = root / "articles"
    subprocess.run(
        [sys.executable, str(HERE / "make_corpus.py"), str(articles), str(args.articles),
         "--seed-file", str(SEED)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    port = free_port()
    config = write_config(root, port)
    env = {**os.environ, "FEEDSVC_CONFIG": str(config)}
    subprocess.run([str(BIN / "feedsvc"), "refresh"], env=env, check=True, capture_output=True)
    logs = {name: open(root / f"{name}.log", "wb") for name in ("clock", "web")}  # noqa: SIM115
    processes = [
        subprocess.Popen(
            [str(BIN / "feedsvc"), "clock"], env=env, stdout=logs["clock"], stderr=subprocess.STDOUT
        ),
        subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
             "feedsvc.app:create_app()"],
            env=env, stdout=logs["web"], stderr=subprocess.STDOUT,
        ),
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    try:
        wait_until_served(url)
        published = PublishedETags(root / "var" / "publish", stop)
        writer = Writer(articles, stop)
        checker = Checker(url, stop)
        for thread in (published, writer, checker):
            thread.start()
        threads = args.threads  # one connection per thread: each thread's requests in order
        wrk = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{threads}", f"-d{args.seconds}s", "--timeout", "10s",
             "-s", str(HERE / "load.lua"), url],
            capture_output=True, text=True, timeout=args.seconds + 60,
        )  # fmt: skip
        stop.set()
        for thread in (published, writer, checker):
            thread.join(timeout=30)
    finally:
        stop.set()
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for handle in logs.values():
            handle.close()

    lines = wrk.stdout.splitlines()
    load = json.loads(next(line for line in lines if line.startswith("LOAD "))[5:])
    seen = {
        line[5:].strip().removeprefix("W/").strip('"') for line in lines if line.startswith("ETAG ")
    }
    foreign = sorted(seen - published.etags)
    rate = next((line.split()[1] for line in lines if line.startswith("Requests/sec")), "?")
    answered = load["ok200"] + load["ok304"]
    refreshes = (root / "clock.log").read_text("utf-8", "replace").count("refresh: ")
    result = {
        "seconds": args.seconds,
        "articles_at_start": args.articles,
        "requests": load["requests"],
        "requests_per_second": float(rate) if rate != "?" else None,
        "share_304": load["ok304"] / answered if answered else None,
        "errors": load["errors"] + load["socket_errors"],
        "incomplete_feeds": load["incomplete"],
        "invalid_feeds_parsed": len(checker.invalid),
        "feeds_parsed": checker.checked,
        "etags_seen": len(seen),
        "etags_not_published": len(foreign),
        "versions_published": len(published.versions),
        "refreshes": refreshes,
        "articles_added": writer.added,
        "articles_edited": writer.edited,
        "first_problem": load["first_problem"] or (checker.invalid[:1] or [""])[0],
        "work_dir": str(root),
    }
    print(json.dumps(result, indent=1))
    ok = not (result["errors"] or result["incomplete_feeds"] or result["invalid_feeds_parsed"]
              or result["etags_not_published"])  # fmt: skip
    print(
        "| load, gunicorn -w 2 + clock every 1 s + a writer "
        f"| {result['requests_per_second']} req/s "
        f"| 304 share {result['share_304']:.0%} | errors {result['errors']}, incomplete "
        f"{result['incomplete_feeds']}, invalid {result['invalid_feeds_parsed']} of "
        f"{result['feeds_parsed']} parsed, foreign ETags {result['etags_not_published']} "
        f"| {result['versions_published']} versions, {writer.added} added, "
        f"{writer.edited} edited | {'ok' if ok else 'FAILED'} |"
    )
    if ok:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
