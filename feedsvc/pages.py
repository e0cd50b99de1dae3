"""Entries → HTML pages: the home page, a page per section, a page per shown article.

Jinja2 with autoescape on: a title containing markup stays text. The article HTML itself was
sanitized when it was rendered (`markup.to_html`) and is the only value marked safe.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from feedsvc.config import Config
from feedsvc.model import RelatedHeadline
from feedsvc.render import FORMAT_LABELS, FeedSpec, ShownEntry, feed_path, media_type

#: headlines per section on the home page
HOME_HEADLINES = 5


@dataclass(frozen=True)
class FeedLink:
    """An autodiscovery / subscribe link."""

    href: str
    type: str
    title: str
    label: str


@dataclass(frozen=True)
class SectionView:
    spec: FeedSpec
    entries: Sequence[ShownEntry]
    feeds: Sequence[FeedLink]


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("feedsvc", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # package files: the renderer digest changes with them, not a stat
    )
    env.filters["day"] = _day
    return env


def load_templates() -> None:
    """Compile every template now, rather than in the first page rendered."""
    environment = _environment()
    for name in environment.list_templates():
        environment.get_template(name)


def _day(moment: datetime, zone: tzinfo) -> str:
    """The day in the newsroom's time zone: a file's mtime is in UTC, a date written in an
    article in its own offset, and one instant must show one day."""
    local = moment.astimezone(zone)
    return f"{local.day} {local:%B %Y}"


def feed_links(config: Config, spec: FeedSpec) -> list[FeedLink]:
    base = config.site.base_url
    return [
        FeedLink(
            href=base + feed_path(spec.slug, fmt),
            type=media_type(fmt),
            title=f"{spec.title} ({label})",
            label=label,
        )
        for fmt, label in FORMAT_LABELS.items()
    ]


def home_page(config: Config, combined: SectionView, sections: Sequence[SectionView]) -> bytes:
    discovery = [*combined.feeds, *(link for view in sections for link in view.feeds)]
    return _render(
        "home.html", config, discovery, combined=combined, sections=sections, limit=HOME_HEADLINES
    )


def section_page(config: Config, view: SectionView, combined: SectionView) -> bytes:
    # Its own feeds first: a reader that takes the first link subscribes to this section.
    return _render("section.html", config, [*view.feeds, *combined.feeds], view=view)


def article_page(
    config: Config,
    entry: ShownEntry,
    section: FeedSpec,
    combined: FeedSpec,
    related: Sequence[RelatedHeadline],
) -> bytes:
    """Links to its section and to the feeds, and no list of entries: an archived page is made
    again when its article is edited, long after it left the feeds."""
    feeds = feed_links(config, section)
    return _render(
        "article.html",
        config,
        [*feeds, *feed_links(config, combined)],
        entry=entry,
        content=Markup(entry.content_html),
        section_path=section.page_path,
        feeds=feeds,
        related=related,
    )


def _render(template: str, config: Config, discovery: list[FeedLink], **context: object) -> bytes:
    page = (
        _environment()
        .get_template(template)
        .render(site=config.site, discovery=discovery, base=config.site.base_url, **context)
    )
    return page.encode("utf-8")
