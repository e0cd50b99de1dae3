"""The values that flow between stages: readers → `Article`, state store → `Entry`.

Frozen dataclasses, passed along; no stage reaches back into the one before it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Severity = Literal["error", "warning"]
BodyFormat = Literal["text", "markdown"]


@dataclass(frozen=True)
class Problem:
    """Something wrong with an input file, reported and skipped, never fatal to the rest."""

    path: str  #: relative to `articles_dir`
    line: int | None
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class RelatedHeadline:
    """One headline of a file's trailing "related" block; shown on pages, never an entry."""

    section: str
    age: str  #: as written, e.g. "2 weeks ago"
    title: str


@dataclass(frozen=True)
class Article:
    """What one article in a file says, before it has an identity."""

    path: str  #: relative to `articles_dir`
    line: int  #: where the article starts
    section: str  #: the configured spelling
    title: str
    body: str  #: text: paragraphs one per line; markdown: the source
    body_format: BodyFormat
    date: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    summary: str | None = None
    id: str | None = None
    slug: str | None = None
    tags: tuple[str, ...] = ()
    related: tuple[RelatedHeadline, ...] = ()

    @functools.cached_property
    def body_hash(self) -> str:
        """Recognizes the article after a title edit, without keeping the body around."""
        return hashlib.blake2b(self.body.encode("utf-8"), digest_size=16).hexdigest()

    @functools.cached_property
    def content_hash(self) -> str:
        """Changes exactly when what a reader would see changes."""
        digest = hashlib.blake2b(digest_size=16)
        for part in (
            self.section,
            self.title,
            self.body_format,
            self.body_hash,
            self.summary or "",
            self.author or "",
            "\x1f".join(self.tags),
        ):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()


@dataclass(frozen=True)
class ReadResult:
    """A reader's answer for one file: its articles and everything wrong with it."""

    articles: tuple[Article, ...] = ()
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Entry:
    """An article with an identity: what every feed format is made from."""

    id: str  #: never changes once published
    slug: str  #: for the entry's page URL; as stable as the id
    section: str
    title: str
    #: the body itself stays in its file (`path`, article number `ordinal`): only the entries
    #: that a feed shows are ever read again, so no process holds the whole archive
    body_hash: str
    body_format: BodyFormat
    summary: str | None  #: None: the first paragraph
    author: str | None
    published: datetime  #: aware; never moves
    updated: datetime  #: aware; moves when the content changes
    path: str
    ordinal: int  #: which article of its file, from 0
    tags: tuple[str, ...] = ()
    related: tuple[RelatedHeadline, ...] = field(default=(), compare=False)
    content_hash: str = ""
