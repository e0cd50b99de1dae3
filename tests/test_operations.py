"""Running feedsvc for months: the schedule, incremental refreshes, one refresher beside many web
processes, config reloads without downtime, the admin endpoint and /healthz."""

from __future__ import annotations

import errno
import fcntl
import gzip
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask.testing import FlaskClient
from jinja2 import Environment
from lxml import etree
from watchdog.observers.api import BaseObserver

from feedsvc import control, pages, render
from feedsvc import refresh as refresh_module
from feedsvc.app import WITHHELD, WITHHELD_NO_TOKEN, create_app
from feedsvc.clock import Clock, run_clock
from feedsvc.config import config_path, load_config
from feedsvc.control import (
    RefresherRole,
    amend_status,
    read_status,
    refresher_pid,
    refresher_role,
    take_control,
    write_status,
)
from feedsvc.corpus import sections_unpublished
from feedsvc.errors import LockedError, PublishError, StateError
from feedsvc.publish import current_id, load_current, publish_dir
from feedsvc.refresh import Refresher, RefreshReport, failed_refresh
from feedsvc.state import StateStore
from feedsvc.waiting import ready_refresher
from tests.conftest import ALLOW_NEW, ROOT, SAMPLE, SECTIONS, Site, config_text, config_without
from tests.servers import Process, Server, clock, feedsvc, get, gunicorn, serve, wait_for
from tests.test_feeds import in_whole_seconds, scheduled_story

ATOM = "{http://www.w3.org/2005/Atom}"
EUROPE = "Europe\nTalks resume in Vienna\n\nDelegates met again.\nNo date was set.\n"
ASIA = "Asia\nMonsoon arrives early\n\nRain fell in the south.\n"
FRESH = "Asia\nFresh from the desk\n\nWritten while everything was running.\n"


# -- helpers shared with test_faults ---------------------------------------------------------
def write_config(site: Site, title: str = "Test Desk", interval: int = 300, **tables: str) -> None:
    text = config_text(refresh=f"interval_seconds = {interval}", **tables)
    site.config_path.write_text(text.replace('"Test Desk"', json.dumps(title), 1), "utf-8")


def atom_ids(body: bytes) -> list[str]:
    """Entry ids of a complete, well-formed Atom feed (a broken one raises)."""
    root = etree.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    return [str(e.findtext(f"{ATOM}id")) for e in root.iter(f"{ATOM}entry")]


