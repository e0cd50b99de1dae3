"""Every feed is valid for real consumers, deterministic, and carries what readers need."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import gzip
import html
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

import feedgen.entry
import feedparser
import jsonschema
import pytest
from lxml import etree

from feedsvc import publish as publish_module
from feedsvc import refresh as refresh_module
from feedsvc.app import create_app
from feedsvc.corpus import FileBodies, check_files
from feedsvc.publish import ARCHIVE, Version, load_current, publish_dir
from feedsvc.refresh import Refresher, RefreshReport
from feedsvc.render import SUMMARY_CHARACTERS
from tests.conftest import ALLOW_NEW, DATA, SAMPLE, SECTIONS, Site, config_text, config_without
from tests.test_entries import entries as stored_entries

SCHEMAS = DATA / "schemas"
ATOM = "{http://www.w3.org/2005/Atom}"
SLUGS = ["all", "america", "europe", "middle-east", "asia", "diplomacy"]
BASE = "http://127.0.0.1:8000"


def current(site: Site) -> Version:
    version = load_current(publish_dir(site.root / "var"))
    assert version is not None
    return version


def feed_paths() -> list[str]:
    return [f"/feeds/{slug}.{fmt}" for slug in SLUGS for fmt in ("atom", "rss", "json")]


class Story(NamedTuple):
    number: int
    section: str
    published: datetime  #: Markdown: its front-matter date; text: its file's mtime
    markdown: bool

    @property
    def title(self) -> str:
        return f"Story {self.number}: 2 < 3 & more"  # plain text, to be escaped


def stories(count: int) -> list[Story]:
    """A multi-section corpus in both formats, with distinct dates."""
    return [
        Story(
            number,
            SECTIONS[number % len(SECTIONS)],
            datetime(2024, 1, 1 + number % 28, number % 24, tzinfo=UTC)
            if number % 2
            else datetime.fromtimestamp(1_700_000_000 + number * 3600, UTC),
            markdown=bool(number % 2),
        )
        for number in range(count)
    ]


def write_corpus(site: Site, count: int) -> None:
    for story in stories(count):
        number, section = story.number, story.section
        if story.markdown:
            site.write(
                f"{section.lower()}/{number:04d}.md",
                f"---\ntitle: '{story.title}'\nsection: {section}\n"
                f"date: {story.published.isoformat()}\n---\n\n"
                f"Opening *paragraph* {number}.\n\nSecond paragraph.\n",
                mtime=1_700_000_000 + number * 3600,
            )
        else:
            site.write(
                f"{number:04d}.txt",
                f"{section}\n{story.title}\n\nOpening {number}.\nIs it?\n",
                mtime=story.published.timestamp(),
            )


@pytest.fixture(scope="module")
def corpus_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    root = tmp_path_factory.mktemp("corpus")
    (root / "articles").mkdir()
    (root / "config.toml").write_text(
        config_text(feeds="max_entries = 20\nfull_content = true"), encoding="utf-8"
    )
    site = Site(root)
    write_corpus(site, 120)
    site.write("000_sample.txt", SAMPLE.read_bytes())
    report = site.refresh()
    assert report.problems == ()
    return site


@pytest.fixture(scope="module")
def relaxng() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))


@pytest.fixture(scope="module")
def json_schema() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(
        (SCHEMAS / "jsonfeed-1.1.schema.json").read_text("utf-8")
    )
    return loaded


@pytest.mark.parametrize("fixture", ["sample_site", "corpus_site"])
def test_every_feed_is_valid_for_real_consumers(
    fixture: str,
    request: pytest.FixtureRequest,
    relaxng: etree.RelaxNG,
    json_schema: dict[str, object],
) -> None:
    site: Site = request.getfixturevalue(fixture)
    if fixture == "sample_site":
        site.refresh()
    version = current(site)
    assert set(feed_paths()) <= set(version.resources)
    for path in feed_paths():
        body = site.published(path)
        slug = path.split("/")[-1].split(".")[0]
        # the corpus fills every feed to its limit; the sample holds four America articles
        expected = 20 if fixture == "corpus_site" else 4 if slug in ("all", "america") else 0
        if not path.endswith(".json"):  # feedparser 6 reads no JSON Feed; the schema does
            parsed = feedparser.parse(body)
            assert parsed.bozo == 0, (path, parsed.get("bozo_exception"))
            assert len(parsed.entries) == expected, path
        if path.endswith(".atom"):
            assert relaxng.validate(etree.fromstring(body)), (path, relaxng.error_log)
        if path.endswith(".json"):
            document = json.loads(body)
            # assembled from items written earlier, laid out as json.dumps lays it out
            assert body == (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
            assert len(document["items"]) == expected
            jsonschema.validate(document, json_schema, format_checker=jsonschema.FormatChecker())
            assert document["version"] == "https://jsonfeed.org/version/1.1"
            ids = [item["id"] for item in document["items"]]
            assert len(ids) == len(set(ids))


def test_the_sample_feeds(sample_site: Site) -> None:
    sample_site.refresh()
    america = feedparser.parse(sample_site.published("/feeds/america.atom"))
    assert america.entries[0].title == (
        "Coup d’état plan in Venezuela orchestrated with the US support"
    )
    assert len(america.entries) == 4
    for section in ("europe", "middle-east", "asia", "diplomacy"):
        empty = feedparser.parse(sample_site.published(f"/feeds/{section}.atom"))
        assert empty.bozo == 0 and empty.entries == []
        name = dict(zip(SLUGS[1:], SECTIONS, strict=True))[section]
        assert empty.feed.title == f"Test Desk: {name}"


def test_each_feed_keeps_its_newest_entries_newest_first(corpus_site: Site) -> None:
    newest = sorted(stories(120), key=lambda story: story.published, reverse=True)
    for slug in SLUGS:
        titles = [
            e.title for e in feedparser.parse(corpus_site.published(f"/feeds/{slug}.atom")).entries
        ]
        # the sample's four America stories (mtime 2025) are newer than the whole corpus
        sample = 4 if slug in ("all", "america") else 0
        assert len(titles) == 20 and not any(t.startswith("Story ") for t in titles[:sample])
        mine = [s.title for s in newest if slug in ("all", s.section.lower().replace(" ", "-"))]
        assert titles[sample:] == mine[: 20 - sample], slug


def atom_dates(site: Site, slug: str) -> list[tuple[str, str, str]]:
    """Each entry's title, published and updated, as the Atom feed writes them."""
    feed = etree.fromstring(site.published(f"/feeds/{slug}.atom"))
    ns = {"a": "http://www.w3.org/2005/Atom"}
    return [
        (
            e.findtext("a:title", namespaces=ns),
            *(e.findtext(f"a:{d}", namespaces=ns) for d in ("published", "updated")),
        )
        for e in feed.iterfind("a:entry", ns)
    ]


def test_files_saved_at_the_same_moment_get_dates_a_microsecond_apart(site: Site) -> None:
    """A `cp -r` or a checkout gives files one mtime; readers sort by date, and the W3C
    validator warns of two entries with the same `updated`. The file read later (by path) is
    the newer, by a microsecond; its date then never moves."""
    site.write("b.txt", "Asia\nBeta\n\nB.\n")  # the same mtime
    site.write("a.txt", "Asia\nAlpha\n\nA.\n")
    site.write("c.txt", "Asia\nAlready older\n\nC.\n", mtime=1_600_000_000)
    site.refresh()
    at = datetime.fromtimestamp(1_750_000_000, UTC).isoformat()
    later = at.replace("+00:00", ".000001+00:00")
    first = atom_dates(site, "asia")
    assert first[:2] == [("Beta", later, later), ("Alpha", at, at)]
    # HTML's <time> takes at most three digits of a second
    assert f'<time datetime="{at}">'.encode() in site.published("/articles/beta/")
    site.write("a.txt", "Asia\nAlpha\n\nA, edited.\n", mtime=1_750_000_100)
    site.write("c.txt", "Asia\nAlready older\n\nC, edited.\n", mtime=1_750_000_100)
    site.refresh()
    edited = datetime.fromtimestamp(1_750_000_100, UTC).isoformat()
    assert atom_dates(site, "asia") == [
        ("Beta", later, later),
        ("Alpha", at, edited),  # edited together: updated a microsecond apart too
        ("Already older", first[2][1], edited.replace("+00:00", ".000001+00:00")),
    ]
    site.write("d.txt", "Asia\nDelta\n\nD.\n")  # a later refresh, the same mtime again
    site.refresh()
    assert [row[1] for row in atom_dates(site, "asia")[:3]] == [
        later.replace(".000001", ".000002"),
        later,
        at,
    ]


