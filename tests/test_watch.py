"""With `refresh.watch` on, a change under articles/ is published without waiting for the clock."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
)

from feedsvc import corpus
from feedsvc.clock import REFRESH_JOB, Clock, _Changes
from feedsvc.refresh import Refresher
from tests.conftest import Site, config_text, frozen_clock
from tests.servers import Server, serve, wait_for


@pytest.fixture
def watched(site: Site) -> Iterator[tuple[Site, Server]]:
    # An hour between scheduled refreshes: only the watcher can publish within the test.
    site.config_path.write_text(
        config_text(refresh="interval_seconds = 3600\nwatch = true"), encoding="utf-8"
    )
    site.write("first.txt", "Asia\nAlready there\n\nBody.\n")
    running = serve(site.config_path, site.root / "serve.log")
    try:
        running.wait_until("/feeds/all.json")
        yield site, running
    finally:
        running.stop()


def titles(server: Server) -> list[str]:
    document = json.loads(requests.get(server.url + "/feeds/all.json", timeout=10).text)
    return [item["title"] for item in document["items"]]


def test_new_edited_renamed_and_deleted_files_are_published(
    watched: tuple[Site, Server],
) -> None:
    site, server = watched
    # An editor's atomic save: a hidden temporary file renamed onto the name.
    temporary = site.articles / ".new.txt.tmp"
    temporary.write_text("Europe\nSaved atomically\n\nBody.\n", encoding="utf-8")
    os.replace(temporary, site.articles / "new.txt")
    wait_for(lambda: "Saved atomically" in titles(server), "the renamed-in file")
    # A plain write and close.
    (site.articles / "plain.txt").write_text("Asia\nWritten in place\n\nBody.\n", "utf-8")
    wait_for(lambda: "Written in place" in titles(server), "the written file")
    # An edit of a file already published, in place.
    (site.articles / "first.txt").write_text("Asia\nAlready there, edited\n\nBody.\n", "utf-8")
    wait_for(lambda: "Already there, edited" in titles(server), "the edit")
    # A new folder moved in, then a deletion.
    folder = site.root / "incoming"
    folder.mkdir()
    (folder / "inside.txt").write_text("Diplomacy\nFrom a moved folder\n\nBody.\n", "utf-8")
    os.rename(folder, site.articles / "incoming")
    wait_for(lambda: "From a moved folder" in titles(server), "the moved-in folder")
    (site.articles / "plain.txt").unlink()
    wait_for(lambda: "Written in place" not in titles(server), "the deletion")
    # Renamed to a backup name: no longer an article.
    os.rename(site.articles / "new.txt", site.articles / "new.txt~")
    wait_for(lambda: "Saved atomically" not in titles(server), "the rename to a backup")
    assert sorted(titles(server)) == ["Already there, edited", "From a moved folder"]


@pytest.fixture
def paused_clock(site: Site) -> Iterator[Clock]:
    """A clock after its first (full) refresh, the next one an hour away: it never runs."""
    scheduler = BackgroundScheduler(timezone=UTC)
    clock = Clock(Refresher(site.config()), scheduler)
    interval = clock.refresher.config.refresh.interval_seconds
    later = datetime.now(UTC) + timedelta(hours=1)
    scheduler.add_job(clock.tick, "interval", seconds=interval, id=REFRESH_JOB, next_run_time=later)
    scheduler.start(paused=True)
    clock.tick()
    try:
        yield clock
    finally:
        scheduler.shutdown(wait=False)
        clock.refresher.close()


def test_a_burst_of_events_asks_for_one_refresh_after_the_debounce(
    site: Site, paused_clock: Clock
) -> None:
    changes = _Changes(paused_clock, debounce=2.0)
    started = datetime.now(UTC)
    for number in range(5):
        changes.dispatch(FileModifiedEvent(str(site.articles / f"{number}.txt")))
    changes.dispatch(FileModifiedEvent(str(site.articles / ".0.txt.swp")))  # never an article
    # the first event set the run 2 s later; the others fell inside that wait
    assert timedelta(seconds=1.5) < next_refresh(paused_clock) - started < timedelta(seconds=2.5)
    assert paused_clock._paths == {f"{number}.txt" for number in range(5)}


def next_refresh(clock: Clock) -> datetime:
    """When the clock's refresh job runs next."""
    job = clock.scheduler.get_job(REFRESH_JOB)
    assert job is not None and job.next_run_time is not None
    when: datetime = job.next_run_time
    return when


def refresh_planned_around(site: Site, clock: Clock, event: FileSystemEvent) -> list[datetime]:
    """The refresh's next run before the watcher is told of `event` (under articles/), and after."""
    planned = next_refresh(clock)
    _Changes(clock, debounce=0.0).dispatch(under_articles(site, event))
    return [planned, next_refresh(clock)]


def under_articles(site: Site, event: FileSystemEvent) -> FileSystemEvent:
    """A fresh `event` of the same kind, its paths (given relative) under articles/."""
    paths = [event.src_path, *([event.dest_path] if event.dest_path else [])]
    return type(event)(*(str(site.articles / os.fsdecode(path)) for path in paths))


