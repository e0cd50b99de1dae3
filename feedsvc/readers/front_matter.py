"""A Markdown file's front-matter fields, typed and checked (`FrontMatter`); YAML's surprises
in them (a value cut at a '#', an anchor taken for text) said on their line with their fix."""

from __future__ import annotations

import functools
import json
import re
import reprlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from feedsvc.readers.base import ReaderSettings, Report, say_markup, shows_nothing
from feedsvc.readers.front_matter_syntax import FIELDS, YAML_VALUE, ImpossibleDate, yaml_quoted
from feedsvc.text import has_address, is_slug, name_key, one_line, without_address
from feedsvc.urls import canonical

#: text readers are shown, in which a '#' is more likely the author's than a comment
_SHOWN_TEXT = frozenset({"title", "summary"})
#: `key: value # more`, or `key: #value`, unquoted: YAML reads a comment from the '#' on
_COMMENTED = re.compile(r"(?P<key>[a-z]+):[ \t]+(?P<value>(?:[^'\"\s&*!|>\[{][^#]*?[ \t])?#.*)")

#: a URI's characters (RFC 3986): unreserved, reserved, and percent-encoded octets
_URI = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.IGNORECASE)
#: a tag URI as RFC 4151 writes one and the W3C validator takes it: an email address or a
#: domain in lower case, a comma, a year (a month, a day), a colon, what it names
_TAG = re.compile(
    r"tag:([a-z0-9._-]+@)?[a-z0-9.-]+,\d{4}(-\d{2}(-\d{2})?)?:[0-9a-zA-Z;/?:@&=+$._!~*'()%,-]*"
    r"(#[0-9a-zA-Z;/?:@&=+$._!~*'()%,-]*)?"
)

#: the first year feed validators believe in
PLAUSIBLE_FROM = 1990


#: `key:` (YAML) or `key =` (TOML) at the start of a line, the key perhaps quoted: each format's
#: own, as the other's may be text inside a value (a TOML `"""` string holding "title: ..."). Words
#: taken whole (`++`), not a character at a time with the blanks after each read again (a
#: comment of 80,000 blanks took seconds)
_KEY_AT = {
    yaml: re.compile(rf"""\s*(['"]?)(?P<key>[^'"\s:=]++(?:\s++[^'"\s:=]++)*+)\1\s*{sign}""")
    for yaml, sign in ((True, ":"), (False, "="))
}


#: the keys other generators read, and what feedsvc reads instead
_THEIRS = {
    "categories": "Hugo's and Jekyll's: an article is in one section, its 'section'",
    "description": "Hugo's, Jekyll's and Pelican's: feedsvc's is 'summary'",
}


def _read_as(found: object) -> str | None:
    """What an unquoted value the author meant as text became, if it is what YAML or TOML make
    of words and digits: "booleans", "numbers" (in a list too, as `tags: [2024, 2025]`)."""
    values = found if isinstance(found, list) else [found]
    if any(isinstance(value, bool) for value in values):
        return "booleans"
    if any(isinstance(value, (int, float)) for value in values):
        return "numbers"
    return None


