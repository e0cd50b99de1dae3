"""Article files → `Article`s and `Problem`s. Pure: bytes in, values out.

One reader per format, chosen by file extension (`READERS`). A reader never raises on bad
input: it reports what is wrong, with the line, and returns whatever it could read.
"""

from __future__ import annotations

import codecs
import difflib
import functools
import hashlib
import itertools
import logging
import re
import reprlib
import textwrap
import tomllib
import unicodedata
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from feedsvc.config import Config
from feedsvc.model import Article, Problem, ReadResult, RelatedHeadline, Severity
from feedsvc.text import (
    forbidden_characters,
    has_address,
    has_forbidden,
    has_forbidden_utf8,
    is_slug,
    markup_warning,
    name_key,
    one_line,
    toml_fix,
    toml_position,
    without_address,
    xml_safe,
)

log = logging.getLogger(__name__)

try:  # libyaml is ~10x faster; PyYAML's wheels ship it, a source build may not
    _YamlLoader: type[yaml.SafeLoader | yaml.CSafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader


#: the modules whose code decides what a file's bytes are read as: this one, the hashes and
#: values it makes (`model`) and the characters it removes (`text`)
READING_CODE = ("readers.py", "model.py", "text.py")


@functools.cache
def _code_digest() -> bytes:
    made = hashlib.sha256()
    for name in READING_CODE:
        made.update(Path(__file__).with_name(name).read_bytes())
    return made.digest()


@dataclass(frozen=True)
class ReaderSettings:
    """What a reader needs from the config, and nothing more."""

    sections: tuple[str, ...]
    allow_new_sections: bool
    timezone: ZoneInfo
    #: sections published before and not configured now (renamed, or taken out): a line naming
    #: one still opens an article, as a file's first line does (refused), never paragraphs
    #: glued to the article above it
    retired: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Config, published: Collection[str] = ()) -> ReaderSettings:
        """`published`: every section the store ever published (`StateStore.sections_published`),
        whose articles are refused once the config takes the section out (`retired`). Only
        without allow_new_sections: with it, each section found would change the settings'
        digest, and every file would be read again."""
        configured = tuple(s.name for s in config.sections)
        known = {name_key(name) for name in configured}
        allowing = config.content.allow_new_sections
        retired = () if allowing else sorted(n for n in published if name_key(n) not in known)
        return cls(
            sections=configured,
            allow_new_sections=allowing,
            timezone=config.site.timezone,
            retired=tuple(retired),
        )

    @functools.cached_property
    def digest(self) -> str:
        """What a file's articles depend on besides its bytes: these settings and the code that
        reads (`READING_CODE`). Files read with another digest are read again (a section added
        to the config turns a refused article into an entry; a reader fix applies to every
        file)."""
        made = hashlib.sha256(_code_digest())
        settings = (self.sections, self.allow_new_sections, str(self.timezone), self.retired)
        made.update(repr(settings).encode())
        return made.hexdigest()[:24]

    @functools.cached_property
    def _by_key(self) -> dict[str, str]:
        return {name_key(section): section for section in self.sections}

    def section_like(self, line: str) -> str | None:
        """The configured section a line is a near miss of ("Midle East"), if any."""
        close = difflib.get_close_matches(name_key(line), self._by_key, n=1, cutoff=0.8)
        return self._by_key[close[0]] if close else None

    def canonical_section(self, name: str) -> str | None:
        return self._by_key.get(name_key(name))

    def is_retired(self, line: str) -> bool:
        return name_key(line) in self._retired

    @functools.cached_property
    def _retired(self) -> frozenset[str]:
        return frozenset(name_key(name) for name in self.retired)

    @functools.cached_property
    def _section_line(self) -> re.Pattern[str]:
        # as `name_key` compares names: any run of spaces between words (a no-break one
        # too), and each name composed and decomposed ("Türkiye" as some editors save it).
        # The text is not normalised: that cost more than reading a .txt file.
        forms = {unicodedata.normalize("NFC", name) for name in self.sections}
        forms |= {unicodedata.normalize("NFD", name) for name in self.sections}
        names = "|".join(r"[^\S\n]+".join(map(re.escape, name.split())) for name in sorted(forms))
        # Anchored on "\n", not on ^ with re.MULTILINE: re then finds each line at C speed
        # (2 µs for a 4 KB body, against 20).
        return re.compile(rf"\n[^\S\n]*(?:{names or '(?!)'})[^\S\n]*(?:\n|\Z)", re.IGNORECASE)

    def may_hold_a_section_line(self, text: str) -> bool:
        """Whether a line of `text` may be a section name; `canonical_section` decides."""
        return self._section_line.search("\n" + text) is not None


class _Report:
    """Collects a file's problems; every check runs, so the author sees them all at once."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.unconfigured: list[Article] = []  #: see `ReadResult.unconfigured`
        #: set once per file: most files have no forbidden character, so most lines skip the check
        self.dirty = True

    def add(self, line: int | None, severity: Severity, message: str) -> None:
        self.problems.append(Problem(self.path, line, severity, message))

    def not_configured(self, line: int | None, section: str, settings: ReaderSettings) -> bool:
        """An article left out for its section: whether by the config (not a near miss of a
        configured one, which an edit broke)."""
        meant = settings.section_like(section)
        if meant is not None:  # a typo: a section of its own would be the wrong fix
            message = f"section {section!r} is not configured; spell it as configured: {meant!r}?"
        else:
            message = (
                f"section {section!r} is not configured; add a [[sections]] entry with "
                f'name = "{section}" to config.toml, or set content.allow_new_sections = true'
            )
        self.problems.append(Problem(self.path, line, "error", message, by_config=meant is None))
        return meant is None

    def clean(self, value: str, line: int | None, what: str) -> str:
        """`value` with XML-forbidden characters removed, and a warning when there were any."""
        if not self.dirty:
            return value
        bad = forbidden_characters(value)
        if not bad:
            return value
        codes = ", ".join(sorted(set(bad)))
        self.add(line, "warning", f"removed {len(bad)} control character(s) ({codes}) from {what}")
        return xml_safe(value)


def read_bytes(path: str, data: bytes, settings: ReaderSettings) -> ReadResult:
    """Read one file's bytes with the reader its extension selects."""
    report = _Report(path)
    reader = reader_for(path)
    if reader is None:
        return ReadResult()
    text = _decode(data, report)
    if text is None:
        return ReadResult(problems=tuple(report.problems))
    if not text.strip():
        report.add(None, "error", "the file is empty; add an article or delete the file")
        return ReadResult(problems=tuple(report.problems))
    try:
        articles = reader(path, text, settings, report)
    except Exception as e:  # feedsvc's fault, with this file: the others are read all the same
        log.exception("%s: reading it failed", path)
        what = textwrap.shorten(str(e), 80, placeholder="...")
        message = (
            f"feedsvc failed to read this file ({type(e).__name__}: {what}); what it "
            "published stays published. Please report it, with the file"
        )
        report.add(None, "error", message)
        return ReadResult(problems=tuple(report.problems))
    return ReadResult(tuple(articles), tuple(report.problems), tuple(report.unconfigured))