def atom_titles(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    return [str(e.findtext(f"{ATOM}title")) for e in root.iter(f"{ATOM}entry")]


def feed_title(body: bytes) -> str:
    return str(etree.fromstring(body).findtext(f"{ATOM}title"))


#: the admin token of the servers that tests ask for details
TOKEN = "s3cret-token-of-the-tests"
WITH_TOKEN = {"FEEDSVC_ADMIN_TOKEN": TOKEN}  #: a server's environment
AUTH = {"Authorization": f"Bearer {TOKEN}"}  #: a request's headers: /healthz says what is wrong


def healthz(base_url: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    _, _, body = get(base_url, "/healthz", headers=headers)
    report: dict[str, Any] = json.loads(body)
    return report


def client(site: Site) -> FlaskClient:
    return create_app(site.config_path).test_client()


def stored_identities(site: Site) -> dict[str, tuple[str, datetime]]:
    """Every entry ever stored, by id: (slug, published), removed ones included."""
    store = StateStore.open(site.root / "var")
    try:
        rows = store._db.execute("SELECT id, slug, published FROM entries").fetchall()
    finally:
        store.close()
    return {row[0]: (row[1], datetime.fromisoformat(row[2])) for row in rows}


def copy_sample(site: Site) -> None:
    site.write(SAMPLE.name, SAMPLE.read_bytes())


# -- the schedule ----------------------------------------------------------------------------
@contextmanager
def ticking(refresher: Refresher) -> Iterator[Clock]:
    """A clock started over `refresher`; at the end, stopped once its tick is done, and the
    refresher closed."""
    clock_ = Clock(refresher, BackgroundScheduler(timezone=UTC))
    clock_.start()
    try:
        yield clock_
    finally:
        clock_.stop(wait=True)
        refresher.close()


def test_the_refresh_job_never_skips_work_silently(site: Site) -> None:
    copy_sample(site)
    refresher = Refresher(site.config())
    started = datetime.now(UTC)
    clock_ = run_clock(refresher, blocking=False)
    try:
        job = clock_.scheduler.get_job("refresh")
        assert job is not None
        # Late runs still run, piled-up runs become one, never two at once; UTC throughout.
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time is None
        assert job.trigger.interval == timedelta(seconds=300)
        assert job.trigger.timezone == UTC
        assert clock_.scheduler.timezone == UTC
        # Once at start, then every interval.
        wait_for(lambda: refresher.last_report is not None, "the refresh at start")
        assert abs(job.next_run_time - started - timedelta(seconds=300)) < timedelta(seconds=5)
    finally:
        clock_.stop(wait=True)
        refresher.close()
    assert current_id(publish_dir(site.root / "var")) is not None


def test_a_failed_refresh_is_logged_with_its_cause_and_retried_at_the_next_tick(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    write_config(site, interval=1)
    site.write("europe.txt", EUROPE)
    site.refresh()
    monkeypatch.setenv("FEEDSVC_ADMIN_TOKEN", TOKEN)
    web = client(site)
    good = web.get("/feeds/all.atom").data
    site.write("asia.txt", ASIA)
    attempts: list[int] = []
    disk_full = threading.Event()
    disk_full.set()
    real_write_version = refresh_module.write_version

    def write_version(*args: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        if disk_full.is_set():
            raise PublishError("could not publish: [Errno 28] No space left on device")
        return real_write_version(*args, **kwargs)

    monkeypatch.setattr(refresh_module, "write_version", write_version)
    refresher = Refresher(site.config())
    clock_ = run_clock(refresher, blocking=False)
    try:
        failed = wait_for(
            lambda: [r for r in caplog.records if "refresh failed" in r.getMessage()],
            "the failed refresh in the log",
        )
        assert failed[0].levelno == logging.ERROR
        assert "PublishError" in failed[0].getMessage()
        assert "No space left on device" in failed[0].getMessage()
        # Meanwhile the last good version is what is served, and /healthz says what is wrong.
        assert web.get("/feeds/all.atom").data == good
        health = web.get("/healthz", headers=AUTH)
        assert health.status_code == 503 and health.json is not None
        assert health.json["status"] == "error" and "No space" in health.json["error"]
        disk_full.clear()  # the operator makes room: the next tick succeeds, unasked
        wait_for(
            lambda: "Monsoon arrives early" in atom_titles(web.get("/feeds/all.atom").data),
            "the retried refresh to be served",
        )
    finally:
        clock_.stop(wait=True)
        refresher.close()
    assert len(attempts) >= 2
    assert web.get("/healthz").json["status"] == "ok"  # type: ignore[index]


def test_healthz_says_a_refresh_failed_before_the_log_does(site: Site) -> None:
    """An operator (or a test) who sees the log line and asks /healthz at once must not be told
    `ok`: the status is written first."""
    site.write("europe.txt", EUROPE)
    refresher = Refresher(site.config())
    refresher.refresh()
    with status_errors_as_logged("feedsvc.refresh", refresher.state_dir) as said_meanwhile:
        failed_refresh(refresher, PublishError("could not publish version 9: disk full"))
    refresher.close()
    assert said_meanwhile == ["PublishError: could not publish version 9: disk full"]


def test_healthz_of_a_web_app_beside_the_refresher_says_a_status_the_disk_refused(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` on a full disk, or a read-only state_dir: status.json could not say the failed
    refresh, and /healthz said "ok" until the feeds went stale. The web app in the same process
    says it; a web process apart (gunicorn) still reads only the file."""
    site.write("europe.txt", EUROPE)
    refresher = Refresher(site.config())
    refresher.refresh()
    real_write_json = control.write_json

    def disk_full(target: Path, value: object, indent: int | None = None) -> None:
        if target.name == control.STATUS_FILE:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        real_write_json(target, value, indent)

    monkeypatch.setenv("FEEDSVC_ADMIN_TOKEN", TOKEN)
    web = client(site)
    try:
        with monkeypatch.context() as full:
            full.setattr(control, "write_json", disk_full)
            failed_refresh(refresher, PublishError("could not publish version 9: disk full"))
        said = web.get("/healthz", headers=AUTH)
        assert said.status_code == 503 and said.json is not None
        assert said.json["error"] == "PublishError: could not publish version 9: disk full"
        assert control.read_json(refresher.state_dir / control.STATUS_FILE)["error"] is None
        refresher.refresh()  # space back: written, and the file is what is read again
    finally:
        refresher.close()
    assert web.get("/healthz").json["status"] == "ok"  # type: ignore[index]


def test_healthz_says_why_a_refresher_waits_before_the_log_does(site: Site) -> None:
    site.write("europe.txt", EUROPE)
    site.refresh()
    state_dir, stopping = site.root / "var", threading.Event()
    stopping.set()  # said, then asked to stop before its first try again
    with (
        refresher_role(state_dir) as role,
        status_errors_as_logged("feedsvc.waiting", state_dir) as said_meanwhile,
    ):
        waiting = ready_refresher(str(site.config_path), role, StateError("busy"), stopping)
    assert waiting is None
    assert len(said_meanwhile) == 1 and str(said_meanwhile[0]).startswith("busy; the refresher")


def test_amend_status_adds_a_reason_to_the_status_there_is_and_makes_none(
    tmp_path: Path,
) -> None:
    """A status of a reason alone would lack the rest /healthz answers with."""
    amend_status(tmp_path, error="why")
    assert not (tmp_path / "status.json").exists()
    write_status(tmp_path, {"last_success": "then", "error": None})
    amend_status(tmp_path, error="why")
    assert read_status(tmp_path) == {"last_success": "then", "error": "why"}


def test_healthz_says_a_config_was_rejected_before_the_log_does(site: Site) -> None:
    """Not only once the refresh that rejected it ends (a whole publish later)."""
    site.write("europe.txt", EUROPE)
    refresher = Refresher(site.config())
    refresher.refresh()
    site.config_path.write_text(config_text() + "[bogus]\n", "utf-8")
    state_dir = refresher.state_dir
    with status_errors_as_logged("feedsvc.refresh", state_dir, "config_error") as said_meanwhile:
        refresher.refresh()
    refresher.close()
    (said,) = said_meanwhile
    line = (config_text() + "[bogus]\n").split("\n").index("[bogus]") + 1
    assert said == (
        f"{site.config_path}:{line}: bogus: unknown key (known keys: content, feeds, refresh, "
        "sections, site)"
    )


def test_healthz_says_why_a_refresher_still_waits_before_the_log_does(site: Site) -> None:
    """Each new reason while it waits, too: here the config broken meanwhile."""
    site.write("europe.txt", EUROPE)
    site.refresh()
    state_dir, stopping = site.root / "var", threading.Event()
    site.config_path.write_text(config_text() + "[bogus]\n", "utf-8")
    with (
        refresher_role(state_dir) as role,
        status_errors_as_logged("feedsvc.waiting", state_dir) as said_meanwhile,
    ):
        waiting = threading.Thread(
            target=ready_refresher, args=(str(site.config_path), role, StateError("busy"), stopping)
        )
        waiting.start()
        wait_for(lambda: len(said_meanwhile) == 2, "the new reason said")
        stopping.set()
        waiting.join(timeout=15)
        assert not waiting.is_alive()  # stopped when asked, the refresher role let go
    assert said_meanwhile[1] == "the refresher waits for a valid config (config_error)"


@contextmanager
def status_errors_as_logged(
    logger: str, state_dir: Path, key: str = "error"
) -> Iterator[list[object]]:
    """The `key` of status.json (/healthz's) as each error is logged."""
    said: list[object] = []

    class AskHealthz(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.ERROR:
                said.append(read_status(state_dir)[key])

    handler = AskHealthz()
    logging.getLogger(logger).addHandler(handler)
    try:
        yield said
    finally:
        logging.getLogger(logger).removeHandler(handler)


def timed_runs(refresher: Refresher, during_the_first: Callable[[], object]) -> list[float]:
    """When each of the refresher's refreshes starts; the first also does `during_the_first`
    before its work."""
    runs: list[float] = []
    real_refresh = refresher.refresh

    def refresh(*args: Any, **kwargs: Any) -> Any:
        runs.append(time.monotonic())
        if len(runs) == 1:
            during_the_first()
        return real_refresh(*args, **kwargs)

    refresher.refresh = refresh  # type: ignore[method-assign]
    return runs


def test_a_tick_during_a_long_refresh_runs_after_it_without_a_warning(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    site.config_path.write_text(config_text(refresh="interval_seconds = 1"), encoding="utf-8")
    copy_sample(site)
    refresher = Refresher(site.config())
    # the next tick comes meanwhile, and APScheduler skips it
    runs = timed_runs(refresher, lambda: time.sleep(1.5))
    caplog.set_level(logging.INFO)
    clock_ = run_clock(refresher, blocking=False)
    try:
        wait_for(lambda: len(runs) >= 2, "the tick skipped, run after the long refresh")
    finally:
        clock_.stop(wait=True)
        refresher.close()
    assert runs[1] - runs[0] < 2.5  # right after it, not a tick later
    assert not [r for r in caplog.records if r.name.startswith("apscheduler")]


def test_a_refresh_asked_for_while_one_runs_runs_once_after_it(site: Site) -> None:
    copy_sample(site)
    refresher = Refresher(site.config())
    runs = timed_runs(refresher, lambda: [clock_.trigger() for _ in range(3)])  # three asks...
    clock_ = Clock(refresher, BackgroundScheduler(timezone=UTC))
    clock_.start()
    try:
        wait_for(lambda: len(runs) >= 2, "the queued refresh")
        time.sleep(0.5)
        assert len(runs) == 2  # ...become exactly one more run, not three and not none
    finally:
        clock_.stop(wait=True)
        refresher.close()


def observers() -> set[threading.Thread]:
    """The file-system watchers running in this process."""
    return {t for t in threading.enumerate() if isinstance(t, BaseObserver) and t.is_alive()}


def test_stopping_the_clock_waits_for_the_tick_under_way_and_starts_no_other(
    site: Site,
) -> None:
    """For a caller about to close the refresher. APScheduler's own wait deadlocked here: it
    holds its job-store lock while it waits, and the tick looks its job up after refreshing.
    Nor does the tick ending after the stop watch the articles again."""
    site.config_path.write_text(config_text(refresh="interval_seconds = 300\nwatch = true"))
    site.write("europe.txt", EUROPE)
    refresher = Refresher(site.config())
    observers_before = observers()
    refreshing, refreshed = threading.Event(), threading.Event()
    refresh = refresher.refresh

    def slow_refresh(*args: Any, **kwargs: Any) -> RefreshReport:
        refreshing.set()
        time.sleep(0.5)  # `stop` is called meanwhile
        report = refresh(*args, **kwargs)
        refreshed.set()
        return report

    refresher.refresh = slow_refresh  # type: ignore[method-assign]
    clock_ = Clock(refresher, BackgroundScheduler(timezone=UTC))
    clock_.start()
    try:
        assert refreshing.wait(10)
        stopping = threading.Thread(target=clock_.stop, kwargs={"wait": True}, daemon=True)
        stopping.start()
        stopping.join(timeout=20)
        assert not stopping.is_alive() and refreshed.is_set()
        assert observers() == observers_before
        refreshing.clear()
        clock_.tick()  # as one submitted before the stop and started after it would
        assert not refreshing.is_set()
    finally:
        refresher.close()


def test_the_clock_warms_its_refresher_once_after_its_first_refresh(site: Site) -> None:
    write_config(site, interval=1)
    site.write("europe.txt", EUROPE)
    refresher = Refresher(site.config())
    calls: list[str] = []
    refresh, warm = refresher.refresh, refresher.warm

    def noting_refresh(*args: Any, **kwargs: Any) -> RefreshReport:
        report = refresh(*args, **kwargs)
        calls.append("refresh")
        return report

    def noting_warm() -> None:
        calls.append("warm")
        warm()

    refresher.refresh = noting_refresh  # type: ignore[method-assign]
    refresher.warm = noting_warm  # type: ignore[method-assign]
    with ticking(refresher):
        wait_for(lambda: calls.count("refresh") >= 3, "three ticks")
    assert calls[:3] == ["refresh", "warm", "refresh"] and calls.count("warm") == 1


def test_a_failing_warm_up_is_logged_and_the_refreshes_go_on(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    write_config(site, interval=1)
    site.write("europe.txt", EUROPE)
    refresher = Refresher(site.config())
    tries: list[int] = []

    def failing_warm() -> None:
        tries.append(1)
        raise KeyError("a bug")

    refresher.warm = failing_warm  # type: ignore[method-assign]
    with ticking(refresher):
        wait_for(lambda: refresher.last_report is not None, "the first refresh")
        first = refresher.last_report
        wait_for(lambda: refresher.last_report is not first, "the next tick's refresh")
    assert tries == [1]  # once: not at every tick
    warned = warnings_of(caplog)
    assert any("ahead of time" in m and "KeyError: 'a bug'" in m for m in warned), warned


# -- incremental refreshes -------------------------------------------------------------------
def test_a_refresh_with_nothing_changed_reads_renders_and_publishes_nothing(
    sample_site: Site,
) -> None:
    first = sample_site.refresh()
    version = load_current(publish_dir(sample_site.root / "var"))
    assert version is not None and first.published
    again = sample_site.refresh()
    assert again.files_read == 0
    assert again.rendered == ()
    assert not again.published and again.version == first.version
    assert current_id(publish_dir(sample_site.root / "var")) == version.id
    same = load_current(publish_dir(sample_site.root / "var"))
    assert same is not None
    assert {p: r.etag for p, r in same.resources.items()} == {
        p: r.etag for p, r in version.resources.items()
    }
    # A touched file is read (its mtime moved) but, unchanged, renders nothing.
    os.utime(sample_site.articles / SAMPLE.name, (1_800_000_000, 1_800_000_000))
    touched = sample_site.refresh()
    assert touched.files_read == 1 and touched.rendered == () and not touched.published


def test_one_changed_article_rerenders_only_the_feeds_that_show_it(site: Site) -> None:
    site.write("europe.txt", EUROPE)
    site.write("asia.txt", ASIA)
    site.refresh()
    site.write("europe.txt", EUROPE.replace("No date was set.", "A date was set."), 1.8e9)
    report = site.refresh()
    assert report.updated == 1 and report.published
    feeds = {path for path in report.rendered if path.startswith("/feeds/")}
    assert feeds == {f"/feeds/{slug}.{fmt}" for slug in ("all", "europe") for fmt in FORMATS}
    assert "/sections/asia/" not in report.rendered
    assert "/sections/europe/" in report.rendered


FORMATS = ("atom", "rss", "json")


def test_a_warmed_refresher_renders_no_more_at_its_first_edit_than_at_any_other(
    site: Site, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a restart, `warm` (the clock's, once its first refresh is done) renders ahead
    what the first edit would otherwise read and render again: every entry the feeds show.
    The same bytes are published either way."""
    site.write("europe.txt", EUROPE)
    site.write("asia.txt", ASIA)
    site.refresh()  # published before the restart
    twin = Site(tmp_path_factory.mktemp("twin") / "site")  # the same, restarted unwarmed
    shutil.copytree(site.root, twin.root, symlinks=True)
    # As in a new process: no entry written, no template compiled yet.
    monkeypatch.setattr(render, "_WRITTEN", WeakKeyDictionary())
    pages._environment.cache_clear()
    warmed, unwarmed = Refresher(site.config()), Refresher(twin.config())
    try:
        for refresher in (warmed, unwarmed):
            assert not refresher.refresh().rendered  # the first refresh after the restart
        warmed.warm()
        shown: list[str] = []  # entries rendered
        show = refresh_module.show
        monkeypatch.setattr(refresh_module, "show", lambda *a: shown.append(a[1].title) or show(*a))
        compiled: list[object] = []  # the sources of templates compiled
        compile_ = Environment.compile
        monkeypatch.setattr(
            Environment, "compile", lambda *a, **k: compiled.append(a[1]) or compile_(*a, **k)
        )
        written: list[str] = []  # entries written into Atom and RSS documents
        write = render._write_entries
        monkeypatch.setattr(
            render, "_write_entries", lambda *a: written.extend(e.title for e in a[1]) or write(*a)
        )
        for each in (site, twin):
            each.write("europe.txt", EUROPE.replace("No date was set.", "A date was set."), 1.76e9)
        assert warmed.refresh().published
        assert shown == ["Talks resume in Vienna"]
        assert written == ["Talks resume in Vienna"] * 2
        assert compiled == []
        shown.clear()
        written.clear()
        # As in a process of its own: nothing the warmed refresher wrote or compiled is reused.
        monkeypatch.setattr(render, "_WRITTEN", WeakKeyDictionary())
        pages._environment.cache_clear()
        assert unwarmed.refresh().published
        assert sorted(shown) == ["Monsoon arrives early", "Talks resume in Vienna"]
        assert sorted(written) == ["Monsoon arrives early"] * 2 + ["Talks resume in Vienna"] * 2
    finally:
        warmed.close()
        unwarmed.close()
    assert warmed.current is not None and unwarmed.current is not None
    assert warmed.current.resources.keys() == unwarmed.current.resources.keys()
    for path in warmed.current.resources:
        assert site.published(path) == twin.published(path), path


def test_a_deleted_article_leaves_the_feeds_and_keeps_its_id_reserved(site: Site) -> None:
    site.write("europe.txt", EUROPE)
    site.write("asia.txt", ASIA)
    site.refresh()
    (europe_id,) = [i for i in atom_ids(site.published("/feeds/europe.atom"))]
    (site.articles / "europe.txt").unlink()
    report = site.refresh()
    assert report.removed == 1 and report.published
    assert europe_id not in atom_ids(site.published("/feeds/all.atom"))
    assert atom_ids(site.published("/feeds/europe.atom")) == []
    assert europe_id in stored_identities(site)  # reserved: never given to another article


# -- one refresher, many web processes -------------------------------------------------------
SWITCH_SECONDS = 1.0  #: how soon every web process serves a newly published version
REFRESHED = "refresh: read "  #: the one line each refresh logs
ACCESS_LOG = {"GUNICORN_CMD_ARGS": "--access-logfile - --access-logformat '%(p)s %(r)s %(s)s'"}


def test_the_problems_of_the_files_a_refresh_reads_are_logged_once(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    site.write("good.txt", "Asia\nFine\n\nText.\n")
    site.write("bad.md", "---\ntitle: T\nsection: Nowhere\n---\nBody.\n")
    caplog.set_level(logging.INFO, logger="feedsvc")
    refresher = Refresher(site.config())
    try:
        refresher.refresh()
        site.write("good.txt", "Asia\nFine\n\nText, edited.\n", mtime=1_800_000_000)
        refresher.refresh()  # reads good.txt alone: bad.md's problem was said already
    finally:
        refresher.close()
    warned = warnings_of(caplog)
    assert warned == [
        "bad.md:3: error: section 'Nowhere' is not configured; add a [[sections]] entry with "
        'name = "Nowhere" to config.toml, or set content.allow_new_sections = true'
    ]


def test_a_file_read_again_in_the_same_refresh_is_logged_as_it_ends(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    site.write("a.txt", EUROPE)
    refresher = Refresher(site.config())
    try:
        refresher.refresh()
        # A copy, read first: a duplicate of a.txt's article... which a.txt no longer holds,
        # so the copy is read again and published. Said as it ends: no problem.
        site.write("0copy.txt", EUROPE, mtime=1_800_000_000)
        site.write("a.txt", ASIA, mtime=1_800_000_000)
        caplog.set_level(logging.INFO, logger="feedsvc")
        report = refresher.refresh()
    finally:
        refresher.close()
    assert report.problems == ()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    ("config", "said"),
    [
        (
            config_text().replace('name = "Asia"', 'name = "Asia"\nslug = "asia-pacific"'),
            ("asia", "asia-pacific"),
        ),
        (
            config_text().replace('name = "Middle East"', 'name = "Mideast"'),
            ("middle-east", "mideast"),
        ),
        (config_without("Diplomacy"), ("diplomacy", None)),
    ],
    ids=["slug changed", "renamed", "taken out"],
)
def test_a_reload_that_moves_or_takes_away_a_sections_feeds_warns_of_it(
    site: Site, caplog: pytest.LogCaptureFixture, config: str, said: tuple[str, str | None]
) -> None:
    """Its feeds move: every subscriber of the old URLs gets 404s from then on."""
    site.write("asia.txt", ASIA)
    refresher = Refresher(site.config())
    try:
        refresher.refresh()
        site.config_path.write_text(config, encoding="utf-8")
        caplog.set_level(logging.INFO, logger="feedsvc")
        refresher.refresh()
    finally:
        refresher.close()
    warned = warnings_of(caplog)
    assert warned == [gone_feeds_warning(*said)]


RENAMED = [*SECTIONS[1:], "Americas"]  #: "America" renamed in config.toml alone
#: what `check`, `reload` and the refresh say of it
LIKE = "; 'Americas' is configured: renamed? a section is what its files' section lines say"
SAID_BY = {
    "check": "section 'America' is not in this config, and its files still say it: a refresh "
    "with this config unpublishes its 4 entries (their readers see them go, their pages are "
    "removed); name it again in [[sections]] to keep them, under the same ids" + LIKE,
    "reload": "section 'America' is not in this config, and 4 entries of it are published: the "
    "refresh unpublishes those whose files still say it (`feedsvc check` tells); name it again "
    "in [[sections]] to keep them, under the same ids" + LIKE,
    "refresh": "section 'America' is not in this config, and 4 entries whose files still say it "
    "were unpublished (their readers saw them go, their pages were removed); name it again in "
    "[[sections]] to publish them again, under the same ids" + LIKE,
}


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize("restarted", [False, True], ids=["reloaded", "restarted"])
def test_a_section_renamed_in_the_config_alone_is_said_before_and_as_its_entries_go(
    sample_site: Site, caplog: pytest.LogCaptureFixture, restarted: bool
) -> None:
    """The files still saying "America": every entry of it was unpublished, and the only words
    were the files' errors, which told the files to change."""
    site = sample_site
    refresher = Refresher(site.config())
    try:
        refresher.refresh()
        site.config_path.write_text(config_text(sections=RENAMED), "utf-8")
        checked = feedsvc("check", "--config", str(site.config_path))
        assert f"{site.config_path}: warning: {SAID_BY['check']}" in checked.stdout.splitlines()
        if restarted:  # most deploys restart: the config is new to the refresher
            refresher.close()
            refresher = Refresher(site.config())
        caplog.set_level(logging.WARNING, logger="feedsvc")
        report = refresher.refresh()
    finally:
        refresher.close()
    assert report.removed == 4
    assert warnings_of(caplog).count(f"{site.config_path}: warning: {SAID_BY['refresh']}") == 1
    # its feeds are gone, not moved: "set slug" would bring back an empty one
    assert gone_feeds_warning("america", None) in warnings_of(caplog)
    assert not [said for said in warnings_of(caplog) if "moved to" in said]


@pytest.mark.parametrize(
    ("config", "files"),
    [
        (config_text(sections=RENAMED), "Americas"),  # renamed in both
        (config_text(sections=[*SECTIONS[1:], "america"]), "America"),  # spelt otherwise
    ],
    ids=["renamed in the files too", "spelt otherwise"],
)
def test_a_section_the_files_follow_is_said_by_no_one(
    sample_site: Site, caplog: pytest.LogCaptureFixture, config: str, files: str
) -> None:
    site = sample_site
    refresher = Refresher(site.config())
    try:
        refresher.refresh()
        site.config_path.write_text(config, "utf-8")
        sample = site.articles / SAMPLE.name
        sample.write_text(sample.read_text("utf-8").replace("America\n", f"{files}\n"), "utf-8")
        checked = feedsvc("check", "--config", str(site.config_path))
        caplog.set_level(logging.WARNING, logger="feedsvc")
        report = refresher.refresh()
    finally:
        refresher.close()
    assert "not in this config" not in checked.stdout and report.removed == 0
    assert not [said for said in warnings_of(caplog) if "not in this config" in said]
    # `reload`, which reads no file, is told every stored section: spelt otherwise, "America"
    # is still one; renamed, it says what may go
    reloaded = sections_unpublished(site.config(), {"America": 4}, "reload")
    assert (reloaded == []) == (files == "America")


def test_one_entry_of_a_section_taken_out_is_said_as_one(site: Site) -> None:
    config = load_config(site.config_path)  # "America" is configured: renamed "Amercia" (a swap)
    said = {
        moment: str(problem)
        for moment in ("check", "reload", "refresh")
        for problem in sections_unpublished(config, {"Amercia": 1}, moment)
    }
    assert "unpublishes its 1 entry (their" in said["check"]
    assert "and 1 entry of it is published" in said["reload"]
    assert "and 1 entry whose files still say it was unpublished" in said["refresh"]
    assert all(
        text.endswith(
            "; 'America' is configured: renamed? a section is what its files' section lines say"
        )
        for text in said.values()
    )


def test_a_section_not_in_a_config_that_allows_new_ones_is_no_loss(site: Site) -> None:
    """Its files' sections are published as found: nothing to say of one taken out."""
    site.config_path.write_text(config_text(sections=SECTIONS[1:], content=ALLOW_NEW), "utf-8")
    config = site.config()
    assert sections_unpublished(config, {"America": 4}, "check") == []
    assert sections_unpublished(config, {"America": 4}, "reload") == []
    assert sections_unpublished(config, {"America": 4}, "refresh") == []


def reloaded_with(site: Site, tmp_path: Path, running: list[Process], config: str) -> list[str]:
    """What `feedsvc reload` says of `config`, written under a running `serve`."""
    server = serve(site.config_path, tmp_path / "serve.log")
    running.append(server)
    server.wait_until("/feeds/all.atom")
    site.config_path.write_text(config, "utf-8")
    reloaded = feedsvc("reload", "--config", str(site.config_path))
    assert reloaded.returncode == 0
    return reloaded.stderr.splitlines()


def test_feedsvc_reload_says_a_section_renamed_in_the_config_alone(
    sample_site: Site, tmp_path: Path, running: list[Process]
) -> None:
    said = reloaded_with(sample_site, tmp_path, running, config_text(sections=RENAMED))
    assert f"feedsvc: {sample_site.config_path}: warning: {SAID_BY['reload']}" in said


def test_feedsvc_reload_says_the_files_an_articles_dir_changed_leaves_out(
    sample_site: Site, tmp_path: Path, running: list[Process]
) -> None:
    """Pointed at a subdirectory of the old one: the next refresh takes the other files'
    stories from every reader. `reload` lists the new directory (reads no file) and says so."""
    site = sample_site
    site.write("desk/d.txt", ASIA)
    desk = config_text(content='articles_dir = "articles/desk"\nstate_dir = "var"')
    said = reloaded_with(site, tmp_path, running, desk)
    assert (
        f"feedsvc: {site.config_path}: warning: 2 files, such as 000_c5ae1000a567dda7.txt, are "
        f"not in content.articles_dir ({site.articles}/desk) now: a refresh with this config "
        "unpublishes their 5 entries, and their readers see them go (less any moved into a "
        "file there: `check` tells); deleted or moved on purpose? then nothing to do; else put "
        "the files back, or articles_dir as it was"
    ) in said


def test_feedsvc_reload_says_the_entries_a_lowered_max_file_bytes_takes_away(
    sample_site: Site, tmp_path: Path, running: list[Process]
) -> None:
    """It reads no file either: the sizes are the listing's."""
    site = sample_site
    said = reloaded_with(site, tmp_path, running, config_text(content="max_file_bytes = 1000"))
    size = (site.articles / "000_c5ae1000a567dda7.txt").stat().st_size
    assert (
        f"feedsvc: 000_c5ae1000a567dda7.txt: error: file is {size} bytes, larger than "
        "content.max_file_bytes (1000); skipped without reading it (raise the limit or split "
        "the file); a refresh unpublishes its 4 entries, and their readers see them go"
    ) in said


def test_a_found_section_left_with_no_articles_is_said_gone_not_moved(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    site.config_path.write_text(config_text(content=ALLOW_NEW), "utf-8")
    site.write("live.txt", "Live blog\nThe day's news\n\nAs it comes.\n")
    site.refresh()
    (site.articles / "live.txt").unlink()
    site.write("w.txt", "Weather\nRain all week\n\nTake a coat.\n")  # found meanwhile
    caplog.set_level(logging.INFO, logger="feedsvc")
    site.refresh()
    warned = warnings_of(caplog)
    assert warned == [gone_feeds_warning("live-blog", None)]


def gone_feeds_warning(slug: str, moved_to: str | None) -> str:
    if moved_to is None:
        return (
            f"the feeds /feeds/{slug}.* are gone (their section taken out of the config, or, "
            "found in articles, left with none): their subscribers get 404s now"
        )
    return (
        f"the feeds /feeds/{slug}.* moved to /feeds/{moved_to}.* (a section renamed, or its "
        f'slug changed): their subscribers get 404s now; to keep them, set slug = "{slug}" in '
        "its [[sections]] entry"
    )


def test_a_web_process_does_not_load_the_refresher() -> None:
    """A gunicorn worker only serves what was published: it starts without the readers, the
    renderers or the state store, whatever the size of the archive."""
    refresher_side = (
        "feedsvc.refresh feedsvc.corpus feedsvc.readers feedsvc.render feedsvc.pages "
        "feedsvc.state feedsvc.parallel lxml feedgen yaml markdown_it sqlite3"
    )
    modules = refresher_side.split()
    code = f"import sys, feedsvc.app; print(*(m for m in {modules!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == []


def test_gunicorn_workers_serve_what_the_one_clock_publishes(
    site: Site, tmp_path: Path, running: list[Process]
) -> None:
    copy_sample(site)
    write_config(site, interval=1)
    refresher = clock(site.config_path, tmp_path / "clock.log")
    running.append(refresher)
    wait_for(lambda: current_id(publish_dir(site.root / "var")), "the first version")
    # deployed with a base_url of this machine, as the tests' own: said at once
    said = "site.base_url is http://127.0.0.1:8000, which only this machine can reach"
    assert said in refresher.output()
    web = gunicorn(site.config_path, tmp_path / "web.log", workers=3, env=ACCESS_LOG)
    running.append(web)
    web.wait_until("/feeds/all.atom")

    # A second refresher on the same state directory declines, clearly and at once.
    for command in (["clock"], ["serve", "--port", "0"]):
        second = feedsvc(*command, "--config", str(site.config_path), timeout=60)
        assert second.returncode != 0
        assert f"another refresher (pid {refresher.popen.pid}) already runs" in second.stderr

    ticks_before, started = refresher.output().count(REFRESHED), time.monotonic()
    site.write("fresh.txt", FRESH, mtime=time.time())
    wait_for(
        lambda: b"Fresh from the desk" in get(web.url, "/feeds/all.atom")[2],
        "the new article in some worker's feed",
    )
    # Every worker notices a new version within about a second, between requests.
    time.sleep(SWITCH_SECONDS + 0.5)
    marker = len(web.output())
    etags, pids, requests = set(), set(), 0
    while len(pids) < 3 and requests < 300:  # until each of the 3 workers answered some
        for _ in range(10):
            status, headers, body = get(web.url, "/feeds/all.atom")
            assert status == 200 and "Fresh from the desk" in atom_titles(body)
            etags.add(headers["ETag"])
        requests += 10
        pids = set(re.findall(r"^<(\d+)> GET /feeds/all.atom ", web.output()[marker:], re.M))
    assert len(pids) == 3, f"only workers {pids} answered {requests} requests"
    assert len(etags) == 1  # one version, the same bytes, whichever worker answers

    # One refresh per tick, all in the clock: the workers never refresh.
    elapsed = time.monotonic() - started
    refreshes = refresher.output().count(REFRESHED) - ticks_before
    assert 1 <= refreshes <= elapsed + 2
    assert refresher.output().count("published version") >= 1
    assert REFRESHED not in web.output() and "published version" not in web.output()

    # With the clock gone, /healthz says so once three intervals passed.
    refresher.stop()
    report = wait_for(
        lambda: (r := healthz(web.url))["status"] == "stale" and r, "a stale /healthz"
    )
    assert report["version"] == current_id(publish_dir(site.root / "var"))


def wait_for_title(read: Callable[[], bytes], title: str, what: str) -> None:
    """Until the combined Atom feed `read` returns carries the site title `title`."""
    wait_for(lambda: feed_title(read()) == title, what, timeout=10)


P = TypeVar("P", bound=Process)


def started_with_desk_one(
    site: Site, start: Callable[[Path, Path], P], log: Path, running: list[Process]
) -> P:
    """`start` (serve, clock) on a config titled "Desk One", once its first version is out."""
    write_config(site, title="Desk One", interval=300)
    process = start(site.config_path, log)
    running.append(process)
    wait_for(lambda: current_id(publish_dir(site.root / "var")), "the first version")
    return process


def sighup_applies_a_new_title(site: Site, process: Process, read: Callable[[], bytes]) -> None:
    """The config changes; SIGHUP makes `process` reread it now, without stopping."""
    write_config(site, title="Desk Two", interval=300)
    process.signal(signal.SIGHUP)
    wait_for_title(read, "Desk Two", "the title from SIGHUP")
    assert process.popen.poll() is None  # reloaded, not stopped
    assert "config reloaded from" in process.output()


# -- reloading the config --------------------------------------------------------------------
def test_sighup_and_feedsvc_reload_apply_a_changed_config_now(
    sample_site: Site, tmp_path: Path, running: list[Process]
) -> None:
    site = sample_site
    server = started_with_desk_one(site, serve, tmp_path / "serve.log", running)
    server.wait_until("/feeds/all.atom")

    def combined() -> bytes:
        return get(server.url, "/feeds/all.atom")[2]

    assert feed_title(combined()) == "Desk One"

    sighup_applies_a_new_title(site, server, combined)

    write_config(site, title="Desk Three", interval=300)
    result = feedsvc("reload", "--config", str(site.config_path), timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"pid {server.popen.pid}" in result.stdout
    wait_for_title(combined, "Desk Three", "the title from feedsvc reload")

    # The interval itself: from now on every tick (1 s) rereads the file, no signal needed.
    write_config(site, title="Desk Three", interval=1)
    server.signal(signal.SIGHUP)
    wait_for(lambda: "refresh interval is now 1 s" in server.output(), "the new interval")
    write_config(site, title="Desk Four", interval=1)
    wait_for_title(combined, "Desk Four", "the title from a tick")


@pytest.mark.parametrize("command", ["clock", "serve"])
def test_a_refresher_stopped_by_sigterm_leaves_its_whole_store_in_one_file(
    sample_site: Site, tmp_path: Path, running: list[Process], command: str
) -> None:
    """Procfile runners and systemd stop it so: its commits stayed in the `-wal` file beside
    the store, and a copy of `state.sqlite3`, the README's backup, held no table at all."""
    site = sample_site
    start = serve if command == "serve" else clock
    process = start(site.config_path, tmp_path / f"{command}.log")
    running.append(process)
    published = publish_dir(site.root / "var") / "current" / "feeds" / "all.atom"
    wait_for(published.exists, "a first refresh")
    process.signal(signal.SIGTERM)
    # a stop, never a failure to systemd (an exit status of 130, Ctrl-C's, marked the unit
    # failed at every stop)
    assert process.popen.wait(timeout=30) == 0
    store = site.root / "var" / "state.sqlite3"
    assert not store.with_name("state.sqlite3-wal").exists()
    copy = tmp_path / "copy.sqlite3"
    shutil.copyfile(store, copy)
    assert sqlite3.connect(copy).execute("SELECT count(*) FROM entries").fetchone() == (4,)
    assert "Traceback" not in process.output()


def test_a_running_clock_is_heard_from_while_it_runs(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("feedsvc.clock.HEARTBEAT_SECONDS", 0)  # at each poll: every second
    copy_sample(site)
    state_dir = site.root / "var"
    with refresher_role(state_dir), ticking(Refresher(site.config())):
        heard = time.time() - 2 * control.SILENT_SECONDS
        os.utime(state_dir / "refresher.lock", (heard, heard))
        assert control.silent_since(state_dir) == datetime.fromtimestamp(heard, UTC)
        wait_for(lambda: control.silent_since(state_dir) is None, "the clock's heartbeat")


def test_a_clock_is_not_heard_from_in_a_copy_restored_where_its_state_dir_was(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It refreshes nothing there until restarted: touching the copy's lock said all was well,
    and /healthz said `ok` of a site no longer refreshed (op38)."""
    monkeypatch.setattr("feedsvc.clock.HEARTBEAT_SECONDS", 0)  # at each poll: every second
    copy_sample(site)
    state_dir = site.root / "var"
    with refresher_role(state_dir), ticking(Refresher(site.config())) as clock_:
        wait_for(lambda: clock_.refresher.last_report is not None, "the refresh at start")
        shutil.copytree(state_dir, site.root / "backup")
        state_dir.rename(site.root / "var.aside")
        (site.root / "backup").rename(state_dir)  # restored while the clock runs
        heard = time.time() - 2 * control.SILENT_SECONDS
        os.utime(state_dir / "refresher.lock", (heard, heard))
        time.sleep(2.5)  # two polls at least
        assert control.silent_since(state_dir) == datetime.fromtimestamp(heard, UTC)
        (site.root / "var").rename(site.root / "backup")
        (site.root / "var.aside").rename(state_dir)  # put back: the clock's own again


@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_healthz_says_a_refresher_killed_is_silent_not_a_refresher_stopped(
    sample_site: Site, tmp_path: Path, running: list[Process], how: str
) -> None:
    """A web process apart said `ok` for three intervals (15 minutes) after its clock was
    killed: a running refresher touches `refresher.lock` every ten seconds, and one stopped
    empties it."""
    web = gunicorn(sample_site.config_path, tmp_path / "web.log", workers=1)
    refresher = clock(sample_site.config_path, tmp_path / "clock.log")
    running += [web, refresher]
    published = publish_dir(sample_site.root / "var") / "current" / "feeds" / "all.atom"
    wait_for(published.exists, "a first refresh")
    web.wait_until("/feeds/all.atom")
    refresher.stop(signal.SIGKILL if how == "killed" else signal.SIGTERM)
    heard = time.time() - 2 * control.SILENT_SECONDS  # as long ago as that
    os.utime(sample_site.root / "var" / "refresher.lock", (heard, heard))
    said = healthz(web.url)
    if how == "stopped":
        assert (said["status"], said["refresher_silent_since"]) == ("ok", None)
        return
    assert said["status"] == "stale"
    assert said["refresher_silent_since"] == datetime.fromtimestamp(heard, UTC).isoformat()


def test_the_procfile_s_clock_takes_the_signals_sent_to_the_process_honcho_started(
    sample_site: Site, tmp_path: Path, running: list[Process]
) -> None:
    """honcho and foreman run each line with `sh -c` and signal that process: without `exec`,
    a SIGHUP ended the shell and reloaded nothing, and a SIGTERM never reached the refresher."""
    (line,) = [
        line.removeprefix("clock:").strip()
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("clock:")
    ]
    env = {"PATH": f"{sys.executable.rsplit('/', 1)[0]}:{os.environ['PATH']}"}
    env["FEEDSVC_CONFIG"] = str(sample_site.config_path)
    process = Process(["/bin/sh", "-c", line], tmp_path / "clock.log", env)
    running.append(process)
    published = publish_dir(sample_site.root / "var") / "current" / "feeds" / "all.atom"
    wait_for(published.exists, "a first refresh")
    write_config(sample_site, title="Desk Two")
    process.signal(signal.SIGHUP)
    wait_for(lambda: "config reloaded from" in process.output(), "the reload SIGHUP asks for")
    process.signal(signal.SIGTERM)
    process.popen.wait(timeout=30)
    assert not (sample_site.root / "var" / "state.sqlite3-wal").exists()


@pytest.mark.parametrize("command", ["clock", "serve"])
def test_a_refresher_restarted_with_an_invalid_config_waits_for_a_valid_one(
    sample_site: Site, tmp_path: Path, running: list[Process], command: str
) -> None:
    """It exited, and honcho and foreman stop every process of the Procfile when one exits:
    the web tier too, and every feed was gone until someone fixed the file and restarted."""
    site = sample_site
    write_config(site, title="Desk One")
    site.refresh()
    site.config_path.write_text(site.config_path.read_text() + "[bogus]\n", "utf-8")
    start = serve if command == "serve" else clock
    process = start(site.config_path, tmp_path / f"{command}.log")
    running.append(process)
    status = site.root / "var" / "status.json"
    wait_for(lambda: "waits for a valid config" in status.read_text(), "the reason in healthz")
    assert "config.toml:" in json.loads(status.read_text())["config_error"]
    heard = time.time() - 2 * control.SILENT_SECONDS  # waiting, it is heard from: not killed
    os.utime(site.root / "var" / "refresher.lock", (heard, heard))
    wait_for(lambda: control.silent_since(site.root / "var") is None, "a heartbeat as it waits")
    if isinstance(process, Server):  # what is published stays served
        process.wait_until("/feeds/all.atom")
        assert healthz(process.url)["status"] == "error"
    # `feedsvc reload` reaches it, SIGHUP does not end it, nor does a second look at the file
    reloaded = feedsvc("reload", "--config", str(site.config_path))
    assert f"pid {process.popen.pid}" in reloaded.stdout
    assert "(or, waiting for a valid one, waits on)" in reloaded.stderr  # it has no other one
    process.signal(signal.SIGHUP)
    time.sleep(1.5)
    assert process.popen.poll() is None
    # said once, as it started: by serve's web app alone, serving what is published
    assert process.output().count("bogus: unknown key") == 1
    waits = "serving what is published under" if command == "serve" else "the refresher waits"
    assert waits in process.output()

    write_config(site, title="Desk Two")
    combined = publish_dir(site.root / "var") / "current" / "feeds" / "all.atom"
    wait_for_title(combined.read_bytes, "Desk Two", "the config fixed, applied")
    assert "is valid and its state store opens: the refresher starts" in process.output()
    # the Procfile's refresher says the tests' base_url as it starts, waited or not
    said = "site.base_url is http://127.0.0.1:8000, which only this machine can reach"
    assert process.output().count(said) == (command == "clock")
    # the status is written just after the version it tells of is switched to
    wait_for(lambda: json.loads(status.read_text())["config_error"] is None, "/healthz clear")


def test_a_clock_waiting_for_its_articles_dir_starts_once_it_appears_and_no_other_speaks_for_it(
    sample_site: Site, tmp_path: Path, running: list[Process]
) -> None:
    """A mount up late: the file never changed, and the clock waited for good. A second clock
    started meanwhile wrote its own reason into the status of the one running."""
    site = sample_site
    write_config(site, title="Desk One")
    site.refresh()
    write_config(site, title="Desk Two", content='articles_dir = "later"\nstate_dir = "var"')
    waiting = clock(site.config_path, tmp_path / "clock.log")
    running.append(waiting)
    status = site.root / "var" / "status.json"
    wait_for(lambda: "later does not exist" in status.read_text(), "the reason in healthz")
    before = status.read_text()
    second = feedsvc("clock", "--config", str(site.config_path), timeout=60)
    assert second.returncode == 2 and "another refresher" in second.stderr
    assert status.read_text() == before
    shutil.copytree(site.articles, site.root / "later")
    combined = publish_dir(site.root / "var") / "current" / "feeds" / "all.atom"
    wait_for_title(combined.read_bytes, "Desk Two", "the clock started, its articles there")


def test_a_refresher_with_an_invalid_config_and_nothing_published_exits(site: Site) -> None:
    site.config_path.write_text(site.config_path.read_text() + "[bogus]\n", "utf-8")
    done = feedsvc("clock", "--config", str(site.config_path), timeout=60)
    assert done.returncode == 2 and "config.toml:" in done.stderr


def test_a_scheduled_article_is_served_when_due_not_at_the_next_tick(
    site: Site, tmp_path: Path, running: list[Process]
) -> None:
    write_config(site, interval=3600)
    site.write("europe.txt", EUROPE)
    due = in_whole_seconds(4)
    site.write("later.md", scheduled_story(due))
    server = serve(site.config_path, tmp_path / "serve.log", env=WITH_TOKEN)
    running.append(server)
    server.wait_until("/feeds/all.atom")

    def served() -> list[str]:
        return atom_titles(get(server.url, "/feeds/all.atom")[2])

    assert served() == ["Talks resume in Vienna"]
    assert f"1 scheduled, the next at {due.isoformat()}" in server.output()
    assert healthz(server.url, TOKEN)["last_refresh"]["next_scheduled"] == due.isoformat()
    # an embargo: its headline and its time, to whoever holds the token alone
    public = healthz(server.url)
    assert "next_scheduled" not in public["last_refresh"] and "problems" not in public
    assert "Embargoed" not in json.dumps(public) and public["problem_count"] >= 1
    # Nothing changes on disk and the next tick is an hour away: the clock runs one at `due`.
    wait_for(lambda: "Embargoed story" in served(), "the scheduled story, once due", timeout=30)
    assert datetime.now(UTC) >= due

    # Scheduled by another process's refresh (no watcher here to tell the clock of the file).
    due = in_whole_seconds(4)
    site.write("later2.md", scheduled_story(due, "Second embargo"))
    assert feedsvc("refresh", "--config", str(site.config_path)).returncode == 0
    assert "Second embargo" not in served()
    wait_for(lambda: "Second embargo" in served(), "the second story, once due", timeout=30)
    assert datetime.now(UTC) >= due

    # A refresh run sooner (a reload here; an edit, an admin request) took the due time's
    # place in the schedule: the story waited for the next tick, an hour away.
    due = in_whole_seconds(8)
    site.write("later3.md", scheduled_story(due, "Third embargo"))
    assert feedsvc("refresh", "--config", str(site.config_path)).returncode == 0
    time.sleep(1.5)  # the clock's poll (every second) has followed the due time
    server.signal(signal.SIGHUP)
    wait_for(lambda: "reload asked for" in server.output(), "the reload's refresh")
    assert "Third embargo" not in served()
    wait_for(lambda: "Third embargo" in served(), "the third story, once due", timeout=30)
    assert datetime.now(UTC) >= due


def running_clock(site: Site, seconds: float) -> list[tuple[datetime, Collection[str] | None]]:
    """Run a clock for `seconds`: when each of its refreshes began, and the `paths` it was
    given (None: all)."""
    refresher = Refresher(site.config())
    asked: list[tuple[datetime, Collection[str] | None]] = []
    refresh = refresher.refresh

    def noting(progress: Any = None, paths: Collection[str] | None = None) -> RefreshReport:
        asked.append((datetime.now(UTC), paths))
        return refresh(progress, paths=paths)

    refresher.refresh = noting  # type: ignore[method-assign]
    with ticking(refresher):
        time.sleep(seconds)
    return asked


def test_without_a_watcher_every_tick_scans_every_file(site: Site) -> None:
    """Only a full scan sees a change then: a tick firing a little early must not skip it."""
    write_config(site, interval=1)
    site.write("a.txt", EUROPE)
    asked = running_clock(site, 4.5)
    assert len(asked) >= 4 and all(paths is None for _, paths in asked), asked


def test_an_entry_due_after_the_next_tick_is_published_when_due_not_a_tick_later(
    site: Site,
) -> None:
    write_config(site, interval=4)
    site.write("a.txt", EUROPE)
    due = in_whole_seconds(7)
    site.write("later.md", scheduled_story(due))
    asked = running_clock(site, (due - datetime.now(UTC)).total_seconds() + 0.7)
    assert any(due <= began < due + timedelta(seconds=0.6) for began, _ in asked), asked


def test_a_refresh_failing_once_an_entry_is_due_waits_for_the_next_tick(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not once a second: each failure rewrites the status, the past due time with it."""
    write_config(site, interval=3600)
    site.write("a.txt", EUROPE)
    due = in_whole_seconds(2)
    site.write("later.md", scheduled_story(due))
    real = refresh_module.write_version

    def full_disk_once_due(*args: Any, **kwargs: Any) -> Any:
        if datetime.now(UTC) >= due:
            raise PublishError("[Errno 28] No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(refresh_module, "write_version", full_disk_once_due)
    asked = running_clock(site, 6)
    assert 2 <= len(asked) <= 3, asked  # at start, once due (and perhaps a tick skipped then)


def test_sighup_to_the_clock_process_rereads_the_config_now(
    sample_site: Site, tmp_path: Path, running: list[Process]
) -> None:
    site = sample_site
    refresher = started_with_desk_one(site, clock, tmp_path / "clock.log", running)
    sighup_applies_a_new_title(site, refresher, lambda: site.published("/feeds/all.atom"))


def test_sighup_reloads_even_where_requests_cannot_be_written(
    sample_site: Site, tmp_path: Path, running: list[Process]
) -> None:
    """The signal handler wrote a control file: where it could not (state_dir/control made
    unwritable, here a file in its place), the exception ended `clock` or `serve`, web and all."""
    site = sample_site
    refresher = started_with_desk_one(site, clock, tmp_path / "clock.log", running)
    control = site.root / "var" / "control"
    shutil.rmtree(control, ignore_errors=True)
    control.write_text("in the way")
    sighup_applies_a_new_title(site, refresher, lambda: site.published("/feeds/all.atom"))
    wait_for(lambda: "cannot take requests" in refresher.output(), "the failure said")
    assert refresher.output().count("cannot take requests") == 1  # once, not every second


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_an_invalid_config_is_rejected_and_the_previous_one_keeps_running(
    sample_site: Site, tmp_path: Path, running: list[Process]
) -> None:
    site = sample_site
    write_config(site, title="Good Desk")
    good = site.config_path.read_text("utf-8")
    server = serve(site.config_path, tmp_path / "serve.log", env=WITH_TOKEN)
    running.append(server)
    server.wait_until("/feeds/all.atom")
    served = get(server.url, "/feeds/all.atom")[2]
    assert "which only this machine can reach" not in server.output()  # trying it, as meant

    bad_toml = good.replace("[feeds]", "[feeds", 1)
    unknown = good.replace('language = "en"', 'language = "en"\ncolour = "red"', 1)
    wrong_type = good.replace("max_entries = 50", 'max_entries = "fifty"', 1)
    no_articles = good.replace('articles_dir = "articles"', 'articles_dir = "nowhere"', 1)
    cases = [
        (bad_toml, f"config.toml:{_line_of(bad_toml, '[feeds')}: invalid TOML: Expected ']' at "
         "the end of a table declaration"),
        (unknown, f"config.toml:{_line_of(unknown, 'colour')}: site.colour: unknown key"),
        (wrong_type, f"config.toml:{_line_of(wrong_type, 'max_entries')}: feeds.max_entries: "
         "expected an integer, found string 'fifty'"),
        (no_articles, f"config.toml:{_line_of(no_articles, 'articles_dir')}: "
         "content.articles_dir: the directory"),
    ]  # fmt: skip
    for text, expected in cases:
        site.config_path.write_text(text, "utf-8")
        result = feedsvc("reload", "--config", str(site.config_path), timeout=60)
        assert result.returncode == 1 and expected in result.stderr  # said at once, too
        wait_for(
            lambda expected=expected: (
                expected in (healthz(server.url, TOKEN)["config_error"] or "")
            ),
            f"{expected!r} on /healthz",
        )
        assert healthz(server.url)["status"] == "ok"  # the old config runs on: nothing broke
        assert get(server.url, "/feeds/all.atom")[2] == served
        logged = [line for line in server.output().splitlines() if "config rejected" in line]
        assert logged and expected in logged[-1] and " ERROR " in logged[-1]

    site.config_path.write_text(good, "utf-8")
    server.signal(signal.SIGHUP)
    wait_for(lambda: healthz(server.url, TOKEN)["config_error"] is None, "the error to clear")
    assert get(server.url, "/feeds/all.atom")[2] == served


# -- the admin endpoint ----------------------------------------------------------------------
def test_post_admin_refresh_needs_the_bearer_token(
    site: Site, tmp_path: Path, running: list[Process]
) -> None:
    site.write("europe.txt", EUROPE)
    server = serve(site.config_path, tmp_path / "serve.log", env={"FEEDSVC_ADMIN_TOKEN": "s3cret"})
    running.append(server)
    server.wait_until("/feeds/all.atom")
    site.write("asia.txt", ASIA)  # the next tick is 300 s away

    for authorization in (None, "Bearer wrong", "s3cret", "Basic s3cret", "Bearer s3cret2"):
        headers = {"Authorization": authorization} if authorization else {}
        status, answer, _ = get(server.url, "/admin/refresh", "POST", headers)
        assert status == 401 and answer["WWW-Authenticate"] == 'Bearer realm="feedsvc"'
    # RFC 9110, 11.1: the scheme is case-insensitive
    status, _, _ = get(server.url, "/admin/refresh", "POST", {"Authorization": "bearer s3cret"})
    assert status == 202
    status, _, body = get(server.url, "/admin/refresh", "GET", {"Authorization": "Bearer s3cret"})
    assert status == 405

    status, _, body = get(server.url, "/admin/refresh", "POST", {"Authorization": "Bearer s3cret"})
    assert status == 202 and json.loads(body) == {"requested": "refresh"}
    wait_for(
        lambda: "Monsoon arrives early" in atom_titles(get(server.url, "/feeds/all.atom")[2]),
        "the refresh the admin asked for",
        timeout=10,
    )
    assert "refresh asked for: refreshing now" in server.output()


def test_a_refresher_is_seen_running_by_its_lock_whoever_runs_it(tmp_path: Path) -> None:
    """A web tier and its refresher as two users: the kernel's list of locks, which every user
    may read, says whether the lock is held, and by which process; the pid left in the file by
    a refresher that was killed, and reused since by another process, says nothing. Nor does
    the one a refresher holding the lock through a file it may not write left behind (it names
    the refresher before it)."""
    lock = tmp_path / "refresher.lock"
    with open(lock, "a+") as held:
        lock.write_text("4242")  # not the holder's
        fcntl.flock(held, fcntl.LOCK_EX)
        assert refresher_pid(tmp_path) == os.getpid()
        with pytest.raises(LockedError, match=rf"another refresher \(pid {os.getpid()}\)"):
            RefresherRole(tmp_path).take()  # a second refresher, declining, names it too
    assert refresher_pid(tmp_path) is None
    lock.write_text(str(os.getpid()))  # alive, but holds no lock: a reused pid
    assert refresher_pid(tmp_path) is None


def test_a_refresher_run_by_another_user_is_seen_running_where_locks_are_not_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without /proc/locks: signalling the other's process is refused, and that says it is
    alive."""
    (tmp_path / "refresher.lock").write_text("4242")
    real_open = open

    def no_proc_locks(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == "/proc/locks":
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", file)
        return real_open(file, *args, **kwargs)

    def refused(pid: int, signal_number: int) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr("builtins.open", no_proc_locks)
    monkeypatch.setattr(os, "kill", refused)
    assert refresher_pid(tmp_path) == 4242


def test_a_refresh_can_be_asked_for_before_anything_is_published(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an operator does when the first refresh failed: the web side says it has nothing
    to serve, yet still takes the request."""
    monkeypatch.setenv("FEEDSVC_ADMIN_TOKEN", "s3cret")
    client = create_app(site.config_path).test_client()
    assert client.get("/feeds/all.atom").status_code == 503
    assert client.get("/no/such/page").status_code == 503
    # No refresher has ever said anything: perhaps none runs (a `web` without its `clock`).
    said = client.get("/feeds/all.atom").text
    assert said.startswith("nothing published yet: no refresh has finished") and (
        "start the refresher (`feedsvc clock`" in said
    )
    # a web worker started with a config naming a new state_dir, its refresher not restarted
    assert said.endswith("publishes into the old one until it is restarted)\n")
    assert "`feedsvc clock`" in client.get("/healthz").json["error"]
    answer = client.post("/admin/refresh", headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 202 and answer.json is not None
    assert "until a refresher runs: start the refresher" in answer.json["note"]
    (site.root / "var").mkdir(exist_ok=True)
    write_status(site.root / "var", {"last_attempt": "2025-01-01T00:00:00+00:00", "error": "x"})
    assert "the last refresh failed (see /healthz)" in client.get("/feeds/all.atom").text
    # A refresher ran, and none runs now (it stopped, or was killed): said too.
    answer = client.post("/admin/refresh", headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 202 and answer.json is not None
    assert answer.json["note"].startswith("no refresher runs now (the last one stopped)")
    assert take_control(site.root / "var") == {"refresh"}


@pytest.mark.parametrize("written", ["  a-token-of-some-length\r", "a-token-of-some-length\n"])
def test_the_admin_token_is_taken_without_the_spaces_an_env_file_leaves(
    site: Site, monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    """With a CR from a Windows env file, every request was refused, and nothing said why."""
    monkeypatch.setenv("FEEDSVC_ADMIN_TOKEN", written)
    client = create_app(site.config_path).test_client()
    asked = client.post(
        "/admin/refresh", headers={"Authorization": "Bearer a-token-of-some-length"}
    )
    assert asked.status_code == 202


@pytest.mark.parametrize(
    ("written", "said"),
    [(" ", "is blank"), ("ab\x01cd", "or holds control"), ("caf\u00e9-token-long", "non-ASCII")],
)
def test_a_blank_admin_token_turns_the_endpoint_off_and_says_so(
    site: Site,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    written: str,
    said: str,
) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN_TOKEN", written)
    app = create_app(site.config_path)
    assert "/admin/refresh" not in {rule.rule for rule in app.url_map.iter_rules()}
    assert said in caplog.text and "POST /admin/refresh is off" in caplog.text


def test_an_admin_refresh_asked_for_without_a_token_set_is_said_once(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An env file not passed on to `web` left a bare 404 and nothing in the log."""
    sample_site.refresh()
    monkeypatch.delenv("FEEDSVC_ADMIN_TOKEN", raising=False)
    web = create_app(sample_site.config_path).test_client()
    for _ in range(3):
        assert web.post("/admin/refresh", headers={"Authorization": "Bearer x"}).status_code == 404
    said = [r.getMessage() for r in caplog.records if "/admin/refresh" in r.getMessage()]
    assert said == [
        "POST /admin/refresh was asked for, and FEEDSVC_ADMIN_TOKEN is not set in this "
        "process (or blank): the endpoint is off (a 404) until it is"
    ]


def test_a_short_admin_token_is_said_to_be_guessable(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN_TOKEN", "x")
    create_app(site.config_path)
    assert "has 1 characters, short enough to guess" in caplog.text


@pytest.mark.skipif(os.geteuid() != 0, reason="runs a command as another user")
def test_a_web_tier_run_as_another_user_may_ask_its_refresher_for_a_refresh() -> None:
    """As the README says it may: the refresher made control/ 0755, its own, and the web
    tier's POST /admin/refresh was a 503."""
    root = Path(tempfile.mkdtemp())
    try:
        root.chmod(0o755)
        state_dir = root / "var"
        with refresher_role(state_dir):
            asked = subprocess.run(
                ["touch", str(state_dir / "control" / "refresh")],  # as `request_control`
                user="nobody",
                capture_output=True,
                text=True,
            )
            assert asked.returncode == 0, asked.stderr
            assert take_control(state_dir) == {"refresh"}  # and only the refresher takes it
    finally:
        shutil.rmtree(root)


def test_a_refresh_asked_for_where_it_cannot_be_left_is_a_503_that_says_why(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A web tier run as another user than its refresher: a bare HTML 500 before."""
    monkeypatch.setenv("FEEDSVC_ADMIN_TOKEN", "a-token-of-some-length")
    (site.root / "var").mkdir()
    (site.root / "var" / "control").write_text("in the way")
    client = create_app(site.config_path).test_client()
    asked = client.post(
        "/admin/refresh", headers={"Authorization": "Bearer a-token-of-some-length"}
    )
    assert asked.status_code == 503 and asked.json is not None
    assert asked.json["error"].startswith("the request could not be left for the refresher: ")


# -- /healthz --------------------------------------------------------------------------------
def test_a_web_worker_restarted_while_the_config_is_invalid_still_serves_what_is_published(
    site: Site, tmp_path: Path, running: list[Process]
) -> None:
    copy_sample(site)
    write_config(site)
    site.refresh()
    web = gunicorn(site.config_path, tmp_path / "web.log", workers=1)
    running.append(web)
    web.wait_until("/feeds/all.atom")
    served = get(web.url, "/feeds/all.atom")[2]
    good = site.config_path.read_text("utf-8")
    site.config_path.write_text(good.replace("[feeds]", "[feeds", 1), "utf-8")  # a typo
    children = Path(f"/proc/{web.popen.pid}/task/{web.popen.pid}/children").read_text().split()
    os.kill(int(children[0]), signal.SIGKILL)  # as a crash, a timeout or --max-requests would
    wait_for(lambda: "serving what is published" in web.output(), "the new worker to start anyway")
    status, _, body = get(web.url, "/feeds/all.atom")
    assert status == 200 and body == served
    assert web.popen.poll() is None  # gunicorn itself runs on
    # and the log says what is wrong, and where, and when
    (said,) = [line for line in web.output().splitlines() if "invalid TOML" in line]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ERROR feedsvc\.app: ", said), said


def test_a_config_deleted_under_the_refresher_is_said_plainly_and_the_last_one_kept(
    site: Site,
) -> None:
    refresher = Refresher(site.config())
    try:
        site.config_path.unlink()  # a deploy that removes it before writing the new one
        assert refresher.check_config() is False
        assert refresher.config_error == (
            f"{site.config_path}: cannot read the config file: No such file or directory"
        )
        assert refresher.refresh().published  # with the config it had
    finally:
        refresher.close()


def test_a_moved_state_dir_is_refused_until_a_restart_and_said_once(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    refresher = Refresher(site.config())
    try:
        text = site.config_path.read_text("utf-8")
        site.config_path.write_text(text.replace('state_dir = "', 'state_dir = "moved-', 1))
        with caplog.at_level(logging.ERROR, "feedsvc.refresh"):
            assert [refresher.check_config() for _ in range(3)] == [False] * 3
        assert refresher.config_error is not None
        assert "content.state_dir changed; restart the refresher" in refresher.config_error
        assert [r.getMessage() for r in caplog.records] == [
            f"config rejected, still serving with the previous one: {refresher.config_error}"
        ]
    finally:
        refresher.close()


def test_healthz_reports_status_version_counts_problems_and_config_error(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = sample_site
    site.write("sports.txt", "Sports\nMatch\n\nGoal.\n")
    refresher = Refresher(site.config())
    report = refresher.refresh()
    monkeypatch.setenv("FEEDSVC_ADMIN_TOKEN", TOKEN)
    web = client(site)
    public = web.get("/healthz").json
    assert public is not None and "problems" not in public and public["problem_count"] == 1
    response = web.get("/healthz", headers=AUTH)
    assert response.status_code == 200
    health = response.json
    assert health is not None
    version = load_current(publish_dir(site.root / "var"))
    assert version is not None
    assert health["status"] == "ok"
    assert health["version"] == version.id == report.version
    assert datetime.fromisoformat(health["built_at"]) == version.built_at
    assert health["entries"] == {
        "all": 4, "america": 4, "europe": 0, "middle-east": 0, "asia": 0, "diplomacy": 0
    }  # fmt: skip
    (problem,) = health["problems"]
    assert problem["path"] == "sports.txt" and problem["severity"] == "error"
    assert "section 'Sports' is not configured" in problem["message"]
    assert health["config_error"] is None and health["held_back"] is None
    assert health["last_refresh"]["added"] == 4

    # A broken config file is reported at the next refresh, and only until it is fixed.
    good = site.config_path.read_text("utf-8")
    site.config_path.write_text(good.replace("[feeds]", "[feeds"), "utf-8")
    refresher.refresh()
    assert "invalid TOML" in web.get("/healthz", headers=AUTH).json["config_error"]  # type: ignore[index]
    site.config_path.write_text(good, "utf-8")
    refresher.refresh()
    refresher.close()
    assert web.get("/healthz", headers=AUTH).json["config_error"] is None  # type: ignore[index]


def test_healthz_says_what_is_wrong_only_to_whoever_holds_the_token(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refresher's words name paths and config values: anyone may learn that something is
    wrong (the status, the 503), and where to read what; the admin token reads it."""
    site = sample_site
    refresher = Refresher(site.config())
    refresher.refresh()
    good = site.config_path.read_text("utf-8")
    site.config_path.write_text(good.replace("[feeds]", "[feeds"), "utf-8")
    site.articles.rename(site.root / "articles.moved")
    refresher.refresh()  # held back, with the config rejected
    failed_refresh(refresher, PublishError(f"could not publish in {site.root}: disk full"))
    refresher.close()
    said = ("error", "config_error", "held_back")

    monkeypatch.setenv("FEEDSVC_ADMIN_TOKEN", TOKEN)
    detailed = client(site).get("/healthz", headers=AUTH)
    assert detailed.status_code == 503 and detailed.json is not None
    assert all(str(site.root) in detailed.json[key] for key in said)
    for token in (TOKEN, None):  # or none set: the endpoint cannot tell anyone
        if token is None:
            monkeypatch.delenv("FEEDSVC_ADMIN_TOKEN")
        public = client(site).get("/healthz")
        assert public.status_code == 503 and public.json is not None
        assert public.json["status"] == "error"
        withheld = WITHHELD if token else WITHHELD_NO_TOKEN
        assert [public.json[key] for key in said] == [withheld] * 3
        assert str(site.root) not in public.text

    site.config_path.write_text(good, "utf-8")
    (site.root / "articles.moved").rename(site.articles)
    refresher = Refresher(site.config())
    refresher.refresh()
    refresher.close()
    public = client(site).get("/healthz")
    assert public.status_code == 200 and public.json is not None
    assert [public.json[key] for key in said] == [None] * 3


def test_a_release_style_deploy_is_followed_through_its_link(tmp_path: Path) -> None:
    """`current` → releases/N, each with its config.toml and articles/, the state shared: the
    running service reads the articles, and a reload the config, of the release deployed
    last, not of the one it started with."""
    state = tmp_path / "shared" / "var"
    for release, title in (("1", "In the first release"), ("2", "In the second release")):
        root = tmp_path / "releases" / release
        (root / "articles").mkdir(parents=True)
        (root / "articles" / "a.txt").write_text(f"Asia\n{title}\n\nBody.\n", "utf-8")
        # relative, through the link: where the release's directory is, not beside `current`
        content = 'articles_dir = "articles"\nstate_dir = "../../shared/var"'
        (root / "config.toml").write_text(config_text(content=content), "utf-8")
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "releases" / "1")
    refresher = Refresher(load_config(config_path(str(current / "config.toml"))))
    try:
        refresher.refresh()
        feed = publish_dir(state) / "current" / "feeds" / "asia.atom"
        assert b"In the first release" in feed.read_bytes()
        (tmp_path / "next").symlink_to(tmp_path / "releases" / "2")
        (tmp_path / "next").rename(current)  # as deploy tools switch it: atomically
        assert config_path(str(current / "config.toml")) == current / "config.toml"
        refresher.refresh()
        assert b"In the second release" in feed.read_bytes()
    finally:
        refresher.close()


def test_a_web_worker_restarted_while_the_config_is_gone_answers_503_not_halting_gunicorn(
    sample_site: Site, tmp_path: Path, running: list[Process]
) -> None:
    """A deploy's `rm` and copy, or a save cut short, met by a worker restart: the worker that
    failed to boot stopped gunicorn, and with it every feed. Why, which names the config's
    path, is said to the admin token alone, as /healthz says it."""
    site = sample_site
    site.refresh()
    web = gunicorn(site.config_path, tmp_path / "web.log", workers=1, env=WITH_TOKEN)
    running.append(web)
    web.wait_until("/feeds/all.atom")
    moved = site.config_path.rename(site.root / "config.toml.deploying")
    (worker,) = Path(f"/proc/{web.popen.pid}/task/{web.popen.pid}/children").read_text().split()
    os.kill(int(worker), signal.SIGKILL)
    said = wait_for(
        lambda: (got := get(web.url, "/feeds/all.atom"))[0] == 503 and got[2],
        "the new worker's answer",
    )
    assert said.startswith(b"the config cannot be read, so nothing is served until it can")
    assert str(site.root).encode() not in said and b"with the admin token" in said
    report = healthz(web.url)  # JSON still, as a monitor reads it
    assert report["status"] == "error" and report["config_error"] == WITHHELD
    assert str(site.config_path) in healthz(web.url, TOKEN)["config_error"]
    assert web.popen.poll() is None
    # the deploy copies the new file in, with a typo: it serves what is published again, within
    # a second, as a worker starting now would
    good = moved.read_text("utf-8")
    site.config_path.write_text(good.replace("[site]\n", "[site]\nautor = 'x'\n"), "utf-8")
    web.wait_until("/feeds/all.atom")


def test_a_worker_with_no_config_and_no_token_says_where_to_read_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FEEDSVC_ADMIN_TOKEN", raising=False)
    web = create_app(tmp_path / "config.toml").test_client()
    answer = web.get("/healthz")
    assert answer.status_code == 503 and answer.json is not None
    assert answer.json["status"] == "error" and answer.json["config_error"] == WITHHELD_NO_TOKEN
    assert str(tmp_path) not in answer.text


def test_a_web_worker_serves_the_default_state_dir_of_a_config_with_a_typo(site: Site) -> None:
    """A config that names no state_dir publishes under the default, `var`: a TOML typo must
    not take the worker to 503 then."""
    copy_sample(site)
    site.config_path.write_text(config_text().replace('state_dir = "var"\n', ""), "utf-8")
    site.refresh()
    broken = site.config_path.read_text("utf-8").replace('title = "Test Desk"', 'title = "T')
    site.config_path.write_text(broken, "utf-8")
    assert create_app(site.config_path).test_client().get("/feeds/all.atom").status_code == 200


def test_the_web_tier_serves_an_articles_page_after_the_feeds_dropped_it(
    site: Site, tmp_path: Path, running: list[Process]
) -> None:
    write_config(site, feeds="max_entries = 1")
    site.write("a.txt", "Asia\nYesterday's story\n\nOld news.\n", mtime=1_700_000_000)
    site.refresh()
    web = gunicorn(site.config_path, tmp_path / "web.log", workers=1)
    running.append(web)
    web.wait_until("/feeds/all.atom")
    status, while_shown, shown = get(web.url, "/articles/yesterdays-story/")
    assert status == 200
    site.write("b.txt", "Asia\nToday's story\n\nNews.\n", mtime=1_700_000_100)
    site.refresh()  # one entry per feed: yesterday's leaves them all
    wait_for(lambda: b"Today's story" in get(web.url, "/feeds/asia.atom")[2], "the new version")
    status, headers, body = get(web.url, "/articles/yesterdays-story/")
    assert (status, body) == (200, shown)
    for name in ("ETag", "Content-Type", "Cache-Control", "Vary", "Last-Modified"):
        assert headers[name] == while_shown[name], name  # a reader's cache validates as before
    status, headers, zipped = get(
        web.url, "/articles/yesterdays-story/", headers={"Accept-Encoding": "gzip"}
    )
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(zipped) == shown
    cached = {"If-None-Match": while_shown["ETag"]}  # as a browser that saw it while shown
    assert get(web.url, "/articles/yesterdays-story/", headers=cached)[0] == 304
    status, headers, _ = get(web.url, "/articles/yesterdays-story")  # typed without its slash
    assert (status, headers["Location"]) == (301, "/articles/yesterdays-story/")
    (site.articles / "a.txt").unlink()
    site.refresh()
    assert get(web.url, "/articles/yesterdays-story/")[0] == 404
