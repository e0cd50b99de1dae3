"""`articles/` → entries in the state store: read what the listing says changed, give each
article its id.

A file is read when its size or mtime changed (`listing.scan`), and parsed only when its
bytes did. Identification keeps every published id: an article keeps its entry through a title
edit, a body edit, a move inside its file, a rename of its file, a save that does not read (it
stays published as last read) and a restart. Which stored story an article of a file is, the
evidence says (`pairing`); where else a story may be from, the store (`_Lookups`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import logging
import os
import stat
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, NamedTuple

from feedsvc import pairing
from feedsvc.config import Config
from feedsvc.listing import FileStat, Opener, Scan, scan
from feedsvc.model import Article, Entry, Problem, Severity
from feedsvc.parallel import PARALLEL_FROM, Workers
from feedsvc.readers import PLAUSIBLE_FROM, ReaderSettings, read_bytes
from feedsvc.state import FileRecord, FileSignature, StateStore, StoredEntry, microseconds
from feedsvc.text import SLUG_MOST, let_read, name_key, slugify, unique

log = logging.getLogger(__name__)

_BATCH = 100  #: files per task: sending a task then costs little beside reading its files


@dataclass
class ChangeSet:
    """What one update changed (entry ids), for the report and the log."""

    files_read: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    #: entries whose page alone changed (their related headlines): not updated in the feeds
    pages_changed: list[str] = field(default_factory=list)
    #: why nothing was unpublished although files vanished (a directory gone, say)
    held_back: str | None = None
    #: files that changed while being read, or too recently to trust: read at a later refresh
    deferred: list[str] = field(default_factory=list)
    #: files that could not be opened or read (their permissions, say): what they published
    #: stays, and they are tried again at every refresh until they can be read
    unreadable: list[Problem] = field(default_factory=list)
    #: how many published entries each section gained (or lost, below zero): a publish moves
    #: the last counts by this instead of counting the whole archive again
    sections: Counter[str] = field(default_factory=Counter)
    #: the entries removed, by id, in the order they went; and their ids by body
    #: (`unpublished_like`)
    unpublished: dict[str, Entry] = field(default_factory=dict, repr=False)
    _by_body: dict[str, list[str]] = field(default_factory=dict, repr=False)
    #: entries that files waiting to be applied no longer hold, by body (`_Applier`)
    leaving: dict[str, list[Entry]] = field(default_factory=dict, repr=False)
    #: a held entry was released, its file read cleanly again: with no entry changed, one left
    #: out of the feeds for want of its text can be shown again
    released: bool = False
    #: the problems of the files this update read, by path (a file read again once settled is
    #: said once), for the log (`all_problems` has them all)
    problems: dict[str, list[Problem]] = field(default_factory=dict)

    @property
    def removed(self) -> list[str]:
        return list(self.unpublished)

    @property
    def changed(self) -> bool:
        return bool(
            self.added or self.updated or self.pages_changed or self.unpublished or self.released
        )

    def read_with(self, path: str, problems: list[Problem]) -> None:
        """The problems `path` was last read with (kept only if any: 100k files read clean
        in a first build cost nothing here)."""
        if problems:
            self.problems[path] = problems
        else:
            self.problems.pop(path, None)

    def unpublish(self, entry: Entry) -> None:
        self.unpublished[entry.id] = entry
        self._by_body.setdefault(entry.body_hash, []).append(entry.id)

    def republish(self, entry_id: str) -> None:
        """An entry removed earlier in this update is published again: its file was renamed."""
        del self.unpublished[entry_id]

    def removed_with(self, body_hash: str) -> StoredEntry | None:
        """An entry removed in this update with this body."""
        for entry_id in self._by_body.get(body_hash, ()):
            if entry_id in self.unpublished:
                return StoredEntry(self.unpublished[entry_id], present=False)
        return None

    def leave(self, entry: Entry) -> None:
        """`entry` is leaving its file, which waits to be applied (`_Applier`)."""
        self.leaving.setdefault(entry.body_hash, []).append(entry)

    def unpublished_like(self, article: Article, path: str) -> StoredEntry | None:
        """An entry removed in this update with the article's body, or leaving another file
        that is yet to be applied: a file renamed with its title edited (`git mv` and a fix in
        one commit) or a story moved must not make a second entry. Not by title, as inside a
        file: a daily "Morning briefing" replaced by the next day's is a new story."""
        removed = self.removed_with(article.body_hash)
        if removed is not None:
            return removed
        leaving = self.leaving.get(article.body_hash, [])
        entry = next((e for e in leaving if e.path != path), None)
        if entry is None:
            return None
        leaving.remove(entry)  # moved here: its old file no longer lists it
        return StoredEntry(entry, present=True)


@dataclass(frozen=True)
class UpdateSettings:
    reader: ReaderSettings
    authority: str  #: for new tag URIs
    max_file_bytes: int
    #: when the refresh began: an article is dated later only when it says so (scheduled)
    now: datetime
    #: the newest date a published version showed: an entry dated later was never shown, and
    #: takes its article's date again when that is edited (an embargo moved)
    shown_until: datetime
    #: a file modified more recently than this is left for the next scan: it may be half-written
    settle_ns: int = 0
    #: when a watcher saw each file closed after writing (or moved into place), in ns: a file
    #: not modified since is complete and need not settle
    closed: Mapping[str, int] = field(default_factory=dict)
    #: a file deleted and written again within this brings its articles back under their ids,
    #: as an edit: what a scheduled refresh alone (one interval apart) would have seen
    returns_within: timedelta = timedelta(0)
    #: articles_dir emptied on purpose (`feedsvc refresh --emptied`): what its files published
    #: goes, where an empty listing is otherwise taken for an unmounted volume
    emptied: bool = False


def update(
    store: StateStore,
    articles_dir: Path,
    listing: Scan,
    settings: UpdateSettings,
    progress: Callable[[int, int], None] | None = None,
    only: Collection[str] | None = None,
    workers: Workers | None = None,
) -> ChangeSet:
    """Bring the store in line with `listing`; one transaction, so a crash changes nothing.

    `only`: the listing covers just these paths (what a watcher reported, `scan_paths`); every
    other file is taken as it was. `workers` read and parse a large batch of files.
    """
    changes = ChangeSet()
    known = store.files(only)
    if listing.failure is not None:
        changes.held_back = f"{listing.failure}; nothing was unpublished"
        return changes
    if not listing.files and known and only is None and not settings.emptied:
        changes.held_back = (
            f"{articles_dir} lists no article files although {len(known)} were published; "
            "treating this as a fault, not a mass deletion: nothing was unpublished (if they "
            "were removed on purpose, `feedsvc refresh --emptied` unpublishes their entries)"
        )
        return changes
    unreadable = _dirs(listing.unreadable)
    refused = {p.path: p for p in listing.problems if p.path not in unreadable}
    # Files read with other settings (or another reader) are all read again.
    reread = only is None and store.parsed_with() != settings.reader.digest
    limit = settings.max_file_bytes
    todo = [
        path
        for path, info in sorted(listing.files.items())
        if reread
        or path not in known
        or known[path][:2] != info
        # refused unread as too large ("" for a hash), or read: does the limit say otherwise now?
        or (known[path].hash == "") != (info.size > limit)
    ]
    gone = sorted(set(known) - set(listing.files) - set(refused))
    kept = [path for path in gone if path.startswith(listing.unreadable)]
    if kept:
        gone = [path for path in gone if path not in kept]
        changes.held_back = (
            f"cannot read {', '.join(listing.unreadable)} under {articles_dir}: "
            f"{len(kept)} file(s) from there were kept as published, not deleted (those "
            "that cannot be read either are left out of the feeds until they can)"
        )
    with store.transaction():
        empty = not store.has_entries()
        lookups = _Lookups(store, empty, settings)
        if not empty:
            store.forget_removed_before(lookups.returning_since)
        for path in gone:
            for stored in store.entries_from(path):
                _remove(lookups, stored.entry, changes)
            store.forget_file(path)
        for path, problem in refused.items():
            for stored in store.entries_from(path):
                _remove(lookups, stored.entry, changes)
            if known.get(path) != _REFUSED:  # newly refused (a link broken): said in the log
                changes.read_with(path, [problem])
            store.save_file(FileRecord(path, _REFUSED, (problem,)))
        jobs = []
        # read with their bodies, as an edited file is: a new file where entries were removed
        # lately (asked only when a file is new: an edit in place is no return), and, read
        # again for the settings, a file holding entries (`_without_swallowers` needs them)
        with_bodies = lookups.removed_paths() if any(p not in known for p in todo) else set()
        if reread:
            with_bodies |= lookups.holding_paths()
        for path in todo:
            info = listing.files[path]
            if info.size > settings.max_file_bytes:
                _refuse_large(lookups, path, info, known.get(path), settings, changes)
            else:
                jobs.append(
                    _job(path, info, known.get(path), settings, reread, path in with_bodies)
                )
        applier = _Applier(lookups, settings, changes)
        with store.indexes_later() if empty else contextlib.nullcontext():
            for number, (job, read) in enumerate(
                zip(jobs, _read_all(articles_dir, jobs, settings.reader, workers), strict=True),
                start=1,
            ):
                applier.add(job, read)
                if progress is not None:
                    progress(number, len(jobs))
            applier.finish()
        if changes.deferred and settings.settle_ns:
            _read_once_settled(applier, articles_dir, known, changes, reread, with_bodies)
        if changes.unpublished:
            _read_duplicates_again(lookups, articles_dir, settings, changes)
        if reread and not changes.deferred:  # a deferred file must be read again, later
            store.set_parsed_with(settings.reader.digest)
        changes.released = lookups.released
        if changes.changed:
            store.bump_generation()
    return changes