def reader_for(path: str) -> _ReaderFunc | None:
    suffix = path[path.rfind(".") :].lower() if "." in path else ""
    return READERS.get(suffix)


def _decode(data: bytes, report: _Report) -> str | None:
    # Notepad's "Unicode": its mark says so (not UTF-32's, which starts the same)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and not data.startswith(b"\xff\xfe\x00\x00"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            report.add(1, "warning", "saved as UTF-16; read so (save it as UTF-8 to silence this)")
            report.dirty = has_forbidden(text)
            return text.replace("\r\n", "\n").replace("\r", "\n")
    if b"\x00" in data[:8192]:
        report.add(
            None,
            "error",
            "binary file (it contains NUL bytes; if it is text, save it as UTF-8); skipped",
        )
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # CRLF and lone CR are accepted silently; from here on every line ends in "\n". On the
    # bytes, where a CR is a CR in UTF-8 and Windows-1252 alike, and most files have none.
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    try:
        text = data.decode("utf-8")
        report.dirty = has_forbidden_utf8(data)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        text = _mostly_utf8_or_windows_1252(data)
        # 0x81, 0x8D, 0x8F, 0x90 and 0x9D mean nothing in Windows-1252 (a Central European
        # file's "ť" is 0x9D): left out, not published as U+FFFD, which validators call bad
        undefined = text.count("\ufffd")
        text = text.replace("\ufffd", "")
        left_out = f", and {undefined} byte(s) undefined there left out" if undefined else ""
        report.add(
            line,
            "warning",
            f"bytes that are not UTF-8 (the first on this line), read as Windows-1252{left_out} "
            "(save the file as UTF-8 to silence this)",
        )
        report.dirty = has_forbidden(text)
    return text


def _mostly_utf8_or_windows_1252(data: bytes) -> str:
    """A file that is not UTF-8: one in UTF-8 but for stray bytes (Word quotes pasted in),
    read as UTF-8 with only those bytes read as Windows-1252, so that not every "é" of it
    becomes "Ã©", nor the story another once the byte is fixed; else a file in Windows-1252,
    read so whole ("groß“" holds bytes UTF-8 would take for one character). UTF-8 it is when
    its UTF-8 characters outnumber its stray bytes, or when those are all punctuation (0x80 to
    0x9F: quotes, dashes), which is what is pasted: a Windows-1252 file's letters are above."""
    escaped = data.decode("utf-8", errors="surrogateescape")  # a stray byte: U+DC80-U+DCFF
    strays = _STRAY.findall(escaped)
    characters = len(_NOT_ASCII.findall(escaped)) - len(strays)
    punctuation = all(stray <= "\udc9f" for stray in strays)
    if characters > len(strays) or (characters and punctuation):
        codecs.register_error(_AS_WINDOWS_1252, _as_windows_1252)
        return data.decode("utf-8", errors=_AS_WINDOWS_1252)
    return data.decode("cp1252", errors="replace")


_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
_STRAY = re.compile("[\udc80-\udcff]")
_AS_WINDOWS_1252 = "feedsvc-windows-1252"


def _as_windows_1252(error: UnicodeError) -> tuple[str, int]:
    """A decoding error handler: the bytes that are not UTF-8, read as Windows-1252 (U+FFFD
    for the five it leaves undefined)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


# -- the plain-text format -------------------------------------------------------------------

# "Europe2 weeks ago": a section name glued to a relative age, inside the related block.
_AGE = re.compile(
    r"^(?P<section>.*?\D)\s*(?P<age>(?:\d+|an?|one)\s+(?:second|minute|hour|day|week|month|year)s?"
    r"\s+ago|yesterday|today|just now)$",
    re.IGNORECASE,
)


def read_text(path: str, text: str, settings: ReaderSettings, report: _Report) -> list[Article]:
    """The sample's format: section line, title line, blank line, one paragraph per line."""
    lines = text.removesuffix("\n").split("\n")  # the final newline ends a line, adds none
    starts = _article_starts(lines, settings, report)
    opened = starts[0].at if starts else len(lines)
    lead = next((i for i, line in enumerate(lines[:opened]) if line.strip()), None)
    if lead is not None:
        line, message = _before_the_first_article(lines, lead, settings, found=bool(starts))
        report.add(line, "error", message)
    if not starts:
        return []
    # Each related-headlines block closes the run of articles above it: the file's last, and
    # one left inside by an article appended below it or by two files merged into one.
    closed = _blocks_inside(lines, starts, settings)
    body_end, related = _related_block(lines, starts[-1].at + 3, len(lines), settings, report)
    articles: list[Article] = []
    run: list[tuple[_Start, int]] = []  #: articles waiting for the block closing them, and ends
    for number, start in enumerate(starts):
        last = number + 1 == len(starts)
        end = body_end if last else closed.get(number, starts[number + 1].at)
        run.append((start, end))
        if number in closed:
            _, block = _related_block(lines, end, starts[number + 1].at, settings, report)
        elif last:
            block = related
        else:
            continue
        for opening, closing in run:
            at, section = opening.at, opening.section
            if opening.unconfigured:  # read, its problems unsaid: it is published nowhere
                left = _text_article(path, lines, at, closing, section, block, _Report(path))
                if left is not None:
                    report.unconfigured.append(left)
                continue
            article = _text_article(path, lines, at, closing, section, block, report)
            if article is None:
                continue
            if settings.may_hold_a_section_line(article.body):
                _report_glued(lines, at, closing, article.title, settings, report)
            articles.append(article)
        run = []
    return articles


