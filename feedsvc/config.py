"""`config.toml` → a frozen, validated `Config`.

Every error names the file, the line (where one can be found), the key, what was expected and what
was found, so that an operator can fix it without reading code. Nothing here knows Flask or the
articles: the config is loaded once, checked once, and passed on.
"""

from __future__ import annotations

import codecs
import difflib
import errno
import hashlib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedsvc.errors import ConfigError
from feedsvc.model import Problem
from feedsvc.text import (
    has_address,
    is_ignored,
    is_slug,
    let_read,
    load_toml,
    markup_warning,
    name_key,
    not_xml_characters,
    section_slug,
    toml_slip,
)
from feedsvc.urls import canonical

CONFIG_ENV = "FEEDSVC_CONFIG"
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024

T = TypeVar("T")


@dataclass(frozen=True)
class SiteConfig:
    title: str
    base_url: str  #: no trailing slash; every absolute link is built from it
    language: str
    timezone: ZoneInfo  #: for dates that carry none
    author: str
    description: str
    icon: str | None  #: absolute URL of a square image, or None
    #: where entry links point; "{slug}" is replaced. None: our own `/articles/<slug>/` pages.
    link_pattern: str | None

    @property
    def authority(self) -> str:
        """The tag-URI authority (RFC 4151) of new entry ids: the host of `base_url`."""
        return urlsplit(self.base_url).hostname or "localhost"


@dataclass(frozen=True)
class ContentConfig:
    articles_dir: Path
    state_dir: Path
    max_file_bytes: int
    allow_new_sections: bool


@dataclass(frozen=True)
class FeedsConfig:
    max_entries: int
    full_content: bool


@dataclass(frozen=True)
class RefreshConfig:
    interval_seconds: int
    watch: bool  #: refresh as soon as a file under articles/ changes (the schedule stays on)
    debounce_seconds: float


@dataclass(frozen=True)
class SectionConfig:
    name: str  #: exactly as it appears in article files
    slug: str
    description: str
    max_entries: int | None  #: overrides `feeds.max_entries` for this section's feeds


@dataclass(frozen=True)
class Config:
    path: Path
    site: SiteConfig
    content: ContentConfig
    feeds: FeedsConfig
    refresh: RefreshConfig
    sections: tuple[SectionConfig, ...]
    #: digest of the file's bytes: a reload with the same digest changes nothing
    digest: str
    #: what is published anyway, but said: markup in a text value
    problems: tuple[Problem, ...]