#: what the store records of a file the listing refused (a symbolic link out of articles/)
_REFUSED = FileSignature(0, 0, "")


class _Applier:
    """Applies what files were read to hold, in path order; but a file that brings articles
    its own entries do not match waits for the others (`WAITING_AT_MOST` at a time): a story
    moved into it, its title edited, is then known to have left its old file, by the body
    (`ChangeSet.unpublished_like`), or to be leaving it if that file waits too
    (`ChangeSet.leaving`)."""

    def __init__(self, lookups: _Lookups, settings: UpdateSettings, changes: ChangeSet) -> None:
        self.lookups = lookups
        self.settings = settings
        self.changes = changes
        #: each waiting file, and the entries it no longer holds (none if it is in error:
        #: what a file in error no longer shows, it holds, `_remove_or_hold`)
        self.waiting: list[tuple[_Job, _Read, list[Entry]]] = []

    def add(self, job: _Job, read: _Read) -> None:
        paired = None
        if not self.lookups.empty and read.articles is not None and _edited(job, read):
            paired = _paired(self.lookups, job, read)
            read = paired.read
            if len(paired.matches) < len(read.articles or ()):
                kept = {id(stored) for stored in paired.matches.values()}
                refused = _refuses(read.problems)
                leaving = [] if refused else [s.entry for s in paired.old if id(s) not in kept]
                # paired again once applied: an entry of its may have moved to a file meanwhile
                self.waiting.append((job, read, leaving))
                if len(self.waiting) == WAITING_AT_MOST:
                    self.finish()  # then the next ones: new files keep their order by path
                return
        _apply(self.lookups, job, read, self.settings, self.changes, paired)

    def finish(self) -> None:
        waiting, self.waiting = self.waiting, []
        for _, _, leaving in waiting:
            for entry in leaving:
                self.changes.leave(entry)
        for job, read, _ in waiting:
            _apply(self.lookups, job, read, self.settings, self.changes)
        self.changes.leaving.clear()


#: files that wait in `_Applier` at most, their articles held meanwhile: a few megabytes
WAITING_AT_MOST = 1_000


class _Paired(NamedTuple):
    """A file's entries as stored, and which of its articles match which (`pairing.match`)."""

    old: list[StoredEntry]
    matches: dict[int, StoredEntry]
    read: _Read  #: the file as read, less any article that swallowed a published one


def _paired(lookups: _Lookups, job: _Job, read: _Read) -> _Paired:
    old = lookups.entries_from(job.path, job.known)
    if not old:
        return _Paired(old, {}, read)  # a new file (every file of a first build): nothing to pair
    saved_body = lookups.store.saved_body
    read = _without_swallowers(read, old, saved_body)
    held = {stored.entry.id for stored in old if stored.entry.id in lookups.held}

    @functools.cache
    def removed_lately() -> tuple[list[set[object]], set[str]]:
        """Of the file's entries removed lately, their keys of `pairing.RULES`, rule by rule,
        and their kept paragraphs: worked out once for every article asking."""
        removed = [stored.entry for stored in lookups.removed_from(job.path)]
        bodies = (saved_body(entry.content_hash) for entry in removed)
        return (
            [{entry_key(entry) for entry in removed} for _, entry_key, _ in pairing.RULES],
            {p for body in bodies if body is not None for p in pairing.paragraphs(body)},
        )

    def published(article: Article, own: frozenset[str]) -> bool:
        """Exactly a story the store has (moved or copied here), or one of this file's removed
        lately (put back, edited: as `_replace_file_entries` finds it, or holding one of its
        paragraphs among its `own`): its own entry is found so, not another's by its place."""
        twin, copies = lookups.with_content(article.content_hash)
        if twin is not None or copies:
            return True
        keys, paragraphs = removed_lately()
        return not paragraphs.isdisjoint(own) or any(
            (found := key(article)) is not None and found in known
            for (key, _, _), known in zip(pairing.RULES, keys, strict=True)
        )

    def pair(read: _Read) -> dict[int, StoredEntry]:
        articles, refused = list(read.articles or ()), _refuses(read.problems)
        return pairing.match(
            articles, old, saved_body, refused=refused, held=held, published=published
        )

    if not any(problem.by_config for problem in read.problems):
        return _Paired(old, pair(read), read)
    # Paired first as an edit's error would be (positions distrusted): a story paired by the
    # lenient rules of a clean file (a shared sign-off) would hide from `_an_edit_left_out`.
    edited = read._replace(
        problems=tuple(replace(p, by_config=False) if p.by_config else p for p in read.problems)
    )
    matches = pair(edited)
    paired = {id(stored) for stored in matches.values()}
    if _an_edit_left_out(lookups, read, [s.entry for s in old if id(s) not in paired]):
        return _Paired(old, matches, edited)
    return _Paired(old, pair(read), read)


def _an_edit_left_out(lookups: _Lookups, read: _Read, unpaired: list[Entry]) -> bool:
    """Whether an article refused for its section (`Problem.by_config`), the config's doing
    as a rule, is one of the file's stories that no article matches (`unpaired`): its section
    line being retyped, or changed to one not configured yet (`_the_story`); or one holding a
    story as its paragraphs, that story's header broken below it (`_swallowed`). Then it is
    an edit's error, and the file's missing stories are held as for any other."""
    stories = [
        entry
        for entry in unpaired
        # its section taken out of the config: it is left out by the config indeed
        if lookups.discovering or entry.section in lookups.configured
    ]
    if not read.unconfigured or not stories:
        return False
    lost = {story.title: story for story in stories}
    saved_body = lookups.store.saved_body
    return any(
        any(_the_story(story, article) for story in stories)
        or _swallowed(article, read.articles or (), lost, {}, saved_body) is not None
        for article in read.unconfigured
    )


def _the_story(story: Entry, article: Article) -> bool:
    """`article` is `story` in another section: by its given id, else its body or its title
    (a typo away). Not by a shared paragraph: a desk's sign-off is in every story."""
    if article.id is not None:
        return article.id == story.id
    return article.body_hash == story.body_hash or pairing.typo_fixed(story.title, article.title)


def _without_swallowers(
    read: _Read, old: list[StoredEntry], saved_body: Callable[[str], str | None]
) -> _Read:
    """A published article of a .txt file whose section line was misspelt, or deleted, or
    whose title lost the blank line after it, is read as paragraphs of the article above:
    it would be unpublished, and its text published as the end of the other story. When its
    title and a paragraph of its body (known for the entries the feeds show) are so found,
    and newly (a roundup quoting a headline and its lead had them before), that article is
    refused, with an error: the file keeps what it published until fixed."""
    if not old or not read.articles:
        return read
    lost = {s.entry.title: s.entry for s in old if s.entry.body_format == "text"}
    for article in read.articles:
        lost.pop(article.title, None)
    if not lost:
        return read  # every published title still opens an article: the usual case
    published = {s.entry.title: s.entry for s in old}
    kept: list[Article] = []
    problems = list(read.problems)
    for article in read.articles:
        swallowed = _swallowed(article, read.articles, lost, published, saved_body)
        if swallowed is None:
            kept.append(article)
            continue
        problems.append(
            Problem(
                article.path,
                article.line,
                "error",
                f"{swallowed.title!r}, published from this file, is read as paragraphs of "
                f"{article.title!r}: its section line, or the blank line after its title, is "
                "misspelt or missing; fix it (both stay published as they were until then)",
            )
        )
    return read._replace(articles=tuple(kept), problems=tuple(problems))