def _before_the_first_article(
    lines: list[str], first: int, settings: ReaderSettings, found: bool
) -> tuple[int, str]:
    """The error of text above a file's first article (or in a file of none), and its line:
    where it opens with a section line, the slip that kept it from being read, and its fix."""
    if settings.canonical_section(lines[first]) is None:
        sections = ", ".join(settings.sections)
        if found:
            why = f"delete it, or start an article here with a section line (one of: {sections})"
            return first + 1, f"text before the first article is not read; {why}"
        return 1, (
            f"no article found; an article starts with a section line (one of: {sections}), "
            "a title line and a blank line"
        )
    section = lines[first].strip()
    rest = [i for i in range(first + 1, len(lines)) if lines[i].strip()]
    if not rest:
        return first + 1, f"{section!r} alone: put the article's title on the next line"
    if rest[0] > first + 1:  # a blank line right below the section line
        return first + 2, _untitled_fix(section)
    if len(rest) == 1 or settings.canonical_section(lines[rest[1]]) is not None:
        return first + 2, "the article has a title but no body; add a blank line, then its text"
    return rest[1] + 1, "put a blank line between the title and the article's text"


def _untitled_fix(section: str) -> str:
    return (
        "a section line followed by a blank line: an article without its title; put its title "
        f"on the line after {section!r}"
    )


class _Start(NamedTuple):
    """A line that opens an article."""

    at: int  #: the section line's index
    section: str | None  #: None: unknown, the article refused
    #: `section` is one the config does not publish: the article is read, then left out
    unconfigured: bool = False


def _article_starts(lines: list[str], settings: ReaderSettings, report: _Report) -> list[_Start]:
    starts: list[_Start] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    # An article opens two lines above a blank line: the paragraphs between are never looked at.
    for blank in [i for i, line in enumerate(lines) if not line.strip()]:
        index = blank - 2
        if _untitled(lines, index + 1, first, settings):
            # A title cleared halfway through an edit: an error, so that the file keeps what it
            # published, rather than the story taken down and its body glued to the one above.
            report.add(index + 2, "error", _untitled_fix(lines[index + 1].strip()))
            starts.append(_Start(index + 1, None))
            continue
        if index < 0 or not lines[index + 1].strip() or not lines[index].strip():
            continue
        line = lines[index]
        section = settings.canonical_section(line)
        if section is not None:
            starts.append(_Start(index, section))
        elif index == first or settings.is_retired(line):
            # Only the file's first line can open an article in an unconfigured section, and a
            # section published before; elsewhere "paragraph, paragraph, blank" is body text.
            name = line.strip()
            if settings.allow_new_sections:
                starts.append(_Start(index, name))
            elif report.not_configured(index + 1, name, settings):
                starts.append(_Start(index, name, unconfigured=True))
            else:
                starts.append(_Start(index, None))
        else:
            _report_lookalike(lines, index, settings, report)
    return starts


def _untitled(lines: list[str], index: int, first: int | None, settings: ReaderSettings) -> bool:
    """A section line above a blank line, and no section line above it (that one would open
    an article titled like a section), nor a related headline's age (it is that headline): an
    article whose title went missing, inside a body."""
    return (
        first is not None
        and index > first
        and settings.canonical_section(lines[index]) is not None
        and settings.canonical_section(lines[index - 1]) is None
        and not (
            index >= 2 and lines[index - 2].strip() == "-" and _age_line(lines[index - 1], settings)
        )
    )


def _report_lookalike(
    lines: list[str], index: int, settings: ReaderSettings, report: _Report
) -> None:
    """Paragraph, paragraph, blank line inside a body: paragraphs, or an article whose section
    line is misspelt, read as paragraphs of the article above (and what it published is gone).
    Said when it looks so, never guessed at."""
    line = lines[index].strip()
    if len(line) > 2 * max(map(len, settings.sections), default=0):
        return  # a paragraph, surely: no need to compare it
    meant = settings.section_like(line)
    if meant is not None:
        report.add(
            index + 1,
            "warning",
            f"{line!r} is read as a paragraph: no section is named so; if a new article starts "
            f"here, spell its section as configured ({meant!r}?)",
        )
    elif (
        _reads_like_a_name(line)
        and _reads_like_a_title(lines[index + 1].strip())
        and _headline_at(lines, index - 1, len(lines), settings) is None  # "-", "Asia2 weeks ago"
        and _body_below(lines, index + 3, settings)
    ):
        elsewhere = (
            ", or start a file with it (only a file's first line opens a section not configured)"
            if settings.allow_new_sections
            else ""
        )
        report.add(
            index + 1,
            "warning",
            f"{line!r} and the line after it are read as paragraphs of the article above: no "
            f"section is named so; if a new article starts here, add a [[sections]] entry with "
            f'name = "{line}" to config.toml{elsewhere}',
        )


def _body_below(lines: list[str], index: int, settings: ReaderSettings) -> bool:
    """A paragraph at `index`: not the file's end, a related block ("-") or the next article
    (a byline above a blank line is no article)."""
    if index >= len(lines):
        return False
    line = lines[index].strip()
    return bool(line) and line != "-" and settings.canonical_section(line) is None


def _reads_like_a_name(line: str) -> bool:
    """A section's name: a few words, capitalised, no sentence's punctuation."""
    return (
        len(line) <= 30
        and len(line.split()) <= 3
        and line[0].isupper()
        and not any(mark in line for mark in '.,;:!?"“”')
    )


def _reads_like_a_title(line: str) -> bool:
    """A headline ends without the period a paragraph ends with."""
    return not line.rstrip("\"\u201d\u2019')").endswith((".", ",", ";", ":"))


def _check_title(title: str, line: int | None, report: _Report) -> bool:
    """Whether the title can be published: one a reader can see (`str.strip` keeps a zero-width
    space, a Hangul filler). Its markup and a direction override are said."""
    if _shows_nothing(title):
        message = f"the title {title!r} shows nothing, only invisible characters; write a title"
        report.add(line, "error", message)
        return False
    # the overrides ("Trojan source"); embeddings and isolates are ordinary RTL text
    if "\u202d" in title or "\u202e" in title:
        report.add(
            line,
            "warning",
            "the title holds a direction override (U+202D or U+202E): it turns the text after it "
            "around in readers' lists and in the page's title; remove it",
        )
    _say_markup(title, line, report)
    return True


def _shows_nothing(text: str) -> bool:
    """Only characters drawn as nothing: `str.strip` keeps a zero-width space, a Hangul filler."""
    return all(_unseen(character) for character in text)


def _unseen(character: str) -> bool:
    return (
        character.isspace()
        or unicodedata.category(character) in ("Cf", "Cc", "Zs")
        or character in _BLANKS
    )