@pytest.mark.parametrize(
    "event",
    [
        FileModifiedEvent("status.json"),  # no article's name: a state_dir's file, say
        FileCreatedEvent(".#notes.txt"),  # hidden, an article's name: an editor's lock file
        FileCreatedEvent(".git/objects/12/notes.txt"),  # under a directory no scan lists
        FileMovedEvent(".git/a.txt", ".git/b.txt"),
        DirCreatedEvent(".git/refs"),
        DirDeletedEvent("drafts~"),
    ],
    ids=lambda event: f"{event.event_type} {event.src_path}",
)
def test_a_change_no_scan_would_list_asks_for_no_refresh(
    site: Site, paused_clock: Clock, event: FileSystemEvent
) -> None:
    """A state_dir put inside articles/ made the watcher refresh at its own writes without
    end; a `git pull` there, at each object it wrote."""
    planned, after = refresh_planned_around(site, paused_clock, event)
    assert after == planned
    assert paused_clock._paths == set()  # None: a full scan asked for


@pytest.mark.parametrize(
    "event",
    [
        DirCreatedEvent("2024"),
        DirMovedEvent(".drafts/x", "x"),  # out of a directory no scan lists, into one it does
        DirMovedEvent("x", ".trash/x"),  # and back: its articles go
    ],
    ids=lambda event: f"{event.event_type} {event.src_path}",
)
def test_a_directory_a_scan_lists_changed_asks_for_a_full_scan(
    site: Site, paused_clock: Clock, event: FileSystemEvent
) -> None:
    """Its files come or go with it, and no event names each."""
    planned, after = refresh_planned_around(site, paused_clock, event)
    assert after < planned  # the debounce's wait, not the schedule's
    assert paused_clock._paths is None


def test_an_atomic_save_is_read_at_once_a_bare_modification_settles_first(
    site: Site, paused_clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(corpus.time, "sleep", waits.append)
    changes = _Changes(paused_clock, debounce=0.0)
    saved = site.write("saved.txt", "Asia\nSaved\n\nBody.\n", mtime=time.time())
    changes.dispatch(FileMovedEvent(str(site.articles / ".saved.txt.tmp"), str(saved)))
    report = paused_clock.refresher.refresh(paths=["saved.txt"])
    assert (report.added, waits) == (1, [])  # moved into place whole: complete
    touched = site.write("touched.txt", "Asia\nTouched\n\nBody.\n", mtime=time.time())
    changes.dispatch(FileModifiedEvent(str(touched)))
    paused_clock.refresher.refresh(paths=["touched.txt"])
    assert waits  # perhaps half-written: it had to settle first


def test_an_articles_directory_replaced_whole_is_watched_again(
    watched: tuple[Site, Server],
) -> None:
    site, server = watched
    # A deploy that renames a new checkout into place.
    incoming = site.root / "incoming"
    incoming.mkdir()
    (incoming / "first.txt").write_text("Asia\nAlready there\n\nBody.\n", "utf-8")
    (incoming / "deployed.txt").write_text("Europe\nDeployed with the checkout\n\nBody.\n", "utf-8")
    os.rename(site.articles, site.root / "articles.old")
    os.rename(incoming, site.articles)
    wait_for(lambda: "Deployed with the checkout" in titles(server), "the deployed article")
    (site.articles / "later.txt").write_text("Asia\nWritten after the deploy\n\nBody.\n", "utf-8")
    wait_for(lambda: "Written after the deploy" in titles(server), "a file in the new directory")


def test_a_reloaded_articles_dir_is_the_one_watched(watched: tuple[Site, Server]) -> None:
    site, server = watched
    moved = site.root / "articles2"
    moved.mkdir()
    (moved / "there.txt").write_text("Asia\nIn the new directory\n\nBody.\n", "utf-8")
    site.config_path.write_text(
        config_text(
            content='articles_dir = "articles2"\nstate_dir = "var"',
            refresh="interval_seconds = 3600\nwatch = true",
        ),
        encoding="utf-8",
    )
    server.signal(signal.SIGHUP)
    wait_for(lambda: titles(server) == ["In the new directory"], "the reloaded directory")
    (moved / "new.txt").write_text("Europe\nWatched there\n\nBody.\n", "utf-8")
    wait_for(lambda: "Watched there" in titles(server), "a file in the reloaded directory")


def test_a_tick_skipped_as_the_refresh_before_it_ended_runs_at_once(paused_clock: Clock) -> None:
    """APScheduler says a tick was skipped (one was running) after that one may have ended."""
    now = datetime.now(UTC)
    paused_clock._on_skipped(
        JobSubmissionEvent(EVENT_JOB_MAX_INSTANCES, REFRESH_JOB, "default", [now])
    )
    assert next_refresh(paused_clock) - now < timedelta(seconds=5)  # not an hour


def test_a_file_still_being_written_at_a_tick_is_looked_at_again_within_seconds(
    site: Site, paused_clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No watcher tells when it is closed: left for later, it waited for the next tick, an
    hour away here."""
    written = time.time()
    site.write("late.txt", "Asia\nStill being saved\n\nBody.\n", mtime=written)
    frozen_clock(monkeypatch, at=written + 0.5)  # it stays half a second old
    now = datetime.now(UTC)
    paused_clock.tick()
    report = paused_clock.refresher.last_report
    assert report is not None and report.deferred == ("late.txt",)
    assert next_refresh(paused_clock) - now < timedelta(seconds=5)  # not an hour
