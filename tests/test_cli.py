"""`feedsvc check`, `refresh` and `build` as an operator runs them."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import pty
import pwd
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from feedsvc import cli, export
from feedsvc.config import Config
from feedsvc.errors import PublishError
from feedsvc.export import RECORD
from feedsvc.publish import MANIFEST, Version
from feedsvc.refresh import Progress, Refresher, RefreshReport
from feedsvc.state import StateStore
from tests.conftest import ROOT, Site, config_text, config_without
from tests.test_feeds import current


def feedsvc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_check_on_the_shipped_articles_is_clean() -> None:
    result = feedsvc("check", "--config", str(ROOT / "config.toml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1 files, 4 entries, 0 warnings, 0 errors"


def test_check_prints_path_line_severity_message_and_fails_on_errors(site: Site) -> None:
    site.write("good.txt", "Asia\nFine\n\nBody.\n")
    site.write("sub/bad.txt", "Asia\nTitle\n\nBell\x07.\nSports\nMatch\n\nGoal.\n")
    site.write("empty.md", "")
    result = feedsvc("check", "--config", str(site.config_path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "empty.md: error: the file is empty; add an article or delete the file",
        "sub/bad.txt:4: warning: removed 1 character(s) that feeds cannot carry (U+0007) from a "
        "paragraph",
        "sub/bad.txt:5: warning: 'Sports' and the line after it are read as paragraphs of the "
        "article above: no section is named so; if a new article starts here, add a "
        '[[sections]] entry with name = "Sports" to config.toml',
        "3 files, 2 entries, 2 warnings, 1 errors",
    ]


def test_reload_with_no_refresher_running_says_so_and_fails(site: Site) -> None:
    """A `state_dir` just changed in the config is one no refresher runs on yet."""
    result = feedsvc("reload", "--config", str(site.config_path))
    assert result.returncode == 1
    assert result.stdout == ""  # "asked the refresher (none seems to run now)" contradicted it
    assert result.stderr.startswith(f"feedsvc: no refresher runs on {site.root / 'var'}")
    # no store there: "restart it" made a new one, every article published again, new ids
    assert result.stderr.endswith(
        "If content.state_dir was just changed, the running refresher still uses the old one: "
        "stop it, move its state_dir here whole, then start it: started where no state store "
        "is, it makes a new one, and readers see every article again, under new ids\n"
    )
    site.refresh()  # a store there: the old one, and a refresher may start on it
    result = feedsvc("reload", "--config", str(site.config_path))
    assert result.stderr.endswith("the running refresher still uses the old one: restart it\n")
    # an invalid config too: not "the refresher keeps the one it runs with", there is none
    site.config_path.write_text(config_text() + "bogus = 1\n", "utf-8")
    result = feedsvc("reload", "--config", str(site.config_path))
    assert result.returncode == 1
    assert "bogus" in result.stderr and "no refresher runs on" in result.stderr
    assert "keeps the one it runs with" not in result.stderr
    # a file cut short before its state_dir: the default it seems to name is not made, or web
    # workers would serve it, empty, for good
    cut = config_text(content='state_dir = "elsewhere"')
    site.config_path.write_text(cut[: cut.index("[content]") + 4], "utf-8")
    shutil.rmtree(site.root / "var", ignore_errors=True)
    assert feedsvc("reload", "--config", str(site.config_path)).returncode == 1
    assert not (site.root / "var").exists()


def test_check_json(site: Site) -> None:
    site.write("a.txt", "Sports\nMatch\n\nGoal.\n")
    result = feedsvc("check", "--json", "--config", str(site.config_path))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["summary"] == {"files": 1, "entries": 0, "warnings": 0, "errors": 1}
    (problem,) = report["problems"]
    assert problem["path"] == "a.txt" and problem["line"] == 1
    assert problem["severity"] == "error"
    assert problem["message"].startswith("section 'Sports' is not configured")


def test_a_bad_config_is_a_clear_error(site: Site) -> None:
    site.config_path.write_text("[site]\ntitle = 1\n", encoding="utf-8")
    result = feedsvc("check", "--config", str(site.config_path))
    assert result.returncode == 2
    assert "site.title: expected a string, found integer 1" in result.stderr
    # a script that asked for JSON gets JSON (it got nothing on stdout)
    as_json = feedsvc("check", "--json", "--config", str(site.config_path))
    assert as_json.returncode == 2
    assert "site.title: expected a string" in json.loads(as_json.stdout)["config_error"]


@pytest.mark.parametrize("threads", ["0", "-1", "many", "²"])
def test_serve_refuses_a_thread_count_that_would_answer_nothing(site: Site, threads: str) -> None:
    """With no thread, waitress listened, said it served, and answered no request."""
    result = feedsvc("serve", "--threads", threads, "--config", str(site.config_path))
    assert result.returncode == 2
    assert f"{threads} is not a thread count: expected 1 to 1000" in result.stderr


def test_a_config_file_not_found_says_where_the_config_is_looked_for(tmp_path: Path) -> None:
    result = feedsvc("check", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        "cannot read the config file: No such file or directory (it is --config, else "
        "$FEEDSVC_CONFIG, else ./config.toml)"
    )


def test_reload_on_a_state_dir_linked_to_one_not_there_yet_makes_nothing(
    site: Site, tmp_path: Path
) -> None:
    """A link to where a restored copy goes: it was said as a directory that cannot be made,
    with "create it" for the fix."""
    later = tmp_path / "restored-later"
    (site.root / "var").symlink_to(later)
    result = feedsvc("reload", "--config", str(site.config_path))
    assert result.returncode == 1
    assert "it does not exist: if it was moved aside, put it back whole" in result.stderr
    assert not later.exists()


def test_check_and_refresh_say_markup_in_the_config_as_a_warning(site: Site) -> None:
    text = site.config_path.read_text("utf-8")
    site.config_path.write_text(text.replace('"Test Desk"', '"Tom &amp; Jerry"', 1), "utf-8")
    line = text.split("\n").index('title = "Test Desk"') + 1
    said = f"{site.config_path}:{line}: warning: site.title holds '&amp;'"
    checked = feedsvc("check", "--config", str(site.config_path))
    assert checked.returncode == 0 and said in checked.stdout
    assert checked.stdout.rstrip().endswith("1 warnings, 0 errors")
    refreshed = feedsvc("refresh", "--config", str(site.config_path))
    assert refreshed.returncode == 0 and said in refreshed.stderr


def test_check_says_a_state_dir_that_is_a_file_as_every_refresh_would(site: Site) -> None:
    """It passed such a config, which `refresh`, `clock` and `serve` then refused."""
    (site.root / "var").write_text("notes\n", "utf-8")
    as_json = feedsvc("check", "--json", "--config", str(site.config_path))
    assert as_json.returncode == 2
    said = json.loads(as_json.stdout)["config_error"]
    assert said.startswith(f"state_dir {site.root / 'var'} is a file, not a directory")


def test_refresh_prints_what_changed(sample_site: Site) -> None:
    result = feedsvc("refresh", "--config", str(sample_site.config_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("read 1 file(s): 4 entries added, 0 updated, 0 removed;")
    again = feedsvc("refresh", "--config", str(sample_site.config_path))
    assert "read 0 file(s): 0 entries added" in again.stdout
    assert "nothing new to publish" in again.stdout


def test_build_writes_a_static_site_with_the_url_paths(sample_site: Site, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = feedsvc("build", "--config", str(sample_site.config_path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    for path in [
        "index.html",
        "feeds.opml",
        "feeds/all.atom",
        "feeds/all.atom.gz",
        "feeds/america.rss",
        "feeds/asia.json",
        "sections/middle-east.html",
    ]:
        assert (out / path).is_file(), path
    # An article's page /articles/<slug>/ is the file articles/<slug>.html (README: one nginx
    # rule), as the home page links to it.
    pages = sorted(page.name for page in (out / "articles").iterdir())
    assert len(pages) == 4 and all(name.endswith(".html") for name in pages)
    home = (out / "index.html").read_text("utf-8")
    assert all(f'/articles/{name.removesuffix(".html")}/"' in home for name in pages)
    assert not (out / "manifest.json").exists()
    # no progress where stderr is not a terminal
    assert re.search(r"read \d+/\d+ files", result.stderr) is None


def test_build_says_every_file_left_out_each_time(sample_site: Site, tmp_path: Path) -> None:
    """A static deploy runs `build`, not `refresh`: a broken article went out unsaid (said once
    in the log of the first build, never again)."""
    sample_site.write("sports.txt", "Sports\nMatch\n\nGoal.\n")
    said = "sports.txt:1: error: section 'Sports' is not configured"
    for _ in range(2):
        out = str(tmp_path / "out")
        result = feedsvc("build", "--config", str(sample_site.config_path), "--out", out)
        assert result.returncode == 0
        assert [line for line in result.stdout.splitlines() if line.startswith(said)]


def test_reload_reads_a_damaged_store_without_a_traceback(
    sample_site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    """The refresher, asked already, says what is wrong with its store; `reload` only looked
    for sections to warn of, and raised."""
    sample_site.refresh()
    with contextlib.closing(sqlite3.connect(sample_site.root / "var" / "state.sqlite3")) as db:
        db.execute("DROP TABLE entries")
    cli._say_unpublished(sample_site.config())
    assert capsys.readouterr().err == ""


def build_into(site: Site, out: Path) -> int:
    return cli.main(["build", "--config", str(site.config_path), "--out", str(out)])


def record_of(site: Site) -> Path:
    """Where the site's builds record what they wrote into each `--out`."""
    return site.root / "var" / RECORD


