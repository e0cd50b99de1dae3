"""One refresh: what it reads, what it waits for, and what it leaves alone."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from feedsvc import corpus, listing, publish
from feedsvc.control import temporary_beside
from feedsvc.publish import KEEP_PREVIOUS, publish_dir
from feedsvc.readers import base
from feedsvc.refresh import LOGGED_ENTRIES, Refresher
from tests.conftest import SECTIONS, Site, config_text, frozen_clock
from tests.servers import wait_for
from tests.test_feeds import current

ARTICLE = "Europe\nA title\n\nA paragraph.\n"


def test_a_fresh_file_waits_to_settle(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    written = time.time()
    site.write("a.txt", ARTICLE, mtime=written)
    waits = frozen_clock(monkeypatch, at=written + 0.5)  # modified half a second ago, still
    refresher = Refresher(site.config())
    report = refresher.refresh()
    assert waits and report.deferred == ("a.txt",) and report.added == 0


def test_a_bulk_copy_still_being_written_is_logged_in_a_few_lines(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    written = time.time()
    for n in range(LOGGED_ENTRIES + 5):
        site.write(f"{n:03}.txt", ARTICLE, mtime=written)
    frozen_clock(monkeypatch, at=written + 0.5)
    caplog.set_level("INFO", "feedsvc.refresh")
    assert len(Refresher(site.config()).refresh().deferred) == LOGGED_ENTRIES + 5
    messages = [record.getMessage() for record in caplog.records]
    # each file on a line, up to a count; the refresh's summary counts them too
    said = [m for m in messages if m.endswith("later") and not m.startswith("refresh:")]
    assert len(said) == LOGGED_ENTRIES + 1
    assert said[-1] == "... and 5 more files still being written, read later"


def test_a_bulk_change_is_logged_in_a_few_lines_per_kind(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(LOGGED_ENTRIES + 5):
        site.write(f"{n:03}.txt", f"Europe\nStory {n}\n\nIts body.\n", mtime=1.7e9 + n)
        site.write(f"bad{n:03}.txt", "Sports\nMatch\n\nGoal.\n", mtime=1.7e9 + n)
    caplog.set_level("INFO", "feedsvc.refresh")
    Refresher(site.config()).refresh()
    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if m.startswith("entry added: ")]) == LOGGED_ENTRIES
    assert len([m for m in messages if "is not configured" in m]) == LOGGED_ENTRIES
    assert "... and 5 more entries added" in messages
    assert "... and 5 more problems: `feedsvc check` lists them all" in messages


def test_a_file_a_watcher_saw_closed_is_read_at_once(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(corpus.time, "sleep", waits.append)
    site.write("a.txt", ARTICLE, mtime=time.time())
    refresher = Refresher(site.config())
    refresher.saw_closed("a.txt")
    report = refresher.refresh()
    assert waits == [] and report.deferred == () and report.added == 1


def test_a_file_left_for_later_is_read_by_the_same_refresher_once_it_settled(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock keeps one refresher: what it left for later is looked at again at its next
    refresh, though the listing shows the file as the last one did."""
    site.write("b.txt", "Asia\nAnother story\n\nIts paragraph.\n")
    written = time.time()
    site.write("a.txt", ARTICLE, mtime=written)
    refresher = Refresher(site.config())
    try:
        with monkeypatch.context() as frozen:
            frozen_clock(frozen, at=written + 0.5)
            assert refresher.refresh().deferred == ("a.txt",)
        frozen_clock(monkeypatch, at=written + 2)  # settled: no second really waited
        report = refresher.refresh()
    finally:
        refresher.close()
    assert report.deferred == () and report.added == 1
    assert "A title" in site.published("/feeds/europe.atom").decode()