def _swallowed(
    article: Article,
    articles: Sequence[Article],
    lost: Mapping[str, Entry],
    published: Mapping[str, Entry],
    saved_body: Callable[[str], str | None],
) -> Entry | None:
    """The published entry whose title `article` now holds one time more than it did, then
    the entry's text to its end: more of its paragraphs than any other article holds (one
    retitled holds as many), and mostly its lines (a roundup quoting a headline and its lead
    goes on with other stories)."""
    lines = article.body.split("\n")
    had: Counter[str] | None = None  # the article's lines as published: asked when needed
    for index, line in enumerate(lines):
        entry = lost.get(line)
        if entry is None:
            continue
        if had is None:
            before = published.get(article.title)
            body = saved_body(before.content_hash) if before is not None else None
            had = Counter(body.split("\n")) if body is not None else Counter()
        if lines[: index + 1].count(line) <= had[line]:
            continue
        body = saved_body(entry.content_hash)
        if body is None:
            continue
        paragraphs, tail = pairing.paragraphs(body), lines[index + 1 :]
        held = len(paragraphs.intersection(tail))
        elsewhere = max(
            (
                len(paragraphs.intersection(a.body.split("\n")))
                for a in articles
                if a is not article
            ),
            default=0,
        )
        own = set(body.split("\n"))
        if held > elsewhere and 2 * sum(t in own for t in tail) >= len(tail):
            return entry
    return None


def _edited(job: _Job, read: _Read) -> bool:
    """The file's bytes changed (or it is new): not read again for the settings alone."""
    return job.known is None or read.digest != job.known.hash


def _read_once_settled(
    applier: _Applier,
    articles_dir: Path,
    known: dict[str, FileSignature],
    changes: ChangeSet,
    reread: bool,
    with_bodies: set[str],
) -> None:
    """Files that were too fresh get one more look, once they had time to settle.

    A file copied in just before the refresh is then published by this refresh, not the next
    one; a file that is still changing stays deferred (and keeps what it published before).
    """
    settings = applier.settings
    waiting, changes.deferred = changes.deferred, []
    fresh: dict[str, FileStat] = {}
    for path in waiting:
        info = _stat(articles_dir / path)
        if info is not None:
            fresh[path] = info
    newest = max((info.mtime_ns for info in fresh.values()), default=0)
    age_ns = time.time_ns() - newest
    if abs(age_ns) < settings.settle_ns:
        time.sleep((settings.settle_ns - age_ns) / 1e9)
    with Opener(articles_dir) as opener:
        for path in waiting:
            info = _stat(articles_dir / path)
            if info is None or info != fresh.get(path):
                changes.deferred.append(path)  # gone or still changing: a later scan decides
                continue
            job = _job(path, info, known.get(path), settings, reread, path in with_bodies)
            applier.add(job, _read_file(opener, job, settings.reader))
    applier.finish()


def _read_duplicates_again(
    lookups: _Lookups, articles_dir: Path, settings: UpdateSettings, changes: ChangeSet
) -> None:
    """Files holding a copy of an article that was published from elsewhere, or an article
    whose front-matter id another one had, read again now that entries were removed: when the
    original went (an article moved to a file read before its old one, or `cp a b` then
    `rm a`), the copy is published instead, under the same id. Such a file's bytes have not
    changed, so nothing else would read it again."""
    store = lookups.store
    copies = {p.path for p in store.problems() if p.message.startswith(_WAITING_FOR_ANOTHER)}
    waiting = sorted(copies - set(changes.deferred))
    signatures = store.files(waiting)
    with Opener(articles_dir) as opener:
        for path in waiting:
            info = _stat(articles_dir / path)
            if info is None or path not in signatures or info.size > settings.max_file_bytes:
                continue  # gone, or refused: the next scan says so
            job = _job(path, info, signatures[path], settings, reparse=True)
            _apply(lookups, job, _read_file(opener, job, settings.reader), settings, changes)


def _stat(path: Path) -> FileStat | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return FileStat(info.st_size, info.st_mtime_ns) if stat.S_ISREG(info.st_mode) else None


class _Job(NamedTuple):
    """One file to read: what the listing and the store say of it."""

    path: str
    info: FileStat
    known: FileSignature | None  #: what the store recorded of it; None: a new file
    settle_ns: int  #: how old the file must be to be trusted complete
    reparse: bool  #: parsed even if its bytes are those already known (the reader changed)
    #: its bodies kept, as an edited file's are: new where entries were removed lately
    #: (deleted, then written again: `pairing.same_story`), or holding entries
    #: (`_without_swallowers`)
    with_bodies: bool = False


class _Read(NamedTuple):
    """What reading one file found, before identification: made by a worker when many."""

    digest: str | None  #: None: changed while read, too fresh to trust, or gone
    #: None: the bytes are those already known (touched only). Flat rather than a
    #: `ReadResult`: the one process that identifies unpickles 10k of these in a cold build.
    articles: tuple[Article, ...] | None
    problems: tuple[Problem, ...] = ()
    #: articles of sections the config does not publish (`ReadResult.unconfigured`): rarely any
    unconfigured: tuple[Article, ...] = ()


def _job(
    path: str,
    info: FileStat,
    known: FileSignature | None,
    settings: UpdateSettings,
    reparse: bool,
    with_bodies: bool = False,
) -> _Job:
    closed_at = settings.closed.get(path, -1)
    settle_ns = 0 if closed_at >= info.mtime_ns else settings.settle_ns
    return _Job(path, info, known, settle_ns, reparse, with_bodies)


def _read_all(
    articles_dir: Path, jobs: list[_Job], reader: ReaderSettings, workers: Workers | None
) -> Iterator[_Read]:
    """Each job's read, in order; a large batch by the workers."""
    if workers is None or len(jobs) < PARALLEL_FROM:
        return _read_each((articles_dir, reader, jobs))
    batches = (
        (articles_dir, reader, jobs[start : start + _BATCH])
        for start in range(0, len(jobs), _BATCH)
    )
    return itertools.chain.from_iterable(workers.map(_read_batch, batches))


def _read_batch(batch: tuple[Path, ReaderSettings, list[_Job]]) -> list[_Read]:
    return list(_read_each(batch))


def _read_each(batch: tuple[Path, ReaderSettings, list[_Job]]) -> Iterator[_Read]:
    articles_dir, reader, jobs = batch
    with Opener(articles_dir) as opener:
        for job in jobs:
            yield _read_file(opener, job, reader)


def _read_file(opener: Opener, job: _Job, reader: ReaderSettings) -> _Read:
    try:
        data = _read_settled(opener, job.path, job.info, job.settle_ns)
    except OSError as e:
        return _Read(None, None, (_cannot_read(job.path, e),))
    if data is None:
        return _Read(None, None)
    digest = _digest_of(data)
    if job.known is not None and digest == job.known.hash and not job.reparse:
        return _Read(digest, None)
    result = read_bytes(job.path, data, reader)
    if (job.known is not None and digest != job.known.hash) or job.with_bodies:
        # an edit: see `pairing.same_story`
        return _Read(digest, result.articles, result.problems, result.unconfigured)
    articles = tuple(article.without_body() for article in result.articles)
    unconfigured = tuple(article.without_body() for article in result.unconfigured)
    return _Read(digest, articles, result.problems, unconfigured)


def _refuse_large(
    lookups: _Lookups,
    path: str,
    info: FileStat,
    known: FileSignature | None,
    settings: UpdateSettings,
    changes: ChangeSet,
) -> None:
    problems = [_too_large(path, info.size, settings.max_file_bytes)]
    entries = [stored.entry for stored in lookups.entries_from(path, known)]
    # It grew past the limit (an edit), or the limit was lowered below it (the config)?
    grew = known is not None and known.size <= settings.max_file_bytes
    _remove_or_hold(lookups, entries, problems, changes, edited=grew)
    lookups.store.save_file(FileRecord(path, FileSignature(*info, ""), tuple(problems)))
    changes.read_with(path, problems)


