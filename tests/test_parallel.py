"""Large batches go to worker processes: the same answers as in one process, only sooner."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, wait
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feedsvc import corpus, listing, refresh
from feedsvc.parallel import AHEAD, Item, Result, Workers
from feedsvc.publish import load_current, publish_dir
from feedsvc.refresh import Refresher
from feedsvc.render import feed_specs
from tests.conftest import Site, config_text
from tests.test_feeds import write_corpus


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send 10 files or more to the workers, 5 per task, and 10 entries to render or more, so
    that a test corpus is enough."""
    for stage in (listing, corpus):  # the stats of a scan, the reads of an update
        monkeypatch.setattr(stage, "PARALLEL_FROM", 10)
    monkeypatch.setattr(corpus, "_BATCH", 5)
    monkeypatch.setattr(refresh, "SHOW_IN_WORKERS_FROM", 10)
    monkeypatch.setattr(refresh, "_SHOW_BATCH", 4)


class CountingWorkers(Workers):
    """Workers that remember what they were given to do."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.tasks: Counter[str] = Counter()  #: batches of work, by function
        self.submitted: Counter[str] = Counter()  #: single tasks, those of the batches included

    def map(self, function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
        self.tasks[function.__name__] += 1
        return super().map(function, items)

    def submit(self, function: Callable[[Item], Result], item: Item) -> Future[Result]:
        self.submitted[function.__name__] += 1
        return super().submit(function, item)


@pytest.fixture
def workers() -> Iterator[CountingWorkers]:
    pool = CountingWorkers(2)
    yield pool
    pool.close()


@pytest.fixture
def forked_workers(workers: CountingWorkers, monkeypatch: pytest.MonkeyPatch) -> CountingWorkers:
    """Workers forked from this process, as `feedsvc build` forks its own: no other thread runs
    there when they start (here, idle gzip threads of earlier tests would make them come from
    a fork server)."""
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    return workers


def make_site(root: Path) -> Site:
    (root / "articles").mkdir(parents=True)
    (root / "config.toml").write_text(config_text(), encoding="utf-8")
    site = Site(root)
    write_corpus(site, 60)  # both formats, in subdirectories too
    site.write("bad.txt", "Nowhere\nNo section\n\nA paragraph.\n")
    site.write("copy.txt", (site.articles / "0000.txt").read_bytes())
    return site


def build(site: Site, workers: Workers | None) -> dict[str, object]:
    """A first build; everything it published and stored, to compare."""
    refresher = Refresher(site.config())
    refresher.workers = workers
    try:
        report = refresher.refresh()
    finally:
        refresher.store.close()
    version = load_current(publish_dir(site.root / "var"))
    assert version is not None
    return {
        "version": version.id,
        "bodies": {path: site.published(path) for path in version.resources},
        "problems": report.problems,
        "added": report.added,
    }


def test_workers_run_ahead_of_a_slow_consumer_by_a_bounded_number_of_results(
    workers: Workers,
) -> None:
    taken = 0

    def items() -> Iterator[int]:
        nonlocal taken
        for number in range(200):
            taken += 1
            yield number

    for consumed, result in enumerate(workers.map(abs, items()), start=1):
        assert result == consumed - 1  # in order
        assert taken - consumed < AHEAD * workers.count  # a 100k build never holds it all


@pytest.mark.usefixtures("small_batches")
def test_a_build_read_and_rendered_by_workers_publishes_exactly_what_one_process_does(
    tmp_path: Path, forked_workers: CountingWorkers
) -> None:
    alone = build(make_site(tmp_path / "alone"), None)
    site = make_site(tmp_path / "shared")
    shared = build(site, forked_workers)
    assert forked_workers.tasks["_read_batch"] == 1 and forked_workers.tasks["_show_batch"] == 1
    assert forked_workers.submitted["_make_feed"] == len(feed_specs(site.config()))  # each feed
    assert shared == alone
    assert alone["added"] == 60
    assert {p.path for p in alone["problems"]} == {"bad.txt", "copy.txt"}  # type: ignore[attr-defined]


@pytest.mark.usefixtures("small_batches")
def test_a_scan_split_with_a_worker_lists_what_one_process_does(
    site: Site, workers: Workers
) -> None:
    write_corpus(site, 40)
    site.write(".hidden.txt", "x")
    site.write("notes.doc", "x")
    (site.articles / "america" / "inner").mkdir()
    site.write("america/inner/deep.txt", "America\nDeep\n\nText.\n")
    alone = listing.scan(site.articles)
    assert listing.scan(site.articles, workers) == alone
    assert workers._pool is not None
    assert len(alone.files) == 41 and "america/inner/deep.txt" in alone.files


@pytest.mark.usefixtures("small_batches")
def test_a_scan_whose_worker_stats_the_last_paths_while_listing_finds_what_one_process_does(
    site: Site, workers: Workers
) -> None:
    """The worker stats the paths of the last listing before this one is made: the result must
    be exact when the paths are the same and when files came, went or were replaced."""
    for number in range(40):
        site.write(f"{number:02}.txt", f"Asia\nStory {number}\n\nBody {number}.\n")
    last = listing.scan(site.articles, workers)
    site.write("05.txt", "Asia\nStory 5\n\nA longer body 5.\n")  # in the first third
    site.write("33.txt", "Asia\nStory 33\n\nBody 33.\n", mtime=1_750_000_900)  # in the worker's
    same_paths = listing.scan(site.articles, workers, last)
    assert same_paths == listing.scan(site.articles)
    assert listing.changed_paths(last, same_paths) == {"05.txt", "33.txt"}

    (site.articles / "30.txt").unlink()
    (site.articles / "02.txt").unlink()
    site.write("40.txt", "Asia\nStory 40\n\nBody 40.\n")
    replacement = site.articles / ".37.txt.swp"
    replacement.write_text("Asia\nStory 37\n\nBody 37, saved again.\n", "utf-8")
    os.replace(replacement, site.articles / "37.txt")
    other_paths = listing.scan(site.articles, workers, same_paths)
    assert other_paths == listing.scan(site.articles)
    assert listing.changed_paths(same_paths, other_paths) == {
        "02.txt",
        "30.txt",
        "37.txt",
        "40.txt",
    }


@pytest.mark.usefixtures("small_batches")
def test_a_service_with_threads_starts_its_workers_cleanly(site: Site, workers: Workers) -> None:
    """With other threads running (a web server, the scheduler), workers are not forked from
    this process but from a clean server process; the answer is the same."""
    write_corpus(site, 20)
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait, daemon=True)
    busy.start()
    try:
        assert listing.scan(site.articles, workers) == listing.scan(site.articles)
    finally:
        stop.set()
    assert workers._pool is not None
    assert workers._pool._mp_context.get_start_method() == "forkserver"  # type: ignore[attr-defined]


@pytest.mark.usefixtures("small_batches")
def test_an_entry_changed_before_the_workers_render_it_is_published_by_the_next_refresh(
    site: Site, forked_workers: CountingWorkers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the read and the render a file can change: the workers render nothing from it,
    and nothing is published until a refresh has read it as it is."""
    write_corpus(site, 30)
    site.write("0000.txt", "Asia\nFirst words\n\nAs first written.\n")
    show_all = Refresher._show_all

    def edited_meanwhile(refresher: Refresher, *args: Any) -> None:
        site.write("0000.txt", "Asia\nFirst words\n\nAs rewritten meanwhile.\n")
        monkeypatch.setattr(Refresher, "_show_all", show_all)  # once
        show_all(refresher, *args)

    monkeypatch.setattr(Refresher, "_show_all", edited_meanwhile)
    refresher = Refresher(site.config())
    refresher.workers = forked_workers
    try:
        first = refresher.refresh()
        assert forked_workers.tasks["_show_batch"] == 1
        assert (first.published, first.version, first.deferred) == (False, None, ("0000.txt",))
        assert load_current(publish_dir(site.root / "var")) is None

        second = refresher.refresh()
        assert second.published and second.deferred == ()
    finally:
        refresher.store.close()
    (entry,) = [
        e
        for e in feedparser.parse(site.published("/feeds/asia.atom")).entries
        if e.title == "First words"
    ]
    assert "As rewritten meanwhile." in entry.content[0].value