class FrontMatter:
    """Typed access to front-matter fields; YAML's surprises are reported, not passed on."""

    def __init__(
        self,
        meta: dict[str, Any],
        lines: list[str],
        settings: ReaderSettings,
        report: Report,
        yaml: bool,
    ) -> None:
        self.meta = meta
        self.lines = lines
        self.settings = settings
        self.report = report
        self.yaml = yaml  #: else TOML, whose text is always quoted
        self.failed = False
        #: the section as written, one the config does not publish (`ReadResult.unconfigured`)
        self.unconfigured_section: str | None = None
        for key in meta:
            if key not in FIELDS:
                # a key may be any YAML value: a number of 5,000 digits has no str()
                name = key if isinstance(key, str) else _shown().repr(key)
                known = (
                    f"keys are lower-case: {name.lower()!r}"
                    if name.lower() in FIELDS
                    else _THEIRS.get(name, f"known: {', '.join(FIELDS)}")
                )
                self.report.add(
                    self.line(name),
                    "warning",
                    f"unknown front-matter key {name!r} ignored ({known})",
                )

    def line(self, key: str) -> int | None:
        return self._lines.get(key)

    @functools.cached_property
    def _lines(self) -> dict[str, int]:
        """Each key's first line, found in one pass: 20,000 keys asked one by one took minutes.
        An unindented one first: an indented one may be in another key's value (a YAML block
        of text, a list of mappings)."""
        lines: dict[str, int] = {}
        indented: dict[str, int] = {}
        for number, line in enumerate(self.lines, start=2):
            found = _KEY_AT[self.yaml].match(line)
            if found is not None:
                (indented if line[:1].isspace() else lines).setdefault(found["key"], number)
        return indented | lines

    def clean_line(self, key: str) -> int | None:
        """The key's line, looked for only when the file has characters to remove."""
        return self.line(key) if self.report.dirty else None

    def error(self, key: str, found: object) -> None:
        self.failed = True
        shown = f"{type(found).__name__} {_shown().repr(found)}"
        read_as = _read_as(found)
        if read_as == "booleans":
            shown += " (YAML reads yes/no/on/off as booleans: quote the value)"
        elif read_as == "numbers" and key not in ("date", "updated", "id"):
            each = "each" if isinstance(found, list) else "it"
            shown += f" (read as a number: put {each} in quotes, as text is)"
        elif key == "tags" and isinstance(found, str):  # "politics, eu"
            tags = [tag.strip() for tag in found.split(",") if tag.strip()]
            listed = json.dumps(tags, ensure_ascii=False)
            shown += f" (write a list: {self._written('tags', listed)})"
        self.report.add(
            self.line(key), "error", f"front-matter '{key}' must be {FIELDS[key]}, found {shown}"
        )

    def _written(self, key: str, value: str) -> str:
        """`key` given `value` (a JSON value, which YAML and TOML read alike) as the file would."""
        return f"{key}: {value}" if self.yaml else f"{key} = {value}"

    def text(self, key: str, required: bool = False, single_line: bool = False) -> str | None:
        value = self.meta.get(key)
        anchored = self._anchored_in_vain(key) if key in _SHOWN_TEXT else None
        if anchored is not None:
            self.failed = True
            name = anchored.split(maxsplit=1)[0][1:]
            how, quoted = yaml_quoted(anchored)
            message = (
                f"'{key}' starts with '&{name}', which YAML reads as an anchor's name, not as "
                f"text (and nothing refers to it as '*{name}'): quote the whole value {how} "
                f"({key}: {quoted})"
            )
            self.report.add(self.line(key), "error", message)
            return None
        written = self._as_written_if_cut(key) if key in _SHOWN_TEXT else None
        if written is not None and (value is not None or key == "title"):
            self.failed = True
            how, quoted = yaml_quoted(written)
            message = (
                f"'{key}' is cut at its '#', which YAML reads as the start of a comment: quote "
                f"the whole value {how} if the '#' is the {key}'s ({key}: {quoted}), or put the "
                "comment on a line of its own"
            )
            self.report.add(self.line(key), "error", message)
            return None
        if written is not None:  # `summary: # later`: none, as meant perhaps
            message = (
                f"'{key}' is only a YAML comment, so the first paragraph is the {key}; quote it if "
                f"the '#' is the {key}'s ({key}: {yaml_quoted(written)[1]})"
            )
            self.report.add(self.line(key), "warning", message)
        if value is None:
            if required:
                self.failed = True
                # on the opening fence: the front matter that lacks it
                self.report.add(1, "error", f"front-matter '{key}' is required")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.error(key, value)
            return None
        cleaned = self.report.clean(value.strip(), self.clean_line(key), f"'{key}'")
        if required and not cleaned:  # it held only control characters
            self.error(key, value)
        return (one_line(cleaned) if single_line else cleaned) or None

    def _as_written_if_cut(self, key: str) -> str | None:
        """`key`'s value as written on its line, where YAML took the end of it, or all of it,
        for a comment: "title: The #MeToo year" published "The", and made the slug and the id
        of it for good."""
        if not self.yaml or not self._hashed:
            return None
        line = self.line(key)
        written = _COMMENTED.fullmatch(self.lines[line - 2].rstrip()) if line is not None else None
        if written is None or written["key"] != key:
            return None
        # the line YAML read the value from (not one inside another value's text), cut
        value = self.meta.get(key)
        read = value.strip() if isinstance(value, str) else "" if value is None else None
        if read is None or not written["value"].startswith(read):
            return None
        return written["value"] if re.match(r"\s*#", written["value"][len(read) :]) else None

    def _anchored_in_vain(self, key: str) -> str | None:
        """`key`'s value as written on its line, where it opens with an anchor no alias uses:
        "title: &desk reports" published "reports", the anchor's name taken for YAML's."""
        if not self.yaml or not self._ampersand:
            return None
        line = self.line(key)
        written = YAML_VALUE.fullmatch(self.lines[line - 2].rstrip()) if line is not None else None
        if written is None or written["lead"].rstrip() != f"{key}:" or written["value"][0] != "&":
            return None
        name, *text = written["value"][1:].split(maxsplit=1)
        if not text:  # the value is on the lines below: the anchor cut nothing
            return None
        return None if any(f"*{name}" in line for line in self.lines) else written["value"]

    @functools.cached_property
    def _ampersand(self) -> bool:
        """Whether the front matter has a '&' anywhere: most have none, and need no line."""
        return any("&" in line for line in self.lines)

    @functools.cached_property
    def _hashed(self) -> bool:
        """Whether the front matter has a '#' anywhere: most have none, and need no line."""
        return any("#" in line for line in self.lines)

    def author(self) -> str | None:
        author = self.text("author", single_line=True)
        if author is None:
            return None
        line = self.line("author")
        if has_address(author):
            author = without_address(author)
            message = (
                "the email address in 'author' is left out: feeds give an author's name only; "
                "write the name alone"
                if author
                else "'author' is an email address alone, and feeds give an author's name only: "
                "the site's author is credited; write the name"
            )
            self.report.add(line, "warning", message)
        if author and shows_nothing(author):
            message = f"'author' {author!r} shows nothing, only invisible characters; left out"
            self.report.add(line, "warning", message)
            return None
        if author:
            say_markup(author, line, self.report, "the author")
        return author or None

    def summary(self) -> str | None:
        summary = self.text("summary")
        if summary is not None:
            say_markup(summary, self.line("summary"), self.report, "the summary")
        return summary

    @property
    def _section_key(self) -> str:
        """`section`, or Hugo's and Jekyll's `category` where only that is given."""
        return "section" if "section" in self.meta or "category" not in self.meta else "category"

    def key_lines(self) -> tuple[tuple[str, int], ...]:
        """The lines of the keys a refresh may warn about, once it knows what was published
        (`Article.key_lines`)."""
        keys = {"id": "id", "slug": "slug", "date": "date", "section": self._section_key}
        return tuple((name, line) for name, key in keys.items() if (line := self.line(key)))

    def section(self) -> str | None:
        key = self._section_key
        categories = self.meta.get("categories")
        named = [categories] if isinstance(categories, str) else categories
        named = [c for c in named if isinstance(c, str)] if isinstance(named, list) else []
        if key not in self.meta and named:
            self.failed = True  # Hugo's and Jekyll's: feedsvc files an article in one section
            meant = next(filter(None, map(self.settings.canonical_section, named)), named[0])
            written = self._written("section", json.dumps(meant, ensure_ascii=False))
            message = (
                "front-matter 'section' is required; 'categories' is not read (an article is "
                f"in one section): write {written}"
            )
            self.report.add(self.line("categories"), "error", message)
            return None
        name = self.text(key, required=True)
        if name is None:
            return None
        # the same section in another case or spacing is the same section (`name_key`)
        category = self.meta.get("category") if "section" in self.meta else None
        if category is not None and not (
            isinstance(category, str) and name_key(category) == name_key(name)
        ):
            self.report.add(
                self.line("category"),
                "warning",
                "'category' differs from 'section'; 'section' wins",
            )
        canonical = self.settings.canonical_section(name)
        if canonical is not None:
            return canonical
        if self.settings.allow_new_sections:
            return name
        if self.report.not_configured(self.line(key), name, self.settings):
            self.unconfigured_section = name
        return None

    def datetime(self, key: str) -> datetime | None:
        value = self.meta.get(key)
        if value is None:
            return None
        if isinstance(value, ImpossibleDate):
            self.failed = True
            self.report.add(
                self.line(key), "error", f"invalid date in the front matter: {value.why}"
            )
            return None
        parsed: datetime | None = None
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            parsed = datetime.combine(value, time())
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                parsed = None
        if parsed is None:
            self.error(key, value)
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.settings.timezone)
        try:
            in_utc = parsed.astimezone(UTC)  # 9999-12-31T23:00-05:00 is no instant Python can hold
        except OverflowError:
            self.failed = True
            self.report.add(self.line(key), "error", f"front-matter '{key}' is out of range")
            return None
        if parsed.year < PLAUSIBLE_FROM:  # as written: 1990-01-01 in Paris is 1989 in UTC
            # an RSS date's year has four digits; the W3C validator calls earlier ones implausible
            unpublishable = in_utc.year < 1000
            self.failed |= unpublishable
            self.report.add(
                self.line(key),
                "error" if unpublishable else "warning",
                f"front-matter '{key}' is in {parsed.year}, before {PLAUSIBLE_FROM}: a typo? "
                + ("feeds cannot carry it" if unpublishable else "feed validators doubt it"),
            )
            if unpublishable:
                return None
        # RFC 3339 offsets are whole minutes; a local mean time's are not (Amsterdam before
        # 1937: +00:19:32), and the feeds would carry a date no parser accepts.
        offset = parsed.utcoffset()
        return in_utc if offset is not None and offset % timedelta(minutes=1) else parsed

    def uri(self, key: str) -> str | None:
        value = self.text(key)
        if value is None:
            return None
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", value):
            self.error(key, value)
            return None
        # Said, not refused: an id published already stays published under it.
        if not _URI.fullmatch(value):
            self.report.add(
                self.line(key),
                "warning",
                f"'{key}' {value!r} is not a valid URI (RFC 3986): feed validators reject it; "
                "percent-encode what is not ASCII, and '|', '{', '}', '^' or '\\' (before it is "
                "published: a published id never changes)",
            )
        elif value[:9].lower() == "urn:uuid:" and not _UUID.match(value[9:]):
            message = f"'{key}' {value!r} holds no UUID as urn:uuid wants it (8-4-4-4-12 hex)"
            self.report.add(self.line(key), "warning", message)
        elif value[:4].lower() == "tag:" and not _TAG.fullmatch(value):
            message = (
                f"'{key}' {value!r} is not a tag URI as RFC 4151 writes one, which feed "
                "validators reject: 'tag:' and a domain in lower case, a comma, a year (a month, "
                "a day), a colon, then the name, as in 'tag:example.org,2026:story-6' (before "
                "it is published: a published id never changes)"
            )
            self.report.add(self.line(key), "warning", message)
        elif "://" in value and (written := _canonical(value)) not in (value, None):
            message = (
                f"'{key}' {value!r} is not written as feed validators compare URIs, and they "
                f"warn of it: write {written!r} (before it is published: a published id never "
                "changes)"
            )
            self.report.add(self.line(key), "warning", message)
        return value

    def not_a_draft(self) -> None:
        """`draft: true`, as Hugo and Jekyll read it, left the story out; feedsvc read it as an
        unknown key and published the draft to readers, for good. Any value they take for
        true is a draft; one neither true nor false is refused, as the safe side."""
        value = self.meta.get("draft")
        said = str(value).strip().lower() if isinstance(value, (str, int)) else value
        if said in (None, "", "false", "no", "off", "0"):
            return
        self.failed = True
        if said not in ("true", "yes", "on", "1"):
            self.error("draft", value)
            return
        message = (
            "'draft' is true: this article is not published, and feedsvc publishes no drafts; "
            "keep drafts out of articles_dir, and remove the line to publish it (what the file "
            "published before stays published)"
        )
        self.report.add(self.line("draft"), "error", message)

    def slug(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not is_slug(value):
            self.error(key, value)
            return None
        return value

    def tags(self) -> tuple[str, ...]:
        value = self.meta.get("tags")
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            self.error("tags", value)
            return ()
        line = self.clean_line("tags")
        tags = [self.report.clean(t.strip(), line, "a tag") for t in value]
        if not all(tags):  # an empty <category> is no category: the W3C validator says so
            self.report.add(self.line("tags"), "warning", "an empty tag is left out; remove it")
        for tag in tags:
            say_markup(tag, self.line("tags"), self.report, "a tag")
        # each once, as first written: "café" typed twice, once decomposed, is one category
        unique: dict[str, str] = {}
        for tag in tags:
            if tag:
                unique.setdefault(name_key(tag), tag)
        return tuple(unique.values())


def _canonical(uri: str) -> str | None:
    """`urls.canonical`, or None for a port out of range, which validators leave as it is."""
    try:
        return canonical(uri)
    except ValueError:
        return None


class _Shown(reprlib.Repr):
    def repr_int(self, x: int, level: int) -> str:
        # repr() of an integer of over 4,300 digits raises (Python's limit)
        return f"<an integer of {x.bit_length()} bits>" if x.bit_length() > 256 else repr(x)


@functools.cache
def _shown() -> reprlib.Repr:
    """A value as a message shows it: a few items, a few levels, a few dozen characters (a value
    repeated by aliases would otherwise be written out whole)."""
    shown = _Shown()
    shown.maxlevel, shown.maxstring, shown.maxother = 3, 60, 60
    shown.maxlist = shown.maxtuple = shown.maxdict = shown.maxset = 6
    return shown