def test_a_file_written_again_after_it_was_seen_closed_settles_again(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresher = Refresher(site.config())
    refresher.saw_closed("a.txt")
    modified = time.time() + 0.5  # after the close
    site.write("a.txt", ARTICLE, mtime=modified)
    frozen_clock(monkeypatch, at=modified + 0.1)
    assert refresher.refresh().deferred == ("a.txt",)


def test_nothing_changed_asks_the_store_nothing(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresher = Refresher(sample_site.config())
    first = refresher.refresh()
    monkeypatch.setattr(refresher.store, "files", _forbidden)
    monkeypatch.setattr(refresher.store, "problems", _forbidden)
    again = refresher.refresh()
    assert again.version == first.version and not again.published
    assert (again.files_read, again.added, again.rendered) == (0, 0, ())


def test_a_version_published_by_another_process_is_taken_as_it_is(sample_site: Site) -> None:
    refresher = Refresher(sample_site.config())
    refresher.refresh()
    sample_site.write("b.txt", "Asia\nElsewhere\n\nWritten while the clock ran.\n")
    theirs = Refresher(sample_site.config()).refresh()  # `feedsvc refresh` in another process
    assert theirs.added == 1 and theirs.published
    mine = refresher.refresh()
    assert mine.version == theirs.version
    assert not mine.published and mine.added == 0 and mine.rendered == ()


def test_section_counts_follow_the_changes_without_counting_the_archive_again(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publish moves the last counts by what its update changed; the store counts every
    entry only at start, or after another process changed it."""
    for number in range(4):
        site.write(f"{number}.txt", f"Asia\nStory {number}\n\nBody {number}.\n")
    site.write("e.txt", "Europe\nOne\n\nFirst.\n\nEurope\nTwo\n\nSecond.\n")
    refresher = Refresher(site.config())
    counted: list[dict[str, int]] = []
    count_them = refresher.store.section_counts
    monkeypatch.setattr(
        refresher.store, "section_counts", lambda: counted.append(count_them()) or counted[-1]
    )

    def published() -> dict[str, int]:
        assert refresher.current is not None
        return {slug: n for slug, n in refresher.current.counts.items() if n}

    refresher.refresh()
    assert published() == {"asia": 4, "europe": 2, "all": 6} and len(counted) == 1

    edited = 1_750_000_100
    site.write("0.txt", "Europe\nStory 0\n\nBody 0.\n", mtime=edited)  # moved to Europe
    (site.articles / "1.txt").unlink()
    (site.articles / "2.txt").rename(site.articles / "two.txt")  # the same entry, elsewhere
    site.write("copy.txt", "Asia\nStory 3\n\nBody 3.\n")  # a duplicate: published once
    site.write("e.txt", "Europe\nOne\n\nFirst.\n", mtime=edited)  # "Two" taken out
    site.write("new.txt", "Diplomacy\nTalks\n\nResumed.\n")
    report = refresher.refresh()
    assert (report.added, report.updated, report.removed) == (1, 1, 2)
    assert published() == {"asia": 2, "europe": 2, "diplomacy": 1, "all": 5}
    assert len(counted) == 1  # moved by the changes, not counted again
    assert count_them() == {"Asia": 2, "Diplomacy": 1, "Europe": 2}

    site.write("theirs.txt", "Asia\nTheirs\n\nFrom `feedsvc refresh`.\n")
    site.refresh()  # another process changes the store: the counts above no longer hold
    site.write("mine.txt", "Asia\nMine\n\nFrom the clock.\n")
    refresher.refresh()
    assert published() == {"asia": 4, "europe": 2, "diplomacy": 1, "all": 7}
    assert len(counted) == 2
    refresher.close()


def _forbidden(*args: object) -> object:
    raise AssertionError("a refresh with nothing changed must not load the file table")


def five_stories(site: Site) -> Refresher:
    """A refresher that has seen five articles: the listing later refreshes compare with."""
    for number in range(5):
        site.write(f"{number}.txt", f"Asia\nStory {number}\n\nBody {number}.\n")
    refresher = Refresher(site.config())
    refresher.refresh()
    return refresher


def forbid_the_file_table(refresher: Refresher, monkeypatch: pytest.MonkeyPatch) -> None:
    """Looking up some paths is fine; loading every file's signature is what must not happen."""
    files = refresher.store.files
    monkeypatch.setattr(
        refresher.store, "files", lambda only=None: _forbidden() if only is None else files(only)
    )


def test_a_watched_refresh_looks_only_at_the_paths_it_was_given(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresher = five_stories(site)
    site.write("new.txt", "Europe\nNew one\n\nFresh.\n")
    site.write("1.txt", "Asia\nStory 1\n\nBody 1, corrected.\n", mtime=1_750_000_500)
    (site.articles / "2.txt").unlink()
    site.write("3.txt", "Asia\nStory 3\n\nChanged, but nobody said so.\n", mtime=1_750_000_600)
    forbid_the_file_table(refresher, monkeypatch)
    report = refresher.refresh(paths=["new.txt", "1.txt", "2.txt"])
    assert (report.files_read, report.added, report.updated, report.removed) == (2, 1, 1, 1)
    monkeypatch.undo()
    # The schedule's full scan is the safety net: it finds what no watcher reported.
    assert refresher.refresh().updated == 1


def test_a_file_restored_after_a_watched_change_is_seen_by_the_next_full_scan(
    site: Site,
) -> None:
    """The listing is then byte for byte the one of the last full scan, yet the store holds
    what the watcher reported in between."""
    refresher = five_stories(site)
    original = (site.articles / "1.txt").read_bytes()
    site.write("1.txt", "Asia\nStory 1\n\nBody 1, corrected.\n", mtime=1_750_000_500)
    assert refresher.refresh(paths=["1.txt"]).updated == 1
    site.write("1.txt", original)  # the same bytes, size and mtime as at the full scan
    assert refresher.refresh().updated == 1


@pytest.mark.parametrize("fixed", ["deleted", "made a file"])
def test_a_broken_link_fixed_as_the_watcher_reports_it_is_no_longer_said(
    site: Site, fixed: str
) -> None:
    """Its error stayed in /healthz and the log until the next full scan."""
    refresher = five_stories(site)
    (site.articles / "b.txt").symlink_to("nowhere.txt")
    assert [p.path for p in refresher.refresh().problems] == ["b.txt"]
    (site.articles / "b.txt").unlink()
    if fixed == "made a file":
        site.write("b.txt", "Asia\nNow a file\n\nBody.\n")
    report = refresher.refresh(paths=["b.txt"])
    assert report.problems == () and report.added == (fixed == "made a file")


def test_a_directory_change_needs_the_full_scan(site: Site) -> None:
    site.write("a.txt", ARTICLE)
    refresher = Refresher(site.config())
    refresher.refresh()
    site.write("sub/b.txt", "Asia\nIn a new folder\n\nBody.\n")
    assert refresher.refresh(paths=["sub"]).added == 1


def test_a_full_scan_compares_with_the_last_listing_not_the_file_table(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresher = five_stories(site)
    site.write("1.txt", "Asia\nStory 1\n\nBody 1, corrected.\n", mtime=1_750_000_500)
    (site.articles / "2.txt").unlink()
    forbid_the_file_table(refresher, monkeypatch)
    report = refresher.refresh()
    assert (report.files_read, report.updated, report.removed) == (1, 1, 1)


def test_a_scan_patched_from_the_last_one_equals_a_scan_from_scratch(site: Site) -> None:
    """An edit among many files patches the last listing; the result must be exactly what a
    listing from scratch finds, and say which files changed."""
    for number in range(40):
        site.write(f"{number:02}.txt", f"Asia\nStory {number}\n\nBody {number}.\n")
    before = listing.scan(site.articles)
    site.write("00.txt", "Asia\nStory 0\n\nLonger body 0.\n")  # size and mtime
    site.write("17.txt", "Asia\nStory 17\n\nBody 17.\n", mtime=1_750_000_900)  # mtime only
    site.write("18.txt", "Asia\nStory 18\n\nBody 18.\n", mtime=1_750_000_900)  # its neighbour
    site.write("39.txt", "Asia\nStory 39\n\nBody 39!\n", mtime=1_750_000_900)  # the last

    patched = listing.scan(site.articles, last=before)
    assert patched.listed is not None and before.listed is not None
    assert patched.listed[0] is before.listed[0]  # patched, not listed anew
    assert patched == listing.scan(site.articles)
    assert listing.changed_paths(before, patched) == {"00.txt", "17.txt", "18.txt", "39.txt"}
    assert listing.scan(site.articles, last=patched) is patched

    (site.articles / "20.txt").unlink()  # other paths: listed anew
    assert listing.changed_paths(patched, listing.scan(site.articles, last=patched)) == {"20.txt"}


def test_a_listing_patched_with_watched_edits_is_what_a_full_scan_finds(site: Site) -> None:
    for number in range(20):
        site.write(f"{number:02}.txt", f"Asia\nStory {number}\n\nBody {number}.\n")
    full = listing.scan(site.articles)
    site.write("07.txt", "Asia\nStory 7\n\nA longer body 7.\n", mtime=1_750_000_900)
    site.write(".07.txt.swp", "editor state")  # reported too, never an article
    reported = ["07.txt", ".07.txt.swp"]
    partial = listing.scan_paths(site.articles, reported)
    assert partial is not None

    edited = listing.patched(full, partial, reported)
    fresh = listing.scan(site.articles)
    assert edited == fresh and edited.listed == fresh.listed
    assert listing.scan(site.articles, last=edited) is edited  # nothing since: nothing to do

    site.write("20.txt", "Asia\nStory 20\n\nBody 20.\n")  # a new path: compared file by file
    partial = listing.scan_paths(site.articles, ["20.txt"])
    assert partial is not None
    added = listing.patched(edited, partial, ["20.txt"])
    assert added == listing.scan(site.articles) and added.listed is None


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The directories (relative to the test's articles/) that are listed, in order."""
    listed: list[str] = []
    scandir = os.scandir

    def spy(path: Path) -> Iterator[os.DirEntry[str]]:
        listed.append(Path(path).name)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", spy)
    return listed


def test_a_directory_unchanged_since_it_settled_is_not_listed_again(
    site: Site, listings: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(3):
        site.write(f"{number}.txt", f"Asia\nStory {number}\n\nBody.\n")
        site.write(f"sub/{number}.txt", f"Asia\nInner {number}\n\nBody.\n")
    directories: dict[str, listing.Listed] = {}
    first = listing.scan(site.articles, directories=directories)
    # Just made, so not settled: a change in the same clock tick would keep their ctime.
    assert listing.scan(site.articles, last=first, directories=directories) is first
    assert listings == ["articles", "sub", "articles", "sub"]

    monkeypatch.setattr(listing, "SETTLED_NS", 0)  # as if both had settled long ago
    settled = listing.scan(site.articles, last=first, directories=directories)
    listings.clear()
    assert listing.scan(site.articles, last=settled, directories=directories) is settled
    assert listings == []  # only stats: one per directory, one per file

    site.write("sub/new.txt", "Asia\nNew\n\nBody.\n")  # sub changes, articles/ does not
    (site.articles / "1.txt").unlink()
    found = listing.scan(site.articles, last=settled, directories=directories)
    assert listings == ["articles", "sub"]
    assert found == listing.scan(site.articles)
    assert "sub/new.txt" in found.files and "1.txt" not in found.files


def test_a_directory_holding_a_link_is_listed_every_time(
    site: Site, listings: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where a link points can change without its directory changing."""
    monkeypatch.setattr(listing, "SETTLED_NS", 0)
    site.write("plain/a.txt", ARTICLE)
    site.write("linked/b.txt", "Asia\nB\n\nBody.\n")
    (site.articles / "linked" / "c.txt").symlink_to("b.txt")
    directories: dict[str, listing.Listed] = {}
    first = listing.scan(site.articles, directories=directories)
    assert "linked/c.txt" in first.files
    listings.clear()
    listing.scan(site.articles, last=first, directories=directories)
    assert listings == ["linked"]


def test_the_web_side_starts_without_articles_and_follows_the_refreshers_interval(
    sample_site: Site,
) -> None:
    from feedsvc.app import create_app
    from tests.conftest import config_text

    sample_site.refresh()
    sample_site.articles.rename(sample_site.root / "elsewhere")
    client = create_app(sample_site.config_path).test_client()  # articles/ is gone
    response = client.get("/feeds/all.atom")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    (sample_site.root / "elsewhere").rename(sample_site.articles)
    sample_site.config_path.write_text(
        config_text(refresh="interval_seconds = 60"), encoding="utf-8"
    )
    sample_site.refresh()  # the refresher reloads; this web process keeps its old config
    assert client.get("/feeds/all.atom").headers["Cache-Control"] == "public, max-age=60"


def test_progress_speaks_now_and_then_and_says_nothing_of_a_quick_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from feedsvc import refresh

    clock = iter([0.0, 1.0, 6.0, 7.0, 8.0])  # started, then one reading per call
    monkeypatch.setattr(refresh.time, "monotonic", lambda: next(clock))
    lines: list[tuple[str, bool]] = []
    progress = refresh.Progress(lambda text, final: lines.append((text, final)), every=5.0)
    for done in (100, 600, 700, 1000):
        progress(done, 1000)
    assert lines == [
        ("read 600/1000 files (100/s)", False),  # first after 5 s, then nothing until
        ("read 1000/1000 files (125/s)", True),  # the end
    ]
    quiet: list[tuple[str, bool]] = []
    clock = iter([0.0, 0.1, 0.2])
    monkeypatch.setattr(refresh.time, "monotonic", lambda: next(clock))
    small = refresh.Progress(lambda text, final: quiet.append((text, final)), every=5.0)
    small(1, 2)
    small(2, 2)
    assert quiet == []


def test_a_web_process_reads_only_what_a_new_version_changed(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedsvc.app import create_app
    from feedsvc.publish import Version, load_current, publish_dir

    refresher = Refresher(sample_site.config())
    refresher.refresh()
    client = create_app(sample_site.config_path).test_client()
    assert client.get("/feeds/all.atom").status_code == 200  # the first version, loaded whole
    before = load_current(publish_dir(sample_site.root / "var"))
    sample_site.write("b.txt", "Asia\nA new story\n\nBody.\n")
    refresher.refresh()
    after = load_current(publish_dir(sample_site.root / "var"))
    assert before is not None and after is not None and after.id != before.id
    known = {r.etag for r in before.resources.values()}
    changed = [p for p, r in after.resources.items() if r.etag not in known]
    reads: list[str] = []
    original = Version.read
    monkeypatch.setattr(
        Version, "read", lambda self, r, gzipped: reads.append(r.path) or original(self, r, gzipped)
    )
    assert client.get("/feeds/asia.atom").status_code == 200  # the switch happens here
    # Each changed file once, and the .gz beside a changed feed (a page's gzip is made from
    # the plain bytes just read).
    feeds = [p for p in changed if after.resources[p].precompressed]
    assert sorted(reads) == sorted(changed + feeds)
    assert 0 < len(changed) < len(after.resources)


def test_a_version_written_by_another_feedsvc_is_rendered_anew_not_a_crash(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import feedsvc.app
    from feedsvc.app import create_app
    from feedsvc.publish import load_current, publish_dir

    sample_site.refresh()
    root = publish_dir(sample_site.root / "var")
    version = load_current(root)
    assert version is not None
    manifest = json.loads((version.directory / "manifest.json").read_text("utf-8"))
    del manifest["max_age"]  # as an older feedsvc wrote it
    (version.directory / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    client = create_app(sample_site.config_path).test_client()
    loads: list[Path] = []
    monkeypatch.setattr(
        feedsvc.app, "load_current", lambda root: loads.append(root) or load_current(root)
    )
    for _ in range(3):
        assert client.get("/feeds/all.atom").status_code == 503  # nothing it can serve, no 500
    assert len(loads) == 1  # read once, not again at every request
    report = Refresher(sample_site.config()).refresh()
    assert report.published and len(report.rendered) == len(version.resources)
    anew = current(sample_site)
    etags = {path: resource.etag for path, resource in version.resources.items()}
    assert {path: resource.etag for path, resource in anew.resources.items()} == etags
    # the same bytes, rendered anew; dated now: what clients saw of the version is unknown
    assert all(r.last_modified >= anew.built_at for r in anew.resources.values())
    assert client.get("/feeds/all.atom").status_code == 200


def test_an_upgraded_feedsvc_renders_every_file_anew_once(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new release may write files differently (the article URLs changed once): nothing is
    reused from a version an older one wrote, or feeds would link to pages no longer there."""
    import feedsvc.refresh
    from feedsvc.publish import load_current, publish_dir

    def etags() -> dict[str, str]:
        version = load_current(publish_dir(sample_site.root / "var"))
        assert version is not None
        return {path: resource.etag for path, resource in version.resources.items()}

    first = sample_site.refresh()
    before = etags()
    monkeypatch.setattr(feedsvc.refresh, "renderer_digest", lambda: "a newer feedsvc")
    upgraded = Refresher(sample_site.config()).refresh()
    assert upgraded.published and upgraded.version != first.version
    assert len(upgraded.rendered) == len(first.rendered)  # every file, none reused
    assert etags() == before  # the same bytes: aggregators download nothing again
    assert Refresher(sample_site.config()).refresh().rendered == ()  # and only once


def test_a_file_of_several_shown_articles_is_parsed_once_to_show_them(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    read_bytes = corpus.read_bytes
    monkeypatch.setattr(
        corpus, "read_bytes", lambda path, *rest: parsed.append(path) or read_bytes(path, *rest)
    )
    report = sample_site.refresh()
    assert report.added == 4
    assert len(parsed) == 2  # once to store its four articles, once to show them


def test_a_release_that_reads_differently_reads_every_file_again_once(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader fix applies to old files too; their entries keep their ids (matched by content)."""
    for number in range(3):
        site.write(f"{number}.txt", f"Asia\nStory {number}\n\nBody {number}.\n")
    first = site.refresh()
    assert first.files_read == 3
    monkeypatch.setattr(base, "_code_digest", lambda: b"a release that reads differently")
    report = site.refresh()
    assert report.files_read == 3 and (report.added, report.updated, report.removed) == (0, 0, 0)
    assert report.version == first.version
    assert site.refresh().files_read == 0  # and not again


def test_a_file_deferred_while_every_file_is_read_again_is_read_with_the_new_settings_later(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A section added while a file it holds is being saved again, the same bytes: the file,
    too fresh to read then, is read with the section once it settled, not only touched."""
    match = "Sports\nMatch report\n\nGoal in the last minute.\n"
    site.write("a.txt", match)
    site.write("b.txt", ARTICLE)
    site.refresh()
    site.config_path.write_text(config_text(sections=[*SECTIONS, "Sports"]), encoding="utf-8")
    written = time.time()
    site.write("a.txt", match, mtime=written)
    with monkeypatch.context() as frozen:
        frozen_clock(frozen, at=written + 0.5)
        assert site.refresh().deferred == ("a.txt",)
    frozen_clock(monkeypatch, at=written + 2)  # settled: no second really waited
    report = site.refresh()
    assert report.deferred == () and report.added == 1
    assert "Match report" in site.published("/feeds/sports.atom").decode()


def test_a_section_added_to_the_config_publishes_what_it_refused_without_touching_files(
    site: Site,
) -> None:
    """The error says to add the section to config.toml; doing just that must be enough."""
    site.write("a.txt", ARTICLE)
    site.write("match.txt", "Sports\nMatch report\n\nGoal.\n")
    refresher = Refresher(site.config())
    first = refresher.refresh()
    assert "section 'Sports' is not configured" in str(first.problems[0])
    site.config_path.write_text(config_text() + '[[sections]]\nname = "Sports"\n', "utf-8")
    report = refresher.refresh()
    assert (report.added, report.updated, report.removed, report.problems) == (1, 0, 0, ())
    assert report.files_read == 2  # every file read again, once: the sections changed
    assert Refresher(site.config()).refresh().files_read == 0  # and not again at a restart


def test_superseded_versions_are_removed_but_the_last_few_a_reader_may_use(site: Site) -> None:
    """A version per edit would fill the disk; a web process that has not switched yet still
    reads the one before, so the newest `KEEP_PREVIOUS` superseded ones stay."""
    refresher = Refresher(site.config())
    published = []
    for number in range(6):
        text = f"Asia\nDeveloping story\n\nUpdate {number}.\n"
        site.write("story.txt", text, mtime=1_750_000_000 + number)
        report = refresher.refresh()
        assert report.published and report.version is not None
        published.append(report.version)
    versions = publish_dir(site.root / "var") / "versions"
    kept = set(published[-1 - KEEP_PREVIOUS :])
    # removed in the background: nobody waits for it
    wait_for(lambda: {d.name for d in versions.iterdir()} == kept, "the superseded versions")
    assert b"Update 5." in site.published("/feeds/asia.atom")
    refresher.close()


def test_a_version_whose_removal_was_cut_short_is_never_published_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old versions go on a thread that a stopped process does not wait for; the same version
    (the same bytes and dates, so the same id) published again must not find one half removed."""
    root = tmp_path / "publish"
    cut_short = threading.Event()

    def killed_halfway(path: Path | str, ignore_errors: bool = False) -> None:
        for kept in Path(path, "feeds").glob("*"):
            kept.unlink()  # some files gone, then the process stops
        cut_short.set()

    first = numbered_version(root, 1, None)
    monkeypatch.setattr(shutil, "rmtree", killed_halfway)
    latest = first
    for number in range(2, 3 + KEEP_PREVIOUS):  # the first falls out of the kept ones
        latest = numbered_version(root, number, latest)
    assert cut_short.wait(10)
    monkeypatch.undo()
    again = numbered_version(root, 1, latest)
    assert again.id == first.id
    assert again.read(again.resources["/feeds/all.atom"], gzipped=True)  # whole, .gz too


def test_an_archived_page_made_again_leaves_the_version_that_had_it_as_it_was(
    site: Site,
) -> None:
    """The archive keeps a page leaving the feeds as a link to the last version's file: made
    again (its story edited), it is a new file, not that version's, which a process still
    switching over may serve."""
    site.config_path.write_text(config_text(feeds="max_entries = 1", sections=["Asia"]), "utf-8")
    site.write("old.txt", "Asia\nOld story\n\nFirst.\n", mtime=1_700_000_000)
    site.refresh()
    first = current(site)
    page = first.resources["/articles/old-story/"]
    shown = first.read(page, gzipped=False)
    site.write("new.txt", "Asia\nNew story\n\nSecond.\n", mtime=1_700_000_100)
    site.refresh()  # the old story's page leaves the feeds for the archive
    site.write("old.txt", "Asia\nOld story\n\nFirst, corrected.\n", mtime=1_700_000_200)
    site.refresh()  # and is made again there
    archived = publish_dir(site.root / "var") / publish.ARCHIVE / page.file
    assert b"First, corrected." in archived.read_bytes()
    assert first.read(page, gzipped=False) == shown


def test_a_version_found_damaged_under_its_id_is_written_anew_when_published_again(
    tmp_path: Path,
) -> None:
    """A manifest cut short, or written by another feedsvc: switched to as it is, no web worker
    could load the version served."""
    root = tmp_path / "publish"
    first = numbered_version(root, 1, None)
    latest = numbered_version(root, 2, first)
    (first.directory / publish.MANIFEST).write_text('{"id": "', "utf-8")
    again = numbered_version(root, 1, latest)
    assert again.id == first.id
    served = publish.load_current(root)
    assert served is not None and served.id == first.id
    assert served.read(served.resources["/feeds/all.atom"], gzipped=False) == b"<feed>1</feed>"


def test_a_version_published_again_by_id_is_collected_last(tmp_path: Path) -> None:
    """Found on disk under its id and switched to again, it is the newest of the superseded
    ones once the next is published: a process may still be switching away from it."""
    root = tmp_path / "publish"
    made = [numbered_version(root, 1, None)]
    for number in range(2, 2 + KEEP_PREVIOUS):  # as many as are kept: none collected
        made.append(numbered_version(root, number, made[-1]))
    again = numbered_version(root, 1, made[-1])
    assert again.id == made[0].id
    numbered_version(root, 2 + KEEP_PREVIOUS, again)
    versions = root / "versions"
    wait_for(
        lambda: sum(not d.name.startswith(".") for d in versions.iterdir()) == 1 + KEEP_PREVIOUS,
        "the collection",
    )
    assert (versions / again.id).is_dir() and not (versions / made[1].id).exists()


def numbered_version(
    root: Path,
    number: int,
    previous: publish.Version | None,
    served_from: datetime | None = None,
) -> publish.Version:
    """A version of one feed whose bytes and date say `number`: the same number, the same id."""
    body = f"<feed>{number}</feed>".encode()
    resource = publish.Resource(
        path="/feeds/all.atom",
        content_type="application/atom+xml; charset=utf-8",
        etag=publish.etag_of(body),
        last_modified=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=number),
        key=str(number),
    )
    pending = [publish.Pending.rendered(resource, body)]
    return publish.write_version(
        root,
        pending,
        {},
        previous,
        datetime.now(UTC),
        "source",
        300,
        "http://127.0.0.1:8000",
        served_from=served_from,
    )


def test_a_version_waits_a_second_at_most_for_the_moment_it_may_be_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock set back between a refresh's start and its switch must not hold the publish,
    and the build lock, for as long as the step."""
    waits: list[float] = []
    monkeypatch.setattr(publish, "time", SimpleNamespace(sleep=waits.append))
    root = tmp_path / "publish"
    version = numbered_version(root, 1, None, served_from=datetime.now(UTC) + timedelta(hours=1))
    assert waits == [1.0] and publish.current_id(root) == version.id


def test_a_version_is_switched_to_only_once_its_moment_has_come(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dated the next second, it is not served before it: the wait comes before the switch."""
    root = tmp_path / "publish"
    first = numbered_version(root, 1, None)
    current_while_waiting: list[str | None] = []
    waited = SimpleNamespace(sleep=lambda _: current_while_waiting.append(publish.current_id(root)))
    monkeypatch.setattr(publish, "time", waited)
    second = numbered_version(
        root, 2, first, served_from=datetime.now(UTC) + timedelta(seconds=0.5)
    )
    assert current_while_waiting == [first.id]
    assert publish.current_id(root) == second.id


def test_a_file_in_a_hidden_directory_reported_by_a_watcher_is_no_article(site: Site) -> None:
    site.write("asia.txt", "Asia\nPublic\n\nA paragraph.\n")
    refresher = Refresher(site.config())
    refresher.refresh()  # the full scan, as the clock's first refresh
    site.write(".drafts/embargoed.txt", "Asia\nEmbargoed\n\nNot yet.\n")
    report = refresher.refresh(paths=[".drafts/embargoed.txt"])
    assert report.added == 0 and b"Embargoed" not in site.published("/feeds/all.atom")
    refresher.close()


def test_a_publish_leaves_a_version_being_collected_to_its_collector(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edits in a burst: the next publish starts while the one before removes its old version;
    it sweeps what a killed refresher left, not that (twice the work, on its own time)."""
    refresher = Refresher(site.config())
    for number in range(1 + KEEP_PREVIOUS):
        site.write("story.txt", f"Asia\nStory\n\nUpdate {number}.\n", mtime=1_750_000_000 + number)
        refresher.refresh()
    root = publish_dir(site.root / "var")
    wait_for(lambda: len(list((root / "versions").iterdir())) == 1 + KEEP_PREVIOUS, "quiet")
    (root / "versions" / ".tmp-gone-killed").mkdir()  # a collection a kill stopped
    removing, release = threading.Event(), threading.Event()
    removed: list[tuple[str, str]] = []
    rmtree = shutil.rmtree

    def slow_rmtree(path: Path, ignore_errors: bool = False) -> None:
        removed.append((threading.current_thread().name, Path(path).name))
        if Path(path).name.startswith(".tmp-gone-") and "killed" not in str(path):
            removing.set()
            release.wait(10)
        rmtree(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(publish.shutil, "rmtree", slow_rmtree)
    site.write("story.txt", "Asia\nStory\n\nUpdate 3.\n", mtime=1_750_000_003)
    refresher.refresh()  # its collector takes the oldest version, slowly
    assert removing.wait(10)
    site.write("story.txt", "Asia\nStory\n\nUpdate 4.\n", mtime=1_750_000_004)
    refresher.refresh()  # meanwhile
    mine = [name for thread, name in removed if thread == threading.current_thread().name]
    assert mine == [".tmp-gone-killed"]
    release.set()
    refresher.close()
    wait_for(lambda: len(list((root / "versions").iterdir())) == 1 + KEEP_PREVIOUS, "the rest")


def test_the_collector_never_takes_the_version_switched_to_since_it_started(site: Site) -> None:
    refresher = Refresher(site.config())
    published = []
    for number in range(5):
        site.write("story.txt", f"Asia\nStory\n\nUpdate {number}.\n", mtime=1_750_000_000 + number)
        published.append(refresher.refresh().version)
    refresher.close()
    root = publish_dir(site.root / "var")
    wait_for(
        lambda: len(list((root / "versions").iterdir())) == 1 + KEEP_PREVIOUS, "the collection"
    )
    # One more, older than those kept, and so the next to go; but switched back to (a config
    # change reverted) after a collection started, told that the newest was current.
    back = "0" * 20
    shutil.copytree(root / "versions" / str(published[-1]), root / "versions" / back)
    os.utime(root / "versions" / back, (1, 1))
    os.symlink(f"versions/{back}", root / "switch")
    os.replace(root / "switch", root / "current")
    publish._collect_garbage(root / "versions", str(published[-1]))
    assert (root / "versions" / back / "manifest.json").is_file()


def test_a_status_that_cannot_be_written_leaves_the_refresh_done_not_failed(
    sample_site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """The clock logged "refresh failed, the last good version keeps serving" for a refresh
    that had published, every tick, and /healthz went on saying "ok" with no word of it."""
    sample_site.refresh()
    sample_site.write("new.txt", "Asia\nA new story\n\nBody.\n")
    temporary_beside(sample_site.root / "var" / "status.json").mkdir()  # in the way of it
    report = sample_site.refresh()
    assert report.published and b"A new story" in sample_site.published("/feeds/all.atom")
    assert "the refresh worked, but /healthz goes on saying what it said before it" in caplog.text
