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

    path: str  #: relative to `articles_dir`; a config file's, absolute
    line: int | None
    severity: Severity
    message: str
    #: an error that leaves out an article whole, in a section the config does not publish
    #: (taken out of it, or never in it; not a near miss of one): the config's doing, so the
    #: file's other articles are read as in a clean file (`corpus._refuses`), unless the
    #: article is one of the file's published stories (`corpus._an_edit_left_out`). The
    #: store keeps the message only: a flag of the read at hand.
    by_config: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        # a name holding a newline (or another control) would split the problem's line in two
        path = self.path
        if not path.isprintable():
            path = "".join(c if c.isprintable() else repr(c)[1:-1] for c in path)
        where = f"{path}:{self.line}" if self.line else path
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
    body: str  #: text: paragraphs one per line; markdown: the source ("" once `without_body`)
    body_format: BodyFormat
    date: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    summary: str | None = None
    id: str | None = None
    slug: str | None = None
    tags: tuple[str, ...] = ()
    related: tuple[RelatedHeadline, ...] = ()
    #: the lines its front matter gives its id, slug, date and section on (Markdown): a
    #: refresh's warning about one names that line, not the file's first
    key_lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    #: recognizes the article after a title edit, without keeping the body around
    body_hash: str = ""
    #: changes exactly when what the feeds show of the article changes (not its related
    #: headlines, shown on its page alone)
    content_hash: str = ""

    def __post_init__(self) -> None:
        # Computed from the body when the article is made; `without_body` keeps them.
        if not self.body_hash:
            body_hash = hashlib.blake2b(self.body.encode("utf-8"), digest_size=16).hexdigest()
            object.__setattr__(self, "body_hash", body_hash)
        if not self.content_hash:
            object.__setattr__(self, "content_hash", self._content_digest())

    def line_of(self, key: str) -> int:
        """Where a problem with `key` is: its line, else where the article starts."""
        return next((line for name, line in self.key_lines if name == key), self.line)

    def without_body(self) -> Article:
        """What identification needs, hashes included, without the kilobytes of body: what a
        worker process sends back for each of thousands of articles."""
        bare = object.__new__(Article)  # a copy without __init__: every field is checked already
        vars(bare).update(vars(self), body="")
        return bare

    def _content_digest(self) -> str:
        parts = (
            self.section,
            self.title,
            self.body_format,
            self.body_hash,
            self.summary or "",
            self.author or "",
            "\x1f".join(self.tags),
            "",  # each part ends with a NUL, the last one included
        )
        return hashlib.blake2b("\x00".join(parts).encode("utf-8"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class ReadResult:
    """A reader's answer for one file: its articles and everything wrong with it."""

    articles: tuple[Article, ...] = ()
    problems: tuple[Problem, ...] = ()
    #: articles of a section the config does not publish (`Problem.by_config`), read whole:
    #: the corpus tells by them whether an edit, not the config, left them out
    unconfigured: tuple[Article, ...] = ()
    #: the sections, as written, of the articles left out as not configured (near misses too):
    #: what `check` tells a section renamed in config.toml alone by
    sections_left_out: tuple[str, ...] = ()


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
    published: datetime  #: aware; never moves once a version has shown it
    updated: datetime  #: aware; moves when the content changes
    path: str
    ordinal: int  #: which article of its file, from 0
    tags: tuple[str, ...]
    related: tuple[RelatedHeadline, ...] = field(compare=False)
    #: an entry is rendered by it (`rendering_key`): never left empty
    content_hash: str

    @functools.cached_property  # a publish asks it of each shown entry a few times
    def rendering_key(self) -> str:
        """What every rendering of the entry is made from: the same key, the same bytes."""
        return (
            f"{self.id}|{self.content_hash}|{self.published.isoformat()}|{self.updated.isoformat()}"
        )