#: letters and symbols drawn as nothing: Hangul fillers, the braille blank
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _say_markup(text: str, line: int | None, report: _Report, what: str = "the title") -> None:
    message = markup_warning(text, what)
    if message is not None:
        report.add(line, "warning", message)


def _report_glued(
    lines: list[str],
    start: int,
    end: int,
    title: str,
    settings: ReaderSettings,
    report: _Report,
) -> None:
    """A section line inside a body, above a line of text: an article whose blank line after
    the title is missing, read as paragraphs of the one above. Said, not guessed at."""
    for index in range(start + 3, end - 1):
        if settings.canonical_section(lines[index]) and lines[index + 1].strip():
            report.add(
                index + 1,
                "warning",
                f"a section line inside the article {title!r}, read as one of its paragraphs; "
                "if a new article starts here, put a blank line after its title",
            )


def _text_article(
    path: str,
    lines: list[str],
    start: int,
    end: int,
    section: str | None,
    related: tuple[RelatedHeadline, ...],
    report: _Report,
) -> Article | None:
    if section is None:
        return None
    title_line = start + 2  # 1-based number of the title line
    title = report.clean(lines[start + 1].strip(), title_line, "the title")
    body = lines[start + 3 : end]
    if report.dirty:  # only then can a paragraph lose characters (and be left empty)
        cleaned = (
            report.clean(line.strip(), number, "a paragraph")
            for number, line in enumerate(body, start=start + 4)
            if line.strip()
        )
        paragraphs = [p for p in cleaned if p]
    else:
        paragraphs = [stripped for line in body if (stripped := line.strip())]
    if not paragraphs:
        report.add(
            start + 1,
            "error",
            f"article {title!r} has a title but no body; add paragraphs after the blank line",
        )
        return None
    if not title:
        report.add(title_line, "error", "the title is empty after removing control characters")
        return None
    if not _check_title(title, title_line, report):
        return None
    return Article(
        path=path,
        line=start + 1,
        section=section,
        title=title,
        body="\n".join(paragraphs),
        body_format="text",
        related=related,
    )


def _blocks_inside(
    lines: list[str], starts: list[_Start], settings: ReaderSettings
) -> dict[int, int]:
    """Blocks above the last article, by the number of the article they end, and where each
    starts. Only a whole block of configured sections counts here: "-", then "The vote is
    expected today", then a line, is text inside an article, where the file's last block is
    looked for more leniently."""
    if "-" not in map(str.strip, lines[: starts[-1].at]):
        return {}  # the usual file: no "-" line above its last article (~1 µs to know)
    closed = {}
    for number, start in enumerate(starts[:-1]):
        end = starts[number + 1].at
        while not lines[end - 1].strip():
            end -= 1
        block = next(
            (i for i in range(start.at + 3, end) if _whole_block(lines, i, end, settings)),
            None,
        )
        if block is not None:
            closed[number] = block
    return closed


def _whole_block(lines: list[str], start: int, end: int, settings: ReaderSettings) -> bool:
    """Whether lines[start:end] are all headlines of a related block, of configured sections
    (blank lines between them, as the file's last block may have)."""
    index = start
    while index < end:
        found = _headline_at(lines, index, end, settings)
        if found is None or settings.canonical_section(found[0]["section"]) is None:
            return False
        index += 3
        while index < end and not lines[index].strip():
            index += 1
    return True


def _headline_at(
    lines: list[str], index: int, end: int, settings: ReaderSettings
) -> tuple[re.Match[str], str] | None:
    """The age line's match and the title of the headline at `index` ("-", "<Section><age>
    ago", "<headline>"), if one is there, before `end`."""
    if index + 2 >= end or lines[index].strip() != "-":
        return None
    match = _age_line(lines[index + 1], settings)
    title = lines[index + 2].strip()
    return (match, title) if match is not None and title else None


def _age_line(line: str, settings: ReaderSettings) -> re.Match[str] | None:
    """`<Section><age>`, written together as the format has it ("Europe2 weeks ago", "World
    news3 days ago"), or apart for a section the site knows ("Europe 2 weeks ago"). A sentence
    that ends in "today" ("The final communique was published today") is no age line."""
    match = _AGE.match(line.strip())
    if match is None:
        return None
    section = match["section"].strip()
    # together: a number of days after a name, not "Canad|a years ago", "2,|700 years ago"
    if match.start("age") == match.end("section") and match["age"][0].isdigit():
        return match if not _NUMBER_CUT.search(section) else None
    known = settings.canonical_section(section) is not None or settings.is_retired(section)
    return match if known else None


#: what the age's digits would continue: "2,700 years ago", "1.5 years ago"
_NUMBER_CUT = re.compile(r"\d[.,]$")


def _related_block(
    lines: list[str], after: int, end: int, settings: ReaderSettings, report: _Report
) -> tuple[int, tuple[RelatedHeadline, ...]]:
    """Where the related-headlines block in lines[after:end] starts (`end`: no block), and its
    headlines."""
    start = next(
        (
            i
            for i in range(after, end - 1)
            if lines[i].strip() == "-" and _age_line(lines[i + 1], settings)
        ),
        end,
    )
    headlines: list[RelatedHeadline] = []
    index = start
    while index < end:
        if not lines[index].strip():
            index += 1
            continue
        found = _headline_at(lines, index, end, settings)
        if found is None:
            report.add(
                index + 1,
                "warning",
                "unexpected line in the related-headlines block (expected '-', "
                "'<Section><age> ago', '<headline>'); ignored",
            )
            index += 1
            continue
        match, title = found
        headlines.append(
            RelatedHeadline(
                section=match["section"].strip(),
                age=match["age"],
                title=report.clean(title, index + 3, "a related headline"),
            )
        )
        index += 3
    return start, tuple(headlines)


# -- the Markdown format ---------------------------------------------------------------------

_FIELDS: Mapping[str, str] = {
    "title": "a non-empty string",
    "section": "a section name",
    "date": "a date and time, e.g. 2025-07-15T12:00:00+02:00",
    "updated": "a date and time, e.g. 2025-07-15T12:00:00+02:00",
    "author": "a string",
    "summary": "a string",
    "id": "an absolute URI such as 'tag:example.org,2025:my-article'",
    "slug": "lowercase letters, digits and hyphens",
    "tags": "a list of strings",
    "category": "a section name (Pelican/Hugo spelling of 'section')",
    "draft": "true or false (Hugo and Jekyll's: feedsvc publishes no drafts)",
}


