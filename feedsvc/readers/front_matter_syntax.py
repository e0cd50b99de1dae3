"""A Markdown file's front matter as written: its YAML or TOML parsed, and an author's usual
slips said on their line with their fix (the fields themselves: `front_matter`)."""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from feedsvc.readers.base import Report
from feedsvc.text import SLUG_MOST, has_forbidden, load_toml, never_closed, toml_slip, unclosed

try:  # libyaml is ~10x faster; PyYAML's wheels ship it, a source build may not
    _YamlLoader: type[yaml.SafeLoader | yaml.CSafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader


#: the keys feedsvc reads, and what each must hold (as its errors say)
FIELDS: Mapping[str, str] = {
    "title": "a non-empty string",
    "section": "a section name",
    "date": "a date and time, e.g. 2025-07-15T12:00:00+02:00",
    "updated": "a date and time, e.g. 2025-07-15T12:00:00+02:00",
    "author": "a string",
    "summary": "a string",
    "id": "an absolute URI such as 'tag:example.org,2025:my-article'",
    "slug": f"lowercase letters, digits and hyphens, at most {SLUG_MOST} of them",
    "tags": "a list of strings",
    "category": "a section name (Pelican/Hugo spelling of 'section')",
    "draft": "true or false (Hugo and Jekyll's: feedsvc publishes no drafts)",
}


def parse_front_matter(source: str, fence: str, report: Report) -> dict[str, Any] | None:
    meta: Any
    aliased = False
    twice = None
    nested = False  #: read by PyYAML: a date that is none may be anywhere
    try:
        if fence == "+++":
            # The closing +++ ends the last line: a slip on it is said on it, as in config.toml,
            # not "at end of document" (an unclosed string, a key given twice).
            meta = load_toml(source + "\n")
        else:
            meta = _flat_yaml(source)
            if meta is None:
                nested = True
                loader = _Loader(source)
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
    except ValueError as e:  # a number of 4,300 digits or more (a date that is none is kept)
        report.add(None, "error", f"invalid front matter: {e}")
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
        context = getattr(e, "context", None) or ""
        pair = "[]" if context.endswith("sequence") else "{}"
        flow = context.startswith("while parsing a flow")
        opened = unclosed(source.split("\n"), pair, yaml=True) if flow else None
        stumbled = mark.line + 1 if mark is not None else len(source)
        if opened is not None and opened <= stumbled:  # `tags: [a, b`: PyYAML stumbles on
            line = opened + 1
            problem = never_closed(pair)
        elif problem.startswith("mapping values are not allowed"):  # title: Ukraine: talks resume
            problem += "; quote a value that holds ': ' (title: \"Ukraine: talks resume\")"
        elif _TAB_INDENT.search(source):  # "found a tab character", or "... any token"
            problem += "; indent with spaces: YAML refuses tabs"
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
    if nested and (misplaced := _impossible_elsewhere(meta)) is not None:
        line = misplaced.row + 2  # below the opening ---
        report.add(line, "error", f"invalid date in the front matter: {misplaced.why}")
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
        if found is not None and found[1] in FIELDS:
            return index + 2, f"put a space after '{found[1]}:' ({found[1]}: {found[2]})"
        pair = YAML_VALUE.fullmatch(line)
        if pair is None:
            continue
        value = pair["value"]
        if value[0] in "'\"":
            rest = _after_quote(value)
            if rest is not None and rest.strip() and not re.match(r"\s+#", rest):
                meant = value[1:-1] if len(value) > 1 and value[-1] == value[0] else value
                how, quoted = yaml_quoted(meant)
                return index + 2, f"quote the whole value {how} ({pair['lead']}{quoted})"
            unclosed = getattr(error, "context", None) == "while scanning a quoted scalar"
            if rest is None and unclosed and context is not None and context.line == index:
                how, quoted = yaml_quoted(value[1:])
                return index + 2, f"close the quote on the same line ({pair['lead']}{quoted})"
            continue
        read_as = _YAML_INDICATORS.get(value[0])
        if read_as is None or not _misread(value, index in stumbled):
            continue
        fix = f"quote the value: {read_as} ({pair['lead']}{yaml_quoted(value)[1]})"
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
        pair = YAML_VALUE.fullmatch(line)
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


#: `key:value`: a space left out after a key's colon
_MISSING_SPACE = re.compile(r"([a-z]+):([^\s:].*)")
#: a top-level `key: value`, or a list's `- value`: what comes before the value, and the value
YAML_VALUE = re.compile(r"(?P<lead>[A-Za-z_][\w-]*:[ \t]+|[ \t]*-[ \t]+)(?P<value>\S.*)")
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


def yaml_quoted(text: str) -> tuple[str, str]:
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
        if not isinstance(key, ScalarNode) or key.value not in FIELDS:
            continue  # a key feedsvc ignores (an exporter's `layout`, a merge `<<`) may repeat
        line = key.start_mark.line + 2  # below the opening ---
        if key.value in first:
            return key.value, first[key.value], line
        first[key.value] = line
    return None


def _first_alias(source: str) -> int | None:
    found = re.search(r"(?:^|[\s\[{,:])\*[^\s,\[\]{}]", source, re.MULTILINE)
    return None if found is None else source.count("\n", 0, found.start()) + 2


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

#: PyYAML's implicit types by a value's first character (None: for any), as it looks them up
_IMPLICIT: Mapping[str | None, list[tuple[str, re.Pattern[str]]]] = Resolver.yaml_implicit_resolvers
_DATES = ("date", "updated")
#: a line indented with a tab, which YAML refuses (PyYAML says so only at times)
_TAB_INDENT = re.compile(r"^ *\t", re.MULTILINE)


class ImpossibleDate(NamedTuple):
    """A value YAML takes for a date, that is none (`2026-13-01`), and why. As `date` or
    `updated`, `FrontMatter.datetime` says it on its key's line, beside the file's other
    mistakes; anywhere else the front matter is refused for it, as PyYAML would refuse it."""

    why: str
    row: int  #: its line's, in the front matter from 0


def _timestamp(value: str, row: int) -> object:
    """PyYAML's date or datetime of `value`, or the `ImpossibleDate` it cannot build."""
    try:
        return _TIMESTAMP(ScalarNode(_TIMESTAMP_TAG, value))
    except ValueError as e:
        return ImpossibleDate(_why_no_date(e), row)


class _Loader(_YamlLoader):  # type: ignore[misc,valid-type]
    """PyYAML's, but for a value it takes for a date that is none (`ImpossibleDate`)."""


_Loader.add_constructor(
    _TIMESTAMP_TAG, lambda _, node: _timestamp(node.value, node.start_mark.line)
)


def _impossible_elsewhere(meta: dict[str, Any]) -> ImpossibleDate | None:
    """A date that is none, other than `date`'s or `updated`'s own."""
    own = {id(meta.get(key)) for key in _DATES}
    return next(
        (v for v in _values_in(meta) if isinstance(v, ImpossibleDate) and id(v) not in own), None
    )


def _flat_yaml(source: str) -> dict[str, Any] | None:
    """What PyYAML makes of front matter that is only `key: value` lines of plain strings and
    timestamps (what generators write), or None: anything else is read by PyYAML itself.

    PyYAML's Python constructor and resolver are most of a Markdown file's read (30-45 µs); this
    takes a third of that. Each value is typed with PyYAML's own resolver table and timestamp
    constructor, so a value reads the same either way: `yes`, `~`, `1:30` and every other
    non-string fall back.
    """
    meta: dict[str, Any] = {}
    for index, line in enumerate(source.split("\n")):
        match = _FLAT_LINE.fullmatch(line)
        if match is None:
            return None
        key, value = match.groups()
        if key not in FIELDS or key in meta or _NOT_FLAT.search(value) or not value.isprintable():
            return None
        implicit = itertools.chain(_IMPLICIT.get(value[0], ()), _IMPLICIT.get(None, ()))
        tag = next((tag for tag, pattern in implicit if pattern.match(value)), _STR_TAG)
        if tag == _STR_TAG:
            meta[key] = value
        elif tag == _TIMESTAMP_TAG:
            meta[key] = _timestamp(value, index)
            if key not in _DATES and isinstance(meta[key], ImpossibleDate):
                return None  # refused (`_impossible_elsewhere`)
        else:
            return None
    return meta


def has_forbidden_value(meta: dict[str, Any]) -> bool:
    return any(isinstance(value, str) and has_forbidden(value) for value in _values_in(meta))
