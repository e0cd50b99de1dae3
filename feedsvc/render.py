"""Entries → Atom, RSS, JSON Feed and OPML bytes. Deterministic: same entries, same bytes.

One feed model (`FeedModel`), one writer per format (`FORMATS`). Atom and RSS are written with
feedgen, whose traps (seen on feedgen 1.0.0) are handled here and nowhere else:

- `add_entry()` prepends unless given `order="append"`;
- Atom entry links lose every attribute but `href` (`link` is rebound inside its loop), so we
  put `rel` and `type` back with lxml after the fact;
- the RSS channel `<link>` is the last link added, so `self` goes first and the page last;
- `updated` / `lastBuildDate` default to now, so we always set them from the entries;
- naive datetimes raise, and control characters raise only at serialization: entries arrive
  aware and cleaned by the readers, and `xml_safe` runs again here in case of a stray one;
- RSS dates are formatted by switching the process-wide locale, which races with other threads:
  feeds are rendered in the refresher's one thread, never per request.
"""

from __future__ import annotations

import functools
import hashlib
import html
import importlib.metadata
import json
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from weakref import WeakKeyDictionary

from feedgen.feed import FeedGenerator
from lxml import etree

from feedsvc import __version__
from feedsvc.config import Config, SectionConfig
from feedsvc.markup import first_paragraph, to_html
from feedsvc.model import Entry
from feedsvc.text import name_key, section_slug, unique, xml_safe
from feedsvc.urls import PAGE_TYPE, article_path

ATOM_NS = "http://www.w3.org/2005/Atom"
#: when a feed has no entries at all, its `updated` must still not be "now"
_NO_ENTRIES = datetime(2000, 1, 1, tzinfo=UTC)


def last_updated(dates: Iterable[datetime]) -> datetime:
    """The newest of entries' `updated`, or a fixed date for none: the same input, the same
    bytes (a feed's, a page's Last-Modified)."""
    return max(dates, default=_NO_ENTRIES)


@dataclass(frozen=True)
class ShownEntry:
    """An entry as every format shows it: links absolute, HTML rendered, text clean."""

    id: str
    title: str
    link: str
    published: datetime
    updated: datetime
    author: str
    section: str
    summary: str
    content_html: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class FeedModel:
    """One feed, format-free: what Django's `SyndicationFeed` is to its writers."""

    slug: str  #: "all" or a section slug
    title: str
    subtitle: str
    page_url: str  #: the HTML page of the feed's section, or the home page
    language: str
    author: str
    icon: str | None
    updated: datetime  #: the newest entry's `updated`, never the build time
    entries: tuple[ShownEntry, ...]
    base_url: str
    full_content: bool  #: carry each entry's HTML, not only its summary

    def self_url(self, fmt: str) -> str:
        return self.base_url + feed_path(self.slug, fmt)


@dataclass(frozen=True)
class FeedSpec:
    """Which entries one feed (all its formats) holds: a row of the table `feed_specs` builds."""

    slug: str
    title: str
    subtitle: str
    section: str | None  #: None: every section
    max_entries: int
    page_path: str


def feed_specs(config: Config, extra_sections: Sequence[str] = ()) -> list[FeedSpec]:
    """The combined feed, then one per configured section (and per discovered one, if allowed).

    A discovered section whose name makes a slug already used ("Foo-Bar" beside "Foo Bar", or
    "All") gets the next free one, `foo-bar-2`: two feeds at one address would be one file
    written twice, and no version could be published."""
    site = config.site
    sections = list(config.sections)
    taken = {"all", *(section.slug for section in sections)}
    for name in extra_sections:  # oldest first, so that a section keeps its slug
        slug = unique(section_slug(name), taken.__contains__)
        taken.add(slug)
        sections.append(SectionConfig(name, slug, "", None))
    specs = [
        FeedSpec(
            "all",
            site.title,
            site.description or f"Every section of {site.title}",
            None,
            config.feeds.max_entries,
            "/",
        )
    ]
    for section in sections:
        specs.append(
            FeedSpec(
                section.slug,
                f"{site.title}: {section.name}",
                section.description or f"{section.name} from {site.title}",
                section.name,
                section.max_entries or config.feeds.max_entries,
                f"/sections/{section.slug}/",
            )
        )
    return specs