def _apply(
    lookups: _Lookups,
    job: _Job,
    read: _Read,
    settings: UpdateSettings,
    changes: ChangeSet,
    paired: _Paired | None = None,
) -> None:
    """Bring the store in line with what one file was found to hold. `paired`: its entries
    and their matches, when the caller made them already."""
    store = lookups.store
    path, info = job.path, job.info
    if read.digest is None:
        if read.problems:
            changes.unreadable.extend(read.problems)
        else:
            changes.deferred.append(path)
        return  # still being written, gone, or unreadable: the next scan looks again
    changes.files_read += 1
    if read.articles is None:
        store.touch_file(path, FileSignature(*info, read.digest))
        return  # touched, not changed
    if paired is None:
        paired = _paired(lookups, job, read)
    problems = list(paired.read.problems)
    articles = list(paired.read.articles or ())
    # Edited, or read again unchanged because the config changed (a section taken out)?
    edited = _edited(job, read)
    gone = _replace_file_entries(
        lookups, path, articles, paired, changes, settings, info, problems, edited
    )
    if gone:
        _remove_or_hold(lookups, gone, problems, changes, edited)
    store.save_file(FileRecord(path, FileSignature(*info, read.digest), tuple(problems)))
    changes.read_with(path, problems)


def _too_large(path: str, size: int, limit: int, unpublished: int = 0) -> Problem:
    """`unpublished`: the entries a refresh unpublishes for it, as `check` says beforehand."""
    said = f"; a refresh unpublishes {_them(unpublished)}" if unpublished else ""
    return Problem(
        path,
        None,
        "error",
        f"file is {size} bytes, larger than content.max_file_bytes ({limit}); "
        f"skipped without reading it (raise the limit or split the file){said}",
    )


def _read_settled(opener: Opener, path: str, info: FileStat, settle_ns: int) -> bytes | None:
    """The file's bytes, or None when it is gone, changed while being read or is too fresh to
    trust. OSError when it cannot be read (its permissions, say)."""
    try:
        descriptor = opener.open(path)
    except FileNotFoundError:
        return None
    try:
        data = os.read(descriptor, info.size + 1)
        after = os.fstat(descriptor)
    finally:
        os.close(descriptor)
    if (after.st_size, after.st_mtime_ns) != (info.size, info.mtime_ns) or len(data) != info.size:
        return None
    if _fresh(info, settle_ns):
        return None
    return data


def _cannot_read(path: str, error: OSError) -> Problem:
    return Problem(path, None, "error", f"cannot read the file: {error.strerror}{let_read(error)}")


def _fresh(info: FileStat, settle_ns: int) -> bool:
    """Modified less than `settle_ns` ago, or dated less than that in the future (the clock
    was set back a little): it may still be being written. A file dated further in the future
    came so from elsewhere (a skewed clock) and would otherwise never be read."""
    return abs(time.time_ns() - info.mtime_ns) < settle_ns


def _dirs(prefixes: tuple[str, ...]) -> set[str]:
    return {prefix.rstrip("/") for prefix in prefixes}


def _replace_file_entries(
    lookups: _Lookups,
    path: str,
    articles: list[Article],
    paired: _Paired,
    changes: ChangeSet,
    settings: UpdateSettings,
    info: FileStat,
    problems: list[Problem],
    edited: bool,
) -> list[Entry]:
    """Give the file's new articles entries, their old ones where they match, so that ids
    survive edits; the old entries left unmatched. `edited`: the file's bytes changed (not
    only the settings)."""
    old, matches = paired.old, paired.matches
    returning: dict[int, StoredEntry] = {}
    if len(matches) < len(articles):
        # As the same file edited: a deploy's `rm` and copy, seen half-way by the watcher.
        removed = lookups.removed_from(path)
        if removed:
            saved_body = lookups.store.saved_body
            returning = pairing.match(
                articles,
                removed,
                saved_body,
                refused=_refuses(problems),
                paired=matches,
                removed=True,
            )
    spelled = lookups.spellings(articles, old, changes)
    written = _written_at(info, settings, len(articles), lookups)
    known = {**returning, **matches}  #: the articles the file (or its last copy) published
    after = _after_those_below(lookups, articles, known, changes, settings)
    kept: set[str] = set()
    dated_by_file = False  #: an article new (or never shown) dated by the file's mtime
    for ordinal, article in enumerate(articles):
        previous = matches.get(ordinal)
        if previous is None or previous.entry.content_hash != article.content_hash:
            # Exactly an article published from elsewhere: a copy, or one edited into a copy
            # (`cp a b` over an edited b), which takes its entry with it.
            twin, copies = lookups.with_content(article.content_hash)
            if twin is not None:
                problems.append(_duplicate(article, twin))
                continue
        if previous is None:
            previous = _earlier_copy(lookups, article, copies) or returning.get(ordinal)
            if previous is not None and previous.entry.id in kept:
                previous = None  # given to another article of the file already
            if previous is None and article.id is None:
                previous = changes.unpublished_like(article, path)
            if previous is None and article.id is None:
                previous = lookups.moved_here(article)
        owner = None if previous or article.id is None else lookups.id_owner(article.id)
        if owner is not None:
            problems.append(_id_taken(article, owner))
            continue
        section = spelled.get(article.section, article.section)
        dated = article.date or max(written.article(ordinal), after.get(ordinal, _EARLIEST))
        entry = _entry_for(lookups, article, section, ordinal, previous, settings, written, dated)
        dated_by_file |= article.date is None and (
            previous is None or previous.entry.published > settings.shown_until
        )
        if article.id is not None and entry.id != article.id:
            message = (
                f"id {article.id!r}{_IGNORED} was published as {entry.id!r}, "
                "and a published id never changes (give it that id, or none)"
            )
            problems.append(_about(article, "warning", message, "id"))
        if previous is None and article.slug and entry.slug != article.slug:
            message = (
                f"slug {article.slug!r} is taken by another article; this one is published "
                f"as {entry.slug!r} (choose another slug to decide it yourself)"
            )
            problems.append(_about(article, "warning", message, "slug"))
        elif article.slug and entry.slug != article.slug:
            message = (
                f"slug {article.slug!r}{_IGNORED}'s page was published as "
                f"{entry.slug!r}, and a published page's URL never changes (give it that "
                "slug, or none)"
            )
            problems.append(_about(article, "warning", message, "slug"))
        # Read again unchanged (the config changed), it was said already or not at all: a new
        # site.timezone moves every date given without an offset, and no editor did that.
        if (
            article.date is not None
            and not _tied(entry.published, article.date)
            and (edited or _date_ignored_before(lookups, article))
        ):
            message = (
                f"date {article.date.isoformat()}{_DATE_IGNORED}"
                f"{entry.published.isoformat()}, and a published date never moves"
            )
            problems.append(_about(article, "warning", message, "date"))
        if entry.section != article.section:
            message = (
                f"section {article.section!r} is published as {entry.section!r}, as other "
                "files spell it (spell it the same to silence this)"
            )
            problems.append(_about(article, "warning", message, "section"))
        kept.add(entry.id)
        lookups.release(entry.id)
        lookups.save(entry)
        if previous is not None and previous.present:
            changes.sections[previous.entry.section] -= 1
        changes.sections[entry.section] += 1
        moved = previous is not None and entry.id in changes.unpublished
        if moved:
            changes.republish(entry.id)  # its file was renamed in this same refresh
        if previous is not None and not previous.present:
            lookups.store.page_changed(entry.slug)  # back: its page too, if it had one
        if previous is None or not (previous.present or moved):
            changes.added.append(entry.id)
        elif previous.entry.content_hash != entry.content_hash:
            changes.updated.append(entry.id)
            lookups.store.page_changed(entry.slug)
        elif previous.entry.related != entry.related:  # on its page alone, not in the feeds
            changes.pages_changed.append(entry.id)
            lookups.store.page_changed(entry.slug)
    if dated_by_file and _stamped(info):
        problems.append(_implausible_mtime(path, info))
    return [stored.entry for stored in old if stored.entry.id not in kept]


def _after_those_below(
    lookups: _Lookups,
    articles: list[Article],
    known: Mapping[int, StoredEntry],
    changes: ChangeSet,
    settings: UpdateSettings,
) -> dict[int, datetime]:
    """The earliest each new undated article may be dated: just after the stories readers
    have below it (a file is newest first), `known` to the file or found moved into it (a file
    renamed). Read a second apart from the file's mtime, a story written above one published
    less than that before was dated below it, out of the file's order."""
    after: dict[int, datetime] = {}
    if lookups.empty:
        return after  # a first build: no reader has any story
    newest: datetime | None = None  #: of the published stories below
    for ordinal in reversed(range(len(articles))):
        undated = articles[ordinal].date is None
        stored = known.get(ordinal) or (
            lookups.moved_in(articles[ordinal], changes) if undated else None
        )
        if stored is not None and stored.entry.published <= settings.shown_until:
            newest = max(newest or stored.entry.published, stored.entry.published)
        elif stored is None and undated and newest is not None:
            # the first date free after the one below it: found from the bottom up, so that
            # a date taken (by another file, a removed entry) keeps none out of order
            newest = lookups.free_published(newest + _TIE_BREAK, None)
            after[ordinal] = newest
    return after