@pytest.mark.usefixtures("small_batches")
def test_a_service_renders_in_process_what_its_fork_server_workers_would_import_first(
    tmp_path: Path, workers: CountingWorkers
) -> None:
    alone = build(make_site(tmp_path / "alone"), None)
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait, daemon=True)  # as a service's threads
    busy.start()
    try:
        served = build(make_site(tmp_path / "served"), workers)
    finally:
        stop.set()
    assert workers.tasks["_read_batch"] == 1 and workers.tasks["_show_batch"] == 0
    assert served == alone


def square_unless_in_a_worker(number: int) -> int:
    """Kills the worker it runs in: as the kernel's OOM killer would."""
    if multiprocessing.parent_process() is not None:
        os._exit(1)
    return number * number


def test_work_a_dead_worker_left_is_done_in_this_process(
    workers: Workers, caplog: pytest.LogCaptureFixture
) -> None:
    assert list(workers.map(square_unless_in_a_worker, range(10))) == [n * n for n in range(10)]
    assert "worker processes failed" in caplog.text
    # and the next batch gets new workers
    assert list(workers.map(abs, [-1, -2])) == [1, 2]


def signals_taken(number: int) -> tuple[object, ...]:
    """How a worker takes SIGTERM and SIGINT."""
    return signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)