def feed_path(slug: str, fmt: str) -> str:
    """A feed's URL path: the one place that spells it, for links, OPML and publishing."""
    return f"/feeds/{slug}.{fmt}"


def entry_link(config: Config, entry: Entry) -> str:
    pattern = config.site.link_pattern
    if pattern:
        return pattern.replace("{slug}", entry.slug)
    return config.site.base_url + article_path(entry.slug)


#: characters of a first paragraph shown as an entry's summary: a transcript pasted as one
#: paragraph went out twice per poll (summary and content), 200 KB each
SUMMARY_CHARACTERS = 500


def _cut(paragraph: str) -> str:
    """A first paragraph short enough for a summary, cut after a word where there are words."""
    if len(paragraph) <= SUMMARY_CHARACTERS:
        return paragraph
    cut = paragraph[: SUMMARY_CHARACTERS - 1]
    space = cut.rfind(" ")
    if space > SUMMARY_CHARACTERS // 2:
        cut = cut[:space]
    else:  # a script written without spaces: cut between two characters as readers see them
        cut = cut[: _cluster_start(paragraph, len(cut))]
    return cut.rstrip(" ,;:") + "\u2026"


def _cluster_start(text: str, end: int) -> int:
    """`end`, or the start of the character it would cut in two as drawn: a letter and its
    marks (Thai vowels and tones, accents), an emoji joined to others or modified, a flag."""
    while 0 < end < len(text) and (_continues(text[end]) or text[end - 1] == _JOINER):
        end -= 1
    flag_letters = 0  # regional indicators, drawn two by two as flags
    while flag_letters < end and _is_flag_letter(text[end - 1 - flag_letters]):
        flag_letters += 1
    if flag_letters % 2 and end < len(text) and _is_flag_letter(text[end]):
        end -= 1
    return end


_JOINER = "\u200d"


def _continues(character: str) -> bool:
    """Drawn as part of the character before it: a mark, a joiner, a variation selector, a
    skin tone, an emoji tag."""
    point = ord(character)
    return (
        unicodedata.category(character) in ("Mn", "Mc", "Me")
        or character == _JOINER
        or 0x1F3FB <= point <= 0x1F3FF
        or 0xE0020 <= point <= 0xE007F
    )


def _is_flag_letter(character: str) -> bool:
    return "\U0001f1e6" <= character <= "\U0001f1ff"


def show(config: Config, entry: Entry, body: str) -> ShownEntry:
    """Render one entry's text and HTML; the costly step, done only for entries in a feed."""
    summary = entry.summary or _cut(first_paragraph(body, entry.body_format)) or entry.title
    link = entry_link(config, entry)
    section = name_key(entry.section)  # the first category already: not a tag again
    return ShownEntry(
        id=entry.id,
        title=xml_safe(entry.title),
        link=link,
        published=entry.published,
        updated=entry.updated,
        author=entry.author or config.site.author,
        section=entry.section,
        summary=xml_safe(summary),
        content_html=xml_safe(to_html(body, entry.body_format, link)),
        tags=tuple(tag for tag in entry.tags if name_key(tag) != section),
    )


def feed_model(config: Config, spec: FeedSpec, entries: Sequence[ShownEntry]) -> FeedModel:
    site = config.site
    return FeedModel(
        slug=spec.slug,
        title=spec.title,
        subtitle=spec.subtitle,
        page_url=site.base_url + spec.page_path,
        language=site.language,
        author=site.author,
        icon=site.icon,
        updated=last_updated(e.updated for e in entries),
        entries=tuple(entries),
        base_url=site.base_url,
        full_content=config.feeds.full_content,
    )


# -- writers ---------------------------------------------------------------------------------


def _channel(feed: FeedModel, fmt: str) -> FeedGenerator:
    """The feed without its entries: they are added as elements, each made once (below)."""
    generator = FeedGenerator()
    generator.id(feed.self_url("atom"))
    generator.title(feed.title)
    generator.subtitle(feed.subtitle)  # plain text in RSS too: only items' are HTML
    # RSS takes the channel <link> from the last link added: self first, the page last.
    generator.link(href=feed.self_url(fmt), rel="self", type=media_type(fmt))
    generator.link(href=feed.page_url, rel="alternate", type="text/html")
    generator.language(feed.language)
    generator.author({"name": feed.author})
    generator.generator("feedsvc", version=__version__)
    if feed.icon:
        generator.icon(feed.icon)
        generator.logo(feed.icon)
    generator.updated(feed.updated)
    generator.lastBuildDate(_in_rfc822_zone(feed.updated))
    generator.load_extension("dc", atom=False, rss=True)
    return generator


