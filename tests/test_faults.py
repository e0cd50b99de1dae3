"""Faults: none loses a published entry, changes an id or a published date, or serves a broken
feed. Each is made real (a SIGKILL, a full disk, a vanished directory, a slow writer, a damaged
store, a state_dir that cannot be written) rather than imitated."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path
from resource import RLIMIT_FSIZE, setrlimit
from typing import Any

import pytest
from lxml import etree

from feedsvc import readers
from feedsvc import refresh as refresh_module
from feedsvc.app import WITHHELD
from feedsvc.control import refresher_role
from feedsvc.corpus import check_files
from feedsvc.errors import MovedAsideError, PublishError, StateError
from feedsvc.listing import Opener
from feedsvc.publish import Version, current_id, load_current, publish_dir
from feedsvc.refresh import Refresher
from tests.conftest import SAMPLE, SECTIONS, Site, config_text, config_without
from tests.servers import (
    BIN,
    Process,
    Server,
    clock,
    feedsvc,
    free_port,
    get,
    gunicorn,
    serve,
    wait_for,
)
from tests.test_operations import (
    ASIA,
    ATOM,
    AUTH,
    EUROPE,
    TOKEN,
    WITH_TOKEN,
    atom_ids,
    atom_titles,
    client,
    healthz,
    stored_identities,
    write_config,
)


def atom_contents(body: bytes) -> dict[str, str]:
    """Title → HTML content of each entry of a well-formed Atom feed."""
    root = etree.fromstring(body)
    return {
        str(e.findtext(f"{ATOM}title")): str(e.findtext(f"{ATOM}content"))
        for e in root.iter(f"{ATOM}entry")
    }


def assert_complete(version: Version) -> None:
    """Every file of the version is there, and every feed parses as a whole."""
    for path, resource in version.resources.items():
        body = version.read(resource, gzipped=False)
        if resource.precompressed:
            assert (version.directory / f"{resource.file}.gz").is_file(), path
        if path.endswith((".atom", ".rss", ".opml")):
            etree.fromstring(body)
        elif path.endswith(".json"):
            json.loads(body)


def current(site: Site) -> Version:
    version = load_current(publish_dir(site.root / "var"))
    assert version is not None
    return version


def integrity(site: Site) -> str:
    with closing(sqlite3.connect(site.root / "var" / "state.sqlite3")) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


# -- (a) the refresher is killed while it writes a version ----------------------------------
def write_corpus(site: Site, count: int, variant: int) -> None:
    """`count` articles over every section; each variant rewrites every body (old mtimes)."""
    for number in range(count):
        body = "\n".join(
            f"Variant {variant}, paragraph {k} of article {number}: words to fill a line."
            for k in range(12)
        )
        site.write(
            f"{number:04d}.txt",
            f"{SECTIONS[number % len(SECTIONS)]}\nArticle number {number}\n\n{body}\n",
            mtime=1_700_000_000 + variant * 100_000 + number,
        )


def test_a_refresher_killed_mid_write_leaves_the_last_complete_version_served(
    site: Site, tmp_path: Path, running: list[Process]
) -> None:
    write_config(site, feeds="max_entries = 1000\nfull_content = true")
    write_corpus(site, 400, variant=0)
    site.refresh()
    before = stored_identities(site)
    published = set(atom_ids(site.published("/feeds/all.atom")))
    assert len(published) == 400
    versions = publish_dir(site.root / "var") / "versions"
    rng = random.Random(4)
    killed_while_writing = 0
    for variant, while_writing in enumerate([True, True, True, False, False], start=1):
        write_corpus(site, 400, variant)  # every feed and page has to be rendered anew
        refresher = subprocess.Popen(
            [str(BIN / "feedsvc"), "refresh", "--config", str(site.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if while_writing:  # once the staging directory exists, at a random moment of it
            wait_for(
                lambda refresher=refresher: (
                    refresher.poll() is not None or any(versions.glob(".tmp-*"))
                ),
                "the refresher to start writing a version",
                timeout=60,
                every=0.001,  # writing a version takes a few tens of milliseconds
            )
            time.sleep(rng.uniform(0, 0.01))
        else:  # anywhere: scanning, parsing, storing, rendering or writing
            time.sleep(rng.uniform(0.05, 1.0))
        refresher.send_signal(signal.SIGKILL)
        refresher.wait(timeout=30)
        killed_while_writing += any(versions.glob(".tmp-*"))

        version = current(site)
        assert_complete(version)
        assert set(atom_ids(version.read(version.resources["/feeds/all.atom"], False))) == (
            published
        )
        assert integrity(site) == "ok"
        assert stored_identities(site) == before  # ids, slugs and published dates
    assert killed_while_writing >= 1

    # A new web process serves the last complete version at once: no refresher runs at all.
    served = current_id(publish_dir(site.root / "var"))
    web = gunicorn(site.config_path, tmp_path / "web.log", workers=1)
    running.append(web)
    web.wait_until("/feeds/all.atom")
    status, _, body = get(web.url, "/feeds/all.atom")
    assert status == 200 and set(atom_ids(body)) == published
    assert healthz(web.url)["version"] == served

    # The next refresh finishes the job and sweeps what the killed ones left.
    result = feedsvc("refresh", "--config", str(site.config_path), timeout=120)
    assert result.returncode == 0, result.stderr
    assert not any(versions.glob(".tmp-*"))
    assert not any(publish_dir(site.root / "var").glob(".current-*"))
    assert stored_identities(site) == before
    contents = atom_contents(site.published("/feeds/all.atom"))
    assert "Variant 5, paragraph 0 of article 7:" in contents["Article number 7"]


# -- (a') the power is cut just after a version was made current ---------------------------
@pytest.fixture
def flushes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The real `os.fsync`, noting each file or directory it flushed, each version renamed into
    place and each `current` switch, in order: what a power cut would find on the disk depends
    on that order alone."""
    seen: list[str] = []
    real_fsync, real_rename, real_replace = os.fsync, os.rename, os.replace

    def fsync(fd: int) -> None:
        real_fsync(fd)
        seen.append(os.readlink(f"/proc/self/fd/{fd}"))

    def rename(source: str | Path, target: str | Path) -> None:
        real_rename(source, target)
        seen.append(f"renamed {target}")

    def replace(source: str | Path, target: str | Path) -> None:
        real_replace(source, target)
        if Path(target).name == "current":
            seen.append("switched")

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(os, "replace", replace)
    return seen


def in_place_then_switched(seen: list[str], version: Version) -> None:
    """The version's name was flushed after it was renamed into place, before the switch; the
    switch was flushed after it."""
    versions = version.directory.parent
    placed = seen.index(f"renamed {version.directory}")
    switched = seen.index("switched", placed)
    assert str(versions) in seen[placed + 1 : switched]
    assert str(versions.parent) in seen[switched:]


def flushed_before_switch(seen: list[str], version: Version) -> set[str]:
    """The version's files and directories (relative to it, "." for itself) flushed before it
    was made current; the staging directory it was written in has the version's place."""
    before = seen[: seen.index("switched")]
    staging = next(p for p in before if f"/.tmp-{version.id}-" in p).split(f"/.tmp-{version.id}-")
    prefix = staging[0] + f"/.tmp-{version.id}-" + staging[1].split("/")[0]
    return {os.path.relpath(p, prefix) for p in before if p == prefix or p.startswith(prefix + "/")}