@pytest.mark.parametrize("started", ["workers", "forked_workers"])
def test_a_worker_ends_at_a_sigterm_and_leaves_ctrl_c_to_the_refresher(
    started: str, request: pytest.FixtureRequest
) -> None:
    """The refresher's handlers, forked with them (`build`), are not theirs: a worker raising
    at SIGTERM printed a traceback; and a terminal's Ctrl-C, which reaches the workers too,
    failed the refresh under way (rv38b)."""
    previous = signal.signal(signal.SIGTERM, lambda *_: None)  # the refresher's own, say
    try:
        workers: Workers = request.getfixturevalue(started)
        taken = workers.submit(signals_taken, 0).result()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert taken == (signal.SIG_DFL, signal.SIG_IGN)


def square_unless_zero_in_a_worker(number: int) -> int:
    if number == 0:
        return square_unless_in_a_worker(number)
    return number * number


def test_one_dead_worker_replaces_the_workers_once_however_much_work_was_in_flight(
    workers: Workers, caplog: pytest.LogCaptureFixture
) -> None:
    numbers = range(-40, 40)
    squares = list(workers.map(square_unless_zero_in_a_worker, numbers))
    assert squares == [n * n for n in numbers]
    assert caplog.text.count("worker processes failed") == 1


def test_a_failure_collected_late_leaves_the_workers_started_since_alone(
    workers: Workers, caplog: pytest.LogCaptureFixture
) -> None:
    dying = workers.submit(square_unless_in_a_worker, 3)
    wait([dying])  # its worker is gone, and with it the pool
    later = [workers.submit(abs, -n) for n in range(8)]  # new workers, after the first
    assert workers.result(dying, square_unless_in_a_worker, 3) == 9
    assert [workers.result(f, abs, -n) for n, f in enumerate(later)] == list(range(8))
    assert caplog.text.count("worker processes failed") == 1


CHILD = """
import os, sys, threading, time
from feedsvc.parallel import Workers
from pidof import pid
if sys.argv[1] == "threads":  # as in `feedsvc serve`: workers come from a fork server
    threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
workers = Workers(2)
print(" ".join(str(p) for p in set(workers.map(pid, range(8)))), flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def in_session(session: int) -> list[int]:
    """The live processes of a session: a process and all it started, fork server included."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("start", ["fork", "threads"])
def test_workers_end_with_a_refresher_killed_outright(tmp_path: Path, start: str) -> None:
    """SIGKILL runs no cleanup: the workers (and a fork server) notice by themselves, or every
    restart of the service would leave a set behind."""
    (tmp_path / "pidof.py").write_text("import os\n\ndef pid(_):\n    return os.getpid()\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    # stderr: the child's resource tracker reports the semaphores SIGKILL left, as it should
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, start],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,  # everything it starts shares its session id: its pid
    )
    try:
        assert child.stdout is not None
        workers = [int(p) for p in child.stdout.readline().split()]
        assert workers and all(alive(p) for p in workers)
        assert set(workers) < set(in_session(child.pid))
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 15
    while in_session(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_session(child.pid) == []


def test_a_worker_whose_refresher_died_before_it_started_ends_at_once(tmp_path: Path) -> None:
    """A refresher killed while its pool was still growing: the late worker must not wait."""
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    late = subprocess.run(
        [
            sys.executable,
            "-c",
            "import time\nfrom feedsvc.parallel import _end_with\n"
            f"_end_with({int(gone.stdout)})\ntime.sleep(60)",
        ],
        timeout=30,
        check=False,
    )
    assert late.returncode == 0