#: Each entry as it appears inside a document of each format, by (format, full content):
#: written once per content and kept as long as the entry itself (the refresher lets go of an
#: entry when no feed shows it any more, or its content changed)
_WRITTEN: WeakKeyDictionary[ShownEntry, dict[tuple[str, bool], bytes]] = WeakKeyDictionary()

#: Where each entry sits in a document: after the channel's last element, one level below it
_CONTAINER_END = {"atom": b"\n</feed>", "rss": b"\n  </channel>"}
_ENTRY_INDENT = {"atom": b"\n  ", "rss": b"\n    "}
#: marks entry boundaries while a batch of entries is written; random, so that no article's
#: text can hold it, and gone from every published byte
_CUT = f"feedsvc-cut-{secrets.token_hex(8)}".encode()


def write_atom(feed: FeedModel) -> bytes:
    return _xml_document(feed, "atom")


def write_rss(feed: FeedModel) -> bytes:
    return _xml_document(feed, "rss")


def _xml_document(feed: FeedModel, fmt: str) -> bytes:
    """The channel as lxml writes it, with each entry's bytes put where lxml writes them: a new
    article re-renders two feeds, not their hundred entries."""
    head = _plain_text_written(_xml_bytes(_parsed(_channel(feed, fmt), fmt)), fmt)
    at = head.rindex(_CONTAINER_END[fmt])
    parts = [head[:at]]
    for entry in _xml_entries(feed, fmt):
        parts += (_ENTRY_INDENT[fmt], entry)
    parts.append(head[at:])
    return b"".join(parts)  # one copy of the feed, as in `write_json_feed`


def _xml_entries(feed: FeedModel, fmt: str) -> list[bytes]:
    """Each entry of `feed` as it appears in the document; the entries not written yet are
    written together, in a copy of this feed's channel."""
    form = (fmt, feed.full_content)
    # Taken once: an entry's slot may be an equal entry's, which can die while the others are
    # written (a collection in lxml's work), and its slot with it.
    found: dict[int, bytes] = {}
    for index, entry in enumerate(feed.entries):
        if (written := _WRITTEN.get(entry, {}).get(form)) is not None:
            found[index] = written
    missing = [index for index in range(len(feed.entries)) if index not in found]
    if missing:
        entries = [feed.entries[index] for index in missing]
        for index, written in zip(missing, _write_entries(feed, entries, fmt), strict=True):
            found[index] = written
            _WRITTEN.setdefault(feed.entries[index], {})[form] = written
    return [found[index] for index in range(len(feed.entries))]


def _write_entries(feed: FeedModel, entries: Sequence[ShownEntry], fmt: str) -> list[bytes]:
    root, written = _whole_document(feed, entries, fmt)
    # Cut the document lxml writes at comments put around the entries: each entry's bytes are
    # then exactly what lxml writes for it inside a feed (its namespaces declared above it).
    for element in written:
        element.addprevious(etree.Comment(_CUT.decode()))
    written[-1].addnext(etree.Comment(_CUT.decode()))
    pieces = _xml_bytes(root).split(b"<!--" + _CUT + b"-->")
    if len(pieces) != len(written) + 2:
        raise AssertionError(f"{len(written)} entries written, {len(pieces) - 2} found")
    return [_plain_text_written(piece.strip(), fmt) for piece in pieces[1:-1]]


#: RSS elements of plain text (an item's description is HTML), by `<name>text</name>` as lxml
#: writes them, their text escaped with `&amp;`, `&lt;` and `&gt;` only
_RSS_CHANNEL = re.compile(rb"<(title|description)>([^<]*)</\1>")
_RSS_ITEM = re.compile(rb"<(title|category|dc:creator)>([^<]*)</\1>")
#: what feed validators take for markup in a text construct: an end tag or an entity. Not
#: `text.markup_warning`'s test, which tells an author of what a reader may take for markup
#: ("the <br> tag"); this one is the W3C validator's, which "AT&T" meets too
_LOOKS_LIKE_MARKUP = re.compile(r"</\w+>|&#?\w+")