def written_in(version: Version, fresh_only: bool) -> set[str]:
    """Its directories and files; `fresh_only`: without the files linked from the version
    before (a file written for this version has one link)."""
    found = {"."}
    for path in version.directory.rglob("*"):
        if path.is_dir() or not fresh_only or path.stat().st_nlink == 1:
            found.add(str(path.relative_to(version.directory)))
    return found


def test_a_version_is_on_the_disk_before_it_is_made_current(
    sample_site: Site, flushes: list[str]
) -> None:
    # A power cut can only be imitated here; what it leaves depends on what was flushed before
    # the switch: the files, their directories, and the new version's name in versions/.
    sample_site.refresh()
    first = current(sample_site)
    assert flushed_before_switch(flushes, first) == written_in(first, fresh_only=False)
    in_place_then_switched(flushes, first)

    # The next version writes what changed and links the rest: only what it wrote is flushed
    # again, and the links' directories.
    flushes.clear()
    correct_the_sample(sample_site)
    sample_site.refresh()
    second = current(sample_site)
    assert second.id != first.id
    fresh = written_in(second, fresh_only=True)
    assert any(name.startswith("feeds/") for name in fresh)
    assert len(fresh) < len(written_in(second, fresh_only=False))
    assert flushed_before_switch(flushes, second) == fresh
    in_place_then_switched(flushes, second)


def correct_the_sample(site: Site) -> None:
    """An edit of the sample article: a new paragraph first."""
    text = (site.articles / SAMPLE.name).read_text("utf-8")
    site.write(SAMPLE.name, text.replace("\n\n", "\n\nA correction first.\n", 1))


def fail_fsync(patcher: pytest.MonkeyPatch, when: Callable[[str], bool]) -> None:
    """fsync fails (EIO) for the files and directories whose path `when` picks."""
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if when(os.readlink(f"/proc/self/fd/{fd}")):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    patcher.setattr(os, "fsync", fsync)