def read_markdown(path: str, text: str, settings: ReaderSettings, report: _Report) -> list[Article]:
    """Front matter (TOML between +++ or YAML between ---), then a Markdown body."""
    lines = text.split("\n")
    fence = lines[0].strip()
    if fence not in ("+++", "---"):
        opening = next((i for i, line in enumerate(lines) if line.strip()), 0)
        if lines[opening].strip() in ("+++", "---"):
            blank = "blank line" if opening == 1 else "blank lines"
            message = f"the front matter must open on line 1: remove the {blank} above it"
            report.add(opening + 1, "error", message)
        else:
            message = "no front matter; start the file with '---' (YAML) or '+++' (TOML)"
            report.add(1, "error", message)
        return []
    # At the start of its line: an indented `---` is inside a value (a YAML block string).
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() == fence), None)
    if close is None:
        report.add(1, "error", f"the front matter opened with {fence!r} is never closed")
        return []
    source = "\n".join(lines[1:close])
    meta = _parse_front_matter(source, fence, report)
    if meta is None:
        return []
    # A YAML or TOML escape ("\a", "\u0007") makes a character the file's bytes do not have.
    if not report.dirty and "\\" in source:
        report.dirty = _has_forbidden_value(meta)
    fields = _FrontMatter(meta, lines[1:close], settings, report, yaml=fence == "---")
    body = report.clean("\n".join(lines[close + 1 :]).strip("\n"), close + 2, "the body")
    if "![" in body:
        _say_relative_images(lines, close + 1, report)
    if "<!--" in body:
        _say_comments(lines, close + 1, report)
    fields.not_a_draft()
    section = fields.section()
    title = fields.text("title", required=True, single_line=True)
    if title and not _check_title(title, fields.line("title"), report):
        title = None
    article_fields = {
        "date": fields.datetime("date"),
        "updated": fields.datetime("updated"),
        "author": fields.author(),
        "summary": fields.summary(),
        "id": fields.uri("id"),
        "slug": fields.slug("slug"),
        "tags": fields.tags(),
    }
    dated, updated = article_fields["date"], article_fields["updated"]
    if isinstance(dated, datetime) and isinstance(updated, datetime) and updated < dated:
        message = "'updated' is before 'date': no story is updated before it is out; ignored"
        report.add(fields.line("updated"), "warning", message)
    if not body.strip():
        report.add(
            close + 2,
            "error",
            "the article has no body; add text after the front matter",
        )
        return []
    named = section if section is not None else fields.unconfigured_section
    if fields.failed or not title or named is None:
        return []
    article = Article(
        path=path,
        line=1,
        section=named,
        title=title,
        body=body,
        body_format="markdown",
        **article_fields,  # type: ignore[arg-type]
    )
    if section is None:  # in a section the config does not publish
        report.unconfigured.append(article)
        return []
    return [article]


#: `![alt](img/map.png)`, `![alt](<my map.png>)`: where an image's address is
_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*(?:<([^>]*)>|([^)\s]+))")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:|/|#")


def _say_relative_images(lines: list[str], first: int, report: _Report) -> None:
    """feedsvc publishes no images: one beside the article's file is a broken image in every
    feed reader and on its page. (A root-relative one may be served by the site's own server.)"""
    for number, line in enumerate(lines[first:], start=first + 1):
        for found in _IMAGE.finditer(line):
            address = found.group(1) if found.group(1) is not None else found.group(2)
            if not _ABSOLUTE.match(address):  # a path relative to the article's page
                report.add(
                    number,
                    "warning",
                    f"image {address!r} is relative to the article's page, where feedsvc "
                    "publishes no images; give its absolute URL (https://...)",
                )


def _say_comments(lines: list[str], first: int, report: _Report) -> None:
    """Raw HTML is off: an editor's `<!-- note -->` is published as text, for every reader to
    see. One in a code block is code, shown on purpose: in a fence, or indented four columns
    where no paragraph goes on (an indented line continues a paragraph above it)."""
    fence = ""  #: the fence of the code block the line is in
    paragraph = False  #: the line above is a paragraph's, which an indented line continues
    for number, line in enumerate(lines[first:], start=first + 1):
        text = line.expandtabs(4).lstrip()
        indent = len(line.expandtabs(4)) - len(text)
        found = _fence_of(text) if indent < 4 else None
        if fence:  # closed by the same character, as many or more times, and nothing else
            if found and found[0].startswith(fence) and not found[1].strip():
                fence = ""
            continue
        if found:
            fence, paragraph = found[0], False
            continue
        code = bool(text) and indent >= 4 and not paragraph
        if code or not text:
            paragraph = False
            continue
        if text.startswith("<!--"):
            report.add(
                number,
                "warning",
                "an HTML comment is published as text, for readers to see (raw HTML is off); "
                "remove it, or keep notes out of the article",
            )
        # An indented line only continues the paragraph. A heading or a rule ends what an
        # indented line below could continue, and so does an underline below a paragraph.
        if indent < 4:
            paragraph = not (
                _HEADING_OR_RULE.match(text) or (paragraph and _UNDERLINE.fullmatch(text))
            )


#: an ATX heading, or a thematic break (three or more of one of -, * and _)
_HEADING_OR_RULE = re.compile(r"#{1,6}(\s|$)|([-*_])(\s*\2){2,}\s*$")
#: what turns the paragraph above into a setext heading
_UNDERLINE = re.compile(r"(=+|-+)\s*")


def _fence_of(text: str) -> tuple[str, str] | None:
    """A CommonMark code fence, and its info string: three or more backticks (with no backtick
    after them: that is inline code) or tildes."""
    found = _FENCE.fullmatch(text)
    if found is None:
        return None
    return (found[1], found[2]) if found[1] else (found[3], found[4])


_FENCE = re.compile(r"(`{3,})([^`]*)|(~{3,})(.*)")