def test_an_archive_touched_at_once_is_dated_in_file_order_a_microsecond_apart(
    site: Site,
) -> None:
    """`touch *` over a whole archive: one run of dates, first build and later refreshes alike
    (each file a step past the last of the run, not a walk along it)."""
    for number in range(300):
        site.write(f"s{number:03d}.txt", f"Asia\nStory {number}\n\nText {number}.\n")
    site.refresh()  # a first build: the dates are kept in memory
    for number in range(300, 320):
        site.write(f"s{number:03d}.txt", f"Asia\nStory {number}\n\nText {number}.\n")
    site.refresh()  # the store answers
    at = datetime.fromtimestamp(1_750_000_000, UTC)
    published = {e.title: e.published for e in stored_entries(site)}
    assert published == {
        f"Story {number}": at + timedelta(microseconds=number) for number in range(320)
    }
    md = "---\ntitle: {}\nsection: Asia\ndate: 2025-03-01T10:00:00+02:00\n---\n\nText.\n"
    site.write("z1.md", md.format("One"))
    site.refresh()
    site.write("z2.md", md.format("Two"))
    site.refresh()
    dates = {e.title: e.published.isoformat() for e in stored_entries(site)}
    assert (dates["One"], dates["Two"]) == (  # in the offset given
        "2025-03-01T10:00:00+02:00",
        "2025-03-01T10:00:00.000001+02:00",
    )


def test_files_touched_at_once_after_a_first_build_keep_each_file_s_order(site: Site) -> None:
    """Their articles a second apart, as in a first build: the store's run of taken dates ends
    at the first free microsecond, not at the latest date a second on (the article above)."""
    site.write("0.txt", "Asia\nAn older story\n\nAlready published.\n", mtime=1_700_000_000)
    site.refresh()
    two = "Europe\n{0} top\n\nFirst.\n\nEurope\n{0} bottom\n\nSecond.\n"
    for name in ("a", "b"):
        site.write(f"{name}.txt", two.format(name.upper()), mtime=1_700_003_600)
    site.refresh()
    at = datetime.fromtimestamp(1_700_003_600, UTC)
    published = {e.title: e.published for e in stored_entries(site)}
    assert {
        title: published[title] - at for title in ("A top", "B top", "A bottom", "B bottom")
    } == {
        "A top": timedelta(0),
        "B top": timedelta(microseconds=1),
        "A bottom": timedelta(seconds=-1),
        "B bottom": timedelta(seconds=-1, microseconds=1),
    }


def test_many_files_touched_at_once_after_a_first_build_each_keep_their_order(
    site: Site,
) -> None:
    """More than the store walks at a time (`state._WALKED`): each file starts where the one
    before it ended, in the same refresh."""
    site.write("0.txt", "Asia\nAn older story\n\nAlready published.\n", mtime=1_700_000_000)
    site.refresh()
    two = "Europe\nUpper {0}\n\nUpper body {0}.\n\nAsia\nLower {0}\n\nLower body {0}.\n"
    for number in range(70):
        site.write(f"f{number:03d}.txt", two.format(number), mtime=1_700_003_600)
    site.refresh()
    at = datetime.fromtimestamp(1_700_003_600, UTC)
    published = {e.title: e.published for e in stored_entries(site)}
    for number in range(70):
        step = timedelta(microseconds=number)
        assert published[f"Upper {number}"] == at + step, number
        assert published[f"Lower {number}"] == at - timedelta(seconds=1) + step, number


def test_pages_show_the_day_in_the_newsrooms_time_zone(site: Site) -> None:
    """A file's mtime is UTC; site.timezone is Europe/Paris here, two hours ahead in June."""
    site.write("late.txt", "Asia\nLate story\n\nText.\n", mtime=1_749_943_800)  # 23:30 UTC
    site.write(
        "b.md",
        "---\ntitle: Paris story\nsection: Asia\ndate: 2025-06-15T01:30:00+02:00\n---\n\nText.\n",
    )
    site.refresh()
    for slug in ("late-story", "paris-story"):
        assert b">15 June 2025</time>" in site.published(f"/articles/{slug}/"), slug
    assert site.published("/sections/asia/").count(b">15 June 2025</time>") == 2


def test_posts_dated_the_same_day_are_a_microsecond_apart_and_warned_of_nothing(
    site: Site,
) -> None:
    for name in ("one", "two"):
        site.write(
            f"{name}.md", f"---\ntitle: {name}\nsection: Asia\ndate: 2025-03-01\n---\n\nText.\n"
        )
    site.refresh()
    assert [row[1] for row in atom_dates(site, "asia")] == [
        "2025-03-01T00:00:00.000001+01:00",  # site.timezone
        "2025-03-01T00:00:00+01:00",
    ]
    site.write(
        "two.md",
        "---\ntitle: two\nsection: Asia\ndate: 2025-03-01\n---\n\nEdited.\n",
        mtime=1_750_000_100,
    )
    assert site.refresh().problems == ()  # the date is not "ignored": it is the date given


def archived(site: Site, slug: str) -> bytes | None:
    """The page kept for an article no feed shows any more, if any."""
    page = publish_dir(site.root / "var") / ARCHIVE / "articles" / f"{slug}.html"
    return page.read_bytes() if page.exists() else None


def oldest_archived(site: Site) -> None:
    """One entry a feed: "Oldest" (oldest/, a.txt) shown, then archived once "Newer" is in."""
    site.config_path.write_text(config_text(feeds="max_entries = 1"), encoding="utf-8")
    site.write("a.txt", "Asia\nOldest\n\nFirst words.\n", mtime=1_700_000_000)
    site.refresh()
    site.write("b.txt", "Asia\nNewer\n\nMore.\n", mtime=1_700_000_100)
    site.refresh()


def test_an_articles_page_outlives_the_feeds_until_the_article_is_deleted(site: Site) -> None:
    """A reader's list keeps an item long after the feeds drop it: its link must still work."""
    site.config_path.write_text(config_text(feeds="max_entries = 2"), encoding="utf-8")
    site.write("a.txt", "Asia\nOldest\n\nFirst words.\n", mtime=1_700_000_000)
    site.write("b.txt", "Asia\nMiddle\n\nMore.\n", mtime=1_700_000_100)
    site.refresh()
    page = site.published("/articles/oldest/")
    assert archived(site, "oldest") is None  # shown: the version's page is the one
    site.write("c.txt", "Asia\nNewest\n\nLatest.\n", mtime=1_700_000_200)
    site.refresh()
    assert "/articles/oldest/" not in current(site).resources
    assert archived(site, "oldest") == page  # as it was last published
    site.write("a.txt", "Asia\nOldest\n\nFirst words, corrected.\n", mtime=1_700_000_300)
    site.refresh()  # edited, still too old for the feeds: its kept page is made again
    assert b"First words, corrected." in (archived(site, "oldest") or b"")
    assert "/articles/oldest/" not in current(site).resources
    (site.articles / "a.txt").unlink()
    site.refresh()
    assert archived(site, "oldest") is None  # deleted: its page goes too
    (site.articles / "b.txt").unlink()  # "Middle", shown until now, is deleted while shown
    site.refresh()
    assert archived(site, "middle") is None and "/articles/middle/" not in current(site).resources


def test_an_archived_page_comes_back_with_its_article_and_is_made_when_the_disk_lets_it(
    site: Site,
) -> None:
    oldest_archived(site)
    moved = site.root / "a.txt"
    (site.articles / "a.txt").rename(moved)  # taken out for a while...
    site.refresh()
    assert archived(site, "oldest") is None
    moved.rename(site.articles / "a.txt")  # ...and back: the same entry, and its page
    site.refresh()
    assert b"First words." in (archived(site, "oldest") or b"")
    # The archive cannot be written (a file where its folder goes): the feeds are published
    # all the same, and the page that left them is made at the next publish.
    shutil.rmtree(publish_dir(site.root / "var") / ARCHIVE)
    (publish_dir(site.root / "var") / ARCHIVE).write_text("in the way", "utf-8")
    site.write("c.txt", "Asia\nNewest\n\nLatest.\n", mtime=1_700_000_200)
    assert site.refresh().published and "/articles/newer/" not in current(site).resources
    (publish_dir(site.root / "var") / ARCHIVE).unlink()
    site.write("d.txt", "Europe\nElsewhere\n\nNews.\n", mtime=1_700_000_300)
    site.refresh()
    assert b"More." in (archived(site, "newer") or b"")


def test_a_scheduled_article_edited_gets_no_page_before_its_date(site: Site) -> None:
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat(timespec="seconds")
    md = "---\ntitle: Embargoed\nsection: Asia\ndate: {}\n---\n\n{}\n"
    site.write("e.md", md.format(future, "Not yet."))
    site.refresh()
    site.write("e.md", md.format(future, "Not yet, edited."), mtime=1_750_000_100)
    site.refresh()
    assert archived(site, "embargoed") is None
    assert "/articles/embargoed/" not in current(site).resources