def _plain_text_written(written: bytes, fmt: str) -> bytes:
    """RSS plain text (a channel, its items, or both) with `&`, `<` and `>` as hexadecimal
    references, as the RSS Best Practices Profile asks: escaped by name, "3<5 and the <br>
    tag" or "Q&amp;A" was text that the W3C validator (and readers) may take for HTML."""
    if fmt != "rss":
        return written
    channel, item, items = written.partition(b"<item>")
    return _hexed(_RSS_CHANNEL, channel) + item + _hexed(_RSS_ITEM, items)


def _hexed(elements: re.Pattern[bytes], written: bytes) -> bytes:
    def each(found: re.Match[bytes]) -> bytes:
        text = found[2].replace(b"&amp;", b"&#x26;").replace(b"&lt;", b"&#x3C;")
        return b"<%s>%s</%s>" % (found[1], text.replace(b"&gt;", b"&#x3E;"), found[1])

    return elements.sub(each, written)


def _as_html_if_it_looks_so(element: etree._Element) -> None:
    """An Atom text construct that holds what looks like markup, as `type="html"` escaped once
    more: shown as written, where a validator warned of HTML in plain text."""
    text = element.text or ""
    if _LOOKS_LIKE_MARKUP.search(text):  # feedgen writes titles with no type: text
        element.set("type", "html")
        element.text = html.escape(text, quote=False)


def _whole_document(
    feed: FeedModel, entries: Sequence[ShownEntry], fmt: str
) -> tuple[etree._Element, list[etree._Element]]:
    """The feed with these entries as feedgen writes it, parsed, and its entry elements."""
    generator = _channel(feed, fmt)
    for shown in entries:
        item = generator.add_entry(order="append")
        item.id(shown.id)
        item.guid(shown.id, permalink=False)
        item.title(shown.title)
        item.link(href=shown.link, rel="alternate", type="text/html")
        item.published(_in_rfc822_zone(shown.published) if fmt == "rss" else shown.published)
        item.updated(shown.updated)
        item.author({"name": shown.author})
        item.dc.dc_creator(shown.author)
        # in one call: feedgen makes the RSS list anew at each, the square of a long tag list
        item.category([{"term": term} for term in (shown.section, *shown.tags)])
        # Plain text, given as HTML escaped once, in both formats: RSS readers take an item's
        # description as HTML (RSS Best Practices Profile), and validators warn of text that
        # looks like markup in an Atom summary of type "text". Either way "<b>" is shown.
        item.summary(html.escape(shown.summary, quote=False), type="html")
        if feed.full_content:
            item.content(shown.content_html, type="CDATA" if fmt == "rss" else "html")
    root = _parsed(generator, fmt)
    if fmt == "rss":
        written = list(root[0].iterchildren("item"))
    else:
        written = list(root.iterchildren(f"{{{ATOM_NS}}}entry"))
        # feedgen drops rel/type from entry links (see the module docstring): restore them.
        for entry in written:
            for link in entry.iterfind(f"{{{ATOM_NS}}}link"):
                link.set("rel", "alternate")
                link.set("type", "text/html")
    return root, written


def _in_rfc822_zone(moment: datetime) -> datetime:
    """The same instant in UTC when its offset is not whole or half hours: validators read RFC
    822 zones so, and warn of every `pubDate` in Kathmandu (+0545) or the Chathams (+1345)."""
    offset = moment.utcoffset()
    return moment.astimezone(UTC) if offset and offset % timedelta(minutes=30) else moment


def _parsed(generator: FeedGenerator, fmt: str) -> etree._Element:
    written = generator.atom_str(pretty=False) if fmt == "atom" else generator.rss_str(pretty=False)
    root = etree.fromstring(written, _OWN_OUTPUT)
    if fmt == "atom":  # the feed's title and subtitle, and its entries' titles
        for element in root.iter(f"{{{ATOM_NS}}}title", f"{{{ATOM_NS}}}subtitle"):
            _as_html_if_it_looks_so(element)
    return root


#: feedgen's own output, read back: an article of up to `max_file_bytes` (10 MB by default) is
#: one text node, which libxml2 refuses past 10,000,000 characters without `huge_tree`
_OWN_OUTPUT = etree.XMLParser(huge_tree=True)