def _parse_front_matter(source: str, fence: str, report: _Report) -> dict[str, Any] | None:
    meta: Any
    aliased = False
    twice = None
    try:
        if fence == "+++":
            # The closing +++ ends the last line: a slip on it is said on it, as in config.toml,
            # not "at end of document" (an unclosed string, a key given twice).
            meta = tomllib.loads(source + "\n")
        else:
            meta = _flat_yaml(source)
            if meta is None:
                loader = _YamlLoader(source)
                try:  # what `yaml.load` does, the keys and aliases looked at on the way
                    node = loader.get_single_node()
                    twice, aliased = _keys_given_twice(node), _has_alias(node)
                    meta = None if node is None else loader.construct_document(node)
                finally:
                    loader.dispose()
    except tomllib.TOMLDecodeError as e:
        number, message = toml_position(e)
        line = number + 1 if number is not None else None  # below the opening +++
        lines = source.split("\n")
        written = lines[number - 1] if number is not None and number <= len(lines) else ""
        why = _impossible_toml_date(written)
        if why is not None:
            report.add(line, "error", f"invalid date in the front matter: {why}")
        else:  # the fixes config.toml's slips get
            fix = toml_fix(message, written)
            said = f"invalid TOML front matter: {message}" + (f"; {fix}" if fix else "")
            report.add(line, "error", said)
        return None
    except ValueError as e:  # PyYAML builds dates itself: 2025-02-30 raises here
        line = _impossible_date(source)
        what = "invalid front matter" if line is None else "invalid date in the front matter"
        report.add(line, "error", f"{what}: {_why_no_date(e)}")  # else 4,300 digits or more
        return None
    except yaml.reader.ReaderError as e:  # a character YAML refuses, before any parsing
        line = source.count("\n", 0, e.position) + 2
        problem = f"character U+{e.character:04X} is refused ({e.reason}); remove it"
        report.add(line, "error", f"invalid YAML front matter: {problem}")
        return None
    except yaml.YAMLError as e:
        if _said_a_yaml_slip(source, e, report):
            return None
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        problem = getattr(e, "problem", None) or str(e)
        if problem.startswith("mapping values are not allowed"):  # title: Ukraine: talks resume
            problem += "; quote a value that holds ': ' (title: \"Ukraine: talks resume\")"
        report.add(line, "error", f"invalid YAML front matter: {problem}")
        return None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        if fence == "---" and _said_a_yaml_slip(source, None, report):  # `title:T`: one text
            return None
        report.add(2, "error", "the front matter must be a mapping of keys to values")
        return None
    if twice is not None:  # `_flat_yaml` reads no key twice: PyYAML is asked then
        key, first, second = twice
        message = (
            f"invalid YAML front matter: {key!r} is given twice, on lines {first} and {second} "
            "(YAML would keep the last in silence); keep one"
        )
        report.add(second, "error", message)
        return None
    if aliased and _size_of(meta, _SIZE_AT_MOST):
        message = (
            "invalid YAML front matter: its aliases (*name) stand for over "
            f"{_SIZE_AT_MOST:,} values and characters (or for a value that holds itself); "
            "write the values out"
        )
        report.add(_first_alias(source), "error", message)
        return None
    return meta


def _said_a_yaml_slip(source: str, error: yaml.YAMLError | None, report: _Report) -> bool:
    """Whether `report` was told an author's usual slip that `error` comes of (`_yaml_slip`)."""
    slip = _yaml_slip(source, error)
    if slip is not None:
        report.add(slip[0], "error", f"invalid YAML front matter: {slip[1]}")
    return slip is not None


def _yaml_slip(source: str, error: yaml.YAMLError | None) -> tuple[int, str] | None:
    """The file line of an author's usual YAML slip that `error` comes of (or, with None, that
    made the front matter no mapping), and its fix; None for any other. Looked for on the lines
    themselves, down to where PyYAML stumbled: that is often below the slip (`title:Elections`
    reads as text, and the key on the next line is where PyYAML finds it wrong). PyYAML's words
    are kept where they name what it read."""
    lines = source.split("\n")
    context, problem = getattr(error, "context_mark", None), getattr(error, "problem_mark", None)
    stumbled = {mark.line for mark in (context, problem) if mark is not None}
    for index, line in _outside_blocks(lines[: max(stumbled, default=len(lines)) + 1]):
        found = _MISSING_SPACE.fullmatch(line)
        if found is not None and found[1] in _FIELDS:
            return index + 2, f"put a space after '{found[1]}:' ({found[1]}: {found[2]})"
        pair = _YAML_VALUE.fullmatch(line)
        if pair is None:
            continue
        value = pair["value"]
        if value[0] in "'\"":
            rest = _after_quote(value)
            if rest is not None and rest.strip() and not re.match(r"\s+#", rest):
                meant = value[1:-1] if len(value) > 1 and value[-1] == value[0] else value
                how, quoted = _yaml_quoted(meant)
                return index + 2, f"quote the whole value {how} ({pair['lead']}{quoted})"
            unclosed = getattr(error, "context", None) == "while scanning a quoted scalar"
            if rest is None and unclosed and context is not None and context.line == index:
                how, quoted = _yaml_quoted(value[1:])
                return index + 2, f"close the quote on the same line ({pair['lead']}{quoted})"
            continue
        read_as = _YAML_INDICATORS.get(value[0])
        if read_as is None or not _misread(value, index in stumbled):
            continue
        fix = f"quote the value: {read_as} ({pair['lead']}{_yaml_quoted(value)[1]})"
        if value[0] in "&*!":  # PyYAML names the anchor, alias or tag it read
            fix += f"; YAML says: {getattr(error, 'problem', None) or error}"
        return index + 2, fix
    return None


def _outside_blocks(lines: list[str]) -> Iterator[tuple[int, str]]:
    """Each line with its index, trailing blanks stripped, but those of a block scalar's text
    (below `summary: |`, more indented than its key): text, where no YAML slip can be."""
    block_indent: int | None = None
    for index, line in enumerate(lines):
        line = line.rstrip()
        indent = len(line) - len(line.lstrip())
        if block_indent is not None and (not line or indent > block_indent):
            continue
        block_indent = None
        pair = _YAML_VALUE.fullmatch(line)
        if pair is not None and _BLOCK_HEADER.fullmatch(pair["value"]):
            block_indent = indent
        yield index, line


def _after_quote(value: str) -> str | None:
    """What follows the quoted string `value` opens with on its line; None if it goes on below.
    (`''` is a quote in a single-quoted string, `\\"` one in a double-quoted string.)"""
    quote, index = value[0], 1
    while index < len(value):
        if quote == '"' and value[index] == "\\":
            index += 2
        elif value[index] != quote:
            index += 1
        elif quote == "'" and value[index + 1 : index + 2] == "'":
            index += 2
        else:
            return value[index + 1 :]
    return None