def write_two_stories(site: Site) -> None:
    """One to keep, and one to take down (its page: articles/taken-down.html)."""
    site.write("kept.txt", "Asia\nKept story\n\nStays.\n")
    site.write("taken-down.txt", "Europe\nTaken down\n\nA legal takedown.\n")


@pytest.fixture
def built(site: Site, tmp_path: Path) -> Path:
    """`out` of a build of two stories (`write_two_stories`)."""
    write_two_stories(site)
    out = tmp_path / "out"
    assert build_into(site, out) == 0
    return out


def published_files(site: Site) -> dict[str, Path]:
    """The current version's files (not its manifest), by path relative to its directory."""
    version = current(site)
    return {
        str(path.relative_to(version.directory)): path
        for path in version.directory.rglob("*")
        if path.is_file() and path.name != MANIFEST
    }


def refused_build(site: Site, out: Path | str, cwd: Path | None = None) -> str:
    """A `feedsvc build` run as an operator runs it, that ends in error 2: the one line it
    says why in (never a traceback)."""
    config = str(site.config_path)
    result = feedsvc("build", "--config", config, "--out", str(out), cwd=cwd)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_build_copies_the_site_into_out_and_replaces_each_file_on_the_next_build(
    sample_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    (out / "feeds").mkdir(parents=True)
    (out / "feeds" / ".all.atom.0bad1dea.feedsvc-tmp").write_bytes(b"half of a feed")
    monkeypatch.setattr(export, "STALE_NS", 0)  # left by a build killed here, long ago
    assert build_into(sample_site, out) == 0
    first = published_files(sample_site)
    in_out = {str(p.relative_to(out)): p for p in out.rglob("*") if p.is_file()}
    assert sorted(in_out) == sorted(first)  # the stale temporary file gone, no other left
    for name, path in first.items():
        assert in_out[name].read_bytes() == path.read_bytes(), name
        # nginx serving `out` takes Last-Modified from the mtime, as from the version's
        assert in_out[name].stat().st_mtime_ns == path.stat().st_mtime_ns, name
        assert not in_out[name].samefile(path), name  # the operator's to post-process:
    home = out / "index.html"
    home.write_text("<!-- analytics -->", "utf-8")  # written in place
    assert b"analytics" not in first["index.html"].read_bytes()  # publishes nothing

    article = sample_site.articles / "000_c5ae1000a567dda7.txt"
    article.write_text(article.read_text("utf-8").replace("Atilio Boron", "Atilio Borón"), "utf-8")
    with open(out / "feeds" / "all.atom", "rb") as served:  # a server sending it meanwhile
        assert build_into(sample_site, out) == 0
        assert b"Atilio Bor\xc3\xb3n" not in served.read()  # replaced, not rewritten in place
    assert "Atilio Borón" in (out / "feeds" / "all.atom").read_text("utf-8")
    assert "analytics" not in home.read_text("utf-8")
    assert not [p for p in out.rglob("*") if p.name.endswith(".feedsvc-tmp")]


def test_build_removes_what_an_earlier_build_wrote_and_the_site_no_longer_has(
    site: Site, built: Path
) -> None:
    out = built
    assert (out / "articles" / "taken-down.html").is_file()
    (out / "robots.txt").write_text("User-agent: *\n", "utf-8")  # the operator's own files
    (out / "articles" / "about.html").write_text("<p>About us</p>", "utf-8")

    (site.articles / "taken-down.txt").unlink()
    site.config_path.write_text(config_without("Europe"), "utf-8")
    assert build_into(site, out) == 0
    assert not (out / "articles" / "taken-down.html").exists()  # no longer public
    (recorded,) = json.loads(record_of(site).read_text("utf-8")).values()
    assert "articles/taken-down.html" not in recorded  # removed: not looked for again
    assert not list((out / "feeds").glob("europe.*"))  # nor frozen feeds of a removed section
    assert (out / "articles" / "kept-story.html").is_file()
    assert (out / "robots.txt").is_file() and (out / "articles" / "about.html").is_file()
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == sorted(
        [*published_files(site), "robots.txt", "articles/about.html"]
    )


def test_build_removes_only_what_it_wrote_in_that_same_directory(
    site: Site, tmp_path: Path
) -> None:
    write_two_stories(site)
    first, second = tmp_path / "first", tmp_path / "second"
    assert build_into(site, first) == 0
    (site.articles / "taken-down.txt").unlink()
    (second / "articles").mkdir(parents=True)
    (second / "articles" / "taken-down.html").write_text("the operator's", "utf-8")
    assert build_into(site, second) == 0
    # No build wrote that file in `second`; and `first` is left as its own build wrote it.
    assert (second / "articles" / "taken-down.html").read_text("utf-8") == "the operator's"
    assert (first / "articles" / "taken-down.html").is_file()
    assert build_into(site, first) == 0
    assert not (first / "articles" / "taken-down.html").exists()


def test_build_removes_the_directories_it_emptied_and_finds_out_by_any_spelling(
    site: Site, tmp_path: Path
) -> None:
    site.write("taken-down.txt", "Europe\nTaken down\n\nA legal takedown.\n")
    out = tmp_path / "out"
    (tmp_path / "link").symlink_to(out, target_is_directory=True)
    out.mkdir()
    assert build_into(site, tmp_path / "link") == 0
    assert (out / "articles" / "taken-down.html").is_file()
    site.config_path.write_text(config_without("Europe"), "utf-8")  # its only article's section
    assert build_into(site, out) == 0  # the same directory, named otherwise
    assert not (out / "articles").exists()  # no page left, nor the directory that held them


def test_refresh_warns_when_an_edited_config_takes_a_sections_feeds_away(site: Site) -> None:
    site.write("europe.txt", "Europe\nA story\n\nIts body.\n")
    assert feedsvc("refresh", "--config", str(site.config_path)).returncode == 0
    site.config_path.write_text(config_without("Europe"), "utf-8")  # between two runs
    done = feedsvc("refresh", "--config", str(site.config_path))
    assert done.returncode == 0
    assert "WARNING feedsvc.refresh: the feeds /feeds/europe.* are gone" in done.stderr


def test_build_finishes_removing_after_a_build_that_failed_halfway(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.write("kept.txt", "Asia\nKept story\n\nStays.\n")
    out = tmp_path / "out"
    assert build_into(site, out) == 0
    site.write("new.txt", "Asia\nNew story\n\nBody.\n")
    copy = export._copy

    def disk_full_at_the_home_page(source: Path, target: Path) -> None:
        if target.name == "index.html":
            raise OSError(28, "No space left on device")
        copy(source, target)

    monkeypatch.setattr(export, "_copy", disk_full_at_the_home_page)
    assert build_into(site, out) == 2
    assert (out / "articles" / "new-story.html").is_file()  # written before it failed
    monkeypatch.setattr(export, "_copy", copy)
    (site.articles / "new.txt").unlink()
    assert build_into(site, out) == 0
    assert not (out / "articles" / "new-story.html").exists()


def test_build_copies_the_pages_kept_for_articles_no_feed_shows(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A static host serves what `--out` holds: an old item in a reader's list links there."""
    site.config_path.write_text(config_text(feeds="max_entries = 1"), "utf-8")
    site.write("old.txt", "Asia\nAn old story\n\nOld.\n", mtime=1_700_000_000)
    out = tmp_path / "out"
    assert build_into(site, out) == 0
    page = (out / "articles" / "an-old-story.html").read_bytes()
    site.write("new.txt", "Asia\nA new story\n\nNew.\n", mtime=1_700_000_100)
    capsys.readouterr()
    assert build_into(site, out) == 0
    assert " and 1 pages of articles no feed shows to " in capsys.readouterr().out
    assert "/articles/an-old-story/" not in current(site).resources  # no feed shows it
    assert (out / "articles" / "an-old-story.html").read_bytes() == page
    (site.articles / "old.txt").unlink()
    assert build_into(site, out) == 0
    assert not (out / "articles" / "an-old-story.html").exists()  # deleted: gone from out too


def test_build_never_removes_what_a_damaged_record_names_outside_out(
    site: Site, built: Path, tmp_path: Path
) -> None:
    out = built
    precious = tmp_path / "precious.txt"
    precious.write_text("the operator's", "utf-8")
    record = record_of(site)
    exported = json.loads(record.read_text("utf-8"))
    (key,) = exported
    (out / ".git").mkdir()
    (out / ".git" / "config").write_text("[core]", "utf-8")  # out deployed with git
    exported[key] += ["../precious.txt", str(precious), ".git/config", "articles/../index.html"]
    # names that the file system refuses: they leave nothing undone, and no build failing
    exported[key] = ["articles/a\0b.html", f"articles/{'x' * 300}.html", *exported[key]]
    exported[str(tmp_path)] = "precious.txt"  # not even a list
    record.write_text(json.dumps(exported), "utf-8")
    (site.articles / "taken-down.txt").unlink()
    assert build_into(site, out) == 0
    assert precious.read_text("utf-8") == "the operator's"
    assert (out / ".git" / "config").is_file() and (out / "index.html").is_file()
    assert not (out / "articles" / "taken-down.html").exists()  # the rest is still done


@pytest.mark.parametrize("damaged", ["[]", "null", '"out"'])
def test_build_takes_a_record_that_is_no_json_object_for_an_empty_one(
    site: Site, built: Path, damaged: str
) -> None:
    """Edited by hand, or cut short: nothing is removed, and the build is done."""
    record_of(site).write_text(damaged, "utf-8")
    (site.articles / "taken-down.txt").unlink()
    assert build_into(site, built) == 0
    assert (built / "articles" / "kept-story.html").is_file()
    assert (built / "articles" / "taken-down.html").is_file()  # not known to be this build's
    assert str(built) in json.loads(record_of(site).read_text("utf-8"))


def test_build_never_removes_through_a_link_the_operator_made_in_out(
    site: Site, built: Path, tmp_path: Path
) -> None:
    out = built
    elsewhere = tmp_path / "pages"
    (out / "articles").rename(elsewhere)
    (out / "articles").symlink_to(elsewhere, target_is_directory=True)
    (site.articles / "taken-down.txt").unlink()
    assert build_into(site, out) == 0
    assert (elsewhere / "taken-down.html").is_file()  # outside out: not ours to remove
    (out / "articles").unlink()  # a link for a while only: the page is then removed
    elsewhere.rename(out / "articles")
    assert build_into(site, out) == 0
    assert not (out / "articles" / "taken-down.html").exists()


def test_build_remembers_a_directory_missing_for_a_while(site: Site, tmp_path: Path) -> None:
    write_two_stories(site)
    www = tmp_path / "www"
    assert build_into(site, www / "site") == 0
    www.rename(tmp_path / "www-offline")  # a mount down, say
    assert build_into(site, tmp_path / "preview") == 0
    (tmp_path / "www-offline").rename(www)
    (site.articles / "taken-down.txt").unlink()
    assert build_into(site, www / "site") == 0
    assert not (www / "site" / "articles" / "taken-down.html").exists()


def test_build_onto_an_empty_mount_point_forgets_nothing_of_the_mounted_site(
    site: Site, tmp_path: Path
) -> None:
    write_two_stories(site)
    www = tmp_path / "www"
    assert build_into(site, www / "site") == 0
    www.rename(tmp_path / "www-offline")  # the mount is down: its mount point is empty
    www.mkdir()
    (site.articles / "taken-down.txt").unlink()
    assert build_into(site, www / "site") == 0  # a scheduled build, onto the mount point
    shutil.rmtree(www)
    (tmp_path / "www-offline").rename(www)  # the mount is back
    assert build_into(site, www / "site") == 0
    assert not (www / "site" / "articles" / "taken-down.html").exists()


def test_build_remembers_the_directories_most_recently_built_into(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "KEEP_DIRECTORIES", 2)
    site.write("kept.txt", "Asia\nKept story\n\nStays.\n")
    for name in ("a", "b", "a", "c"):  # fresh deploy directories do not grow it for ever
        assert build_into(site, tmp_path / name) == 0
    record = json.loads(record_of(site).read_text("utf-8"))
    assert list(record) == [str(tmp_path / name) for name in ("a", "c")]


def test_build_exports_the_current_version_even_if_another_refresh_published_meanwhile(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.write("kept.txt", "Asia\nKept story\n\nStays.\n")
    refresh_once = cli._refresh_once

    def and_then_the_clock_publishes(config: Config) -> tuple[RefreshReport, Version | None]:
        refreshed = refresh_once(config)
        site.write("fresh.txt", "Asia\nFresh story\n\nJust in.\n", mtime=1_750_000_100)
        site.refresh()
        return refreshed

    monkeypatch.setattr(cli, "_refresh_once", and_then_the_clock_publishes)
    out = tmp_path / "out"
    assert build_into(site, out) == 0
    # never an older site than the one served: that would take the fresh page down again
    assert (out / "articles" / "fresh-story.html").is_file()
    assert "Fresh story" in (out / "feeds" / "all.atom").read_text("utf-8")


def test_build_exports_a_page_whose_slug_is_as_long_as_allowed(site: Site, tmp_path: Path) -> None:
    slug = "a" * 250  # articles/<slug>.html: 255 bytes, ext4's limit
    site.write("long.md", f"---\ntitle: Long\nsection: Asia\nslug: {slug}\n---\nBody.\n")
    out = tmp_path / "out"
    assert build_into(site, out) == 0
    assert (out / "articles" / f"{slug}.html").is_file()


def test_build_copies_with_its_own_umask_whatever_the_refresher_had(
    sample_site: Site, tmp_path: Path
) -> None:
    private = os.umask(0o077)  # a refresher run by a unit with UMask=0077, say
    try:
        sample_site.refresh()
    finally:
        os.umask(private)
    assert published_files(sample_site)["feeds/all.atom"].stat().st_mode & 0o777 == 0o600
    out = tmp_path / "out"
    runner = os.umask(0o022)  # the build's own, as usual
    try:
        assert build_into(sample_site, out) == 0
    finally:
        os.umask(runner)
    for path in out.rglob("*"):
        if path.is_file():  # readable by nginx, as any file written with this umask
            assert path.stat().st_mode & 0o777 == 0o644, path


def test_build_into_a_symbolic_link_loop_says_so_in_one_line(
    sample_site: Site, tmp_path: Path
) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    out = tmp_path / "loop" / "site"
    assert refused_build(sample_site, out).startswith(f"feedsvc: --out {out}: ")


def test_build_never_writes_through_a_link_planted_at_a_temporary_name(
    sample_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample_site.refresh()
    out, victim = tmp_path / "out", tmp_path / "authorized_keys"
    victim.write_text("ssh-ed25519 AAAA", "utf-8")
    for name in published_files(sample_site):  # a link at the first name each copy tries
        planted = out / name
        planted.parent.mkdir(parents=True, exist_ok=True)
        planted.with_name(f".{planted.name[:64]}.guessed0{export.TEMPORARY}").symlink_to(victim)
    guesses, fresh = itertools.cycle(["guessed0", ""]), itertools.count()
    tried: list[str] = []

    def token_hex(size: int) -> str:  # each copy's first try is the planted name
        tried.append(next(guesses) or f"{next(fresh):08x}")
        return tried[-1]

    monkeypatch.setattr(export.secrets, "token_hex", token_hex)
    assert build_into(sample_site, out) == 0
    assert victim.read_text("utf-8") == "ssh-ed25519 AAAA"
    assert tried.count("guessed0") == len(published_files(sample_site))  # each one was tried
    assert len(list(out.rglob(f"*.guessed0{export.TEMPORARY}"))) == tried.count("guessed0")


def test_build_leaves_a_copy_that_another_build_has_on_its_way(
    sample_site: Site, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (out / "feeds").mkdir(parents=True)
    on_its_way = out / "feeds" / ".all.atom.0therb1d.feedsvc-tmp"  # from another state_dir
    on_its_way.write_bytes(b"half of a feed")
    assert build_into(sample_site, out) == 0
    assert on_its_way.read_bytes() == b"half of a feed"


def test_build_holds_the_build_lock_while_it_writes_into_out(
    sample_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    copy = export._copy
    locked: list[bool] = []

    def copy_checking_the_lock(source: Path, target: Path) -> None:
        with open(sample_site.root / "var" / "build.lock", "a+b") as another:
            try:
                fcntl.flock(another, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                locked.append(True)
            else:
                fcntl.flock(another, fcntl.LOCK_UN)
                locked.append(False)
        copy(source, target)

    monkeypatch.setattr(export, "_copy", copy_checking_the_lock)
    assert build_into(sample_site, tmp_path / "out") == 0
    assert locked and all(locked)


def test_build_with_an_unreadable_record_removes_nothing_and_records_anew(
    site: Site, built: Path
) -> None:
    out = built
    record_of(site).write_text("{", "utf-8")  # damaged
    (site.articles / "taken-down.txt").unlink()
    assert build_into(site, out) == 0  # what it wrote before is unknown: kept, the safe way
    assert (out / "articles" / "taken-down.html").is_file()
    site.write("new.txt", "Asia\nNew story\n\nBody.\n")
    assert build_into(site, out) == 0
    (site.articles / "new.txt").unlink()
    assert build_into(site, out) == 0  # recorded again since
    assert not (out / "articles" / "new-story.html").exists()


def test_build_into_a_directory_where_a_file_goes_says_so_and_keeps_the_version(
    sample_site: Site, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (out / "feeds" / "all.atom" / "x").mkdir(parents=True)
    message = refused_build(sample_site, out)
    assert message.startswith(f"feedsvc: cannot write the site into {out} at feeds/all.atom: ")
    assert "is published all the same: fix this and run the build again" in message
    assert "feeds/all.atom" in published_files(sample_site)
    assert not [p for p in out.rglob("*") if p.name.endswith(".feedsvc-tmp")]


def test_build_into_an_out_that_is_a_file_says_so_before_refreshing(
    sample_site: Site, tmp_path: Path
) -> None:
    out = tmp_path / "site.tar"
    out.write_text("the operator's file\n", "utf-8")
    assert refused_build(sample_site, out) == (
        f"feedsvc: --out {out} is a file, not a directory; choose a directory (it is made if "
        "missing)"
    )
    assert refused_build(sample_site, out / "public") == (
        f"feedsvc: --out {out / 'public'}: {out} is a file, not a directory; choose a directory "
        "(it is made if missing)"
    )
    assert out.read_text("utf-8") == "the operator's file\n"
    assert not (sample_site.root / "var").exists()  # said at once: nothing was refreshed


def test_build_into_an_out_with_a_file_where_a_directory_goes_says_so_and_keeps_the_version(
    sample_site: Site, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "feeds").write_text("the operator's file\n", "utf-8")
    message = refused_build(sample_site, out)
    assert message.startswith(
        f"feedsvc: cannot write the site into {out}: {out / 'feeds'} is a file, not a directory; "
        "version "
    )
    assert message.endswith("is published all the same: fix this and run the build again")
    assert (out / "feeds").read_text("utf-8") == "the operator's file\n"
    assert "feeds/all.atom" in published_files(sample_site)


def test_export_into_a_file_says_it_is_a_file(sample_site: Site, tmp_path: Path) -> None:
    """As when `--out` becomes a file between the build's look at it and its export."""
    sample_site.refresh()
    out = tmp_path / "out"
    out.write_text("the operator's file\n", "utf-8")
    expected = f"cannot write the site into {out}: it is a file, not a directory; version "
    with pytest.raises(PublishError) as refused:
        export.export(current(sample_site), out, record_of(sample_site), {})
    assert str(refused.value).startswith(expected)
    assert out.read_text("utf-8") == "the operator's file\n"


def test_build_says_so_when_it_cannot_record_what_it_wrote(
    sample_site: Site, tmp_path: Path
) -> None:
    record = record_of(sample_site)
    record.mkdir(parents=True)
    out = tmp_path / "out"
    expected = f"feedsvc: cannot record what was written into {out} in {record}: "
    assert refused_build(sample_site, out).startswith(expected)


def test_build_refuses_an_out_that_mixes_with_the_state_dir_or_the_articles(
    sample_site: Site,
) -> None:
    current = sample_site.root / "var" / "publish" / "current"
    assert "would mix the site with the state_dir" in refused_build(sample_site, current)
    assert not (sample_site.root / "var" / "publish").exists()  # nothing was refreshed
    inside = sample_site.articles / "public"  # pages read as articles at the next refresh
    assert "would mix the site with articles_dir" in refused_build(sample_site, inside)
    assert not inside.exists()
    # nor the site's root: it holds the articles (and the state_dir)
    assert "would mix the site with" in refused_build(sample_site, ".", cwd=sample_site.root)


def test_a_first_build_whose_article_changes_while_it_runs_writes_nothing_and_says_why(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site.write("asia.txt", "Asia\nA story\n\nAs first saved.\n", mtime=1_700_000_000)

    def edit_once_read(done: int, total: int) -> None:  # an editor saving during the build
        site.write("asia.txt", "Asia\nA story\n\nAs saved again.\n", mtime=1_700_000_100)

    monkeypatch.setattr(cli, "_progress", lambda: edit_once_read)
    out = tmp_path / "out"
    assert build_into(site, out) == 1
    assert "asia.txt changed while being read; run the build again" in capsys.readouterr().err
    assert not out.exists()
    monkeypatch.setattr(cli, "_progress", lambda: None)  # the editor is done
    assert build_into(site, out) == 0
    assert "As saved again." in (out / "feeds" / "all.atom").read_text("utf-8")


def test_build_shows_files_read_of_total_with_a_rate_on_a_terminal(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(12):
        site.write(f"{number:02}.txt", f"Asia\nStory {number}\n\nBody {number}.\n")
    # every reading shown, as a large corpus shows one every 0.2 s
    monkeypatch.setattr(cli, "Progress", lambda emit, every: Progress(emit, every=0.0))
    controller, terminal = pty.openpty()
    with open(terminal, "w", encoding="utf-8") as stderr:
        monkeypatch.setattr(sys, "stderr", stderr)
        assert build_into(site, tmp_path / "out") == 0
    shown = os.read(controller, 1 << 16).decode()
    os.close(controller)
    readings = re.findall(r"\rread (\d+)/12 files \([\d,]+/s\)", shown)
    assert readings == [str(done) for done in range(1, 13)]  # one line, rewritten in place
    assert re.search(r"\rread 12/12 files \([\d,]+/s\)\r?\n", shown)  # and ends the line


@pytest.mark.parametrize("command", ["refresh", "reload"])
def test_a_state_dir_whose_refresher_runs_as_another_user_is_not_written_as_this_one(
    sample_site: Site,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    """A `sudo feedsvc refresh` beside a clock run as a service user left root's files in its
    state_dir: the clock may not link to them, and every refresh failed from then on, with no
    word of the fix. With no refresher running, anyone may refresh (a container run as root
    on a mount another uid owns)."""
    sample_site.refresh()
    state_dir = sample_site.root / "var"
    lock = state_dir / "refresher.lock"
    holds = "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX)"
    clock = subprocess.Popen(  # holds the lock as a clock does, run as this user
        [sys.executable, "-c", holds + "; print(flush=True); time.sleep(60)", str(lock)],
        stdout=subprocess.PIPE,
    )
    try:
        assert clock.stdout is not None and clock.stdout.readline() == b"\n"  # locked
        lock.write_text(str(clock.pid))
        me = os.geteuid()
        before = sorted(str(p) for p in state_dir.rglob("*"))
        monkeypatch.setattr(os, "geteuid", lambda: me + 1)
        assert cli.main([command, "--config", str(sample_site.config_path)]) != 0
        said = capsys.readouterr().err
        assert (
            f"(pid {clock.pid}) runs as {pwd.getpwuid(me).pw_name}, and this is uid {me + 1}"
            in (said)
        )
        assert sorted(str(p) for p in state_dir.rglob("*")) == before
    finally:
        clock.kill()
        clock.wait()
    lock.write_text(str(clock.pid))  # gone: nobody to stop
    assert cli.main(["refresh", "--config", str(sample_site.config_path)]) == 0
    reused = subprocess.Popen(["sleep", "60"])  # its pid reused: a process without the lock
    try:
        lock.write_text(str(reused.pid))
        assert cli.main(["refresh", "--config", str(sample_site.config_path)]) == 0
    finally:
        reused.kill()
        reused.wait()


@pytest.mark.parametrize(
    ("base_url", "said"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://127.0.1.1", True),  # Debian's name for the machine itself
        ("http://[::1]:8000/news", True),
        ("http://localhost:8000", True),
        ("http://news.localhost", True),
        ("http://localhost.:8000", True),  # the absolute name
        ("http://[::ffff:127.0.0.1]:8000", True),
        ("http://0.0.0.0:8000", True),  # the Procfile's bind address
        ("https://news.example.org", False),
        ("http://192.168.1.20:8000", False),  # another machine may read it on its network
        ("http://[2001:db8::1]", False),
    ],
)
def test_the_procfiles_refresher_says_a_base_url_only_this_machine_can_reach(
    base_url: str, said: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Deployed with the config `make serve` ships, every link leads readers to their own
    machine, and each entry first published keeps an id of its host: `feedsvc clock` says so
    as it starts (test_operations.py, the Procfile's test), and how to fix it."""
    from feedsvc.urls import say_local_base_url

    with caplog.at_level(logging.WARNING):
        say_local_base_url(base_url)
    assert bool(caplog.records) is said
    if said:
        assert "set site.base_url to the site's public address" in caplog.text


def test_backup_copies_the_whole_store_while_a_refresher_holds_it_open(
    sample_site: Site, tmp_path: Path
) -> None:
    """While a refresher runs, its latest commits are in the `-wal` file beside the store: a
    copy of `state.sqlite3` alone lacks them, or every table."""
    refresher = Refresher(sample_site.config())
    try:
        refresher.refresh()
        assert (sample_site.root / "var" / "state.sqlite3-wal").stat().st_size > 0
        copy = tmp_path / "backups" / "state.sqlite3"
        copy.parent.mkdir()
        config = str(sample_site.config_path)
        said = subprocess.run(
            [sys.executable, "-m", "feedsvc", "backup", "--config", config, str(copy)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        refresher.close()
    assert said == f"backed up the state store (4 published entries) to {copy}\n"
    assert os.listdir(copy.parent) == ["state.sqlite3"]  # one file, nothing beside it
    # restored alone into a state_dir, the store opens, with every id
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copyfile(copy, restored / "state.sqlite3")
    StateStore.open(restored, expect_existing=True).close()

    def ids(store: Path) -> set[str]:
        return {row[0] for row in sqlite3.connect(store).execute("SELECT id FROM entries")}

    assert ids(restored / "state.sqlite3") == ids(sample_site.root / "var" / "state.sqlite3")


def test_refresh_emptied_takes_down_the_last_story_an_empty_listing_otherwise_keeps(
    site: Site, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """An empty articles_dir is taken for an unmounted volume, and nothing is unpublished: the
    last story could not be taken down (a court order, say) without a watcher (op38)."""
    site.write("a.txt", "Asia\nThe last story\n\nBody.\n")
    site.refresh()
    (site.articles / "a.txt").unlink()
    config = ["--config", str(site.config_path)]
    assert cli.main(["refresh", *config]) == 0
    assert "0 removed" in capsys.readouterr().out
    hint = "if they were removed on purpose, `feedsvc refresh --emptied` unpublishes their entries"
    assert any(hint in record.getMessage() for record in caplog.records)
    assert b"The last story" in site.published("/feeds/all.atom")
    assert cli.main(["refresh", "--emptied", *config]) == 0
    assert "1 removed" in capsys.readouterr().out
    assert b"The last story" not in site.published("/feeds/all.atom")


def test_backup_never_replaces_the_store_itself_nor_a_file_that_is_no_backup(
    sample_site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`feedsvc backup config.toml`, a slip for --config, replaced the config with the store;
    `feedsvc backup var/state.sqlite3` swapped the store under a running refresher (rv38)."""
    sample_site.refresh()
    config = ["--config", str(sample_site.config_path)]
    before = sample_site.config_path.read_bytes()
    assert cli.main(["backup", *config, str(sample_site.config_path)]) == 2
    assert "exists and is not an SQLite file" in capsys.readouterr().err
    assert sample_site.config_path.read_bytes() == before
    store = sample_site.root / "var" / "state.sqlite3"
    link = tmp_path / "store-link"
    link.symlink_to(store)
    for target in (store, link):
        assert cli.main(["backup", *config, str(target)]) == 2
        assert "is the state store itself" in capsys.readouterr().err
    # an earlier backup is replaced, as a nightly job does; a name as long as allowed is one
    for copy in (tmp_path / "nightly.sqlite3", tmp_path / ("b" * 250)):
        assert cli.main(["backup", *config, str(copy)]) == 0
        assert cli.main(["backup", *config, str(copy)]) == 0
    # beside the store, a file of another name is a backup's (rv38b)
    assert cli.main(["backup", *config, str(store.with_name("state.sqlite3.bak"))]) == 0