_EARLIEST = datetime.min.replace(tzinfo=UTC)


class _Written(NamedTuple):
    """When a file's undated articles were written: the first (the newest) at `at`, each one
    below it `apart` earlier."""

    at: datetime
    apart: timedelta

    def article(self, ordinal: int) -> datetime:
        return self.at - self.apart * ordinal


def _written_at(
    info: FileStat, settings: UpdateSettings, articles: int, lookups: _Lookups
) -> _Written:
    """When the file's undated articles were written, by its mtime, a second apart. A time
    ahead of ours comes from a skewed clock (a copy from elsewhere), not from an editor meaning
    the future; one before `PLAUSIBLE_FROM` from a tool that stamps every file alike (1970 in a
    Nix store, 1980 in a reproducible archive): dated so, no feed would show them. Either way
    they are dated as first seen (`_Lookups.first_seen`)."""
    mtime = _mtime_of(info)
    if not _stamped(info) and mtime <= settings.now:
        return _Written(mtime, timedelta(seconds=1))
    return lookups.first_seen(settings, articles)


_AS_FIRST_SEEN = timedelta(seconds=1)


def _implausible_mtime(path: str, info: FileStat) -> Problem:
    message = (
        f"the file's modification time is {_mtime_of(info).date().isoformat()}, before "
        f"{PLAUSIBLE_FROM}: not when it was written (copied from an archive that stamps every "
        f"file alike?){_DATED_AS_FIRST_SEEN}"
    )
    return Problem(path, None, "warning", message)