def _misread(value: str, stumbled: bool) -> bool:
    """Whether `value`, opening with a YAML indicator, is text YAML read as something else."""
    if value[0] in "[{":  # a list or mapping, then more: `[Live] Kyiv talks`
        depth, quote = 0, ""
        for index, character in enumerate(value):
            if quote:  # a bracket in a quoted item (`["a]", b]`) closes nothing
                quote = "" if character == quote else quote
                continue
            quote = character if character in "'\"" else ""
            depth += (character in "[{") - (character in "]}")
            if depth == 0:
                rest = value[index + 1 :]
                return bool(rest.strip()) and not re.match(r"\s+#", rest)
        return False  # a list written over lines goes on below
    if value[0] in "|>":  # a block scalar's header holds only its indicators and a comment
        return _BLOCK_HEADER.fullmatch(value) is None
    if value[0] in "&*!":  # an anchor, alias or tag may be meant: only where PyYAML stumbled
        return stumbled
    return True  # @, ` and % start no value


#: text readers are shown, in which a '#' is more likely the author's than a comment
_SHOWN_TEXT = frozenset({"title", "summary"})
#: `key: value # more`, or `key: #value`, unquoted: YAML reads a comment from the '#' on
_COMMENTED = re.compile(r"(?P<key>[a-z]+):[ \t]+(?P<value>(?:[^'\"\s&*!|>\[{][^#]*?[ \t])?#.*)")
#: `key:value`: a space left out after a key's colon
_MISSING_SPACE = re.compile(r"([a-z]+):([^\s:].*)")
#: a top-level `key: value`, or a list's `- value`: what comes before the value, and the value
_YAML_VALUE = re.compile(r"(?P<lead>[A-Za-z_][\w-]*:[ \t]+|[ \t]*-[ \t]+)(?P<value>\S.*)")
#: `|`, `>-`, `|2 # notes`: a block scalar's header, its text on the lines below
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*(\s+#.*)?")
#: what YAML makes of a value opening with each of its indicators, the author meaning text
_YAML_INDICATORS = {
    "[": "YAML reads '[' at its start as a list",
    "{": "YAML reads '{' at its start as a mapping",
    "@": "YAML reserves '@' at the start of a value",
    "`": "YAML reserves '`' at the start of a value",
    "%": "YAML reserves '%' at the start of a value",
    "&": "YAML reads '&' at its start as an anchor's name",
    "*": "YAML reads '*' at its start as an alias of an anchor",
    "!": "YAML reads '!' at its start as a tag",
    "|": "YAML reads '|' at its start as a block of text below",
    ">": "YAML reads '>' at its start as a block of text below",
}


def _yaml_quoted(text: str) -> tuple[str, str]:
    """`text` as a YAML quoted string, and how it is quoted: double quotes, unless it holds
    one (or a backslash, which would start an escape)."""
    if '"' not in text and "\\" not in text:
        return "with double quotes", f'"{text}"'
    if "'" not in text:
        return "with single quotes", f"'{text}'"
    return "with single quotes, each ' in it written twice", "'" + text.replace("'", "''") + "'"


def _size_of(meta: dict[str, Any], limit: int) -> bool:
    """Whether the front matter holds more than `limit` values and characters (keys, tuples of
    `!!pairs` and bytes of `!!binary` included). Aliases (`*name`) repeat a value without
    copying it: one that holds itself, or aliases of aliases (a few lines for billions of
    values), would take forever to walk, and a long string repeated would be gigabytes of tags.
    The count stops past `limit`: what a value holds is counted before it is walked."""
    size = 0
    for value in _values_in(meta):
        size += len(value) if isinstance(value, str | bytes | list | tuple | set | dict) else 1
        if size > limit:
            return True
    return False


def _values_in(meta: dict[str, Any]) -> Iterator[object]:
    """Every value of the front matter, keys included, each container before what it holds
    (walked only once the next value is asked for). Not recursive: 500 nested lists are
    valid YAML."""
    waiting: list[object] = [meta]
    while waiting:
        value = waiting.pop()
        yield value
        if isinstance(value, dict):
            waiting += [*value, *value.values()]
        elif isinstance(value, list | tuple | set):
            waiting += value


#: far more than any front matter with aliases holds (a tags list repeated under another key)
_SIZE_AT_MOST = 1_000_000


def _has_alias(node: Node | None) -> bool:
    """Whether a node occurs twice in the document: only an alias (`*name`) does that."""
    seen: set[int] = set()
    waiting = [node] if node is not None else []
    while waiting:
        found = waiting.pop()
        if id(found) in seen:
            return True
        seen.add(id(found))
        if isinstance(found, MappingNode):
            waiting.extend(part for pair in found.value for part in pair)
        elif isinstance(found, SequenceNode):
            waiting.extend(found.value)
    return False


def _keys_given_twice(node: Node | None) -> tuple[str, int, int] | None:
    """A top-level key feedsvc reads written twice, and its two lines (YAML keeps the last in
    silence)."""
    if not isinstance(node, MappingNode):
        return None
    first: dict[str, int] = {}
    for key, _ in node.value:
        if not isinstance(key, ScalarNode) or key.value not in _FIELDS:
            continue  # a key feedsvc ignores (an exporter's `layout`, a merge `<<`) may repeat
        line = key.start_mark.line + 2  # below the opening ---
        if key.value in first:
            return key.value, first[key.value], line
        first[key.value] = line
    return None


def _first_alias(source: str) -> int | None:
    found = re.search(r"(?:^|[\s\[{,:])\*[^\s,\[\]{}]", source, re.MULTILINE)
    return None if found is None else source.count("\n", 0, found.start()) + 2


def _impossible_date(source: str) -> int | None:
    """The line of the first `key: value` whose value YAML takes for a date but cannot build."""
    for number, line in enumerate(source.split("\n"), start=2):
        key, _, value = line.partition(":")
        value = value.split(" #", 1)[0].strip()  # a comment after it
        if key.strip() and value and _TIMESTAMP_PATTERN.fullmatch(value):
            try:
                _TIMESTAMP(ScalarNode(_TIMESTAMP_TAG, value))
            except ValueError:
                return number
    return None


def _why_no_date(error: ValueError) -> str:
    """Python's reason, in an author's words where it speaks of its own types."""
    if str(error).startswith("offset must be a timedelta"):  # +25:00
        return "its offset is none: offsets run from -23:59 to +23:59"
    return str(error)


def _impossible_toml_date(line: str) -> str | None:
    """Why a TOML `key = value` line's value, written as a date, is none (`2025-13-01`: TOML
    then reads `2025` and stumbles on the rest, and says only that)."""
    key, _, value = line.partition("=")
    value = value.split("#", 1)[0].strip()
    if key.strip().strip("'\"") not in ("date", "updated") or not re.match(r"\d{4}-\d", value):
        return None  # `title = 2024-25 season preview` is text unquoted, not a date
    try:
        datetime.fromisoformat(value)
    except ValueError as e:
        return _why_no_date(e)
    if re.match(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(?!:)", value):  # ISO 8601 allows it
        return "TOML wants seconds in a time (2025-07-15T12:00:00+02:00); or quote the date"
    return None


#: `key: value`, the key a known field, the value a plain scalar that starts with no indicator
_FLAT_LINE = re.compile(r"([a-z]+):[ ]+([^\s\-?:,\[\]{}#&*!|>'\"%@`].*)")
#: what would end a plain scalar early or be trimmed from it: left to PyYAML
_NOT_FLAT = re.compile(r": |:$| #|\t|\s$")
_STR_TAG = "tag:yaml.org,2002:str"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_TIMESTAMP = SafeConstructor().construct_yaml_timestamp
_TIMESTAMP_PATTERN = next(
    p for tag, p in Resolver.yaml_implicit_resolvers["0"] if tag == _TIMESTAMP_TAG
)
#: PyYAML's implicit types by a value's first character (None: for any), as it looks them up
_IMPLICIT: Mapping[str | None, list[tuple[str, re.Pattern[str]]]] = Resolver.yaml_implicit_resolvers


def _flat_yaml(source: str) -> dict[str, Any] | None:
    """What PyYAML makes of front matter that is only `key: value` lines of plain strings and
    timestamps (what generators write), or None: anything else is read by PyYAML itself.

    PyYAML's Python constructor and resolver are most of a Markdown file's read (30-45 µs); this
    takes a third of that. Each value is typed with PyYAML's own resolver table and timestamp
    constructor, so a value reads the same either way: `yes`, `~`, `1:30` and every other
    non-string fall back.
    """
    meta: dict[str, Any] = {}
    for line in source.split("\n"):
        match = _FLAT_LINE.fullmatch(line)
        if match is None:
            return None
        key, value = match.groups()
        if key not in _FIELDS or key in meta or _NOT_FLAT.search(value) or not value.isprintable():
            return None
        implicit = itertools.chain(_IMPLICIT.get(value[0], ()), _IMPLICIT.get(None, ()))
        tag = next((tag for tag, pattern in implicit if pattern.match(value)), _STR_TAG)
        if tag == _STR_TAG:
            meta[key] = value
        elif tag == _TIMESTAMP_TAG:
            meta[key] = _TIMESTAMP(ScalarNode(tag, value))
        else:
            return None
    return meta


#: a URI's characters (RFC 3986): unreserved, reserved, and percent-encoded octets
_URI = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.IGNORECASE)

#: the first year feed validators believe in
PLAUSIBLE_FROM = 1990


#: `key:` or `key =` at the start of a line (YAML or TOML), the key perhaps quoted
_KEY_AT = re.compile(r"""\s*(['"]?)(?P<key>[^'"\s:=][^'":=]*?)\1\s*[:=]""")


def _read_as(found: object) -> str | None:
    """What an unquoted value the author meant as text became, if it is what YAML or TOML make
    of words and digits: "booleans", "numbers" (in a list too, as `tags: [2024, 2025]`)."""
    values = found if isinstance(found, list) else [found]
    if any(isinstance(value, bool) for value in values):
        return "booleans"
    if any(isinstance(value, (int, float)) for value in values):
        return "numbers"
    return None


class _FrontMatter:
    """Typed access to front-matter fields; YAML's surprises are reported, not passed on."""

    def __init__(
        self,
        meta: dict[str, Any],
        lines: list[str],
        settings: ReaderSettings,
        report: _Report,
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
            if key not in _FIELDS:
                # a key may be any YAML value: a number of 5,000 digits has no str()
                name = key if isinstance(key, str) else _shown().repr(key)
                known = (
                    f"keys are lower-case: {name.lower()!r}"
                    if name.lower() in _FIELDS
                    else f"known: {', '.join(_FIELDS)}"
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
        """Each key's first line, found in one pass: 20,000 keys asked one by one took minutes."""
        lines: dict[str, int] = {}
        for number, line in enumerate(self.lines, start=2):
            found = _KEY_AT.match(line)
            if found is not None:
                lines.setdefault(found["key"], number)
        return lines

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
        self.report.add(
            self.line(key), "error", f"front-matter '{key}' must be {_FIELDS[key]}, found {shown}"
        )

    def text(self, key: str, required: bool = False, single_line: bool = False) -> str | None:
        value = self.meta.get(key)
        anchored = self._anchored_in_vain(key) if key in _SHOWN_TEXT else None
        if anchored is not None:
            self.failed = True
            name = anchored.split(maxsplit=1)[0][1:]
            how, quoted = _yaml_quoted(anchored)
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
            how, quoted = _yaml_quoted(written)
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
                f"the '#' is the {key}'s ({key}: {_yaml_quoted(written)[1]})"
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
        written = _YAML_VALUE.fullmatch(self.lines[line - 2].rstrip()) if line is not None else None
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
            self.report.add(
                line,
                "warning",
                "the email address in 'author' is left out: feeds give an author's name only; "
                "write the name alone",
            )
            author = without_address(author)
        if author and _shows_nothing(author):
            message = f"'author' {author!r} shows nothing, only invisible characters; left out"
            self.report.add(line, "warning", message)
            return None
        if author:
            _say_markup(author, line, self.report, "the author")
        return author or None

    def summary(self) -> str | None:
        summary = self.text("summary")
        if summary is not None:
            _say_markup(summary, self.line("summary"), self.report, "the summary")
        return summary

    def section(self) -> str | None:
        key = "section" if "section" in self.meta or "category" not in self.meta else "category"
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
            _say_markup(tag, self.line("tags"), self.report, "a tag")
        # each once, as first written: "café" typed twice, once decomposed, is one category
        unique: dict[str, str] = {}
        for tag in tags:
            if tag:
                unique.setdefault(name_key(tag), tag)
        return tuple(unique.values())


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


def _has_forbidden_value(meta: dict[str, Any]) -> bool:
    return any(isinstance(value, str) and has_forbidden(value) for value in _values_in(meta))


_ReaderFunc = Callable[[str, str, ReaderSettings, _Report], list[Article]]

READERS: Mapping[str, _ReaderFunc] = {
    ".txt": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
}

#: what an article file's name ends with (in lower case)
ARTICLE_SUFFIXES = tuple(READERS)