def test_a_version_the_disk_cannot_keep_is_not_made_current(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample_site.refresh()
    before = current(sample_site)
    fail_fsync(monkeypatch, lambda path: path.endswith(".atom"))
    correct_the_sample(sample_site)
    with pytest.raises(PublishError) as failed:
        sample_site.refresh()
    assert "Input/output error" in str(failed.value)
    assert f"version {before.id} stays current" in str(failed.value)
    assert current(sample_site).id == before.id
    assert not any(before.directory.parent.glob(".tmp-*"))


@pytest.fixture
def publish_failed(site: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[Refresher]:
    """A refresher whose last refresh stored b.txt's story and failed to publish it."""
    site.write("a.txt", "Asia\nFirst story\n\nIts body.\n")
    refresher = Refresher(site.config())
    try:
        refresher.refresh()
        site.write("b.txt", "Europe\nSecond <b>story</b>\n\nIts body.\n")  # and a warning
        with monkeypatch.context() as failing:
            fail_fsync(failing, lambda path: path.endswith(".atom"))
            with pytest.raises(PublishError):
                refresher.refresh()
        yield refresher
    finally:
        refresher.close()


def test_what_a_refresh_stored_before_its_publish_failed_is_said_by_the_next(
    site: Site, publish_failed: Refresher, caplog: pytest.LogCaptureFixture
) -> None:
    """The next refresh published the new story, and said "0 entries added": no log line ever
    told of it."""
    with caplog.at_level(logging.INFO):
        report = publish_failed.refresh()
    assert (report.files_read, report.added, report.published) == (1, 1, True)
    (added,) = [r.getMessage() for r in caplog.records if "entry added" in r.getMessage()]
    assert added.endswith(":second-b-story-b")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        site.write("b.txt", "Europe\nSecond <b>story</b>\n\nIts body, edited.\n", mtime=1.8e9)
        report = publish_failed.refresh()  # said once
    assert (report.files_read, report.added, report.updated) == (1, 0, 1)
    assert "entry added" not in caplog.text


def test_a_story_stored_unpublished_and_deleted_before_the_next_refresh_is_said_neither_way(
    site: Site, publish_failed: Refresher, caplog: pytest.LogCaptureFixture
) -> None:
    """No reader saw it: not "1 added, 1 removed". Nor the warning of the file's first read."""
    (site.articles / "b.txt").unlink()
    with caplog.at_level(logging.INFO):
        report = publish_failed.refresh()
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert "entry " not in caplog.text and "b.txt" not in caplog.text


def test_a_story_unpublished_unsaid_and_back_before_the_next_refresh_is_said_neither_way(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Removed by a refresh whose publish failed, its file put back: readers never lost it."""
    site.write("a.txt", "Asia\nFirst story\n\nIts body.\n")
    site.write("b.txt", "Europe\nComeback story\n\nIts body.\n")
    refresher = Refresher(site.config())
    try:
        refresher.refresh()
        (site.articles / "b.txt").unlink()
        with monkeypatch.context() as failing:
            fail_fsync(failing, lambda path: path.endswith(".atom"))
            with pytest.raises(PublishError):
                refresher.refresh()
        site.write("b.txt", "Europe\nComeback story\n\nIts body.\n")
        with caplog.at_level(logging.INFO):
            report = refresher.refresh()
        assert (report.added, report.updated, report.removed) == (0, 0, 0)
        assert "entry " not in caplog.text
    finally:
        refresher.close()


def test_a_version_whose_name_was_not_flushed_is_flushed_before_it_is_made_current(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch, flushes: list[str]
) -> None:
    """Renamed into place, then its name failed to reach the disk: the next try, which finds
    the version written already, flushes it before switching to it."""
    sample_site.refresh()
    before = current(sample_site)
    versions = str(before.directory.parent)
    correct_the_sample(sample_site)
    with monkeypatch.context() as failing:
        fail_fsync(failing, lambda path: path == versions)
        with pytest.raises(PublishError):
            sample_site.refresh()
    assert current(sample_site).id == before.id
    flushes.clear()
    sample_site.refresh()
    after = current(sample_site)
    assert after.id != before.id
    assert f"renamed {after.directory}" not in flushes  # it was there already
    assert flushes.index(versions) < flushes.index("switched")


def test_a_switch_the_disk_does_not_confirm_is_made_and_said(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    root = publish_dir(sample_site.root / "var")
    fail_fsync(monkeypatch, lambda path: path == str(root))
    with caplog.at_level(logging.WARNING):
        report = sample_site.refresh()
    assert report.published and current_id(root) == report.version
    assert f"version {report.version} is current, but the disk did not confirm it" in caplog.text


def test_a_file_system_that_cannot_flush_still_publishes(
    sample_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some (FUSE, network) refuse fsync as not supported (EINVAL): nothing to wait for."""
    asked: list[int] = []

    def unsupported(fd: int) -> None:
        asked.append(fd)
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    monkeypatch.setattr(os, "fsync", unsupported)
    assert sample_site.refresh().published
    assert_complete(current(sample_site))
    assert len(asked) > len(current(sample_site).resources)  # every file, then directories


# -- (b) the disk fills up during a refresh --------------------------------------------------
LIMIT_FILE_SIZE = (
    "import os, resource, sys; "
    "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1]))); "
    "os.execv(sys.argv[2], sys.argv[2:])"
)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """A 1.5 MB tmpfs for the state directory; without the right to mount one, a 512 KB limit
    on the size of any file the refresher writes (the same failing write, as EFBIG)."""
    mount = tmp_path / "small"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(mount)]
    mounted = os.geteuid() == 0 and subprocess.run(command, capture_output=True).returncode == 0
    try:
        yield mount, ([] if mounted else [sys.executable, "-c", LIMIT_FILE_SIZE, "524288"])
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_fails_the_refresh_clearly_and_the_old_version_keeps_serving(
    site: Site, tmp_path: Path, small_disk: tuple[Path, list[str]], running: list[Process]
) -> None:
    mount, prefix = small_disk
    write_config(site, interval=1)
    config = site.config_path.read_text("utf-8")
    site.config_path.write_text(config.replace('"var"', json.dumps(str(mount / "var"))), "utf-8")
    site.write("europe.txt", EUROPE)
    port = free_port()
    command = ["serve", "--config", str(site.config_path), "--port", str(port)]
    server = Server(
        [*prefix, str(BIN / "feedsvc"), *command], port, tmp_path / "serve.log", WITH_TOKEN
    )
    running.append(server)
    server.wait_until("/feeds/all.atom")
    _, _, good = get(server.url, "/feeds/all.atom")
    version = healthz(server.url)["version"]

    paragraphs = "\n".join(f"{n}: " + os.urandom(600).hex() for n in range(900))
    site.write("long.txt", f"Asia\nA very long read\n\n{paragraphs}\n")
    failed = wait_for(
        lambda: [line for line in server.output().splitlines() if "refresh failed" in line],
        "the failed refresh in the log",
    )
    assert " ERROR " in failed[0]
    assert "No space left on device" in failed[0] or "File too large" in failed[0]
    assert f"version {version} stays current" in failed[0]
    report = healthz(server.url, TOKEN)
    assert report["status"] == "error" and report["version"] == version
    assert "could not publish version" in report["error"]
    status, _, body = get(server.url, "/feeds/all.atom")
    assert status == 200 and body == good
    # Space given back: between two tries (one a second), no version is left half-written.
    versions = mount / "var" / "publish" / "versions"
    wait_for(lambda: not any(versions.glob(".tmp-*")), "the failed version's files removed")

    (site.articles / "long.txt").unlink()
    wait_for(lambda: healthz(server.url)["status"] == "ok", "a good refresh once space is back")
    assert atom_ids(get(server.url, "/feeds/all.atom")[2]) == atom_ids(good)


# -- (c) articles/ disappears or cannot be read ----------------------------------------------
def _rename(site: Site) -> None:
    site.articles.rename(site.root / "articles.moved")


def _empty(site: Site) -> None:
    _rename(site)
    site.articles.mkdir()


def _file(site: Site) -> None:
    _rename(site)
    site.articles.write_text("not a directory\n", "utf-8")


def _restore(site: Site) -> None:
    if site.articles.is_dir() and not site.articles.is_symlink():
        site.articles.rmdir()
    elif site.articles.exists():
        site.articles.unlink()
    (site.root / "articles.moved").rename(site.articles)


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        (_rename, "cannot list {articles}: No such file or directory; nothing was unpublished"),
        (_empty, "{articles} lists no article files although 2 were published; treating"),
        (_file, "cannot list {articles}: Not a directory; nothing was unpublished"),
    ],
    ids=["gone", "empty", "a file"],
)
def test_articles_gone_or_empty_unpublishes_nothing_and_says_why(
    site: Site,
    fault: object,
    why: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN_TOKEN", TOKEN)
    site.write("europe.txt", EUROPE)
    site.write("asia/monsoon.txt", "Asia\nMonsoon arrives early\n\nRain fell.\n")
    refresher = Refresher(site.config())
    refresher.refresh()
    web = client(site)
    served = web.get("/feeds/all.atom").data
    before = stored_identities(site)

    fault(site)  # type: ignore[operator]
    report = refresher.refresh()
    expected = why.format(articles=site.articles)
    assert report.removed == 0 and not report.published
    assert report.held_back is not None and report.held_back.startswith(expected)
    assert any(r.levelno == logging.WARNING and expected in r.getMessage() for r in caplog.records)
    health = web.get("/healthz", headers=AUTH).json
    assert health is not None
    assert health["held_back"] == report.held_back and health["status"] == "ok"
    assert web.get("/feeds/all.atom").data == served

    _restore(site)
    report = refresher.refresh()
    refresher.close()
    assert report.held_back is None and report.removed == 0
    assert web.get("/healthz", headers=AUTH).json["held_back"] is None  # type: ignore[index]
    assert stored_identities(site) == before
    assert site.published("/feeds/all.atom") == served


def publish_with_a_subdirectory(site: Site) -> None:
    site.write("europe.txt", EUROPE)
    site.write("asia/monsoon.txt", "Asia\nMonsoon arrives early\n\nRain fell.\n")
    site.refresh()


def refuse_to_list(monkeypatch: pytest.MonkeyPatch, directory: str) -> None:
    """`articles/<directory>` cannot be listed, as with its read bit off: root, which these
    tests may run as, could list anything."""
    real_scandir = os.scandir

    def scandir(path: Path) -> object:
        if str(path).endswith(f"/{directory}"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_an_unreadable_subdirectory_keeps_its_articles_published(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_with_a_subdirectory(site)
    before = set(atom_ids(site.published("/feeds/all.atom")))
    refuse_to_list(monkeypatch, "asia")  # a directory with x but no r: its files still read
    said = check_files(site.config())[2]  # nor is it said to be unpublished beforehand
    assert not any("a refresh with this config unpublishes" in p.message for p in said)
    site.write("new.txt", "Diplomacy\nA new treaty\n\nSigned today.\n")
    report = site.refresh()
    assert report.added == 1 and report.removed == 0  # the rest goes on
    assert report.held_back is not None
    assert report.held_back.startswith("cannot read asia/ under")
    assert "1 file(s) from there were kept as published" in report.held_back
    (problem,) = [p for p in report.problems if p.path == "asia"]
    assert problem.message.startswith(
        f"cannot read this directory: Permission denied; let the user feedsvc runs as (uid "
        f"{os.geteuid()}) read it; what was published"
    )
    assert before < set(atom_ids(site.published("/feeds/all.atom")))

    monkeypatch.undo()
    report = site.refresh()
    assert report.held_back is None and report.removed == 0 and report.problems == ()


@pytest.mark.parametrize("body_kept", [True, False], ids=["body kept", "no body kept"])
def test_after_a_restart_an_unreadable_subdirectory_does_not_stop_the_rest_being_published(
    site: Site, monkeypatch: pytest.MonkeyPatch, body_kept: bool
) -> None:
    publish_with_a_subdirectory(site)
    feed = site.published("/feeds/all.atom")
    monsoon = dict(zip(atom_titles(feed), atom_ids(feed), strict=True))
    before = stored_identities(site)
    if not body_kept:  # as in a store made before bodies were kept
        with closing(sqlite3.connect(site.root / "var" / "state.sqlite3")) as db, db:
            db.execute("DELETE FROM bodies")
    refuse_to_list(monkeypatch, "asia")  # chmod 000: neither listed nor read
    real_open = Opener.open

    def refusing_open(opener: Opener, path: str) -> int:
        if path.startswith("asia/"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(opener, path)

    monkeypatch.setattr(Opener, "open", refusing_open)
    site.write("new.txt", "Diplomacy\nA new treaty\n\nSigned today.\n")
    report = site.refresh()  # a new refresher, as after a restart: nothing rendered in memory
    assert report.published and report.deferred == ()
    assert "left out of the feeds until they can" in str(report.held_back)
    titles = atom_titles(site.published("/feeds/all.atom"))
    assert "A new treaty" in titles
    # shown as last published while its body is kept, else left out until it can be read
    assert ("Monsoon arrives early" in titles) == body_kept
    assert {k: v for k, v in stored_identities(site).items() if k in before} == before

    monkeypatch.undo()
    report = site.refresh()
    assert report.held_back is None
    feed = site.published("/feeds/all.atom")
    again = dict(zip(atom_titles(feed), atom_ids(feed), strict=True))
    assert again["Monsoon arrives early"] == monsoon["Monsoon arrives early"]  # the same id


# -- (d) a file is read while it is being written --------------------------------------------
def test_a_file_being_written_is_never_published_half_written(site: Site) -> None:
    site.write("europe.txt", EUROPE)
    site.refresh()
    dispatch = [f"Paragraph {n} of a dispatch written slowly." for n in range(50)]
    edit = [f"Edited paragraph {n} of the Vienna story." for n in range(50)]

    def slow_write(path: Path, head: str, lines: list[str]) -> None:
        with open(path, "w", encoding="utf-8") as handle:  # truncates an existing file first
            handle.write(head)
            for line in [*lines, "The end."]:
                handle.write(line + "\n")
                handle.flush()
                time.sleep(0.02)  # far shorter than the settle time: still "being written"

    writers = [
        threading.Thread(
            target=slow_write,
            args=(site.articles / "dispatch.txt", "Asia\nA slow dispatch\n\n", dispatch),
        ),
        threading.Thread(
            target=slow_write,
            args=(site.articles / "europe.txt", "Europe\nTalks resume in Vienna\n\n", edit),
        ),
    ]
    for writer in writers:
        writer.start()
    seen = 0
    while any(w.is_alive() for w in writers):
        # Something else changes meanwhile, so that versions are being published.
        site.write(f"other-{seen}.txt", f"Diplomacy\nOther story {seen}\n\nText.\n")
        site.refresh()
        contents = atom_contents(site.published("/feeds/all.atom"))
        vienna = contents["Talks resume in Vienna"]  # never unpublished meanwhile
        assert "No date was set." in vienna or "The end." in vienna
        assert "A slow dispatch" not in contents or "The end." in contents["A slow dispatch"]
        seen += 1
    for writer in writers:
        writer.join()
    assert seen >= 1

    report = site.refresh()  # once they settled, both are published complete
    assert report.deferred == ()
    contents = atom_contents(site.published("/feeds/all.atom"))
    assert "Paragraph 49 of a dispatch" in contents["A slow dispatch"]
    assert "Edited paragraph 49" in contents["Talks resume in Vienna"]
    assert f"Other story {seen - 1}" in contents


def test_a_file_that_grows_after_the_scan_listed_it_is_read_whole_not_as_far_as_listed(
    site: Site,
) -> None:
    """Copied with its old mtime kept (`cp -p`, rsync), a file is not fresh: only its size
    and mtime as read, against the scan's, tell that it changed in between."""
    site.write("a.txt", "Asia\nA first story\n\nIts paragraph.\n")
    site.write("b.txt", "Europe\nA dispatch\n\nFirst paragraph.\n")

    def grow_b(done: int, total: int) -> None:
        if done == 1:  # a.txt applied, b.txt listed and not read yet
            with open(site.articles / "b.txt", "a", encoding="utf-8") as handle:
                handle.write("Second paragraph.\n")
            os.utime(site.articles / "b.txt", (1_750_000_000, 1_750_000_000))  # as it was

    refresher = Refresher(site.config())
    try:
        report = refresher.refresh(progress=grow_b)
    finally:
        refresher.close()
    assert report.published and report.deferred == ()  # read again once settled
    dispatch = atom_contents(site.published("/feeds/all.atom"))["A dispatch"]
    assert "First paragraph." in dispatch and "Second paragraph." in dispatch


# -- (e) a damaged store or one of an older version ------------------------------------------
def _corrupt(site: Site) -> None:
    (site.root / "var" / "state.sqlite3").write_bytes(b"this is not a database" * 200)
    for suffix in ("-wal", "-shm"):
        (site.root / "var" / f"state.sqlite3{suffix}").unlink(missing_ok=True)


def _older(site: Site) -> None:
    with closing(sqlite3.connect(site.root / "var" / "state.sqlite3")) as db, db:
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")


def _lost(site: Site) -> None:
    for suffix in ("", "-wal", "-shm"):
        (site.root / "var" / f"state.sqlite3{suffix}").unlink(missing_ok=True)


CORRUPT = (
    "is unreadable or corrupt (file is not a database). It holds every published entry id; "
    "restore it from a backup"
)
OLDER = (
    "the state store has schema version 1, this feedsvc needs 2. Run the feedsvc version that "
    "wrote it, or restore a backup"
)


def _damaged_page(site: Site) -> None:
    """The usual form of real damage: the header and the schema read fine, a page does not."""
    store = site.root / "var" / "state.sqlite3"
    with closing(sqlite3.connect(store)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        query = "SELECT rootpage FROM sqlite_master WHERE name = 'entries_feed'"
        (root,) = db.execute(query).fetchone()
        (size,) = db.execute("PRAGMA page_size").fetchone()
    with open(store, "r+b") as file:
        file.seek((root - 1) * size)
        file.write(b"\xff" * size)


DAMAGES = {
    "corrupt": (_corrupt, CORRUPT),
    "older schema": (_older, OLDER),
    "lost": (_lost, "the state store is missing or empty, but versions were published from it"),
    "a damaged page": (
        _damaged_page,
        "is unreadable or corrupt (database disk image is malformed)",
    ),
}


@pytest.mark.parametrize(
    ("command", "damage"),
    [
        ("clock", "corrupt"),
        ("clock", "older schema"),
        ("clock", "lost"),
        ("clock", "a damaged page"),
        ("serve", "corrupt"),
    ],
)
def test_a_refresher_whose_store_is_refused_waits_for_it_never_resetting_it(
    site: Site, tmp_path: Path, running: list[Process], command: str, damage: str
) -> None:
    """It exited, and honcho and foreman stop every process of a Procfile when one exits: the
    web tier too, and every feed was gone until the store was restored and all restarted."""
    site.write("europe.txt", EUROPE)
    site.refresh()
    ids = atom_ids(site.published("/feeds/all.atom"))
    state_dir = site.root / "var"
    store = state_dir / "state.sqlite3"
    backup = tmp_path / "backup.sqlite3"
    with closing(sqlite3.connect(store)) as db, closing(sqlite3.connect(backup)) as copy:
        db.backup(copy)
    spoil, message = DAMAGES[damage]
    spoil(site)
    fingerprint = hashlib.sha256(store.read_bytes()).hexdigest() if store.exists() else None
    version = current_id(publish_dir(state_dir))

    start = serve if command == "serve" else clock
    process = start(site.config_path, tmp_path / f"{command}.log", env=WITH_TOKEN)
    running.append(process)
    status = state_dir / "status.json"
    wait_for(lambda: "waits until its state store opens" in status.read_text(), "the reason")
    assert message in json.loads(status.read_text())["error"]
    if isinstance(process, Server):  # what is published stays served
        process.wait_until("/feeds/all.atom")
        assert message in healthz(process.url, TOKEN)["error"]
    time.sleep(1.5)  # tried again, and again: said once, the store never reset
    assert process.popen.poll() is None
    assert process.output().count("waits until its state store opens") == 1
    assert (hashlib.sha256(store.read_bytes()).hexdigest() if store.exists() else None) == (
        fingerprint
    )
    assert current_id(publish_dir(state_dir)) == version

    for suffix in ("-wal", "-shm"):
        store.with_name(store.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, store)  # restored: it starts, every entry keeps its id
    site.write("asia.txt", ASIA)
    wait_for(
        lambda: "Monsoon arrives early" in atom_titles(site.published("/feeds/all.atom")),
        "the refresher started",
    )
    assert set(ids) < set(atom_ids(site.published("/feeds/all.atom")))
    # the status is written just after the version it tells of is switched to
    wait_for(lambda: json.loads(status.read_text())["error"] is None, "/healthz clear")


def test_a_waiting_refresher_waits_for_its_state_dir_moved_aside_and_takes_up_the_copy(
    site: Site, tmp_path: Path, running: list[Process]
) -> None:
    """Moved aside to be restored (in two moves, a copy cannot be moved over a directory), the
    state_dir was made afresh within a second, with a store afresh (every id minted again), and
    the copy put back then landed inside it; `reload` made it afresh too. Put back, the
    refresher started there still locking the replaced directory's file: `reload` found no
    refresher, and a second clock ran beside it."""
    site.write("europe.txt", EUROPE)
    site.refresh()
    ids = atom_ids(site.published("/feeds/all.atom"))
    state_dir = site.root / "var"
    backup = tmp_path / "backup"
    shutil.copytree(state_dir, backup, symlinks=True)  # `current` a link, as `cp -a` keeps it
    _corrupt(site)
    waiting = clock(site.config_path, tmp_path / "clock.log")
    running.append(waiting)
    wait_for(lambda: "waits until its state store opens" in waiting.output(), "the wait")
    state_dir.rename(tmp_path / "var.aside")
    wait_for(lambda: f"nothing is published in {state_dir} now" in waiting.output(), "said")
    asked = feedsvc("reload", "--config", str(site.config_path), timeout=60)
    assert asked.returncode == 1 and f"{state_dir}: it does not exist" in asked.stderr
    time.sleep(1.5)
    assert not state_dir.exists() and waiting.popen.poll() is None

    backup.rename(state_dir)  # the second move, a while later
    site.write("asia.txt", ASIA)
    wait_for(
        lambda: "Monsoon arrives early" in atom_titles(site.published("/feeds/all.atom")),
        "the refresher started in the state_dir put back",
    )
    assert set(ids) < set(atom_ids(site.published("/feeds/all.atom")))
    asked = feedsvc("reload", "--config", str(site.config_path), timeout=60)
    assert asked.returncode == 0 and f"pid {waiting.popen.pid}" in asked.stdout
    second = feedsvc("clock", "--config", str(site.config_path), timeout=60)
    assert second.returncode == 2 and "another refresher" in second.stderr


def test_a_refresher_that_waited_never_makes_its_state_dir_moved_aside_as_it_starts(
    site: Site, tmp_path: Path
) -> None:
    """Moved aside between the waiting refresher's look and its start, the state_dir was made
    afresh by taking the role again, and a store afresh in it by opening the store."""
    site.write("europe.txt", EUROPE)
    site.refresh()
    state_dir = site.root / "var"
    with refresher_role(state_dir) as role:
        state_dir.rename(tmp_path / "var.aside")
        with pytest.raises(StateError):
            role.keep()
        with pytest.raises(StateError, match="missing or empty"):
            Refresher(site.config(), published=True)
    assert not state_dir.exists()


def test_a_running_refresher_never_makes_its_state_dir_moved_aside_and_resumes_once_back(
    site: Site, tmp_path: Path, running: list[Process]
) -> None:
    """Moved aside while a clock ran, the state_dir was made afresh at its next tick and a
    version published there, beside no store (a restart was refused), while the ids went into
    the store aside: a backup restored meanwhile lacked them, and readers saw entries twice."""
    write_config(site, interval=1)
    site.write("europe.txt", EUROPE)
    site.refresh()
    state_dir = site.root / "var"
    ticking = clock(site.config_path, tmp_path / "clock.log")
    running.append(ticking)
    wait_for(lambda: "refresh: read" in ticking.output(), "a tick")
    aside = tmp_path / "var.aside"
    state_dir.rename(aside)
    site.write("asia.txt", ASIA)
    said = f"state_dir {state_dir} is no longer the directory this refresher's store is in"
    wait_for(lambda: said in ticking.output() or state_dir.exists(), "a tick with it aside")
    time.sleep(1.5)  # more ticks: said once, nothing made
    assert not state_dir.exists()
    assert ticking.output().count(said) == 1 and ticking.popen.poll() is None

    aside.rename(state_dir)
    wait_for(
        lambda: "Monsoon arrives early" in atom_titles(site.published("/feeds/all.atom")),
        "the refresh once it is back",
    )
    assert set(atom_ids(site.published("/feeds/all.atom"))) == set(stored_identities(site))
    wait_for(lambda: json.loads((state_dir / "status.json").read_text())["error"] is None, "ok")


def test_a_state_dir_moved_aside_as_its_store_opens_is_a_state_error_a_waiting_refresher_waits_on(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a bare OSError, which the callers that wait for a store do not catch."""
    site.write("europe.txt", EUROPE)
    site.refresh()
    opened = refresh_module.StateStore.open

    def opened_then_moved(*args: Any, **kwargs: Any) -> Any:
        store = opened(*args, **kwargs)
        (site.root / "var").rename(tmp_path / "var.aside")
        return store

    monkeypatch.setattr(refresh_module.StateStore, "open", opened_then_moved)
    with pytest.raises(StateError, match="var"):
        Refresher(site.config())


def test_a_state_dir_moved_aside_while_a_refresh_reads_gets_nothing_made_and_its_version_once_back(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moved after the store took the new entry and before the publish wrote anything: the
    publish makes nothing at the path, and the next refresh there publishes the entry."""
    site.write("europe.txt", EUROPE)
    site.refresh()
    state_dir, aside = site.root / "var", tmp_path / "var.aside"
    refresher = Refresher(site.config())
    read = refresh_module.update

    def read_then_moved(*args: Any, **kwargs: Any) -> Any:
        changes = read(*args, **kwargs)
        state_dir.rename(aside)
        return changes

    try:
        monkeypatch.setattr(refresh_module, "update", read_then_moved)
        site.write("asia.txt", ASIA)
        with pytest.raises(MovedAsideError):
            refresher.refresh()
        assert not state_dir.exists()
        monkeypatch.undo()
        aside.rename(state_dir)
        refresher.refresh()
        assert "Monsoon arrives early" in atom_titles(site.published("/feeds/all.atom"))
    finally:
        refresher.close()


def test_a_state_dir_moved_aside_as_a_refresh_takes_the_build_lock_is_never_made_afresh(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moved after the refresh looked and before it locked (waiting for a build, say): the lock
    made the state_dir afresh, where the operator's move back then failed, or went inside it."""
    site.write("europe.txt", EUROPE)
    site.refresh()
    state_dir, aside = site.root / "var", tmp_path / "var.aside"
    refresher = Refresher(site.config())
    lock = refresh_module.build_lock

    def moved_then_locked(path: Path) -> Any:
        state_dir.rename(aside)
        return lock(path)

    try:
        monkeypatch.setattr(refresh_module, "build_lock", moved_then_locked)
        with pytest.raises(
            MovedAsideError, match=r"var is gone \(moved aside\?\): nothing is made"
        ):
            refresher.refresh()
        assert not state_dir.exists()
        monkeypatch.undo()
        aside.rename(state_dir)
        site.write("asia.txt", ASIA)
        refresher.refresh()
        assert "Monsoon arrives early" in atom_titles(site.published("/feeds/all.atom"))
    finally:
        refresher.close()


@pytest.mark.parametrize("name", ["build.lock", "status.json"])
def test_a_directory_where_the_state_dir_keeps_a_file_is_named_with_its_fix(
    site: Site, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An operator's `mkdir` in the wrong place: the refresh fails (or, for the status, only
    /healthz falls behind) and says which directory to move; moved, all goes on."""
    site.write("europe.txt", EUROPE)
    refresher = Refresher(site.config())
    try:
        refresher.refresh()
        in_the_way = site.root / "var" / name
        in_the_way.unlink()
        in_the_way.mkdir()
        site.write("asia.txt", ASIA)
        said = f"{in_the_way} is a directory, where feedsvc keeps a file of its state_dir: move it"
        if name == "build.lock":
            with pytest.raises(StateError, match=re.escape(said)):
                refresher.refresh()
        else:
            refresher.refresh()  # published; /healthz goes on saying what it said
            assert any(said in r.getMessage() for r in caplog.records)
        in_the_way.rmdir()
        site.write("asia.txt", ASIA.replace("Rain fell", "Rain fell early"))
        refresher.refresh()
    finally:
        refresher.close()
    assert "Monsoon arrives early" in atom_titles(site.published("/feeds/all.atom"))


def _failed(refresher: Refresher, site: Site) -> None:
    refresher.write_status(None, error="the refresh failed")


def _config_rejected(refresher: Refresher, site: Site) -> None:
    site.config_path.write_text(site.config_path.read_text() + "[bogus]\n", "utf-8")
    refresher.check_config()
    assert refresher.config_error is not None


@pytest.mark.parametrize("says", [_failed, _config_rejected], ids=["failed", "config rejected"])
def test_a_refresher_whose_state_dir_was_replaced_writes_no_status_into_the_new_one(
    site: Site, tmp_path: Path, says: Callable[[Refresher, Site], None]
) -> None:
    """Its status (a refresh failed: moved aside) would be /healthz's for the directory put in
    its place (a copy restored), which another refresher serves once restarted."""
    site.write("europe.txt", EUROPE)
    site.refresh()
    state_dir = site.root / "var"
    refresher = Refresher(site.config())
    try:
        state_dir.rename(tmp_path / "var.aside")
        shutil.copytree(tmp_path / "var.aside", state_dir)
        restored = (state_dir / "status.json").read_bytes()
        says(refresher, site)
    finally:
        refresher.close()
    assert (state_dir / "status.json").read_bytes() == restored


@contextlib.contextmanager
def written_by_another(state_dir: Path) -> Iterator[None]:
    """The store held by another process's long write: SQLite refuses it as busy, reading too."""
    with closing(sqlite3.connect(state_dir / "state.sqlite3", isolation_level=None)) as other:
        other.execute("PRAGMA locking_mode=EXCLUSIVE")  # kept until closed
        other.execute("BEGIN EXCLUSIVE")
        other.execute("INSERT OR REPLACE INTO meta VALUES ('busy', 'yes')")
        yield


def test_a_refresher_waiting_for_a_busy_store_stops_when_asked_and_writes_with_patience(
    site: Site,
) -> None:
    """Each second's try waited SQLite's busy timeout (30 s) for the other process's write:
    Ctrl-C took that long to end a waiting `clock`, and a stopping `serve` as long."""
    from feedsvc.waiting import ready_refresher

    site.write("europe.txt", EUROPE)
    site.refresh()
    state_dir = site.root / "var"
    config, stopping = str(site.config_path), threading.Event()
    stopped: list[Refresher | None] = []
    with refresher_role(state_dir) as role:
        with written_by_another(state_dir):
            waiting = threading.Thread(
                target=lambda: stopped.append(
                    ready_refresher(config, role, StateError("busy"), stopping)
                )
            )
            waiting.start()
            time.sleep(2.5)  # in a try to open the store, the first one refused as busy
            stopping.set()
            waiting.join(timeout=15)
            assert not waiting.is_alive() and stopped == [None]
        refresher = ready_refresher(config, role, StateError("busy"), threading.Event())
    assert refresher is not None  # started once the other write was done
    try:  # and its own writes wait for another's as long as any refresher's
        assert refresher.store._db.execute("PRAGMA busy_timeout").fetchone() == (30_000,)
    finally:
        refresher.close()


def test_a_refresher_starting_beside_a_long_write_is_refused_at_once_where_it_will_wait(
    site: Site,
) -> None:
    """Where feeds are published it waits for its store, trying each second; its first try
    waited 30 s for the other process's write, and Ctrl-C, not acted on meanwhile, as long."""
    from feedsvc.cli import _opened

    site.write("europe.txt", EUROPE)
    site.refresh()
    opened: list[object] = []
    with written_by_another(site.root / "var"):
        starting = threading.Thread(target=lambda: opened.append(_opened(site.config())))
        starting.start()
        starting.join(timeout=15)
        assert not starting.is_alive()
    (refused,) = opened
    assert isinstance(refused, StateError) and "the state store is busy" in str(refused)


def test_a_refresher_whose_store_is_refused_exits_where_nothing_is_published(site: Site) -> None:
    site.write("europe.txt", EUROPE)
    site.refresh()
    _corrupt(site)
    shutil.rmtree(site.root / "var" / "publish")
    result = feedsvc("clock", "--config", str(site.config_path), timeout=60)
    assert result.returncode == 2 and CORRUPT in result.stderr


def test_a_corrupt_stores_fix_to_start_over_works_as_said(site: Site) -> None:
    """It said "move it aside", and the next start refused: versions published, no store."""
    site.write("europe.txt", EUROPE)
    site.refresh()
    _corrupt(site)
    said = feedsvc("refresh", "--config", str(site.config_path), timeout=60).stderr
    assert "to start over, move it and the publish directory beside it aside" in said
    state_dir = site.root / "var"
    for name in ("state.sqlite3", "publish"):
        (state_dir / name).rename(site.root / f"{name}.aside")
    assert feedsvc("refresh", "--config", str(site.config_path), timeout=60).returncode == 0


def test_web_processes_keep_serving_while_the_store_is_refused(
    site: Site, tmp_path: Path, running: list[Process]
) -> None:
    site.write("europe.txt", EUROPE)
    site.refresh()
    _corrupt(site)
    waiting = clock(site.config_path, tmp_path / "clock.log")
    running.append(waiting)
    web = gunicorn(site.config_path, tmp_path / "web.log", workers=1, env=WITH_TOKEN)
    running.append(web)
    web.wait_until("/feeds/all.atom")
    assert atom_ids(get(web.url, "/feeds/all.atom")[2]) == atom_ids(
        site.published("/feeds/all.atom")
    )
    wait_for(lambda: CORRUPT in str(healthz(web.url, TOKEN)["error"]), "the reason in /healthz")
    assert healthz(web.url)["status"] == "error"


def test_healthz_says_the_state_dir_was_moved_aside_while_the_web_tier_serves_on(
    site: Site, tmp_path: Path, running: list[Process]
) -> None:
    """Its status.json went aside with it: /healthz said "stale", and no error, as if the
    refresher had only fallen behind."""
    site.write("europe.txt", EUROPE)
    site.refresh()
    web = gunicorn(site.config_path, tmp_path / "web.log", workers=1, env=WITH_TOKEN)
    running.append(web)
    web.wait_until("/feeds/all.atom")
    state_dir = site.root / "var"
    state_dir.rename(tmp_path / "var.aside")
    status, _, feed = get(web.url, "/feeds/all.atom")
    assert status == 200 and b"Talks resume in Vienna" in feed  # what it loaded, served on
    report = healthz(web.url, TOKEN)
    assert report["status"] == "error"
    assert f"nothing is published in {state_dir} now (moved aside?)" in report["error"]
    assert healthz(web.url)["error"] == WITHHELD  # it names the state_dir
    (tmp_path / "var.aside").rename(state_dir)
    assert healthz(web.url)["status"] != "error"


# -- (f) a state_dir this user cannot use, a port already taken ------------------------------
#: Root may write anything: as root the commands run without the capabilities that let it, so
#: that permissions stop them as they stop any other user (uid 0 is still who they run as).
NO_OVERRIDE = "-dac_override,-dac_read_search"
AS_ANY_USER = (
    ["setpriv", f"--bounding-set={NO_OVERRIDE}", f"--inh-caps={NO_OVERRIDE}"]
    if os.geteuid() == 0
    else []
)


def said_in_one_line(*args: str, prefix: Sequence[str] = ()) -> str:
    """A `feedsvc` command refused as an operator sees it: error 2, and one line saying why
    (never a traceback)."""
    result = subprocess.run(
        [*prefix, str(BIN / "feedsvc"), *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    return line


def with_state_dir(site: Site, state_dir: Path) -> None:
    write_config(
        site, content=f'articles_dir = "articles"\nstate_dir = {json.dumps(str(state_dir))}'
    )


def state_dir_commands(site: Site, tmp_path: Path) -> dict[str, list[str]]:
    """Every command that uses the state_dir, by name, as an operator types it."""
    config = ["--config", str(site.config_path)]
    return {
        "refresh": ["refresh", *config],
        "build": ["build", *config, "--out", str(tmp_path / "out")],
        "clock": ["clock", *config],
        "serve": ["serve", *config, "--port", str(free_port())],
        "reload": ["reload", *config],
    }


def _a_file(tmp_path: Path) -> Path:
    state_dir = tmp_path / "var"
    state_dir.write_text("the operator's file\n", "utf-8")
    return state_dir


def _under_a_file(tmp_path: Path) -> Path:
    return _a_file(tmp_path) / "state"


def _impossible(tmp_path: Path) -> Path:
    return Path("/proc/feedsvc-state")  # no directory can be made there, by root either


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (_a_file, "state_dir {path} is a file, not a directory: move it aside, or set "
         "content.state_dir to a directory"),
        (_under_a_file, "state_dir {path} cannot be created: {path.parent} is a file, not a "
         "directory; set content.state_dir to a directory that can be made"),
        (_impossible, "state_dir {path} cannot be created (No such file or directory): create "
         "it, or set content.state_dir to a directory on a writable file system"),
    ],
    ids=["a file", "under a file", "impossible"],
)  # fmt: skip
def test_a_state_dir_that_cannot_be_a_directory_is_said_in_one_line_by_every_command(
    site: Site, tmp_path: Path, make: Callable[[Path], Path], why: str
) -> None:
    site.write("europe.txt", EUROPE)
    path = make(tmp_path)
    with_state_dir(site, path)
    commands = state_dir_commands(site, tmp_path)
    if make is not _impossible:  # a file in the way is found without writing: `check` says it
        commands["check"] = ["check", "--config", str(site.config_path)]
    else:  # `reload` never makes a state_dir (one moved aside to be restored, say)
        asked = feedsvc(*commands.pop("reload"), timeout=60)
        assert asked.returncode == 1
        said = f"feedsvc: no refresher runs on {path}: it does not exist: if it was moved aside"
        assert asked.stderr.startswith(said)
    for name, command in commands.items():
        assert said_in_one_line(*command) == f"feedsvc: {why.format(path=path)}", name
    if (tmp_path / "var").is_file():  # the operator's file, left as it was
        assert (tmp_path / "var").read_text("utf-8") == "the operator's file\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="as root, needs setpriv to run feedsvc without the right to read anything",
)
def test_a_config_file_this_user_may_not_read_is_said_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text(), "utf-8")
    path.chmod(0)
    assert said_in_one_line("check", "--config", str(path), prefix=AS_ANY_USER) == (
        f"feedsvc: {path}: cannot read the config file: Permission denied; let the user "
        f"feedsvc runs as (uid {os.geteuid()}) read it"
    )


@pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="as root, needs setpriv to run feedsvc without the right to write anything",
)
@pytest.mark.parametrize("read_only", ["state.sqlite3", "."], ids=["the store", "the state_dir"])
def test_a_state_dir_this_user_may_not_write_is_said_so_and_the_store_is_never_called_corrupt(
    site: Site, tmp_path: Path, read_only: str
) -> None:
    site.write("europe.txt", EUROPE)
    site.refresh()
    state_dir = site.root / "var"
    store = state_dir / "state.sqlite3"
    fingerprint = hashlib.sha256(store.read_bytes()).hexdigest()
    version = current_id(publish_dir(state_dir))
    target = state_dir / read_only
    mode = target.stat().st_mode
    target.chmod(0o555 if target.is_dir() else 0o444)  # as if owned by another user
    uid = os.geteuid()
    named = "its" if target.is_dir() else "the"
    fix = f"{named} ownership or permissions" + ("" if target.is_dir() else f" of {store}")
    expected = (
        f"feedsvc: state_dir {state_dir} is not writable by this user (uid {uid}): fix {fix}, or "
        "run feedsvc as the user that owns it"
    )
    commands = state_dir_commands(site, tmp_path)
    if not target.is_dir():
        del commands["reload"]  # it writes in the state_dir only: it works
    try:
        # Where feeds are published, they wait for the store, serving (see above), holding the
        # role by the lock file a refresher left; in a state_dir no refresher ran in yet, no
        # lock file can be made to hold it by: they exit.
        waiting = {name: commands.pop(name) for name in ("clock", "serve")}
        for name, command in commands.items():
            assert said_in_one_line(*command, prefix=AS_ANY_USER) == expected, name
        if target.is_dir():
            for name, command in waiting.items():
                assert said_in_one_line(*command, prefix=AS_ANY_USER) == expected, name
            target.chmod(mode)
            (state_dir / "refresher.lock").touch(0o444)  # read-only too (`chmod -R a-w`)
            target.chmod(0o555)
        for name, command in waiting.items():
            with pytest.raises(subprocess.TimeoutExpired) as waited:
                subprocess.run(
                    [*AS_ANY_USER, str(BIN / "feedsvc"), *command], capture_output=True, timeout=4
                )
            said = expected.removeprefix("feedsvc: ")
            assert said.encode() in (waited.value.stderr or b""), name
    finally:
        target.chmod(mode)
    assert hashlib.sha256(store.read_bytes()).hexdigest() == fingerprint
    assert current_id(publish_dir(state_dir)) == version


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Callable[[], None]]:
    """A tmpfs, and how to make it read-only; skipped without the right to mount one."""
    mount = tmp_path / "mounted"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)]
    if os.geteuid() != 0 or subprocess.run(command, capture_output=True).returncode != 0:
        pytest.skip("needs the right to mount a tmpfs")

    def make_read_only() -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)

    try:
        yield make_read_only
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_state_dir_on_a_read_only_mount_is_said_so_by_every_command(
    site: Site, tmp_path: Path, read_only_mount: Callable[[], None]
) -> None:
    state_dir = tmp_path / "mounted" / "var"
    with_state_dir(site, state_dir)
    site.write("europe.txt", EUROPE)
    site.refresh()
    store = state_dir / "state.sqlite3"
    fingerprint = hashlib.sha256(store.read_bytes()).hexdigest()
    read_only_mount()
    expected = (
        f"feedsvc: state_dir {state_dir} is on a read-only file system: mount it read-write, or "
        "set content.state_dir to a directory on a writable one"
    )
    for name, command in state_dir_commands(site, tmp_path).items():
        assert said_in_one_line(*command) == expected, name
    assert hashlib.sha256(store.read_bytes()).hexdigest() == fingerprint


def test_a_store_sqlite_cannot_write_is_never_called_corrupt(
    site: Site,
    tmp_path: Path,
    read_only_mount: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What SQLite says when the check before it misses a case (another way of being
    read-only): the advice is about writing, never to move the store aside."""
    from feedsvc import state

    state_dir = tmp_path / "mounted" / "var"
    with_state_dir(site, state_dir)
    site.write("europe.txt", EUROPE)
    site.refresh()
    read_only_mount()
    monkeypatch.setattr(state, "unwritable", lambda *paths: None)
    with pytest.raises(StateError) as refused:
        state.StateStore.open(state_dir)
    assert "cannot be opened for writing" in str(refused.value)
    assert "corrupt" not in str(refused.value)


def test_a_full_disk_is_said_to_be_full_and_the_store_never_called_corrupt(site: Site) -> None:
    """Moving the store aside, the advice for a corrupt one, would give every entry a new id."""
    site.write("europe.txt", EUROPE)

    result = on_a_full_disk(8192, "refresh", "--config", str(site.config_path))
    assert result.returncode == 2
    assert "the disk refused the state store's write" in result.stderr
    assert "free space on the file system" in result.stderr
    assert "corrupt" not in result.stderr and "move it aside" not in result.stderr


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--port", "99999"], "argument --port: 99999 is not a port: expected 1 to 65535"),
        (["--port", "-1"], "argument --port: -1 is not a port"),
        (["--host", "nowhere.invalid"], "--host nowhere.invalid cannot be listened on"),
    ],
)
def test_serve_on_an_address_it_cannot_have_says_so_in_one_line(
    site: Site, option: list[str], said: str
) -> None:
    site.write("europe.txt", EUROPE)
    result = feedsvc("serve", "--config", str(site.config_path), *option, timeout=60)
    assert result.returncode == 2  # said on its last line, after argparse's usage, if any
    assert said in result.stderr.strip().splitlines()[-1] and "Traceback" not in result.stderr
    assert not (site.root / "var" / "publish").exists()  # no refresh ran


def test_a_refresher_on_a_full_disk_says_so_in_one_line(site: Site) -> None:
    result = on_a_full_disk(0, "clock", "--config", str(site.config_path))
    assert result.returncode == 2
    assert result.stderr.startswith("feedsvc: state_dir ") and "cannot be used" in result.stderr
    assert "Traceback" not in result.stderr


def on_a_full_disk(room: int, *args: str) -> subprocess.CompletedProcess[str]:
    """A feedsvc command whose writes past `room` bytes of a file fail, as on a full disk."""

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        setrlimit(RLIMIT_FSIZE, (room, room))

    command = [str(BIN / "feedsvc"), *args]
    return subprocess.run(
        command, preexec_fn=small_files, capture_output=True, text=True, timeout=60
    )


def test_serve_on_a_port_in_use_says_so_in_one_line_and_refreshes_nothing(site: Site) -> None:
    site.write("europe.txt", EUROPE)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = said_in_one_line("serve", "--config", str(site.config_path), "--port", str(port))
    assert line == (
        f"feedsvc: port {port} on 127.0.0.1 is already in use (another feedsvc serve, or another "
        "server); choose another with --port (or --host)"
    )
    assert not (site.root / "var" / "publish").exists()  # no refresh ran, before or after


def test_a_file_feedsvc_fails_to_read_is_said_and_keeps_what_it_published(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A fault of feedsvc's own with one file (a reader bug, a recursion) stops nothing else."""
    site.write("a.md", "---\ntitle: Kept\nsection: Asia\n---\nBody.\n", mtime=1_700_000_000)
    site.refresh()
    read_markdown = readers.READERS[".md"]

    def failing_on_a(path: str, text: str, settings: Any, report: Any) -> Any:
        if path == "a.md":
            raise RecursionError("maximum recursion depth exceeded")
        return read_markdown(path, text, settings, report)

    monkeypatch.setitem(readers.READERS, ".md", failing_on_a)  # type: ignore[index]
    site.write("a.md", "---\ntitle: Kept, edited\nsection: Asia\n---\nBody.\n", 1_700_000_100)
    site.write("b.md", "---\ntitle: New\nsection: Asia\n---\nMore.\n", mtime=1_700_000_100)
    report = site.refresh()
    assert report.added == 1 and report.removed == 0
    assert [str(p) for p in report.problems] == [
        "a.md: error: feedsvc failed to read this file (RecursionError: maximum recursion "
        "depth exceeded); what it published stays published. Please report it, with the file",
        "a.md: warning: 'Kept' is not in this file as read; it stays published as it was until "
        "the errors here are fixed",
    ]
    assert b"<title>Kept</title>" in site.published("/feeds/asia.rss")
    assert "a.md: reading it failed" in caplog.text  # with its traceback, for the report


def test_check_reads_the_store_of_a_state_dir_this_user_may_not_write(site: Site) -> None:
    """`check` asks the store which sections were published (a7595c5): read-only, and read
    the same when SQLite cannot make the WAL's index beside it."""
    text = "Europe\nSummit\n\nLeaders met.\n\nDiplomacy\nTalks\n\nThey talked.\n"
    site.write("a.txt", text, mtime=1_700_000_000)
    site.refresh()
    site.config_path.write_text(config_without("Diplomacy"), "utf-8")
    state_dir = site.root / "var"
    for side in state_dir.glob("state.sqlite3-*"):  # a store closed cleanly
        side.unlink()
    mode = state_dir.stat().st_mode
    state_dir.chmod(0o555)  # as if owned by another user
    try:
        result = subprocess.run(
            [*AS_ANY_USER, str(BIN / "feedsvc"), "check", "--config", str(site.config_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        state_dir.chmod(mode)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "a.txt:6: error: section 'Diplomacy' is not configured" in result.stdout