def _xml_bytes(tree: etree._Element) -> bytes:
    etree.indent(tree, space="  ")
    body: bytes = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    return body + b"\n"


def write_json_feed(feed: FeedModel) -> bytes:
    """JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    document: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": feed.page_url,
        "feed_url": feed.self_url("json"),
        "description": feed.subtitle,
        "language": feed.language,
        "authors": [{"name": feed.author}],
    }
    if feed.icon:
        document["icon"] = feed.icon
    head = json.dumps(document, ensure_ascii=False, indent=2).removesuffix("\n}").encode()
    if not feed.entries:
        return head + b',\n  "items": []\n}\n'
    parts = [head, b',\n  "items": [']
    for entry in feed.entries:
        parts += (b"\n", _json_item_bytes(entry, feed.full_content), b",")
    parts[-1] = b"\n  ]\n}\n"
    return b"".join(parts)  # one copy of the feed: three of them took 0.8 ms here, this 0.07


def _json_item_bytes(entry: ShownEntry, full_content: bool) -> bytes:
    """An item as it appears in the document, written once per content like the XML entries:
    the indenting encoder is pure Python, and slow."""
    forms = _WRITTEN.setdefault(entry, {})
    form = ("json", full_content)
    if form not in forms:
        text = json.dumps(_json_item(entry, full_content), ensure_ascii=False, indent=2)
        forms[form] = "\n".join("    " + line for line in text.split("\n")).encode()
    return forms[form]


def _json_item(entry: ShownEntry, full_content: bool) -> dict[str, object]:
    item: dict[str, object] = {"id": entry.id, "url": entry.link, "title": entry.title}
    if full_content:
        item["content_html"] = entry.content_html
    else:
        item["content_text"] = entry.summary
    item.update(
        {
            "summary": entry.summary,
            "date_published": _rfc3339(entry.published),
            "date_modified": _rfc3339(entry.updated),
            "authors": [{"name": entry.author}],
            "tags": [entry.section, *entry.tags],
        }
    )
    return item


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat()


def write_opml(config: Config, specs: Sequence[FeedSpec]) -> bytes:
    """OPML 2.0 with one folder per format: an aggregator that takes one format picks its
    folder. Importers take every outline, and each story is in two feeds (its section's and
    `all`): importing the whole file subscribes a reader to it six times (README)."""
    site = config.site
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"{site.title}: every feed"
    etree.SubElement(head, "ownerName").text = site.author
    body = etree.SubElement(root, "body")
    for fmt, label in FORMAT_LABELS.items():
        folder = etree.SubElement(body, "outline", text=label)
        for spec in specs:
            url = site.base_url + feed_path(spec.slug, fmt)
            etree.SubElement(
                folder,
                "outline",
                type="rss",
                text=spec.title,
                title=spec.title,
                xmlUrl=url,
                htmlUrl=site.base_url + spec.page_path,
            )
    return _xml_bytes(root)


#: besides this package's code and templates, what shapes the bytes of a published file
_WRITING_LIBRARIES = ("feedgen", "lxml", "markdown-it-py", "nh3", "jinja2", "markupsafe", "zlib-ng")


@functools.cache
def renderer_digest() -> str:
    """What writes the published files: this package's code and templates, and the libraries
    that write with it. A file is reused only from a version written by the same, so an
    upgrade that changes the output (a new URL layout, say) renders every file anew, once."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*package.rglob("*.py"), *package.glob("templates/*")]):
        digest.update(f"{path.relative_to(package)}\0".encode())
        digest.update(path.read_bytes())
    for library in _WRITING_LIBRARIES:
        digest.update(f"\0{library} {importlib.metadata.version(library)}".encode())
    return digest.hexdigest()[:16]


FORMATS: Mapping[str, Callable[[FeedModel], bytes]] = {
    "atom": write_atom,
    "rss": write_rss,
    "json": write_json_feed,
}
CONTENT_TYPES: Mapping[str, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json",
    "opml": "text/x-opml; charset=utf-8",
    "html": PAGE_TYPE,
}


def media_type(kind: str) -> str:
    """The content type without parameters, as `type` attributes want it."""
    return CONTENT_TYPES[kind].split(";")[0]


FORMAT_LABELS: Mapping[str, str] = {"atom": "Atom 1.0", "rss": "RSS 2.0", "json": "JSON Feed 1.1"}