def test_an_archived_page_whose_article_cannot_be_read_again_stays_until_it_can(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    oldest_archived(site)
    page = archived(site, "oldest")
    assert page is not None and b"First words." in page
    site.write("a.txt", "Asia\nOldest\n\nFirst words, corrected.\n", mtime=1_700_000_200)
    with monkeypatch.context() as patched:  # changed again between the scan and the page
        patched.setattr(FileBodies, "body", lambda bodies, entry: None)
        site.refresh()
    assert archived(site, "oldest") == page  # as it was: never a 404
    site.write("c.txt", "Europe\nElsewhere\n\nNews.\n", mtime=1_700_000_300)
    site.refresh()  # the next publish makes it again
    assert b"First words, corrected." in (archived(site, "oldest") or b"")


def test_an_article_near_the_size_limit_is_published_with_the_rest(site: Site) -> None:
    # one paragraph of 10 MB (the default max_file_bytes is 10 MiB): a single XML text node,
    # past libxml2's default limit
    site.write("huge.txt", "Asia\nThe long read\n\n" + "word " * 2_050_000 + "\n")
    site.write("small.txt", "Asia\nA short one\n\nText.\n")
    report = site.refresh()
    assert report.problems == () and report.added == 2
    titles = [e.title for e in feedparser.parse(site.published("/feeds/asia.atom")).entries]
    assert sorted(titles) == ["A short one", "The long read"]


def test_a_section_may_show_fewer_entries_than_the_others(site: Site) -> None:
    site.config_path.write_text(
        config_text().replace('name = "Asia"\n', 'name = "Asia"\nmax_entries = 2\n'),
        encoding="utf-8",
    )
    for number in range(5):
        site.write(
            f"{number}.txt", f"Asia\nStory {number}\n\nBody.\n", mtime=1_700_000_000 + number
        )
    site.refresh()
    asia = feedparser.parse(site.published("/feeds/asia.atom")).entries
    assert [e.title for e in asia] == ["Story 4", "Story 3"]
    assert len(feedparser.parse(site.published("/feeds/all.atom")).entries) == 5
    assert len(json.loads(site.published("/feeds/asia.json"))["items"]) == 2


def test_what_every_feed_and_entry_carries(corpus_site: Site) -> None:
    tree = etree.fromstring(corpus_site.published("/feeds/asia.atom"))
    links = {link.get("rel"): link for link in tree.findall(f"{ATOM}link")}
    assert links["self"].get("href") == f"{BASE}/feeds/asia.atom"
    assert links["alternate"].get("href") == f"{BASE}/sections/asia/"
    assert tree.findtext(f"{ATOM}subtitle") == "News: Asia."
    assert tree.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert tree.findtext(f"{ATOM}generator") == "feedsvc"
    entry = tree.find(f"{ATOM}entry")
    assert entry is not None
    assert {child.tag.removeprefix(ATOM) for child in entry} >= {
        "id", "title", "link", "published", "updated", "author", "category", "summary", "content",
    }  # fmt: skip
    link = entry.find(f"{ATOM}link")
    assert link is not None and link.get("rel") == "alternate" and link.get("type") == "text/html"
    assert link.get("href", "").startswith(f"{BASE}/articles/")
    category = entry.find(f"{ATOM}category")
    assert category is not None and category.get("term") == "Asia"

    rss = etree.fromstring(corpus_site.published("/feeds/asia.rss"))
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findtext("link") == f"{BASE}/sections/asia/"
    item = channel.find("item")
    assert item is not None
    guid = item.find("guid")
    assert guid is not None and guid.get("isPermaLink") == "false"
    assert item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    assert item.findtext("{http://purl.org/dc/elements/1.1/}creator") == "Test Desk newsroom"

    document = json.loads(corpus_site.published("/feeds/asia.json"))
    assert document["feed_url"] == f"{BASE}/feeds/asia.json"
    assert document["home_page_url"] == f"{BASE}/sections/asia/"
    assert document["items"][0]["url"].startswith(f"{BASE}/articles/")


def test_titles_are_plain_text_escaped_exactly_once(corpus_site: Site) -> None:
    atom = corpus_site.published("/feeds/all.atom")
    assert b"2 < 3 &amp; more" not in atom and b"&amp;amp;" not in atom
    assert b"2 &lt; 3 &amp; more</title>" in atom
    parsed = feedparser.parse(atom)
    assert any(e.title.endswith("2 < 3 & more") for e in parsed.entries)
    document = json.loads(corpus_site.published("/feeds/all.json"))
    assert any(item["title"].endswith("2 < 3 & more") for item in document["items"])


def test_text_that_looks_like_markup_is_written_as_no_validator_takes_it_for_html(
    site: Site,
) -> None:
    """Escaped by name, "Why 3<5 and the <br> tag" and "Q&amp;A" were text the W3C validator
    warned of as HTML: RSS plain text now has hexadecimal references (RSS Best Practices
    Profile), and such an Atom title is of type "html", escaped once more."""
    title = "Why 3<5, the <br> tag & Q&amp;A"
    site.config_path.write_text(
        config_text().replace("Tests of the desk.", "Arts &amp; culture <weekly>"), "utf-8"
    )
    front = (
        f'---\ntitle: "{title}"\nsection: Asia\ntags: ["<script>", "R&D"]\n'
        'author: "Fish & Chips Desk"\n---\nBody.\n'
    )
    site.write("a.md", front)
    site.refresh()
    rss = site.published("/feeds/all.rss")
    assert b"<title>Why 3&#x3C;5, the &#x3C;br&#x3E; tag &#x26; Q&#x26;amp;A</title>" in rss
    assert b"<description>Arts &#x26;amp; culture &#x3C;weekly&#x3E;</description>" in rss
    channel = etree.fromstring(rss).find("channel")
    assert channel is not None and channel.findtext("description") == "Arts &amp; culture <weekly>"
    item = channel.find("item")
    assert item is not None and item.findtext("title") == title
    assert [c.text for c in item.iterfind("category")] == ["Asia", "<script>", "R&D"]
    assert b"<dc:creator>Fish &#x26; Chips Desk</dc:creator>" in rss
    assert (
        b"<category>&#x3C;script&#x3E;</category>" in rss
        and b"<category>R&#x26;D</category>" in rss
    )
    atom = etree.fromstring(site.published("/feeds/all.atom"))
    written = atom.find(f"{ATOM}entry/{ATOM}title")
    assert written is not None and written.get("type") == "html"
    assert html.unescape(str(written.text)) == title
    # an end tag alone is markup too; a title with none of it stays plain text
    site.write("b.txt", "Asia\nClose the </b> tag\n\nBody.\n", mtime=1_600_000_000)
    site.write("c.txt", "Asia\nA plain title\n\nBody.\n", mtime=1_500_000_000)
    site.refresh()
    atom = etree.fromstring(site.published("/feeds/all.atom"))
    types = {
        e.findtext(f"{ATOM}title"): e.find(f"{ATOM}title").get("type")
        for e in atom.iterfind(f"{ATOM}entry")
    }
    assert types["Close the &lt;/b&gt; tag"] == "html" and types["A plain title"] is None
    parsed = feedparser.parse(site.published("/feeds/all.atom"))
    assert html.unescape(parsed.entries[0].title) == title
    subtitle = atom.find(f"{ATOM}subtitle")
    assert subtitle is not None and subtitle.get("type") == "html"
    assert html.unescape(parsed.feed.subtitle) == "Arts &amp; culture <weekly>"
    assert json.loads(site.published("/feeds/all.json"))["items"][0]["title"] == title


def test_a_summary_is_shown_as_written_in_every_format(site: Site) -> None:
    """RSS readers take a <description> as HTML: text that looks like markup must be escaped
    there once more, or "<b>" would be obeyed rather than shown. Atom's summary is so too:
    validators warn of markup-like text in one of type "text" (a first paragraph quoting
    code)."""
    written = "Not <b>bold</b> & not an entity: &amp; nor a tag: a < b > c."
    site.write("markup.txt", f"Asia\nMarkup in the text\n\n{written}\nMore.\n")
    site.refresh()
    rss = feedparser.parse(site.published("/feeds/all.rss")).entries[0]
    assert rss.summary_detail.type == "text/html"
    assert "<" not in rss.summary and html.unescape(rss.summary) == written
    atom = feedparser.parse(site.published("/feeds/all.atom")).entries[0]
    assert atom.summary_detail.type == "text/html"
    assert "<" not in atom.summary and html.unescape(atom.summary) == written
    assert json.loads(site.published("/feeds/all.json"))["items"][0]["summary"] == written


def test_a_long_first_paragraph_is_cut_for_the_summary_an_authors_summary_never(
    site: Site,
) -> None:
    """A transcript pasted as one paragraph went out twice per item, summary and content."""
    words = "The minister answered every question put to her at length. " * 40
    site.write("a.txt", f"Asia\nA transcript\n\n{words}\n")
    site.write("b.txt", f"Europe\nWithout spaces\n\n{'字' * 2000}\n")
    summary = "An author's summary, " + "long " * 200
    site.write("c.md", f"---\ntitle: Summed up\nsection: Asia\nsummary: {summary}\n---\nBody.\n")
    site.refresh()
    items = {i["title"]: i for i in json.loads(site.published("/feeds/all.json"))["items"]}
    cut = items["A transcript"]["summary"]
    assert len(cut) <= SUMMARY_CHARACTERS and cut.endswith("\u2026")
    assert words.startswith(cut[:-1]) and words[len(cut) - 1] == " "  # after a whole word
    assert len(items["A transcript"]["content_html"]) > 2000
    assert items["Without spaces"]["summary"] == "字" * (SUMMARY_CHARACTERS - 1) + "\u2026"
    assert items["Summed up"]["summary"] == summary.strip()


def test_a_summary_is_cut_after_a_whole_word_and_a_first_paragraph_of_the_limit_kept_whole(
    site: Site,
) -> None:
    words = "The ministers answered questions at length. " * 40  # the limit falls in a word
    exact = "a" * 200 + " " + "b" * (SUMMARY_CHARACTERS - 201)
    site.write("a.txt", f"Asia\nA transcript\n\n{words}\n")
    site.write("b.txt", f"Europe\nJust short enough\n\n{exact}\n\nMore.\n")
    site.refresh()
    items = {i["title"]: i for i in json.loads(site.published("/feeds/all.json"))["items"]}
    cut = items["A transcript"]["summary"]
    assert cut == words[: words.rindex(" ", 0, SUMMARY_CHARACTERS - 1)] + "\u2026"
    assert items["Just short enough"]["summary"] == exact


@pytest.mark.parametrize(
    ("drawn", "name"),
    [
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467", "a family, joined"),
        ("\U0001f1fa\U0001f1e6", "a flag"),
        ("\u0e01\u0e34\u0e49", "a Thai letter, its vowel and its tone"),
        ("\U0001f44b\U0001f3fd", "a hand and its skin tone"),
    ],
)
def test_a_summary_cut_where_there_are_no_spaces_never_cuts_a_character_in_two(
    site: Site, drawn: str, name: str
) -> None:
    """Cut at the 499th code point, it ended in half a flag or a joiner, drawn as garbage."""
    for offset in range(len(drawn) + 1):  # the limit falls at each place within one
        paragraph = "x" * offset + drawn * SUMMARY_CHARACTERS
        site.write("a.txt", f"Asia\nWithout spaces\n\n{paragraph}\n")
        site.refresh()
        (item,) = json.loads(site.published("/feeds/all.json"))["items"]
        cut = item["summary"].removesuffix("\u2026").removeprefix("x" * offset)
        assert cut == drawn * (len(cut) // len(drawn)), (name, offset)


def test_a_feeds_description_is_plain_text_in_rss_as_in_atom(site: Site) -> None:
    """Only an item's RSS description is HTML: escaped twice, the channel's "&" showed as
    "&amp;", and the W3C validator said "description should not contain HTML"."""
    site.config_path.write_text(
        config_text().replace("Tests of the desk.", "Culture, books & ideas"), "utf-8"
    )
    site.write("a.txt", "Asia\nA story\n\nBody.\n")
    site.refresh()
    channel = etree.fromstring(site.published("/feeds/all.rss")).find("channel")
    assert channel is not None and channel.findtext("description") == "Culture, books & ideas"
    assert feedparser.parse(site.published("/feeds/all.atom")).feed.subtitle == (
        "Culture, books & ideas"
    )


def test_rss_dates_are_in_utc_where_the_offset_is_not_whole_or_half_hours(site: Site) -> None:
    """Validators take RFC 822 zones as whole or half hours: a newsroom in Kathmandu (+05:45)
    had every item's pubDate warned of. Atom, RFC 3339, keeps the offset."""
    site.config_path.write_text(config_text().replace("Europe/Paris", "Asia/Kathmandu"), "utf-8")
    front = "title: Budget passed\nsection: Asia\ndate: 2025-05-29T14:00:00"
    site.write("budget.md", f"---\n{front}\n---\nBody.\n")
    site.refresh()
    channel = etree.fromstring(site.published("/feeds/all.rss")).find("channel")
    assert channel is not None
    assert channel.findtext("item/pubDate") == "Thu, 29 May 2025 08:15:00 +0000"
    assert channel.findtext("lastBuildDate") == "Thu, 29 May 2025 08:15:00 +0000"
    assert b"<published>2025-05-29T14:00:00+05:45</published>" in site.published("/feeds/all.atom")


def test_a_tag_naming_the_section_is_not_a_second_category(site: Site) -> None:
    site.write("a.md", '---\ntitle: T\nsection: Asia\ntags: ["asia", "energy"]\n---\nBody.\n')
    site.refresh()
    item = etree.fromstring(site.published("/feeds/all.rss")).find("channel/item")
    assert item is not None and [c.text for c in item.iter("category")] == ["Asia", "energy"]
    (shown,) = json.loads(site.published("/feeds/all.json"))["items"]
    assert shown["tags"] == ["Asia", "energy"]


def test_a_long_tag_list_costs_one_pass_not_one_per_tag(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """feedgen makes an entry's RSS categories anew at each `category` call: called per tag,
    a file of 10,000 tags held every refresh for 16 s (the square of the count)."""
    tags = [f"t{number}" for number in range(300)]
    site.write("a.md", f"---\ntitle: T\nsection: Asia\ntags: [{', '.join(tags)}]\n---\nB.\n")
    calls: list[int] = []
    category = feedgen.entry.FeedEntry.category

    def counted(entry: feedgen.entry.FeedEntry, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return category(entry, *args, **kwargs)

    monkeypatch.setattr(feedgen.entry.FeedEntry, "category", counted)
    site.refresh()
    item = etree.fromstring(site.published("/feeds/all.rss")).find("channel/item")
    assert item is not None and [c.text for c in item.iter("category")] == ["Asia", *tags]
    terms = etree.fromstring(site.published("/feeds/all.atom")).iter(f"{ATOM}category")
    assert [c.get("term") for c in terms] == ["Asia", *tags]
    assert 0 < len(calls) <= 4  # once an entry written: Atom and RSS, in Asia's feeds and all's


def test_a_feeds_updated_is_its_newest_entry_never_the_build_time(corpus_site: Site) -> None:
    parsed = feedparser.parse(corpus_site.published("/feeds/europe.atom"))
    assert parsed.feed.updated_parsed == max(e.updated_parsed for e in parsed.entries)


@pytest.mark.parametrize("articles", [30, 0])
def test_two_builds_of_the_same_input_are_byte_identical(tmp_path: Path, articles: int) -> None:
    """The same bytes, ETags, Last-Modified dates and so version id, a second apart or not."""
    bodies, ids = [], set()
    for name in ("one", "two"):
        root = tmp_path / name
        (root / "articles").mkdir(parents=True)
        (root / "config.toml").write_text(config_text(), encoding="utf-8")
        site = Site(root)
        write_corpus(site, articles)
        site.refresh()
        version = current(site)
        bodies.append({p: site.published(p) for p in version.resources})
        ids.add(version.id)
        gz = (version.directory / "feeds/all.atom.gz").read_bytes()
        assert gzip.decompress(gz) == bodies[-1]["/feeds/all.atom"]
        time.sleep(1.0 if name == "one" else 0)
    assert bodies[0] == bodies[1] and len(ids) == 1


def test_a_changed_article_changes_only_the_feeds_that_contain_it(site: Site) -> None:
    write_corpus(site, 30)
    site.refresh()
    before = current(site)
    path = site.articles / "0010.txt"  # section America (10 % 5 == 0)
    path.write_text(path.read_text("utf-8").replace("Opening 10.", "Rewritten."), "utf-8")
    os.utime(path, (1_800_000_000, 1_800_000_000))
    report = site.refresh()
    after = current(site)
    changed = {p for p in after.resources if after.resources[p].etag != before.resources[p].etag}
    feeds = {p for p in changed if p.startswith("/feeds/")}
    assert feeds == {
        f"/feeds/{slug}.{fmt}" for slug in ("all", "america") for fmt in ("atom", "rss", "json")
    }
    # Pages that list only titles were rendered again, and came out the same.
    assert changed <= set(report.rendered)
    assert {p for p in report.rendered if p.startswith("/feeds/")} == feeds


def test_an_entry_is_written_once_and_copied_into_every_feed_that_shows_it(site: Site) -> None:
    """Feeds are assembled from entries written earlier: the same bytes as lxml writes for the
    whole document, and an edited entry is written anew, never reused, and its old writing let
    go."""
    from feedsvc.refresh import Refresher
    from feedsvc.render import (
        _WRITTEN,
        FORMATS,
        _plain_text_written,
        _whole_document,
        _xml_bytes,
        feed_model,
        feed_specs,
    )

    write_corpus(site, 30)
    refresher = Refresher(site.config())
    refresher.refresh()
    config = refresher.config
    newest = refresher.store.newest
    models = [
        feed_model(
            config, spec, [refresher._show(e) for e in newest(spec.section, 50, datetime.now(UTC))]
        )
        for spec in feed_specs(config)
    ]
    _WRITTEN.clear()
    cold = [FORMATS[fmt](model) for model in models for fmt in ("atom", "rss")]
    # `all` shows what the sections show: its entries were copied, not written again
    shown = {e.id for model in models for e in model.entries}
    assert sorted(len(forms) for forms in _WRITTEN.values()) == [2] * len(shown)
    assert [FORMATS[fmt](model) for model in models for fmt in ("atom", "rss")] == cold
    whole = [
        _plain_text_written(_xml_bytes(_whole_document(model, model.entries, fmt)[0]), fmt)
        for model in models
        for fmt in ("atom", "rss")
    ]
    assert cold == whole
    empty = dataclasses.replace(models[0], entries=())
    for fmt in ("atom", "rss"):
        written = _plain_text_written(_xml_bytes(_whole_document(empty, (), fmt)[0]), fmt)
        assert FORMATS[fmt](empty) == written
    del models
    path = site.articles / "0010.txt"
    path.write_text(path.read_text("utf-8").replace("Opening 10.", "Rewritten."), "utf-8")
    os.utime(path, (1_800_000_000, 1_800_000_000))
    refresher.refresh()
    for fmt in ("atom", "rss"):
        assert b"Rewritten." in site.published(f"/feeds/all.{fmt}")
        assert b"Opening 10." not in site.published(f"/feeds/america.{fmt}")
    gc.collect()
    assert not any("Opening 10." in entry.content_html for entry in _WRITTEN)  # let go


def test_a_feed_is_written_when_the_entry_holding_a_shown_ones_writing_dies_meanwhile(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Equal entries share one writing, kept while the first of them lives. That one may die
    (a collection) while a feed's new entries are written: the feed is written all the same,
    as the whole document would be."""
    from feedsvc import render

    write_corpus(site, 3)
    refresher = Refresher(site.config())
    refresher.refresh()
    config = refresher.config
    spec = next(spec for spec in render.feed_specs(config) if spec.section is None)
    entries = refresher.store.newest(None, 50, datetime.now(UTC))
    first = [dataclasses.replace(refresher._show(e)) for e in entries[1:]]
    monkeypatch.setattr(render, "_WRITTEN", WeakKeyDictionary())
    render.write_atom(render.feed_model(config, spec, first))  # their writing, kept by `first`
    again = [dataclasses.replace(shown) for shown in first]  # equal, not the same objects
    model = render.feed_model(config, spec, [refresher._show(entries[0]), *again])
    written = render._write_entries

    def dying_meanwhile(*args: object) -> list[bytes]:
        first.clear()  # the entries holding the others' writing die
        gc.collect()
        return written(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(render, "_write_entries", dying_meanwhile)
    atom = render.write_atom(model)
    assert atom == render._xml_bytes(render._whole_document(model, model.entries, "atom")[0])


def test_the_opml_lists_every_feed_grouped_by_format(corpus_site: Site) -> None:
    opml = etree.fromstring(corpus_site.published("/feeds.opml"))
    assert opml.get("version") == "2.0"
    folders = opml.findall("body/outline")
    assert [f.get("text") for f in folders] == ["Atom 1.0", "RSS 2.0", "JSON Feed 1.1"]
    for folder, fmt in zip(folders, ("atom", "rss", "json"), strict=True):
        urls = [o.get("xmlUrl") for o in folder]
        assert urls == [f"{BASE}/feeds/{slug}.{fmt}" for slug in SLUGS]
        assert all(o.get("type") == "rss" and o.get("htmlUrl", "").startswith(BASE) for o in folder)


def test_summary_only_feeds_when_full_content_is_off(site: Site) -> None:
    site.config_path.write_text(config_text(feeds="full_content = false"), encoding="utf-8")
    write_corpus(site, 5)
    site.refresh()
    atom = etree.fromstring(site.published("/feeds/all.atom"))
    assert atom.find(f"{ATOM}entry/{ATOM}content") is None
    assert atom.findtext(f"{ATOM}entry/{ATOM}summary")
    item = json.loads(site.published("/feeds/all.json"))["items"][0]
    assert "content_html" not in item and item["content_text"] == item["summary"]


def test_an_icon_and_an_external_link_pattern(site: Site) -> None:
    site.config_path.write_text(
        config_text().replace(
            'description = "Tests of the desk."',
            'description = "Tests of the desk."\nicon = "https://cdn.example.org/icon.png"\n'
            'link_pattern = "https://news.example.org/story/{slug}"',
        ),
        encoding="utf-8",
    )
    site.write("a.txt", "Asia\nA story\n\nBody.\n")
    site.refresh()
    atom = etree.fromstring(site.published("/feeds/asia.atom"))
    assert atom.findtext(f"{ATOM}icon") == "https://cdn.example.org/icon.png"
    link = atom.find(f"{ATOM}entry/{ATOM}link")
    assert link is not None and link.get("href") == "https://news.example.org/story/a-story"
    document = json.loads(site.published("/feeds/asia.json"))
    assert document["icon"] == "https://cdn.example.org/icon.png"
    assert document["items"][0]["url"] == "https://news.example.org/story/a-story"


def allow_new_sections(site: Site) -> None:
    site.config_path.write_text(config_text(content=ALLOW_NEW), encoding="utf-8")


def titles(site: Site, slug: str) -> list[str]:
    """The entry titles of a section's Atom feed, newest first."""
    return [e.title for e in feedparser.parse(site.published(f"/feeds/{slug}.atom")).entries]


def test_a_base_url_written_with_a_trailing_slash_gives_links_with_one_slash(site: Site) -> None:
    site.config_path.write_text(config_text(base_url="https://news.example.org/desk/"), "utf-8")
    site.write("asia.txt", "Asia\nA story\n\nBody.\n", mtime=1_700_000_000)
    site.refresh()
    parsed = feedparser.parse(site.published("/feeds/asia.atom"))
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == "https://news.example.org/desk/feeds/asia.atom"
    assert links["alternate"] == "https://news.example.org/desk/sections/asia/"
    assert parsed.entries[0].link == "https://news.example.org/desk/articles/a-story/"


def test_a_section_name_written_with_spaces_around_it_is_the_name_without_them(
    site: Site,
) -> None:
    """As an article's section line is read: 'Asia ' in the config is the section 'Asia'."""
    site.config_path.write_text(config_text(sections=["Asia ", " Europe"]), encoding="utf-8")
    site.write("asia.txt", "Asia\nA story\n\nBody.\n", mtime=1_700_000_000)
    assert site.refresh().problems == ()
    parsed = feedparser.parse(site.published("/feeds/asia.atom"))
    assert parsed.feed.title == "Test Desk: Asia"
    assert [(e.title, [t.term for t in e.tags]) for e in parsed.entries] == [("A story", ["Asia"])]
    opml = site.published("/feeds.opml").decode()
    assert 'text="Test Desk: Asia"' in opml and 'text="Test Desk: Europe"' in opml


def test_allowed_new_sections_get_feeds_of_their_own(site: Site) -> None:
    allow_new_sections(site)
    site.write("a.txt", "Sports\nMatch report\n\nGoal.\n")
    site.refresh()
    assert titles(site, "sports") == ["Match report"] and titles(site, "all") == ["Match report"]


def test_titles_and_sections_in_other_scripts_get_slugs_of_their_own(site: Site) -> None:
    """Not 'untitled', 'untitled-2'...: removing the first such section would have handed its
    feed URL to the next (Greek subscribers getting Japanese news)."""
    allow_new_sections(site)
    site.write("a.txt", "Ελλάδα\nΝέα κυβέρνηση\n\nΚείμενο.\n")
    site.write("b.txt", "Россия\nНовости дня\n\nТекст.\n")
    site.write("c.txt", "Asia\nCoup d\u2019état plan, Straße\n\nText.\n")
    site.write("d.txt", "Außenpolitik\nŁódź mayor meets Зеленский\n\nText.\n")
    site.refresh()
    assert titles(site, "ellada") == ["Νέα κυβέρνηση"] and titles(site, "rossiya") == [
        "Новости дня"
    ]
    # a section's slug, made at every start, as it always was: its subscribers' URL stays
    assert titles(site, "auenpolitik") == ["Łódź mayor meets Зеленский"]
    # an article's, made once, has every letter
    assert {e.title: e.slug for e in stored_entries(site)} == {
        "Νέα κυβέρνηση": "nea-kyvernisi",
        "Новости дня": "novosti-dnya",
        "Coup d\u2019état plan, Straße": "coup-detat-plan-strasse",
        "Łódź mayor meets Зеленский": "lodz-mayor-meets-zelenskiy",
    }


@pytest.mark.parametrize("key", ["section", "category"])  # Hugo's and Jekyll's name for it
def test_a_new_section_spelled_in_another_case_is_the_same_section(site: Site, key: str) -> None:
    allow_new_sections(site)
    site.write("a.txt", "Sports\nMatch report\n\nGoal.\n", mtime=1_700_000_000)
    site.refresh()
    site.write("b.md", f"---\ntitle: Transfer news\n{key}: sports\n---\n\nSigned.\n", 1.8e9)
    report = site.refresh()
    assert [str(p) for p in report.problems] == [
        "b.md:3: warning: section 'sports' is published as 'Sports', as other files spell it "
        "(spell it the same to silence this)"
    ]
    assert titles(site, "sports") == ["Transfer news", "Match report"]
    assert "/feeds/sports-2.atom" not in current(site).resources
    _, _, checked = check_files(site.config())  # which spelling is published, it cannot know
    assert [str(p) for p in checked] == [
        "b.md:3: warning: section 'sports' is spelled 'Sports' in a.txt: one section, published "
        "as its oldest entries spell it (spell it the same to silence this)"
    ]
    # its body edited, the article keeps its entry: an update, not a second entry
    site.write("b.md", f"---\ntitle: Transfer news\n{key}: sports\n---\n\nSigned today.\n", 1.9e9)
    assert (site.refresh().updated, titles(site, "sports")[0]) == (1, "Transfer news")


def test_a_new_section_re_spelled_in_its_only_file_takes_the_new_spelling(site: Site) -> None:
    allow_new_sections(site)
    site.write("a.md", "---\ntitle: Match report\nsection: Sports\n---\n\nGoal.\n", 1.7e9)
    site.refresh()
    site.write("a.md", "---\ntitle: Match report\nsection: sports\n---\n\nGoal.\n", 1.8e9)
    report = site.refresh()
    assert report.problems == () and report.updated == 1
    assert feedparser.parse(site.published("/feeds/sports.atom")).feed.title == "Test Desk: sports"


def test_new_sections_whose_names_make_a_taken_slug_get_the_next_free_one(site: Site) -> None:
    allow_new_sections(site)
    site.write("a.txt", "Foo Bar\nSpaced\n\nA.\n", mtime=1_700_000_000)
    site.write("b.txt", "Foo-Bar\nHyphenated\n\nB.\n", mtime=1_700_000_100)
    site.write("c.txt", "All\nA section called All\n\nC.\n", mtime=1_700_000_200)
    site.write("d.txt", "Middle-East\nNot quite Middle East\n\nD.\n", mtime=1_700_000_300)
    for edit in range(2):  # the second publish links the first one's files: each once
        site.write("e.txt", f"Asia\nEdited {edit} times\n\nE.\n", mtime=1_700_000_400 + edit)
        assert site.refresh().published

    assert titles(site, "foo-bar") == ["Spaced"] and titles(site, "foo-bar-2") == ["Hyphenated"]
    assert titles(site, "all-2") == ["A section called All"]
    assert titles(site, "middle-east") == []
    assert titles(site, "middle-east-2") == ["Not quite Middle East"]
    assert len(titles(site, "all")) == 5  # the combined feed is still every section's


def test_an_article_page_links_to_its_section_where_the_section_moved(site: Site) -> None:
    allow_new_sections(site)
    site.write("a.txt", "Foo Bar\nSpaced\n\nA.\n", mtime=1_700_000_000)
    site.write("b.txt", "Foo-Bar\nHyphenated\n\nB.\n", mtime=1_700_000_100)
    site.refresh()
    (site.articles / "a.txt").unlink()  # its section gone: "Foo-Bar" takes its slug
    site.refresh()

    page = site.published("/articles/hyphenated/").decode()
    assert titles(site, "foo-bar") == ["Hyphenated"]
    assert "/sections/foo-bar/" in page and "/feeds/foo-bar.atom" in page
    assert "foo-bar-2" not in page


def test_last_modified_is_never_in_the_future_and_moves_when_the_opml_changes(site: Site) -> None:
    future = datetime(2052, 1, 1, tzinfo=UTC)
    site.write("asia.txt", "Asia\nDated in 2052 by mistake\n\nBody.\n", mtime=future.timestamp())
    before = datetime.now(UTC) - timedelta(seconds=1)  # dated as first seen: just before
    site.refresh()
    first = current(site).resources
    assert before <= first["/feeds/all.atom"].last_modified <= datetime.now(UTC)  # not 2052
    assert before <= first["/feeds.opml"].last_modified  # not 1970: it can change
    site.config_path.write_text(config_text() + '[[sections]]\nname = "Sports"\n', "utf-8")
    site.refresh()
    opml = current(site).resources["/feeds.opml"]
    assert opml.last_modified > first["/feeds.opml"].last_modified  # the new section's feed
    assert b"sports" in (current(site).directory / opml.file).read_bytes()


def test_an_article_from_a_clock_ahead_of_ours_is_published_now_dated_now(site: Site) -> None:
    for n in range(3):  # files copied together: one mtime, and no entry dated ahead
        site.write(f"asia-{n}.txt", f"Asia\nFrom a fast clock {n}\n\nBody.\n", mtime=2_000_000_000)
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert site.refresh().scheduled == 0
    for entry in feedparser.parse(site.published("/feeds/all.rss")).entries:
        published = datetime(*entry.published_parsed[:6], tzinfo=UTC)
        assert before.replace(microsecond=0) <= published <= datetime.now(UTC)  # not 2033


@pytest.mark.parametrize("stamped", [1, datetime(1980, 1, 1, tzinfo=UTC).timestamp()])
def test_articles_from_files_stamped_before_1990_are_dated_as_first_seen_and_said(
    site: Site, stamped: float
) -> None:
    """A Nix store stamps files 1970, reproducible archives 1980: dated so, new stories were
    older than every entry the feeds show, and so in none of them. Dated now, all alike, the
    later ones were a microsecond in the future, scheduled: they are dated just before."""
    site.config_path.write_text(config_text(feeds="max_entries = 5"), "utf-8")
    site.write("news.txt", "Asia\nYesterday's story\n\nBody.\n", mtime=1_700_000_000)
    site.refresh()
    for n in range(5):
        site.write(f"stamped-{n}.txt", f"Asia\nStamped story {n}\n\nBody.\n", mtime=stamped)
    md = "---\ntitle: Dated by its author\nsection: Asia\ndate: 2025-01-01T09:00:00Z\n---\nB.\n"
    site.write("dated.md", md, mtime=stamped)  # its date is its own: nothing to say
    day = datetime.fromtimestamp(stamped, UTC).date().isoformat()
    said = [
        f"stamped-{n}.txt: warning: the file's modification time is {day}, before 1990: not "
        "when it was written (copied from an archive that stamps every file alike?); the "
        "articles it brought without a date are dated as first seen"
        for n in range(5)
    ]
    assert [str(p) for p in check_files(site.config())[2]] == said  # before any refresh too
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    report = site.refresh()
    assert report.scheduled == 0
    entries = feedparser.parse(site.published("/feeds/asia.rss")).entries
    assert sorted(e.title for e in entries) == [f"Stamped story {n}" for n in range(5)]
    for entry in entries:
        assert before <= datetime(*entry.published_parsed[:6], tzinfo=UTC) <= datetime.now(UTC)
    assert [str(p) for p in report.problems] == said
    assert [str(p) for p in check_files(site.config())[2]] == said  # as the refresh said


def test_a_story_dated_as_first_seen_is_never_older_than_one_shown_already(site: Site) -> None:
    """A second before the refresh began, a story from a file stamped 1980 came before one a
    publish had shown a moment earlier: readers got it below the last, and the feed's date
    did not move."""
    refresher = Refresher(site.config())
    try:
        site.write("local.txt", "Asia\nLocal story\n\nBody.\n", mtime=time.time())
        refresher.saw_closed("local.txt")  # as the watcher says: read at once, not left to settle
        refresher.refresh()
        for name in "ab":  # files of three, the newest first; b read after a, so newer
            stories = "".join(f"Asia\nStory {name}{n}\n\nBody {n}.\n" for n in range(3))
            site.write(f"{name}.txt", stories, mtime=315532800)
        refresher.refresh()
    finally:
        refresher.close()
    parsed = feedparser.parse(site.published("/feeds/all.atom"))
    titles = [f"Story {name}{n}" for name in "ba" for n in range(3)]
    assert [e.title for e in parsed.entries] == [*titles, "Local story"]
    assert parsed.feed.updated_parsed == parsed.entries[0].updated_parsed


def test_stories_dated_as_first_seen_just_after_a_publish_are_never_scheduled(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last publish 20 µs before the refresh, 50 stories to date after it: dated from it
    upwards, 30 were in the future, left out as scheduled."""
    real = Refresher._update_settings

    def just_after_a_publish(self: Refresher, *args: Any) -> Any:
        settings = real(self, *args)
        return dataclasses.replace(settings, shown_until=settings.now - timedelta(microseconds=20))

    monkeypatch.setattr(Refresher, "_update_settings", just_after_a_publish)
    stories = "".join(f"Asia\nStamped story {n}\n\nBody {n}.\n" for n in range(50))
    site.write("stamped.txt", stories, mtime=315532800)
    site.config_path.write_text(config_text(feeds="max_entries = 100"), "utf-8")
    report = site.refresh()
    assert report.scheduled == 0 and report.added == 50
    assert len(feedparser.parse(site.published("/feeds/all.atom")).entries) == 50


def test_an_update_dated_in_the_future_is_taken_as_made_now(site: Site) -> None:
    front = "title: Corrected\nsection: Asia\ndate: 2025-01-01T09:00:00Z\nupdated: 2052-01-01"
    site.write("corrected.md", f"---\n{front}\n---\n\nBody.\n")
    before = datetime.now(UTC).replace(microsecond=0)
    site.refresh()
    (entry,) = feedparser.parse(site.published("/feeds/all.atom")).entries
    assert before <= datetime(*entry.updated_parsed[:6], tzinfo=UTC) <= datetime.now(UTC)


def scheduled_story(due: datetime, title: str = "Embargoed story") -> str:
    return f"---\ntitle: {title}\nsection: Europe\ndate: {due.isoformat()}\n---\n\nBody.\n"


def in_whole_seconds(seconds: int) -> datetime:
    """A moment that many seconds from now, as a front-matter date gives it (no microseconds)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)


def sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.1)


def test_a_scheduled_article_takes_its_new_date_until_it_is_out(site: Site) -> None:
    """An embargo moved, or a mistyped date fixed: never shown, an entry is dated anew (its id
    stays); shown, its date never moves again, and the operator is told the edit is ignored."""
    site.write("out.txt", "Asia\nOut already\n\nBody.\n", mtime=1_700_000_000)
    soon = in_whole_seconds(2)
    site.write("later.md", scheduled_story(soon))
    site.refresh()
    later = datetime(2051, 1, 1, tzinfo=UTC)
    site.write("later.md", scheduled_story(later), mtime=1_750_000_100)  # moved before `soon`
    sleep_until(soon)  # and first read just after it (a slow tick): it was never shown
    report = site.refresh()
    assert (report.scheduled, report.next_scheduled) == (1, later)
    assert "Embargoed" not in site.published("/feeds/all.atom").decode()
    (stored,) = [e for e in stored_entries(site) if e.title == "Embargoed story"]
    # A tag URI is never dated in the future: the file's date (the same files, the same ids).
    assert stored.id == "tag:127.0.0.1,2025-06-15:embargoed-story"

    typo_fixed = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    site.write("later.md", scheduled_story(typo_fixed), mtime=1_750_000_200)
    report = site.refresh()
    assert (report.scheduled, report.problems) == (0, ())
    (shown, _) = feedparser.parse(site.published("/feeds/all.atom")).entries
    assert (shown.title, shown.published) == ("Embargoed story", typo_fixed.isoformat())
    entry_id = shown.id

    site.write("later.md", scheduled_story(later), mtime=1_750_000_300)  # out already
    report = site.refresh()
    assert report.scheduled == 0
    ignored = (
        f"later.md:4: warning: date {later.isoformat()} is ignored: this article was published "
        f"{typo_fixed.isoformat()}, and a published date never moves"
    )
    assert [str(p) for p in report.problems] == [ignored]
    # check, which reads the files alone, says it too while later.md stays as it is
    assert ignored in [str(p) for p in check_files(site.config())[2]]
    (shown, _) = feedparser.parse(site.published("/feeds/all.atom")).entries
    assert (shown.id, shown.published) == (entry_id, typo_fixed.isoformat())
    # every file read again (a config changed) says it again, as a store from before key
    # lines has it said: on the file's first line
    for said_on, zone in ((4, "UTC"), (1, "Europe/Paris")):
        with closing(sqlite3.connect(site.root / "var" / "state.sqlite3")) as db, db:
            db.execute(
                "UPDATE files SET problems = json_set(problems, '$[0][0]', ?) WHERE path = ?",
                (said_on, "later.md"),
            )
        site.config_path.write_text(config_text().replace("Europe/Paris", zone), "utf-8")
        assert [str(p) for p in site.refresh().problems] == [ignored]


def test_an_article_dated_in_the_future_is_published_then_and_not_before(site: Site) -> None:
    """A story scheduled in its front matter: readers never see an entry dated ahead of them,
    the operator is told when it comes out, and it does with no change to its file."""
    site.write("out.txt", "Asia\nOut already\n\nBody.\n", mtime=1_700_000_000)
    due = in_whole_seconds(3)
    site.write("later.md", scheduled_story(due))
    report = site.refresh()
    assert (report.scheduled, report.next_scheduled) == (1, due)
    assert f"1 scheduled, the next at {due.isoformat()}" in report.summary()
    said = f"'Embargoed story' is dated {due.isoformat()}, in the future: it is published then"
    assert [str(p) for p in report.problems] == [
        f"later.md: warning: {said} (date it earlier to publish it now)"
    ]
    _, _, problems = check_files(site.config())
    assert [str(p) for p in problems] == [
        f"later.md:4: warning: {said} (date it earlier to publish it now); if it is published "
        "already, it stays so, under its first date"  # which check, reading files, cannot tell
    ]
    for path in feed_paths():
        assert b"Embargoed" not in site.published(path), path
    assert "/articles/embargoed-story/" not in current(site).resources
    assert (current(site).counts["europe"], current(site).counts["all"]) == (0, 1)

    sleep_until(due)
    report = site.refresh()
    assert report.published and report.files_read == 0
    assert (report.scheduled, report.next_scheduled, report.problems) == (0, None, ())
    assert titles(site, "all") == ["Embargoed story", "Out already"]
    assert "/articles/embargoed-story/" in current(site).resources
    assert (current(site).counts["europe"], current(site).counts["all"]) == (1, 2)


def test_one_refresher_publishes_an_entry_once_due_with_no_file_changed(site: Site) -> None:
    """The clock keeps one refresher: its quick "nothing changed" check looks at the schedule."""
    site.write("out.txt", "Asia\nOut already\n\nBody.\n", mtime=1_700_000_000)
    due = in_whole_seconds(2)
    site.write("later.md", scheduled_story(due))
    refresher = Refresher(site.config())
    try:
        refresher.refresh()
        assert not refresher.refresh().published
        sleep_until(due)
        report = refresher.refresh()
        assert report.published and (report.files_read, report.scheduled) == (0, 0)
    finally:
        refresher.close()
    assert "Embargoed" in site.published("/feeds/all.atom").decode()


def test_a_discovered_section_whose_only_entry_is_scheduled_has_no_feed_yet(site: Site) -> None:
    allow_new_sections(site)
    site.write("out.txt", "Asia\nOut already\n\nBody.\n", mtime=1_700_000_000)
    due = in_whole_seconds(2)
    site.write("later.md", scheduled_story(due).replace("Europe", "Sports"))
    site.refresh()
    assert not [path for path in current(site).resources if "sports" in path]
    assert b"Sports" not in site.published("/feeds.opml")
    sleep_until(due)
    site.refresh()
    assert titles(site, "sports") == ["Embargoed story"]


def test_a_new_timezone_does_not_call_published_dates_edited(site: Site) -> None:
    for n in range(3):
        front = f"title: Story {n}\nsection: Asia\ndate: 2025-01-0{n + 1} 10:00"
        site.write(f"s{n}.md", f"---\n{front}\n---\n\nBody.\n")
    assert site.refresh().problems == ()
    site.config_path.write_text(config_text().replace("Europe/Paris", "America/New_York"))
    assert site.refresh().problems == ()


def test_an_embargo_moved_holds_when_the_current_version_cannot_be_read(site: Site) -> None:
    """What was shown is recorded in the store too: a damaged manifest does not make every
    entry dated before now count as shown."""
    site.write("out.txt", "Asia\nOut already\n\nBody.\n", mtime=1_700_000_000)
    soon = in_whole_seconds(2)
    site.write("later.md", scheduled_story(soon))
    site.refresh()
    site.write("later.md", scheduled_story(datetime(2051, 1, 1, tzinfo=UTC)), 1_750_000_100)
    (current(site).directory / "manifest.json").write_text("{", "utf-8")
    sleep_until(soon)
    site.refresh()
    assert "Embargoed" not in site.published("/feeds/all.atom").decode()


def test_a_refresh_that_waited_for_another_never_hides_what_that_one_showed(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`feedsvc refresh` waiting while the clock publishes an entry just due: its own version,
    published after, must show it too."""
    site.write("out.txt", "Asia\nOut already\n\nBody.\n", mtime=1_700_000_000)
    due = in_whole_seconds(2)
    site.write("later.md", scheduled_story(due))
    site.refresh()
    real_lock = refresh_module.build_lock
    waiting, go = threading.Event(), threading.Event()

    @contextlib.contextmanager
    def slow_to_get(state_dir: Path) -> Iterator[None]:
        if threading.current_thread().name == "waiting":
            waiting.set()
            go.wait()  # as if another process held the lock meanwhile
        with real_lock(state_dir):
            yield

    monkeypatch.setattr(refresh_module, "build_lock", slow_to_get)
    reports: list[RefreshReport] = []
    late = threading.Thread(target=lambda: reports.append(site.refresh()), name="waiting")
    late.start()
    assert waiting.wait(30)
    sleep_until(due)
    site.refresh()  # began after `due`, got the lock first
    assert "Embargoed" in site.published("/feeds/all.atom").decode()
    go.set()
    late.join(30)
    assert len(reports) == 1 and reports[0].scheduled == 0  # it ran, after `due` too
    assert "Embargoed" in site.published("/feeds/all.atom").decode()


def test_an_ignored_date_is_still_said_after_a_config_change_reads_it_again(site: Site) -> None:
    story = "---\ntitle: Story\nsection: Asia\ndate: {}\n---\n\nBody.\n"
    site.write("s.md", story.format("2025-01-01 10:00"), mtime=1_750_000_000)
    site.refresh()
    site.write("s.md", story.format("2025-02-01 10:00"), mtime=1_750_000_100)
    (said,) = [str(p) for p in site.refresh().problems]
    assert "date 2025-02-01T10:00:00+01:00 is ignored" in said
    site.config_path.write_text(config_text() + '[[sections]]\nname = "Sports"\n', "utf-8")
    assert [str(p) for p in site.refresh().problems] == [said]


def test_last_modified_only_moves_forward_as_the_bytes_change(site: Site) -> None:
    """A config reverted, a section's feed gone and back: the bytes differ from what a client
    holds, so Last-Modified is later than any it was sent, and the files say so to nginx."""
    site.write("asia.txt", "Asia\nA story\n\nBody.\n", mtime=1_700_000_000)
    site.refresh()
    first = current(site).resources["/feeds/all.rss"]
    site.config_path.write_text(config_text().replace('"Test Desk"', '"Desk B"', 1), "utf-8")
    site.refresh()
    second = current(site).resources["/feeds/all.rss"]
    assert second.last_modified > first.last_modified
    site.config_path.write_text(config_text(), "utf-8")
    site.refresh()
    reverted = current(site).resources["/feeds/all.rss"]
    assert reverted.etag == first.etag and reverted.last_modified > second.last_modified

    site.config_path.write_text(config_without("Asia"), "utf-8")
    site.refresh()
    assert "/feeds/asia.rss" not in current(site).resources
    before = datetime.now(UTC).replace(microsecond=0)
    site.config_path.write_text(config_text(), "utf-8")
    site.refresh()
    assert current(site).resources["/feeds/asia.rss"].last_modified >= before
    version = current(site)
    for resource in version.resources.values():
        written = (version.directory / resource.file).stat().st_mtime
        assert written == resource.last_modified.timestamp(), resource.path
        if resource.precompressed:  # gzip_static dates a gzip client's answer by the .gz
            zipped = (version.directory / f"{resource.file}.gz").stat().st_mtime
            assert zipped == written, resource.path


def refreshes_started_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> list[float]:
    """The clock stops at `moment` for refreshes and their publishes (what they publish is
    dated by it): the publish's waits are recorded, not slept."""

    class Stopped(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Stopped:
            return cls.fromtimestamp(moment.timestamp(), tz)

    waits: list[float] = []
    monkeypatch.setattr(refresh_module, "datetime", Stopped)
    monkeypatch.setattr(publish_module, "datetime", Stopped)
    monkeypatch.setattr(publish_module, "time", SimpleNamespace(sleep=waits.append))
    return waits


def asia_back_at(site: Site, monkeypatch: pytest.MonkeyPatch, moment: datetime) -> list[float]:
    """Asia's feed published, taken out, and back after an absence at `moment`, which dates
    it: the waits of the publishes from then on (`refreshes_started_at`)."""
    site.write("asia.txt", "Asia\nA story\n\nBody.\n", mtime=1_700_000_000)
    site.refresh()
    waits = refreshes_started_at(monkeypatch, moment)
    site.config_path.write_text(config_without("Asia"), "utf-8")
    site.refresh()
    site.config_path.write_text(config_text(), "utf-8")
    site.refresh()
    return waits


def test_a_feed_changed_twice_within_a_second_is_dated_the_next_second_when_served(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP dates count whole seconds: a client that fetched the first change and sends only
    If-Modified-Since was told 304 for the second, and missed it until the feed changed again."""
    moment = datetime(2026, 3, 1, 12, 0, 0, 700_000, tzinfo=UTC)
    waits = asia_back_at(site, monkeypatch, moment)  # dated now
    first = current(site).resources["/feeds/asia.rss"]
    assert first.last_modified == moment and waits == []
    web = create_app(site.config_path).test_client()
    fetched = web.get("/feeds/asia.rss").headers["Last-Modified"]

    site.write("asia-2.txt", "Asia\nAnother story\n\nBody.\n", mtime=1_700_000_000)
    site.refresh()  # within the same second
    second = current(site).resources["/feeds/asia.rss"]
    assert second.last_modified == datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC)
    assert waits == [pytest.approx(0.3)]  # served from then, no sooner
    answer = web.get("/feeds/asia.rss", headers={"If-Modified-Since": fetched})
    assert answer.status_code == 200 and b"Another story" in answer.data


def test_a_feed_changed_long_after_its_last_change_is_dated_then_and_waits_for_nothing(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a change within the second of the last is dated the second after it: an hour
    later, a story written a minute ago dates its feed by itself."""
    moment = datetime(2026, 3, 1, 12, 0, 0, 700_000, tzinfo=UTC)
    waits = asia_back_at(site, monkeypatch, moment)
    later = moment + timedelta(hours=1)
    waited = refreshes_started_at(monkeypatch, later)
    written = later - timedelta(minutes=1)
    site.write("asia-2.txt", "Asia\nAnother story\n\nBody.\n", mtime=written.timestamp())
    site.refresh()
    assert current(site).resources["/feeds/asia.rss"].last_modified == written
    assert waits == waited == []


def test_a_clock_set_back_holds_no_publish(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed dated an hour ahead (the clock then set back): waiting for the second after it
    would hold the publish, and the build lock, for an hour."""
    ahead = datetime.now(UTC) + timedelta(hours=1)
    waits = asia_back_at(site, monkeypatch, ahead)  # dated an hour ahead
    set_back = ahead - timedelta(hours=1)
    waited = refreshes_started_at(monkeypatch, set_back)
    site.write("asia-2.txt", "Asia\nAnother story\n\nBody.\n", mtime=1_700_000_000)
    site.refresh()
    assert current(site).resources["/feeds/asia.rss"].last_modified == set_back
    assert waits == waited == []


def test_a_feed_rendered_again_to_the_same_bytes_keeps_its_last_modified(site: Site) -> None:
    """A config change no feed shows (the refresh interval) renders every file again: the
    same bytes keep the date they were sent with, never their entries' older one."""
    site.write("asia.txt", "Asia\nA story\n\nBody.\n", mtime=1_700_000_000)
    site.refresh()
    renamed = config_text().replace('"Test Desk"', '"Desk B"', 1)
    site.config_path.write_text(renamed, "utf-8")
    site.refresh()
    changed = current(site).resources["/feeds/all.rss"]
    assert changed.last_modified > datetime.fromtimestamp(1_700_000_000, UTC)  # moved past it
    slower = renamed.replace("interval_seconds = 300", "interval_seconds = 600")
    site.config_path.write_text(slower, "utf-8")
    site.refresh()
    again = current(site).resources["/feeds/all.rss"]
    assert again.key != changed.key  # rendered again
    assert (again.etag, again.last_modified) == (changed.etag, changed.last_modified)


@pytest.mark.parametrize(
    ("front_matter", "problem"),
    [
        (
            'author: "Ann \\a Lee"',
            "warning: removed 1 character(s) that feeds cannot carry (U+0007) from 'author'",
        ),
        (
            'tags: ["x\\x01y"]',
            "warning: removed 1 character(s) that feeds cannot carry (U+0001) from a tag",
        ),
        ("date: 9999-12-31T23:00:00-05:00", "error: front-matter 'date' is out of range"),
    ],
)
def test_one_article_s_odd_front_matter_never_stops_the_others(
    site: Site, front_matter: str, problem: str
) -> None:
    site.write("good.txt", "Europe\nGood story\n\nFine.\n", mtime=1_700_000_000)
    site.write("odd.md", f"---\ntitle: Odd\nsection: Asia\n{front_matter}\n---\n\nBody.\n")
    report = site.refresh()
    assert [str(p) for p in report.problems] == [f"odd.md:4: {problem}"]
    parsed = feedparser.parse(site.published("/feeds/all.atom"))
    assert not parsed.bozo and "Good story" in [e.title for e in parsed.entries]


def test_a_slug_too_long_for_a_file_name_is_refused_and_the_longest_allowed_is_published(
    site: Site,
) -> None:
    """A page is a file named by its slug: 251 characters and more failed the whole publish,
    every other story with it. Taken twice, the longest allowed still fits, its `-2` within;
    and its page is kept once the feeds no longer show it."""
    site.config_path.write_text(config_text(feeds="max_entries = 1"), encoding="utf-8")
    longest = "a" * 250
    for name, mtime in (("one", 1_700_000_000), ("two", 1_700_000_100)):
        front = f"---\ntitle: Story {name}\nsection: Asia\nslug: {longest}\n---\nB.\n"
        site.write(f"{name}.md", front, mtime=mtime)
        site.write("long.md", f"---\ntitle: Long\nsection: Asia\nslug: {longest}b\n---\nB.\n")
        report = site.refresh()  # the first shown, then the second in its place
    refused = [p for p in report.problems if p.path == "long.md"]
    assert [(p.line, p.severity) for p in refused] == [(4, "error")]
    assert "'slug' must be lowercase letters, digits and hyphens, at most 250 of them" in (
        refused[0].message
    )
    assert b"Story two" in site.published(f"/articles/{'a' * 248}-2/")
    assert titles(site, "asia") == ["Story two"]
    page = archived(site, longest)  # shown by no feed: kept, under a name as long as allowed
    assert page is not None and b"Story one" in page


def test_a_markdown_reference_to_no_character_shows_nothing(site: Site) -> None:
    """markdown-it gives U+FFFD for `&#0;` and the like, which the W3C validator calls bad
    characters; in code it is text, as written."""
    body = "Null &#0;, surrogate &#xD800;, C1 &#x85;, too far &#x110000;; `&#0;` in code.\n"
    site.write("a.md", f"---\ntitle: Refs\nsection: Asia\n---\n{body}")
    site.refresh()
    feed = site.published("/feeds/all.atom").decode()
    assert "\ufffd" not in feed and "\ufffd" not in site.published("/feeds/all.json").decode()
    (entry,) = feedparser.parse(feed).entries
    assert entry.content[0].value == (
        "<p>Null , surrogate , C1 , too far ; <code>&amp;#0;</code> in code.</p>"
    )


def test_a_section_found_later_never_takes_the_address_of_one_found_before(site: Site) -> None:
    allow_new_sections(site)
    site.write("b.txt", "Foo-Bar\nHyphenated, first\n\nB.\n", mtime=1_700_000_000)
    site.refresh()
    site.write("a.txt", "Foo Bar\nSpaced, later\n\nA.\n", mtime=1_700_000_100)  # sorts first
    site.refresh()

    assert titles(site, "foo-bar") == ["Hyphenated, first"]  # subscribers keep their feed
    assert titles(site, "foo-bar-2") == ["Spaced, later"]