#: seconds between scheduled refreshes when the config does not say
DEFAULT_INTERVAL = 300


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--config`, else `$FEEDSVC_CONFIG`, else `./config.toml`."""
    chosen = explicit or os.environ.get(CONFIG_ENV) or "config.toml"
    # Absolute, but through any symbolic link as given: a release-style deploy switches
    # `current` to a new release, and a reload must read the new one's config, not the old.
    # Not normalized either: "current/../var" is where the link's target says, as before.
    return Path(chosen).absolute()


def load_config(path: str | os.PathLike[str] | None = None, check_articles: bool = True) -> Config:
    """Read and validate the config file; raise `ConfigError` naming the key and line.

    `check_articles=False` for the web side, which serves what was published and must start
    even while `articles/` is missing, or holds the state_dir (which only a scan minds).
    """
    resolved = config_path(path)
    return parse_config(read_config(resolved, looked_up=True), resolved, check_articles)


def read_config(path: Path, looked_up: bool = False) -> bytes:
    """`looked_up`: by `config_path`, as a process starts: one not found says where it is
    looked for (a refresher whose file was deleted under it knows where it was)."""
    try:
        return path.read_bytes()
    except OSError as e:
        where = " (it is --config, else $FEEDSVC_CONFIG, else ./config.toml)"
        missing = where if looked_up and e.errno == errno.ENOENT else ""
        fix = missing or let_read(e)
        raise ConfigError(f"{path}: cannot read the config file: {e.strerror}{fix}") from e


def config_digest(raw: bytes) -> str:
    """`Config.digest` of a config file's bytes: a reload with the same digest changes nothing."""
    return hashlib.sha256(raw).hexdigest()


def parse_config(raw: bytes, path: Path, check_articles: bool = True) -> Config:
    try:
        text = raw.decode("utf-8-sig")
        data = load_toml(text)
    except UnicodeDecodeError as e:
        line = raw.removeprefix(codecs.BOM_UTF8).count(b"\n", 0, e.start) + 1  # after its mark
        raise ConfigError(
            f"{path}:{line}: the config file is not UTF-8 ({e.reason}); save it as UTF-8"
        ) from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(_toml_error(path, text, e)) from e
    return _Reader(path, text, config_digest(raw)).build(data, check_articles)


def _toml_error(path: Path, text: str, error: tomllib.TOMLDecodeError) -> str:
    """tomllib's message, on its line as every config error is, with the fix of the usual
    slips. (Before Python 3.14 the position is only in the message.)"""
    slip = toml_slip(error, text)
    if slip.number is None:
        return f"{path}: invalid TOML: {slip.said}"
    single = _ONE_SECTIONS_TABLE.search(text)
    if single is not None and slip.message.startswith("Cannot"):  # the slip, not its echo
        number = text.count("\n", 0, single.start()) + 1
        return f"{path}:{number}: invalid TOML: {slip.message}; {_ONE_SECTIONS_FIX}"
    return f"{path}:{slip.number}: invalid TOML: {slip.said}"


#: `[sections]` for `[[sections]]`: tomllib then stumbles on the next section, or its keys
_ONE_SECTIONS_FIX = "each section is a [[sections]] table, with two brackets"
_ONE_SECTIONS_TABLE = re.compile(r"^[ \t]*\[[ \t]*sections[ \t]*\][ \t]*(#.*)?$", re.MULTILINE)


def state_dir_of(path: Path) -> Path | None:
    """`content.state_dir` of a config file that may not validate, if it can be made out at
    all: `feedsvc reload` must reach the refresher with a broken config too."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:  # saved as Latin-1, say: the state_dir line is still ASCII
        text = raw.decode("utf-8-sig", errors="replace")
    try:
        content = load_toml(text).get("content", {})
    except tomllib.TOMLDecodeError:  # the one line may still be readable
        match = re.search(r"^\s*state_dir\s*=\s*[\"']([^\"']+)[\"']", text, re.MULTILINE)
        content = {"state_dir": match.group(1)} if match else {}
    if not isinstance(content, Mapping):
        return None
    reader = _Reader(path, text, "")
    found = reader.directory(content, _Key("content", "state_dir"), "var")
    return None if reader.errors else found


#: each table's keys
_KEYS: dict[str, frozenset[str]] = {
    "site": frozenset(
        {
            "title",
            "base_url",
            "language",
            "timezone",
            "author",
            "description",
            "icon",
            "link_pattern",
        }
    ),
    "content": frozenset({"articles_dir", "state_dir", "max_file_bytes", "allow_new_sections"}),
    "feeds": frozenset({"max_entries", "full_content"}),
    "refresh": frozenset({"interval_seconds", "watch", "debounce_seconds"}),
    "sections": frozenset({"name", "slug", "description", "max_entries"}),
}


@dataclass(frozen=True)
class _Key:
    table: str
    key: str
    #: which table of that name, in an array of tables ([[sections]]), from 0
    index: int | None = None

    def __str__(self) -> str:
        return f"{self.table}.{self.key}" if self.table else self.key


def _listed_in(state_dir: Path, articles_dir: Path) -> bool:
    """Whether a scan of `articles_dir` would list `state_dir`: the same directory, or one
    inside it that the scan does not skip (`is_ignored`, as `listing.listed` asks)."""
    try:
        inside = state_dir.resolve().relative_to(articles_dir.resolve())
    except (ValueError, OSError, RuntimeError):  # not inside; a link loop (Python 3.11)
        return False
    return not any(is_ignored(part) for part in inside.parts)


class _Reader:
    """Walks the parsed TOML: its shape first (tables and keys where they should not be), then
    each key against what it must be. Every mistake is kept (`errors`), so that an operator
    fixes them all in one go: a wrong value stands in as its default, or as its type's empty
    value, for the checks that follow, and what follows from a mistake said is not said."""

    def __init__(self, path: Path, text: str, digest: str) -> None:
        self.path = path
        # TOML ends lines with "\n" only: splitlines() would also split at U+2028 in a string
        self.lines = text.split("\n")
        self.digest = digest
        self.problems: list[Problem] = []
        #: (keys, line, message), as found: one key, or the keys of a table whose header was lost
        self.errors: list[tuple[tuple[_Key, ...], int | None, str]] = []
        #: tables the file has not as such, said so (misspelt, missing, their header lost, not
        #: a table): their keys are not also said to be missing
        self._absent: set[str] = set()
        #: (table, key) given elsewhere, said so: not also said to be missing from its table
        self._moved: set[tuple[str, str]] = set()

    # -- errors ------------------------------------------------------------------------------
    def line_of(self, key: _Key) -> int | None:
        """Best-effort line of `key =` after its table header (tomllib keeps no positions).

        A top-level key may be a table of its own: then the line of its header, so that a
        misspelled `[feed]` is found.
        """
        header = _header(key.table)
        own = _header(key.key) if not key.table else None
        assign = re.compile(r"^\s*" + re.escape(key.key) + r"\s*=")
        in_table = not key.table
        seen = -1  #: tables of this name so far
        for number, line in enumerate(self.lines, start=1):
            if re.match(r"^\s*\[", line):
                if own and own.match(line):
                    return number
                in_table = bool(header.match(line))
                if in_table:
                    seen += 1
                    in_table = key.index is None or seen == key.index
                if in_table and not key.key:
                    return number
                continue
            if in_table and assign.match(line):
                return number
        return None

    def reject(self, key: _Key, message: str, *others: _Key) -> None:
        """A mistake, on the key's line: where the key is missing, its table's header's (of
        the [[sections]] it belongs to). `others`: keys below it that the mistake is of too."""
        line = self.line_of(key) or (
            self.line_of(_Key(key.table, "", key.index)) if key.table else None
        )
        where = f"{self.path}:{line}" if line else str(self.path)
        keys = (key, *others)
        self.errors.append((keys, line, f"{where}: {', '.join(map(str, keys))}: {message}"))

    def _said_of(self) -> set[tuple[str, str]]:
        """The (table, key) of each mistake said so far."""
        return {(key.table, key.key) for keys, _, _ in self.errors for key in keys}

    def said(self) -> str:
        """Every mistake, one a line in the file's order (those of no line last), then how
        many when there are several: a line where what is said of them all can follow."""
        ordered = sorted(self.errors, key=lambda error: (error[1] is None, error[1] or 0))
        lines = [message for _, _, message in ordered]
        if len(lines) > 1:
            lines.append(f"{self.path}: {len(lines)} mistakes, one a line above")
        return "\n".join(lines)

    # -- the file's shape, before its values -------------------------------------------------
    def shape(self, data: Mapping[str, Any]) -> None:
        """Every table and key the file has that it should not, said before any value is read:
        where a table is misspelt, missing, not a table or its header lost, its keys are then
        not also said to be missing, whatever the order of the tables."""
        present = {name for name in _KEYS if name in data}
        self._unknown_keys("", None, data, present)
        for name in _KEYS:
            value = data.get(name, [] if name == "sections" else {})
            tables = value if name == "sections" else [value]
            if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
                expected = "[[sections]] tables" if name == "sections" else f"a table [{name}]"
                found = _kind(value)
                if name == "sections" and found == "table":
                    found += f": {_ONE_SECTIONS_FIX}"
                self.reject(_Key("", name), f"expected {expected}, found {found}")
                self._absent.add(name)
                continue
            for index, table in enumerate(tables):
                self._unknown_keys(name, index if name == "sections" else None, table, present)
        if "site" not in data and "site" not in self._absent:  # one line, not one per key
            self.reject(
                _Key("", "site"),
                "missing; expected a table [site] with its title, base_url and author",
            )
            self._absent.add("site")

    def _unknown_keys(
        self, table: str, index: int | None, given: Mapping[str, Any], present: set[str]
    ) -> None:
        """Each key of `table` ("": the file's top) it should not have, said with where it
        seems to belong; the keys of a table whose header was lost, said once, on the first
        of them (and a key two tables have among them: one of those too)."""
        known = _KEYS[table] if table else _KEYS.keys()
        hints = {
            key: self._hint(key, value, table, present)
            for key, value in given.items()
            if key not in known
        }
        for owner in _KEYS:
            if _header_lost(owner) in hints.values():
                lost = [key for key in hints if key in _KEYS[owner]]
                if len(lost) > 1:
                    first, *others = (_Key(table, key, index) for key in lost)
                    message = f"unknown keys ({_header_lost(owner, several=True)})"
                    self.reject(first, message, *others)
                    hints = {key: hint for key, hint in hints.items() if key not in lost}
        for key, hint in hints.items():
            self.reject(_Key(table, key, index), f"unknown key ({hint})")

    def _hint(self, key: str, value: object, table: str, present: set[str]) -> str:
        """Where an unknown key of `table` ("": the file's top) seems to belong, to say with
        it; what that tells of the table it belongs to is noted (`_absent`, `_moved`)."""
        if not table and isinstance(value, (dict, list)):  # a table: misspelt?
            # one of those the file lacks, or one [[section]] among [[sections]]
            alike = [
                n for n in _KEYS if n not in present or (n == "sections" and type(value) is list)
            ]
            meant = next(iter(difflib.get_close_matches(key.lower(), alike, n=1, cutoff=0.8)), None)
            if meant is not None:
                if meant not in present:
                    self._absent.add(meant)
                return f"a misspelt {_header_of(meant)}?"
        if table and key in _KEYS:  # `sections = [...]` under [content]
            if key not in present:
                self._absent.add(key)
            return f"{_header_of(key)} is a table of its own, above or below [{table}]"
        owners = [name for name, keys in _KEYS.items() if key in keys and name != table]
        if not owners or (table and len(owners) > 1):  # `description`: [site]'s or a section's?
            known = _KEYS[table] if table else _KEYS.keys()
            return f"known keys: {', '.join(sorted(known))}"
        owner = owners[0]  # at the file's top, `description` is said of [site]
        lost = _header_lost(owner)
        if owner not in present:
            self._absent.add(owner)
            return lost
        if owner == "sections":  # one [[sections]] lost its header, the others kept theirs
            return lost
        self._moved.add((owner, key))
        return f"a key of {_header_of(owner)}: move it there" if table else lost

    def get(
        self,
        table: Mapping[str, Any],
        key: _Key,
        kind: type[T],
        default: T | None = None,
        check: Callable[[T], str | None] | None = None,
    ) -> T:
        # what stands in for a wrong value, for the checks that follow (the file is refused)
        stand_in: T = kind() if default is None else default
        if key.key not in table:
            if default is None and not self._said_elsewhere(key):
                self.reject(key, f"missing; expected {_type_name(kind)}")
            return stand_in
        value = table[key.key]
        # bool is an int in Python; an operator who writes `max_entries = true` made a mistake.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            else:
                self.reject(key, f"expected {_type_name(kind)}, found {_kind(value)} {value!r}")
                return stand_in
        problem = check(value) if check else None
        # lxml refuses these, so every refresh would fail; other controls publish as written
        if isinstance(value, str) and (found := not_xml_characters(value)):
            codes = ", ".join(dict.fromkeys(found))
            problem = f"contains {codes}, a character XML cannot carry (no feed can); remove it"
        if problem:
            self.reject(key, f"{problem}, found {value!r}")
            return stand_in
        checked: T = value
        return checked

    def directory(self, table: Mapping[str, Any], key: _Key, default: str) -> Path:
        value = self.get(table, key, str, default, _non_empty)
        # Links are followed at each use, not once here: see `config_path`.
        path = self.path.parent / value
        unexpanded = _unexpanded(value)
        if unexpanded is not None:
            # "~/var" made a directory named "~" beside the config, away from the backups of
            # ~/var; one made so already holds what was kept there (a store: the ids)
            try:
                made = f"; move {path}, made so far, to it" if path.exists() else ""
            except OSError:  # a name too long to look up
                made = ""
            problem = f"{unexpanded} is not expanded here: write the whole path{made}"
            self.reject(key, f"{problem}, found {value!r}")
        return path

    def _said_elsewhere(self, key: _Key) -> bool:
        """Whether a key missing from its table is said of already: its table misspelt or
        lost, or the key given in another table."""
        return key.table in self._absent or (key.table, key.key) in self._moved

    def text(
        self,
        table: Mapping[str, Any],
        key: _Key,
        default: str | None = None,
        check: Callable[[str], str | None] | None = None,
    ) -> str:
        """A string feeds show as text: markup in it is said, as in an article, not refused."""
        value = self.get(table, key, str, default, check)
        message = markup_warning(value, str(key))
        if message is not None:
            self.problems.append(Problem(str(self.path), self.line_of(key), "warning", message))
        return value

    # -- the whole file ----------------------------------------------------------------------
    def build(self, data: Mapping[str, Any], check_articles: bool) -> Config:
        """The config, or `ConfigError` saying every mistake of the file."""
        self.shape(data)
        site = self.site(data)
        content = self.content(data)
        feeds = _table(data, "feeds")
        refresh = _table(data, "refresh")
        config = Config(
            path=self.path,
            site=site,
            content=content,
            feeds=FeedsConfig(
                max_entries=self.get(
                    feeds, _Key("feeds", "max_entries"), int, 50, _between(1, 1000)
                ),
                full_content=self.get(feeds, _Key("feeds", "full_content"), bool, True),
            ),
            refresh=RefreshConfig(
                interval_seconds=self.get(
                    refresh,
                    _Key("refresh", "interval_seconds"),
                    int,
                    DEFAULT_INTERVAL,
                    _between(1, 86400),
                ),
                watch=self.get(refresh, _Key("refresh", "watch"), bool, False),
                debounce_seconds=self.get(
                    refresh, _Key("refresh", "debounce_seconds"), float, 0.05, _between(0, 60)
                ),
            ),
            sections=self.sections(data, content.allow_new_sections),
            digest=self.digest,
            problems=tuple(self.problems),
        )
        given = _table(data, "content")
        if check_articles and self._as_written(given, "articles_dir"):
            self._check_directories(content, state_dir=self._as_written(given, "state_dir"))
        if self.errors:
            raise ConfigError(self.said())
        return config

    def _as_written(self, given: Mapping[str, Any], key: str) -> bool:
        """Whether `content.key` is the directory the file gives (`given`: its [content]), so
        that looking at it says something: not a stand-in for a value refused, nor the default
        where [content] is misspelt or the key is elsewhere ("create articles/" would be wrong
        advice, and empty the feeds)."""
        if "content" in self._absent:
            return False
        said = self._said_of()
        if key in given:
            return ("content", key) not in said
        return all(name != key for _, name in said)

    def _check_directories(self, content: ContentConfig, state_dir: bool) -> None:
        """articles_dir is a directory; and the state_dir not inside it, if that is as written."""
        where = content.articles_dir
        try:
            found, exists = where.is_dir(), where.exists()
        except OSError as e:  # a name too long to look up
            self.reject(_Key("content", "articles_dir"), f"cannot be looked up: {e.strerror}")
            return
        if not found:
            problem = (
                f"{where} is a file, not a directory; fix the path"
                if exists
                else f"the directory {where} does not exist; create it or fix the path"
            )
            self.reject(_Key("content", "articles_dir"), problem)
        elif state_dir and _listed_in(content.state_dir, where):
            problem = (
                f"{content.state_dir} is inside content.articles_dir ({where}): "
                "every refresh would list its files, and a watcher refresh at each of its "
                "writes; put it beside articles_dir, moving the directory with the setting "
                "(its store holds the published ids)"
            )
            self.reject(_Key("content", "state_dir"), problem)

    def site(self, data: Mapping[str, Any]) -> SiteConfig:
        site = _table(data, "site")

        def key(name: str) -> _Key:
            return _Key("site", name)

        zone_name = self.get(site, key("timezone"), str, "UTC")
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a directory there
            self.reject(
                key("timezone"), f"unknown time zone {zone_name!r}; use an IANA name like UTC"
            )
            zone = ZoneInfo("UTC")
        icon = self.get(site, key("icon"), str, "", _absolute_url_or_empty)
        pattern = self.get(site, key("link_pattern"), str, "", _link_pattern)
        return SiteConfig(
            title=self.text(site, key("title"), None, _non_empty),
            base_url=canonical(self.get(site, key("base_url"), str, None, _base_url)).rstrip("/"),
            language=self.get(site, key("language"), str, "en", _language_tag),
            timezone=zone,
            author=self.text(site, key("author"), None, _a_name),
            description=self.text(site, key("description"), ""),
            icon=canonical(icon) if icon else None,
            link_pattern=canonical(pattern) if pattern else None,
        )

    def content(self, data: Mapping[str, Any]) -> ContentConfig:
        content = _table(data, "content")
        return ContentConfig(
            articles_dir=self.directory(content, _Key("content", "articles_dir"), "articles"),
            state_dir=self.directory(content, _Key("content", "state_dir"), "var"),
            max_file_bytes=self.get(
                content,
                _Key("content", "max_file_bytes"),
                int,
                DEFAULT_MAX_FILE_BYTES,
                _between(1, 1 << 31),
            ),
            allow_new_sections=self.get(
                content, _Key("content", "allow_new_sections"), bool, False
            ),
        )

    def sections(
        self, data: Mapping[str, Any], allow_new_sections: bool
    ) -> tuple[SectionConfig, ...]:
        if "sections" in self._absent:  # not tables, misspelt, or its header lost: said
            return ()
        raw = data.get("sections", [])
        # allow_new_sections stands in as false where it was said wrong, or is not read (its
        # table misspelt or lost, the key elsewhere): "none configured" follows from that
        setting = _Key("content", "allow_new_sections")
        unsaid = not self._said_elsewhere(setting) and (
            ("content", setting.key) not in self._said_of()
        )
        if not raw and not allow_new_sections and unsaid:  # a file cut short: no feed keeps any
            self.reject(
                _Key("", "sections"),
                "none configured, so every article would be refused; add a [[sections]] entry "
                'with name = "..." for each section, or set content.allow_new_sections = true',
            )
        sections: list[SectionConfig] = []
        #: each section's name, and slug, as compared with the others': None where it is wrong
        #: itself (said), a stand-in that would be alike the others' stand-ins
        names: list[str | None] = []
        slugs: list[str | None] = []
        for index, table in enumerate(raw):

            def key(name: str, index: int = index) -> _Key:
                return _Key("sections", name, index)  # its own line, not the first section's

            before = len(self.errors)
            name = self.text(table, key("name"), None, _non_empty).strip()
            names.append(name if len(self.errors) == before else None)
            slug = self.get(table, key("slug"), str, "", _slug_or_empty)
            slugs.append(slug or section_slug(name) if len(self.errors) == before else None)
            # 0 stands for "not given": given, it would mean the feeds' number, not none
            override = self.get(table, key("max_entries"), int, 0, _between(1, 1000))
            sections.append(
                SectionConfig(
                    name=name,
                    slug=slug or section_slug(name),
                    description=self.text(table, key("description"), ""),
                    max_entries=override or None,
                )
            )
        keys = [name_key(name) if name is not None else None for name in names]
        again = _check_unique(self, keys, "name", shown=names)
        # a slug made of the name is said on the name's line; one of a name said twice is not
        # said again (names alike make slugs alike)
        given = ["slug" if "slug" in table else "name" for table in raw]
        slugs = [None if index in again else slug for index, slug in enumerate(slugs)]
        _check_unique(self, slugs, "slug", given)
        for index, section in enumerate(sections):
            if section.slug == "all" and slugs[index] is not None:
                where = _Key("sections", given[index], index)
                self.reject(where, "'all' is reserved for the combined feeds")
        return tuple(sections)


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """Table `name` of the file; empty where it has none, or one that is not a table (said)."""
    value = data.get(name, {})
    return value if isinstance(value, dict) else {}


def _header_of(table: str) -> str:
    return f"[[{table}]]" if table == "sections" else f"[{table}]"


def _header_lost(table: str, several: bool = False) -> str:
    """The hint of keys of `table` found where its header should have been above them."""
    keys, them = ("keys", "them") if several else ("a key", "it")
    return f"{keys} of {_header_of(table)}: is its table header missing above {them}?"


def _header(table: str) -> re.Pattern[str]:
    """`[table]` or `[[table]]` at the start of a line."""
    return re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]\]?")


def _check_unique(
    reader: _Reader,
    values: list[str | None],
    key: str,
    lines: list[str] | None = None,
    shown: list[str | None] | None = None,
) -> set[int]:
    """`lines`: the key each section's line is found by, if not `key`; `shown`: each value as
    written, when `values` are what they are compared by. None: wrong itself, compared with
    none. Which sections have a value an earlier one has, by index."""
    seen: set[str] = set()
    again: set[int] = set()
    for index, value in enumerate(values):
        if value is None:
            continue
        if value in seen:
            again.add(index)
            message = f"two sections share the {key} {(shown or values)[index]!r}"
            if key == "name":
                message += " (names are compared without their case and spacing): remove one"
            elif lines is not None and lines[index] != key:
                message += ' (this one made of its name: give it a slug = "...")'
            reader.reject(_Key("sections", lines[index] if lines else key, index), message)
        seen.add(value)
    return again


def _kind(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array"}
    return names.get(type(value), "table" if isinstance(value, dict) else type(value).__name__)


def _type_name(kind: type) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        kind, kind.__name__
    )


def _non_empty(value: str) -> str | None:
    return None if value.strip() else "expected a non-empty string"


def _unexpanded(path: str) -> str | None:
    """What a shell would have expanded in `path`, which feedsvc does not."""
    if path.startswith("~"):
        return "'~'"
    if re.search(r"\$(\{|\w)", path):
        return "an environment variable"
    return None


def _a_name(value: str) -> str | None:
    if has_address(value):  # the W3C validator warns at an address in an author's name
        return "expected a name, without an email address: feeds give the author's name only"
    return _non_empty(value)


def _between(low: float, high: float) -> Callable[[float], str | None]:
    def check(value: float) -> str | None:
        return None if low <= value <= high else f"expected a value from {low} to {high}"

    return check


def _absolute_url(value: str) -> str | None:
    if any(c.isspace() for c in value):
        return "expected a URL without spaces"
    try:
        parts = urlsplit(value)
    except ValueError:  # a "[" with no "]"
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        return "expected an absolute http(s) URL such as 'https://news.example.org'"
    if "@" in parts.netloc:
        return "expected no 'user:password@': every link would publish it"
    if not parts.hostname:  # entry ids would all be minted for 'localhost', for good
        return "expected a host name, such as 'https://news.example.org'"
    try:
        in_range = parts.port is None or parts.port > 0
    except ValueError:  # not a number, or above 65535
        in_range = False
    if not in_range:
        return "expected a port from 1 to 65535"
    if not value.isascii():  # links, self links and new entry ids would carry it as written
        return f"expected a URL in ASCII, as feeds must give it: {_in_ascii(parts)}"
    return None


def _in_ascii(parts: SplitResult) -> str:
    """What to write instead: the URL with the rest percent-encoded and its host in IDNA form,
    or, where Python's IDNA 2003 would give another host than browsers' IDNA 2008 ("ß" kept,
    not "ss"), a word saying to write it so."""
    host = parts.hostname or ""
    if not host.isascii():
        if _IDNA_DEVIATIONS.intersection(host):
            return "the same, with its host as a browser shows it in IDNA form (xn--...)"
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return "the same, with its host in IDNA form (xn--...)"
    if ":" in host:  # an IPv6 address: bracketed again
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    safe = "/:@!$&'()*+,;=%{}?"
    encoded = {part: quote(getattr(parts, part), safe) for part in ("path", "query", "fragment")}
    return repr(urlunsplit(parts._replace(netloc=netloc, **encoded)))


#: letters IDNA 2003 (Python's codec) maps to others, and IDNA 2008 (browsers) keeps
_IDNA_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")


def _base_url(value: str) -> str | None:
    # every link is this plus a path: /articles/x/ would land in the query or the fragment
    if "#" in value or "?" in value:
        return "expected no '?query' or '#fragment': links are made by adding paths to it"
    return _absolute_url(value)


def _absolute_url_or_empty(value: str) -> str | None:
    return _absolute_url(value) if value else None


def _link_pattern(value: str) -> str | None:
    if not value:
        return None
    if "{slug}" not in value:
        return "expected a URL containing '{slug}'"
    other = re.search(r"\{[^{}]*\}|[{}]", value.replace("{slug}", ""))
    if other:  # it would be published as it is
        return f"expected '{{slug}}' as the only placeholder, not {other.group()!r}"
    return _absolute_url(value)


def _language_tag(value: str) -> str | None:
    if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        return None
    return "expected a language tag such as 'en' or 'en-GB'"


#: at most, in characters, for a section's slug: its feeds' file names are it and `.atom.gz`
_SECTION_SLUG_MOST = 240


def _slug_or_empty(value: str) -> str | None:
    if not value or is_slug(value, _SECTION_SLUG_MOST):
        return None
    return (
        "expected lowercase letters, digits and single hyphens, at most "
        f"{_SECTION_SLUG_MOST} of them, such as 'middle-east'"
    )
