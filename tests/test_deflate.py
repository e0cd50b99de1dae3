"""The feeds' gzip: one ordinary member, as small as whole-body level 6, deflated where it
changed."""

from __future__ import annotations

import gzip
import random
import subprocess
import zlib
from collections import OrderedDict

import pytest

from feedsvc import deflate
from tests.conftest import SAMPLE, SECTIONS, Site

FEEDS = [f"/feeds/{slug}.{fmt}" for slug in ("all", "america") for fmt in ("atom", "rss", "json")]


#: the sample article's own words
WORDS = SAMPLE.read_text("utf-8").split()


def write_articles(site: Site, first: int, count: int) -> None:
    """Stories of about 4 KB, as in a newsroom, drawn from the words of the sample."""
    for number in range(first, first + count):
        pick = random.Random(number).choice
        body = "\n".join(
            " ".join(pick(WORDS) for _ in range(90)).capitalize() + "." for _ in range(8)
        )
        site.write(
            f"{number:03d}.txt",
            f"{SECTIONS[number % 5]}\nStory {number}\n\n{body}\n",
            mtime=1_700_000_000 + number * 60,
        )


@pytest.fixture
def fresh_parts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """An empty cache of deflated parts; the list counts the parts deflated since."""
    deflated: list[int] = []
    real = deflate._deflate

    def counting(dictionary: bytes, part: bytes) -> bytes:
        deflated.append(len(part))
        return real(dictionary, part)

    monkeypatch.setattr(deflate, "_parts", OrderedDict())
    monkeypatch.setattr(deflate, "_deflate", counting)
    return deflated


@pytest.mark.usefixtures("fresh_parts")
def test_a_feed_gzips_to_one_ordinary_member_as_small_as_level_6(site: Site) -> None:
    write_articles(site, 0, 120)
    site.refresh()
    for path in FEEDS:
        body = site.published(path)
        zipped = deflate.gzip(body)
        assert gzip.decompress(zipped) == body
        member = zlib.decompressobj(wbits=31)
        assert member.decompress(zipped) == body and member.eof and member.unused_data == b""
        done = subprocess.run(["gzip", "-dc"], input=zipped, capture_output=True, check=True)
        assert done.stdout == body
        assert len(zipped) <= 1.02 * len(gzip.compress(body, compresslevel=6)), path
        assert (site.root / "var/publish/current" / (path.lstrip("/") + ".gz")).read_bytes() == (
            zipped
        )


@pytest.mark.parametrize("body", [b"", b"x", b"no entries here\n" * 5000])
def test_any_bytes_round_trip(body: bytes) -> None:
    assert gzip.decompress(deflate.gzip(body)) == body


def test_a_changed_feed_is_deflated_again_only_where_it_changed(
    site: Site, fresh_parts: list[int]
) -> None:
    write_articles(site, 0, 120)
    site.refresh()
    write_articles(site, 120, 1)  # the newest entry of `all` and of America
    fresh_parts.clear()
    site.refresh()
    bodies = {path: site.published(path) for path in FEEDS}
    # every format is cut into parts at its entries; a page is one part
    assert all(len(deflate._cuts(body)) >= 2 for body in bodies.values())
    assert deflate._cuts(site.published("/")) == []
    # the six feeds that changed, deflated again where the new entry came and an old one went
    assert 0 < sum(fresh_parts) < 0.5 * sum(len(body) for body in bodies.values())
    # spliced from earlier parts or deflated from scratch: the same bytes
    published = {path: deflate.gzip(body) for path, body in bodies.items()}
    deflate._parts.clear()
    assert {path: deflate.gzip(body) for path, body in bodies.items()} == published


@pytest.mark.usefixtures("fresh_parts")
def test_a_typo_fixed_in_place_leaves_every_gzip_decompressing_to_its_feed(site: Site) -> None:
    """A part reused is one deflated after the same 32 KiB: a story edited without changing
    its length leaves the parts after it where they were, but not what comes before them."""
    write_articles(site, 0, 120)
    site.refresh()
    for number in range(0, 120, 7):
        path = site.articles / f"{number:03d}.txt"
        text = path.read_text("utf-8")
        body_at = text.index("\n\n") + 2
        fixed = text[:body_at] + ("Q" if text[body_at] != "Q" else "R") + text[body_at + 1 :]
        site.write(path.name, fixed, mtime=1_800_000_000)
    site.refresh()
    for path in FEEDS:
        zipped = (site.root / "var/publish/current" / (path.lstrip("/") + ".gz")).read_bytes()
        assert gzip.decompress(zipped) == site.published(path), path
