"""A Markdown file's front matter: its YAML or TOML parsed, an author's usual YAML slips said
on their line with their fix, and its fields typed and checked (`FrontMatter`)."""

from __future__ import annotations

import functools
import itertools
import re
import reprlib
import tomllib
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from feedsvc.readers.base import ReaderSettings, Report, say_markup, shows_nothing
from feedsvc.text import (
    has_address,
    has_forbidden,
    is_slug,
    load_toml,
    name_key,
    one_line,
    toml_slip,
    without_address,
)

try:  # libyaml is ~10x faster; PyYAML's wheels ship it, a source build may not
    _YamlLoader: type[yaml.SafeLoader | yaml.CSafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader


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


def parse_front_matter(source: str, fence: str, report: Report) -> dict[str, Any] | None:
    meta: Any
    aliased = False
    twice = None
    try:
        if fence == "+++":
            # The closing +++ ends the last line: a slip on it is said on it, as in config.toml,
            # not "at end of document" (an unclosed string, a key given twice).
            meta = load_toml(source + "\n")
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
        slip = toml_slip(e, source)
        line = slip.number + 1 if slip.number is not None else None  # below the opening +++
        why = _impossible_toml_date(slip.written)
        if why is not None:
            report.add(line, "error", f"invalid date in the front matter: {why}")
        else:  # the fixes config.toml's slips get
            report.add(line, "error", f"invalid TOML front matter: {slip.said}")
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
        if _said_a_yaml_slip(source, None, report):  # YAML's `title:T`: one text (TOML's: a table)
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


def _said_a_yaml_slip(source: str, error: yaml.YAMLError | None, report: Report) -> bool:
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


#: `key:` (YAML) or `key =` (TOML) at the start of a line, the key perhaps quoted: each format's
#: own, as the other's may be text inside a value (a TOML `"""` string holding "title: ..."). Words
#: taken whole (`++`), not a character at a time with the blanks after each read again (a
#: comment of 80,000 blanks took seconds)
_KEY_AT = {
    yaml: re.compile(rf"""\s*(['"]?)(?P<key>[^'"\s:=]++(?:\s++[^'"\s:=]++)*+)\1\s*{sign}""")
    for yaml, sign in ((True, ":"), (False, "="))
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
            say_markup(tag, self.line("tags"), self.report, "a tag")
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


def has_forbidden_value(meta: dict[str, Any]) -> bool:
    return any(isinstance(value, str) and has_forbidden(value) for value in _values_in(meta))