def _mtime_of(info: FileStat) -> datetime:
    return datetime.fromtimestamp(info.mtime_ns // 1000 / 1e6, UTC)


def _stamped(info: FileStat) -> bool:
    """Modified before `PLAUSIBLE_FROM`: stamped by a tool, not when it was written."""
    return _mtime_of(info).year < PLAUSIBLE_FROM


#: what the warnings of a published article's id, slug or date changed in its file say: what
#: `check`, which does not identify articles, repeats from the last refresh (`_said_before`)
_IGNORED = " is ignored: this article"
_DATE_IGNORED = f"{_IGNORED} was published "
#: and of a file whose mtime could not date the articles it brought
_DATED_AS_FIRST_SEEN = "; the articles it brought without a date are dated as first seen"


def _date_ignored_before(lookups: _Lookups, article: Article) -> bool:
    """Whether the last read of the article's file said its date was ignored."""
    said = lookups.store.problems(article.path)
    lines = {article.line_of("date"), article.line}  # the first: as stores before key lines
    return any(p.line in lines and _DATE_IGNORED in p.message for p in said)


def _refuses(problems: Iterable[Problem]) -> bool:
    """Whether these problems refused something an edit may have broken: an article, or the
    whole file (warnings only say what was made of it; an article in a section the config does
    not publish is left out on every read, and its file is read as a clean one)."""
    return any(problem.severity == "error" and not problem.by_config for problem in problems)


def _remove_or_hold(
    lookups: _Lookups,
    gone: list[Entry],
    problems: list[Problem],
    changes: ChangeSet,
    edited: bool,
) -> None:
    """Unpublish the entries a file no longer holds, unless an edit left part of it refused.

    An editor's save halfway through an edit (the title cleared) would otherwise take the article
    down, and the finished edit would bring it back under a new id: readers would see it twice.
    It is held: it stays published as last read, its body kept by the publisher, until the file
    reads without an edit's error, however often it is read meanwhile. What the config refuses is
    not held: a file read again unchanged (after a config change) holds nothing it did not hold
    already, an entry whose section was taken out of the config is unpublished, edited file or
    not, and an article the config leaves out (`Problem.by_config`) holds nothing.
    """
    refused = _refuses(problems)
    for entry in gone:
        # its section taken out of the config: the operator unpublished it, edited or not
        section_kept = lookups.discovering or entry.section in lookups.configured
        if not (refused and section_kept and (edited or entry.id in lookups.held)):
            _remove(lookups, entry, changes)
            continue
        lookups.hold(entry.id)
        problems.append(
            Problem(
                entry.path,
                None,
                "warning",
                f"{entry.title!r} is not in this file as read; it stays published as it was "
                "until the errors here are fixed",
            )
        )


def _earlier_copy(
    lookups: _Lookups, article: Article, copies: list[StoredEntry]
) -> StoredEntry | None:
    """A removed entry with exactly this content: a renamed or restored file keeps its ids."""
    if article.id is not None:
        stored = lookups.entry(article.id)
        return stored if stored is not None and not stored.present else None
    return next(iter(copies), None)


class _Lookups:
    """What identification asks the store, during one update.

    When the store started empty (a cold build) there is nothing to ask it: the entries made in
    this update are remembered here instead, saving several queries per article.
    """

    def __init__(self, store: StateStore, empty: bool, settings: UpdateSettings) -> None:
        reader = settings.reader
        self.store = store
        self.empty = empty
        self.now = settings.now
        #: entries removed since come back with their file (`removed_from`)
        self.returning_since = settings.now - settings.returns_within
        #: sections found in articles get feeds (the reader refuses them otherwise)
        self.discovering = reader.allow_new_sections
        self.configured = frozenset(reader.sections)
        #: entries kept published as last read (`_remove_or_hold`); few, usually none
        self.held: set[str] = set() if empty else store.held()
        self.released = False  #: `ChangeSet.released`
        #: discovered sections' spellings by `name_key`, oldest first, and how many entries
        #: each had published when this update began; read when first needed
        self._spellings: dict[str, list[str]] | None = None
        self._published: Counter[str] = Counter()
        self._made: dict[str, str] = {}  #: content hash → path, while the store started empty
        #: entries removed lately, by body, the last removed first (`moved_here`)
        self._removed: dict[str, list[StoredEntry]] | None = None
        self._slugs: set[str] = set()
        self._ids: dict[str, str] = {}  #: id → path
        self._published_at = _Instants()
        #: the date last given in this update for a date asked, the store answering: the files
        #: of a `touch *` each start where the one before ended, not at the start of the run
        self._given: dict[datetime, datetime] = {}
        self._updated_at = _Instants()
        self._first_seen_next: datetime | None = None  #: `first_seen`'s next block

    def first_seen(self, settings: UpdateSettings, articles: int) -> _Written:
        """Dates for the articles of a file dated as first seen (`_written_at`): a block of a
        microsecond each, its own in this update (blocks shared would interleave, the files'
        orders turned around by `_first_free`), the first article the newest. From a second
        before this refresh began, but never before what was shown already (a publish less
        than a second ago: readers would get new stories older than the last, and a feed whose
        date did not move); and never after the refresh began, or they would be scheduled."""
        start = settings.now - _AS_FIRST_SEEN
        if settings.shown_until < settings.now:  # (it is `now` when nothing was shown yet)
            start = max(start, settings.shown_until + _TIE_BREAK)
        if self._first_seen_next is not None:
            start = max(start, self._first_seen_next)
        start = min(start, settings.now - _TIE_BREAK * articles)
        self._first_seen_next = start + _TIE_BREAK * articles
        return _Written(start + _TIE_BREAK * (articles - 1), _TIE_BREAK)

    def spellings(
        self, articles: list[Article], old: list[StoredEntry], changes: ChangeSet
    ) -> dict[str, str]:
        """How a file's discovered sections are published: "sports" in one file and "Sports"
        in another are one section, not two feeds, spelled as its oldest published entries
        spell it. Not counting the file's own: re-spelled in its only file, it takes the new
        spelling. Configured sections are spelled as configured by the reader already."""
        if not self.discovering:
            return {}
        discovered = {article.section for article in articles} - self.configured
        if not discovered:
            return {}
        if self._spellings is None:
            starts = {} if self.empty else self.store.section_starts()
            self._published.update({} if self.empty else self.store.section_counts())
            self._spellings = {}
            for name in sorted(starts, key=lambda name: (starts[name], name)):
                self._spellings.setdefault(name_key(name), []).append(name)
        replaced = Counter(stored.entry.section for stored in old)
        spelled: dict[str, str] = {}
        for section in discovered:
            known = self._spellings.setdefault(name_key(section), [])
            live = [s for s in known if self._published[s] + changes.sections[s] > replaced[s]]
            spelled[section] = live[0] if live else section
            if section not in known:
                known.append(section)  # after those published before this update
        return spelled

    def hold(self, entry_id: str) -> None:
        if entry_id not in self.held:
            self.held.add(entry_id)
            self.store.hold(entry_id)

    def release(self, entry_id: str) -> None:
        """The entry is no longer held: its file holds it again, or it is unpublished."""
        if entry_id in self.held:
            self.held.discard(entry_id)
            self.store.release(entry_id)
            self.released = True

    def entries_from(self, path: str, known: FileSignature | None) -> list[StoredEntry]:
        # A path the store never recorded has no entries: no need to ask.
        return [] if known is None else self.store.entries_from(path)

    def holding_paths(self) -> set[str]:
        """The files of the entries held (`_remove_or_hold`)."""
        return self.store.holding_paths() if self.held else set()

    def removed_paths(self) -> set[str]:
        """The files whose entries were removed lately."""
        return set() if self.empty else self.store.removed_paths(self.returning_since)

    def removed_from(self, path: str) -> list[StoredEntry]:
        """The file's entries removed lately: it was deleted, then written again."""
        return [] if self.empty else self.store.removed_from(path, self.returning_since)

    def moved_here(self, article: Article) -> StoredEntry | None:
        """An entry removed lately from another file with the article's body: a story moved to
        another file, its title edited, seen as a removal then an addition (`ChangeSet.
        unpublished_like` within one update). Not by title: the next day's briefing under the
        same one is a new story."""
        if self.empty:
            return None
        for found in self._removed_lately().get(article.body_hash, ()):
            now = self.store.entry(found.entry.id)
            if now is not None and not now.present:  # not brought back by another file since
                return now
        return None

    def _removed_lately(self) -> dict[str, list[StoredEntry]]:
        """The entries removed lately, by body: read once an update."""
        if self._removed is None:
            self._removed = {}
            for stored in self.store.removed_from(None, self.returning_since):
                self._removed.setdefault(stored.entry.body_hash, []).append(stored)
        return self._removed

    def moved_in(self, article: Article, changes: ChangeSet) -> StoredEntry | None:
        """The removed entry an article will be found to be (`_replace_file_entries`: a copy,
        or one with its body, removed in this update or lately), asked without taking it. None
        where nothing was removed lately, without asking: an import of new files."""
        if self.empty or not (changes.unpublished or self._removed_lately()):
            return None
        _, copies = self.with_content(article.content_hash)
        found = next(iter(copies), None) or changes.removed_with(article.body_hash)
        return found or self.moved_here(article)

    def with_content(self, content_hash: str) -> tuple[str | None, list[StoredEntry]]:
        """Where a published entry with this content comes from, and removed ones with it."""
        if self.empty:
            return self._made.get(content_hash), []
        stored = self.store.entries_with_hash(content_hash)
        twin = next((s.entry.path for s in stored if s.present), None)
        return twin, [s for s in stored if not s.present]

    def entry(self, entry_id: str) -> StoredEntry | None:
        return None if self.empty else self.store.entry(entry_id)

    def slug_taken(self, slug: str) -> bool:
        return slug in self._slugs if self.empty else self.store.slug_taken(slug)

    def id_owner(self, entry_id: str) -> str | None:
        """The file of the entry with this id, published or not: an id is never given twice."""
        return self._ids.get(entry_id) if self.empty else self.store.path_of(entry_id)

    def id_taken(self, entry_id: str) -> bool:
        return self.id_owner(entry_id) is not None

    def free_published(self, moment: datetime, entry_id: str | None) -> datetime:
        """`moment`, or a later microsecond that no other entry is published at."""
        if self.empty:
            return self._published_at.free(moment, entry_id)
        found = _free_in(self.store.published_run, self._given.get(moment, moment), entry_id)
        if found != moment:
            self._given[moment] = found
        return found

    def free_updated(self, moment: datetime, entry_id: str) -> datetime:
        """`moment`, or a later microsecond that no other entry was updated at."""
        if self.empty:
            return self._updated_at.free(moment, entry_id)
        return _free_in(self.store.updated_run, moment, entry_id)

    def save(self, entry: Entry) -> None:
        self.store.save_entry(entry)
        if self.empty:
            self._made.setdefault(entry.content_hash, entry.path)
            self._slugs.add(entry.slug)
            self._ids[entry.id] = entry.path
            self._published_at.take(entry.published, entry.id)
            self._updated_at.take(entry.updated, entry.id)


def _first_free(moment: datetime, run_end: Callable[[datetime], datetime | None]) -> datetime:
    """Entries never share a date: readers sort by it (two alike come in no set order), and the
    W3C validator warns of two entries with the same `updated`. Files copied together share
    an mtime to the nanosecond; two Markdown posts may both say `date: 2025-03-01`. The later
    one to be read is dated a microsecond after the last of those before it, once: a date, once
    published, never moves. `run_end(m)`: None when `m` is free, else the latest date taken
    from `m` on, so that the 10,000th file of a `touch *` costs one step, not 10,000."""
    while (last := run_end(moment)) is not None:
        moment = last + _TIE_BREAK
    return moment


_Run = Callable[[datetime, datetime, str | None], datetime | None]


def _free_in(run: _Run, moment: datetime, entry_id: str | None) -> datetime:
    """`_first_free`, the store answering (`StateStore.published_run` or `updated_run`)."""

    def run_end(since: datetime) -> datetime | None:
        last = run(since, since + _RUN, entry_id)
        # in `since`'s offset (the store gives UTC), and never before it (text orders as time
        # only in one offset)
        return None if last is None else max(last.astimezone(since.tzinfo), since)

    return _first_free(moment, run_end)


class _Instants:
    """The dates taken in this update, while the store started empty (`_Lookups.empty`): what
    `StateStore.published_run` and `updated_run` answer otherwise. Compared as instants
    (the store compares `updated` as written: one instant in two offsets is a tie here only).
    Kept as microseconds, and runs for ties only: at the peak of a 100k build, dates as keys
    and a run per date were 40 MB more."""

    def __init__(self) -> None:
        self.owners: dict[int, str] = {}  #: a date taken → the id of its entry
        self.runs: dict[int, datetime] = {}  #: a date found taken → the last one given for it

    def free(self, moment: datetime, entry_id: str | None) -> datetime:
        def run_end(since: datetime) -> datetime | None:
            key = microseconds(since)
            return None if self.owners.get(key, entry_id) == entry_id else self.runs.get(key, since)

        found = _first_free(moment, run_end)
        if found != moment:
            self.runs[microseconds(moment)] = found
        return found

    def take(self, moment: datetime, entry_id: str) -> None:
        self.owners[microseconds(moment)] = entry_id


_TIE_BREAK = timedelta(microseconds=1)
#: how far after a taken date the store looks for the last of its run
_RUN = timedelta(seconds=1)


def _tied(published: datetime, date: datetime) -> bool:
    """Whether `published` is `date`, or `date` moved by `_first_free` (under a second)."""
    return timedelta(0) <= published - date < timedelta(seconds=1)


#: how a copy's warning starts, and an article's whose id was taken: `_read_duplicates_again`
#: looks for them
_DUPLICATE_OF = "same section, title and body as "
_ID_TAKEN = "another article has the id "
_WAITING_FOR_ANOTHER = (_DUPLICATE_OF, _ID_TAKEN)


def _about(article: Article, severity: Severity, message: str, key: str = "") -> Problem:
    """A problem with one article, reported on the line of `key` if the article gives it
    there, else where it starts."""
    return Problem(article.path, article.line_of(key), severity, message)


def _id_taken(article: Article, other: str) -> Problem:
    """`other`: the file of the article that has the id."""
    message = f"{_ID_TAKEN}{article.id!r} (in {other}); give this one its own id"
    return _about(article, "error", message, "id")


def _duplicate(article: Article, original: str) -> Problem:
    return _about(article, "warning", f"{_DUPLICATE_OF}{original}; published once, from there")


def _entry_for(
    lookups: _Lookups,
    article: Article,
    section: str,
    ordinal: int,
    previous: StoredEntry | None,
    settings: UpdateSettings,
    written: _Written,
    dated: datetime,
) -> Entry:
    """`dated`: when the article says it was published, or its file (`_Written`) does."""
    # An update dated in the future is one made now: shown, it would be dated ahead of readers.
    edited = None if article.updated is None else min(article.updated, settings.now)
    own = None if previous is None else previous.entry.id
    if previous is not None and previous.entry.published <= settings.shown_until:
        published = previous.entry.published
        slug = previous.entry.slug
        entry_id = previous.entry.id
        if previous.entry.content_hash == article.content_hash:
            updated = previous.entry.updated
        else:  # later than before, even from a file put back with its older mtime
            updated = edited or max(written.at, previous.entry.updated + _TIE_BREAK)
    else:
        # New, or scheduled and so never shown: dated as the article says (an embargo moved, a
        # mistyped date fixed). Articles sharing a file share its mtime; the first in the file
        # counts as the newest, the others apart (`_Written`), so that no two entries share a
        # timestamp (readers sort by it).
        published = lookups.free_published(dated, own)
        updated = edited or published
        if previous is not None:
            slug, entry_id = previous.entry.slug, previous.entry.id
        else:
            slug = unique(article.slug or slugify(article.title), lookups.slug_taken, SLUG_MOST)
            # A tag URI's date is one its authority held the name on, never a future one: a
            # scheduled article's is its file's, as the same files give the same ids.
            minted = (published if published <= settings.now else written.at).date().isoformat()
            entry_id = article.id or unique(
                f"tag:{settings.authority},{minted}:{slug}", lookups.id_taken
            )
    updated = max(updated, published)
    if previous is None or updated != previous.entry.updated:
        updated = lookups.free_updated(updated, entry_id)
    return Entry(
        id=entry_id,
        slug=slug,
        section=section,
        title=article.title,
        body_hash=article.body_hash,
        body_format=article.body_format,
        summary=article.summary,
        author=article.author,
        published=published,
        updated=updated,
        path=article.path,
        ordinal=ordinal,
        tags=article.tags,
        related=article.related,
        content_hash=article.content_hash,
    )


def _remove(lookups: _Lookups, entry: Entry, changes: ChangeSet) -> None:
    """Unpublish a published entry."""
    lookups.release(entry.id)
    lookups.store.remove_entry(entry.id, lookups.now)
    lookups.store.page_changed(entry.slug)
    changes.sections[entry.section] -= 1
    changes.unpublish(entry)


def all_problems(
    store: StateStore,
    listing: Scan,
    scheduled: list[Entry],
    left_out: list[Entry],
    unreadable: list[Problem],
) -> list[Problem]:
    """Every known problem: those of the files as last read, the scan's own, the files that
    could not be read this time, and the entries not shown: `scheduled` (a date in the future
    may be a mistake), and `left_out`, which cannot be shown until their files read cleanly."""
    seen = {p.path for p in [*listing.problems, *unreadable]}
    return sorted(
        [
            *listing.problems,
            *unreadable,
            *(p for p in store.problems() if p.path not in seen),
            *(_scheduled(e.path, None, e.title, e.published) for e in scheduled),
            *(
                Problem(
                    e.path,
                    None,
                    "warning",
                    f"{e.title!r} is left out of the feeds even so: its text as last read was "
                    "not kept; it is shown again once its file reads cleanly",
                )
                for e in left_out
            ),
        ],
        key=lambda p: (p.path, p.line or 0),
    )


def _spelled_otherwise(article: Article, first: Article) -> Problem:
    """For `check`, which knows no published entries: a refresh publishes both spellings as
    one section, spelled as its oldest published entries spell it (`_Lookups.spellings`)."""
    message = (
        f"section {article.section!r} is spelled {first.section!r} in {first.path}: one "
        "section, published as its oldest entries spell it (spell it the same to silence this)"
    )
    return _about(article, "warning", message, "section")


def _scheduled(
    path: str, line: int | None, title: str, when: datetime, *, published: bool = False
) -> Problem:
    """`published`: it may be (`check` cannot tell), and then the date does not move."""
    message = (
        f"{title!r} is dated {when.isoformat()}, in the future: it is published then "
        "(date it earlier to publish it now)"
    )
    if published:
        message += "; if it is published already, it stays so, under its first date"
    return Problem(path, line, "warning", message)


def sections_unpublished(
    config: Config, counts: Mapping[str, int], moment: Literal["check", "reload", "refresh"]
) -> list[Problem]:
    """The sections not in `config` with entries (`counts`, by section) that a refresh with it
    unpublishes, as an operator taking a section out means it to; said before it does (by
    `check`, which read every file: `counts` are of sections the files still say; by `reload`,
    which read none) and as it does (`counts` are of the entries the refresh unpublished): one
    renamed in config.toml alone looks so."""
    # the sections the config took out, as the readers refuse them (none with new ones allowed)
    settings = ReaderSettings.from_config(config, counts)
    problems = []
    for name in settings.retired:
        count = counts[name]
        entries = "1 entry" if count == 1 else f"{count} entries"
        said = {
            "check": f"its files still say it: a refresh with this config unpublishes its "
            f"{entries} (their readers see them go, their pages are removed); name it again "
            "in [[sections]] to keep them, under the same ids",
            "reload": f"{entries} of it {'is' if count == 1 else 'are'} published: the refresh "
            "unpublishes those whose files still say it (`feedsvc check` tells); name it again "
            "in [[sections]] to keep them, under the same ids",
            "refresh": f"{entries} whose files still say it {'was' if count == 1 else 'were'} "
            "unpublished (their readers saw them go, their pages were removed); name it again "
            "in [[sections]] to publish them again, under the same ids",
        }[moment]
        message = f"section {name!r} is not in this config, and {said}"
        like = settings.section_like(name, swapped=True)
        if like is not None:
            message += (
                f"; {like!r} is configured: renamed? a section is what its files' section lines say"
            )
        problems.append(Problem(str(config.path), None, "warning", message))
    return problems


def check_files(config: Config) -> tuple[int, int, list[Problem]]:
    """Read every article file, store nothing: (files, entries, problems) for `feedsvc check`.
    What depends on what was published, the store says, read-only."""
    store = StateStore.read_only(config.content.state_dir)
    try:
        with Opener(config.content.articles_dir) as opener:
            return _check_files(config, store, opener)
    finally:
        if store is not None:
            store.close()


def _check_files(
    config: Config, store: StateStore | None, opener: Opener
) -> tuple[int, int, list[Problem]]:
    articles_dir = config.content.articles_dir
    listing = scan(articles_dir)
    problems: list[Problem] = []
    if listing.failure:
        problems.append(Problem(str(articles_dir), None, "error", listing.failure))
    settings = ReaderSettings.from_config(config, store.sections_published() if store else ())
    said = _said_by_the_last_refresh(store, settings.digest)
    first_copy: dict[str, Article] = {}
    copies: dict[str, list[Article]] = {}  #: articles alike (the first and its copies), by hash
    ids: dict[str, str] = {}  #: id → the first file giving it
    slugs: dict[str, str] = {}  #: slug → the first file whose article has it
    #: a discovered section's first spelling, by `name_key`; configured ones the reader
    #: spells as configured already
    spellings: dict[str, Article] = {}
    left_out: set[str] = set()  #: the sections of articles left out as not configured
    now = datetime.now(UTC)
    published_from = store.path_counts() if store is not None else {}
    for path, info in sorted(listing.files.items()):
        limit = config.content.max_file_bytes
        if info.size > limit:
            lost = 0 if store is None else _lost_to_the_limit(store, published_from, path, limit)
            problems.append(_too_large(path, info.size, limit, lost))
            continue
        try:
            with os.fdopen(opener.open(path), "rb") as file:
                data = file.read()
        except OSError as e:
            problems.append(_cannot_read(path, e))
            continue
        result = read_bytes(path, data, settings)
        problems.extend(result.problems)
        problems.extend(_said_before(said.get(path), data))
        left_out.update(map(name_key, result.sections_left_out))
        # a file no refresh read yet: its undated articles would be new, dated by its mtime
        undated = any(article.date is None for article in result.articles)
        if undated and _stamped(info) and not (store and store.files([path])):
            problems.append(_implausible_mtime(path, info))
        for article in result.articles:
            twin = first_copy.setdefault(article.content_hash, article)
            if twin is not article:
                copies.setdefault(article.content_hash, [twin]).append(article)
            elif article.id is not None and article.id in ids:
                # which of the two keeps it, a refresh decides: the one published first
                problems.append(_id_taken(article, ids[article.id]))
                del first_copy[article.content_hash]
            elif article.id is not None:
                ids[article.id] = article.path
            if first_copy.get(article.content_hash) is article:  # published, as a refresh would
                # as a refresh makes them, in the same order: a slug given in front matter and
                # taken already is changed, with a warning; one made of a title, quietly
                holder = slugs.setdefault(article.slug or slugify(article.title), article.path)
                if article.slug is not None and holder != article.path:
                    problems.append(_slug_taken(article, holder))
            if article.date is not None and article.date > now:
                when = article.date
                problems.append(
                    _scheduled(path, article.line_of("date"), article.title, when, published=True)
                )
            if article.section not in settings.sections:
                first = spellings.setdefault(name_key(article.section), article)
                if first.section != article.section:
                    problems.append(_spelled_otherwise(article, first))
    # Which copy is published: the one a refresh publishes already, else the first (by path).
    for content_hash, alike in copies.items():
        stored = store.entries_with_hash(content_hash) if store else []
        published = next((s.entry.path for s in stored if s.present), None)
        kept = next((a for a in alike if a.path == published), alike[0])
        problems += (_duplicate(a, kept.path) for a in alike if a is not kept)
    gone: list[Problem] = []
    if store is not None:
        # a story found with its text or its body is taken as moved
        found = {*first_copy, *(a.body_hash for a in first_copy.values())}
        gone = files_gone(config, store, listing, published_from, found)
        # a section the files still say, and the config no longer names
        counts = store.section_counts()
        still = {name: count for name, count in counts.items() if name_key(name) in left_out}
        problems += sections_unpublished(config, still, "check")
    replaced = {problem.path for problem in gone}  # refusals among them, with their losses
    problems += [*gone, *(p for p in listing.problems if p.path not in replaced)]
    entries = len(first_copy)
    return len(listing.files), entries, sorted(problems, key=lambda p: (p.path, p.line or 0))


def over_the_limit(
    config: Config, store: StateStore, listing: Scan, published: Mapping[str, int]
) -> list[Problem]:
    """For `reload`, which reads no file: the files over `max_file_bytes` whose `published`
    entries a refresh unpublishes (the limit lowered under them), as `check` says them."""
    limit = config.content.max_file_bytes
    return [
        _too_large(path, info.size, limit, lost)
        for path, info in sorted(listing.files.items())
        if info.size > limit and (lost := _lost_to_the_limit(store, published, path, limit))
    ]


def _lost_to_the_limit(
    store: StateStore, published: Mapping[str, int], path: str, limit: int
) -> int:
    """The entries a refresh unpublishes for a file over the limit, as `_refuse_large` does:
    none where it grew past the limit (an edit: they are held), else those not held already
    (the limit was lowered under it)."""
    if path not in published:
        return 0
    known = store.files([path]).get(path)
    if known is None or known.size <= limit:
        return 0
    held = store.held()
    return sum(s.entry.id not in held for s in store.entries_from(path))


def files_gone(
    config: Config,
    store: StateStore,
    listing: Scan,
    published: Mapping[str, int],
    found: Set[str] | None = None,
) -> list[Problem]:
    """The entries `published` from files articles_dir does not hold now, which a refresh
    unpublishes: deleted, or moved out of it, or articles_dir itself changed (a subdirectory
    of the old one, say), which nothing else would say before readers saw the stories go.
    Not those `found` (by content or body hash) in the files read by `check`: a refresh takes
    them as moved; `reload` reads none (None), and says so. A file there that the listing
    refuses (a link out of it, or to nothing) is said with its refusal, which it replaces."""
    if not listing.files or listing.failure:
        return []  # a refresh holds back: nothing unpublished, and it says why
    unreadable = listing.unreadable  # held as published by a refresh, not unpublished
    refusals = {problem.path: problem for problem in listing.problems}
    lost: dict[str, int] = {}
    for path in sorted(published):
        if path not in listing.files and not path.startswith(unreadable):
            count = (
                published[path]
                if found is None
                else sum(
                    not {s.entry.content_hash, s.entry.body_hash} & found
                    for s in store.entries_from(path)
                )
            )
            if count:
                lost[path] = count
    refused = [
        replace(
            refusal, message=f"{refusal.message}; a refresh unpublishes {_them(lost.pop(path))}"
        )
        for path, refusal in refusals.items()
        if path in lost
    ]
    if not lost:
        return refused
    gone, count = list(lost), sum(lost.values())
    several = len(gone) > 1
    files = f"{len(gone)} files, such as {gone[0]}, are" if several else f"{gone[0]} is"
    unread = "" if found is not None else " (less any moved into a file there: `check` tells)"
    message = (
        f"{files} not in content.articles_dir ({config.content.articles_dir}) now: a refresh "
        f"with this config unpublishes {_them(count, 'their' if several else 'its')}{unread}; "
        "deleted or moved on purpose? then nothing to do; else put the files back, or "
        "articles_dir as it was"
    )
    return [*refused, Problem(str(config.path), None, "warning", message)]


def _them(count: int, whose: str = "its") -> str:
    """Published entries a refresh takes away, and what that does to readers."""
    if count == 1:
        return f"{whose} 1 entry, and its readers see it go"
    return f"{whose} {count} entries, and their readers see them go"


def _said_by_the_last_refresh(
    store: StateStore | None, digest: str
) -> dict[str, tuple[str, list[Problem]]]:
    """What the last refresh said of each file that depends on what was published (an id, a
    slug or a date the file changed after publishing, `_IGNORED`; articles it dated as first
    seen, `_DATED_AS_FIRST_SEEN`), with the hash of the bytes
    it read; nothing if it read them with other settings than `digest` (the config changed)."""
    if store is None or store.parsed_with() != digest:
        return {}
    said: dict[str, list[Problem]] = {}
    for problem in store.problems():
        if _IGNORED in problem.message or _DATED_AS_FIRST_SEEN in problem.message:
            said.setdefault(problem.path, []).append(problem)
    return {path: (signature.hash, said[path]) for path, signature in store.files(said).items()}


def _said_before(last: tuple[str, list[Problem]] | None, data: bytes) -> list[Problem]:
    """What the last refresh said of a file, true still while its bytes are the same."""
    return last[1] if last is not None and last[0] == _digest_of(data) else []


def _digest_of(data: bytes) -> str:
    """A file's bytes as the store records them (`FileSignature.hash`)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _slug_taken(article: Article, first: str) -> Problem:
    """For `check`: which of the two keeps the slug, a refresh decides (the one published
    first); the other is published as `<slug>-2`, with a warning."""
    message = (
        f"slug {article.slug!r} is also that of an article in {first}: a refresh gives it to "
        f"the one published first, the other a slug of its own ({article.slug}-2, say); "
        "choose another slug to decide which"
    )
    return _about(article, "warning", message, "slug")


class FileBodies:
    """Entries' bodies read back from their files, for the few entries a feed shows. One per
    refresh (or per task of a worker's): a file is read and parsed once for all of its shown
    articles, and again only when its stat changed (a file of thousands of stories, every
    page of them rewritten, was read and hashed once per story: 3 s for 3,000)."""

    def __init__(self, config: Config, reader: ReaderSettings) -> None:
        self.config = config
        self.reader = reader
        #: by path: the file's stat when read, and its articles' bodies by content hash
        self._files: dict[str, tuple[tuple[int, ...], dict[str, str]]] = {}

    def body(self, entry: Entry) -> str | None:
        """None when the file no longer holds exactly that article (changed, being rewritten,
        removed or unreadable since it was scanned): nothing else may be published under the
        entry's content hash. The next scan sees the change and updates the entry. None too,
        unread, for a file now larger than `content.max_file_bytes` (its articles are held)."""
        try:
            with (
                Opener(self.config.content.articles_dir) as opener,
                os.fdopen(opener.open(entry.path), "rb") as file,
            ):
                info = os.fstat(file.fileno())
                if info.st_size > self.config.content.max_file_bytes:
                    return None
                as_read, known = _as_read(info), self._files.pop(entry.path, None)
                if known is None or known[0] != as_read:
                    known = (as_read, self._bodies(entry.path, file.read()))
        except OSError:
            return None
        self._files[entry.path] = known  # the last used, last out
        if len(self._files) > _BODIES_FILES:
            del self._files[next(iter(self._files))]
        return known[1].get(entry.content_hash)

    def _bodies(self, path: str, data: bytes) -> dict[str, str]:
        bodies: dict[str, str] = {}
        for article in read_bytes(path, data, self.reader).articles:
            bodies.setdefault(article.content_hash, article.body)  # the first of two equal
        return bodies


#: how many files' bodies `FileBodies` keeps
_BODIES_FILES = 16


def _as_read(info: os.stat_result) -> tuple[int, ...]:
    """A file's stat as `FileBodies` compares it: another file moved onto the name (an
    editor's save) has another inode; a write moves the ctime and the mtime."""
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns
