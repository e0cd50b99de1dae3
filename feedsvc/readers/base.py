"""What every reader shares: the settings it reads with (and their digest, which covers the
code that reads), the report a file's problems go to, its bytes decoded to text, and the
checks every format makes of a title."""

from __future__ import annotations

import codecs
import difflib
import functools
import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from feedsvc.config import Config
from feedsvc.model import Article, Problem, Severity
from feedsvc.text import (
    forbidden_characters,
    has_forbidden,
    has_forbidden_utf8,
    markup_warning,
    name_key,
    xml_safe,
)

#: the modules whose code decides what a file's bytes are read as, under feedsvc/: every one
#: of this package, the hashes and values they make (`model`), the characters they remove
#: (`text`) and the form of the URIs they say (`urls`). A test checks that it names every
#: module they import.
READING_CODE = (
    "model.py",
    "readers/__init__.py",
    "readers/base.py",
    "readers/front_matter.py",
    "readers/front_matter_syntax.py",
    "readers/markdown.py",
    "readers/plain.py",
    "text.py",
    "urls.py",
)


@functools.cache
def _code_digest() -> bytes:
    made = hashlib.sha256()
    for name in READING_CODE:
        made.update(Path(__file__).parent.parent.joinpath(name).read_bytes())
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

    def section_like(self, line: str, swapped: bool = False) -> str | None:
        """The configured section a line is a near miss of ("Midle East"), if any. `swapped`:
        two neighbouring letters swapped are one too ("Aisa": difflib scores that 0.75 in a
        short name), where the line is a section line already; in a body, short words read
        so too ("Rats" for "Arts")."""
        key = name_key(line)
        close = difflib.get_close_matches(key, self._by_key, n=1, cutoff=0.8)
        if swapped and not close:
            close = [known for known in self._by_key if _swapped(key, known)]
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


def _swapped(one: str, other: str) -> bool:
    """Whether two adjacent characters swapped make one string the other."""
    apart = [i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b]
    return (
        len(one) == len(other)
        and len(apart) == 2
        and apart[1] == apart[0] + 1
        and one[apart[0]] == other[apart[1]]
        and one[apart[1]] == other[apart[0]]
    )


class Report:
    """Collects a file's problems; every check runs, so the author sees them all at once."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.unconfigured: list[Article] = []  #: see `ReadResult.unconfigured`
        self.sections_left_out: list[str] = []  #: see `ReadResult.sections_left_out`
        #: set once per file: most files have no forbidden character, so most lines skip the check
        self.dirty = True

    def add(self, line: int | None, severity: Severity, message: str) -> None:
        self.problems.append(Problem(self.path, line, severity, message))

    def not_configured(self, line: int | None, section: str, settings: ReaderSettings) -> bool:
        """An article left out for its section: whether by the config (not a near miss of a
        configured one, which an edit broke)."""
        self.sections_left_out.append(section)
        meant = settings.section_like(section, swapped=True)
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
        codes = ", ".join(sorted(set(bad), key=lambda code: int(code[2:], 16)))
        # control characters, and the noncharacters (U+FFFE...) HTML parsers refuse alike
        message = f"removed {len(bad)} character(s) that feeds cannot carry ({codes}) from {what}"
        if "U+FFFD" in bad:
            message += " (U+FFFD stands for text lost in a conversion: put back what it replaced)"
        self.add(line, "warning", message)
        return xml_safe(value)


def decode(data: bytes, report: Report) -> str | None:
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
        nuls = data.count(b"\x00")
        report.add(
            data.count(b"\n", 0, data.index(b"\x00")) + 1,
            "error",
            f"binary file ({nuls} NUL byte(s), the first on this line); skipped. If it is text: "
            "saved as UTF-16 without its mark, save it as UTF-8; a few stray NULs, remove them",
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


def check_title(title: str, line: int | None, report: Report) -> bool:
    """Whether the title can be published: one a reader can see (`str.strip` keeps a zero-width
    space, a Hangul filler). Its markup and a direction override are said."""
    if shows_nothing(title):
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
    say_markup(title, line, report)
    return True


def shows_nothing(text: str) -> bool:
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


def say_markup(text: str, line: int | None, report: Report, what: str = "the title") -> None:
    message = markup_warning(text, what)
    if message is not None:
        report.add(line, "warning", message)
