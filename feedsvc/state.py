"""The state store: ids, first-seen dates, content hashes, file signatures and the bodies the
feeds show, in one SQLite file.

Contract: every datetime going in or out is timezone-aware; any method may raise `StateError`;
nothing here knows about formats or HTTP. Ids are never deleted: a removed entry keeps its row
(`present = 0`) so that its id is never given to another article.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from feedsvc.control import (
    make_state_dir,
    refused_beside_another_user,
    state_dir_error,
    temporary_beside,
    unwritable,
)
from feedsvc.errors import StateError
from feedsvc.model import Entry, Problem, RelatedHeadline

#: deferred row writes sent together
_BATCH = 1000
SCHEMA_VERSION = 2  #: 2: bodies stay in their files, the store keeps body_hash
STATE_FILE = "state.sqlite3"
#: the files SQLite keeps beside the store in WAL mode, by suffix
SIDE_FILES = ("-wal", "-shm")
#: SQLite's errors (by `sqlite_errorname` prefix) for a store it may not write: not damage
_NOT_WRITABLE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")
#: the disk, not the store: full, or failing a write (SQLite says "disk I/O error" for both)
_DISK_REFUSED = ("SQLITE_FULL", "SQLITE_IOERR")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT NOT NULL,
    problems TEXT NOT NULL       -- JSON list of [line, severity, message]
);
CREATE TABLE entries (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    present INTEGER NOT NULL,    -- 0: the article is gone; the id stays reserved
    path TEXT NOT NULL,
    ordinal INTEGER NOT NULL,    -- position in its file
    section TEXT NOT NULL,
    title TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    body_format TEXT NOT NULL,
    summary TEXT,
    author TEXT,
    tags TEXT NOT NULL,          -- JSON list
    related TEXT NOT NULL,       -- JSON list of [section, age, title]
    content_hash TEXT NOT NULL,
    published TEXT NOT NULL,     -- ISO 8601 with offset
    updated TEXT NOT NULL,
    sort_key INTEGER NOT NULL    -- published as UTC microseconds, for ORDER BY
);
"""
#: Tables added to a store made before them, without a new schema version: earlier releases
#: ignore them, so a release can still be rolled back.
_ADDED = {
    # The bodies of the entries the feeds show, and of held entries, as last read from their
    # files: what a feed is rendered from when a file no longer holds a published article.
    "bodies": (
        "CREATE TABLE IF NOT EXISTS bodies (content_hash TEXT PRIMARY KEY, body TEXT NOT NULL);"
    ),
    # Entries kept published as last read, their file's edit having left it with an error.
    "held": "CREATE TABLE IF NOT EXISTS held (id TEXT PRIMARY KEY);",
    # Slugs of entries edited or removed since the last publish: a page kept for them after
    # they left the feeds (publish.ARCHIVE) is redone or removed. Marked in the transaction
    # that changed them, so a refresh killed before its publish leaves them for the next.
    "page_changes": "CREATE TABLE IF NOT EXISTS page_changes (slug TEXT PRIMARY KEY);",
    # When each entry was removed (UTC microseconds): a file deleted and written again soon
    # after (a deploy's `rm` then copy, seen half-way by the watcher) brings its entries back.
    "removed": "CREATE TABLE IF NOT EXISTS removed (id TEXT PRIMARY KEY, at INTEGER NOT NULL);",
}
#: how long to wait for another process's write (a refresher's, a `feedsvc build`'s)
BUSY_TIMEOUT = 30.0
#: the lookups' indexes, by name; `indexes_later` builds them after a first fill
_INDEXES = {
    "entries_feed": "entries (present, section, sort_key DESC, id)",
    "entries_all": "entries (present, sort_key DESC, id)",
    "entries_path": "entries (path, present)",
    "entries_hash": "entries (content_hash)",
    "entries_updated": "entries (updated)",
    "files_with_problems": "files (path) WHERE problems != '[]'",
}


class FileSignature(NamedTuple):
    """What the store remembers of a file, to tell whether it changed without reading it.

    A tuple, so that comparing 100k of them with a fresh listing runs at C speed.
    """

    size: int
    mtime_ns: int
    hash: str  #: of the bytes; "" when the file was refused unread


@dataclass(frozen=True)
class FileRecord:
    """A file as last read: its signature and the problems found in it."""

    path: str
    signature: FileSignature
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class StoredEntry:
    """An entry as stored, with where it came from: what identification matches against."""

    entry: Entry
    present: bool


class StateStore:
    """One SQLite database under `state_dir`; open it with `StateStore.open`."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        #: row writes (INSERT OR REPLACE, one table each) waiting to go as one executemany per
        #: table; any other statement sends them first, so it sees them
        self._pending: dict[str, list[tuple[object, ...]]] = {}

    @classmethod
    def open(
        cls, state_dir: Path, expect_existing: bool = False, busy_wait: float = BUSY_TIMEOUT
    ) -> StateStore:
        """Open (or create) the store; refuse a corrupt or unknown one instead of resetting ids.

        `expect_existing`: entries were published from this store (there is a published
        version), so a missing or empty one is refused too rather than silently started afresh.
        `busy_wait`: how long the opening waits for another process's write before refusing
        the store as busy (a refresher waiting for its store tries each second, and must stop
        at once when asked); its writes then wait `BUSY_TIMEOUT`.
        """
        path = state_dir / STATE_FILE
        db: sqlite3.Connection | None = None
        try:
            if not expect_existing:  # one versions were published from is never made afresh
                make_state_dir(state_dir)
            # Refused before SQLite opens it read-only: it would seem to work until the first
            # write, or fail as if the store were corrupt.
            unusable = refused_beside_another_user(state_dir) or unwritable(
                state_dir, path, *(path.with_name(path.name + s) for s in SIDE_FILES)
            )
            if unusable is not None:
                raise unusable
            existed = path.exists() and path.stat().st_size > 0
            if expect_existing and not existed:
                raise StateError(
                    f"{path}: the state store is missing or empty, but versions were published "
                    f"from it (under {state_dir / 'publish'}). It holds every published entry "
                    "id: restore it from a backup. Starting afresh would give every entry a new "
                    "id and readers would see duplicates; to do that anyway, remove the publish "
                    "directory too."
                )
            db = sqlite3.connect(
                path, timeout=busy_wait, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            # Each commit on the disk before the version showing it: a power cut must not take
            # back ids that readers have seen (NORMAL may lose the last commits).
            db.execute("PRAGMA synchronous=FULL")
            store = cls(db, path)
            if existed:
                store._check_version()
                store._add_tables()
            else:
                # One script, one transaction: a crash here leaves no half-made store.
                indexes = "".join(f"CREATE INDEX {n} ON {on};" for n, on in _INDEXES.items())
                db.executescript(
                    f"BEGIN;{_SCHEMA}{''.join(_ADDED.values())}{indexes}"
                    "INSERT INTO meta VALUES ('schema_version', "
                    f"'{SCHEMA_VERSION}');COMMIT;"
                )
            db.execute(f"PRAGMA busy_timeout = {round(BUSY_TIMEOUT * 1000)}")
            return store
        except StateError:
            _close(db)
            raise
        except sqlite3.DatabaseError as e:
            _close(db)
            raise StateError(f"{path}: {_refused(e, state_dir)}") from e
        except OSError as e:
            _close(db)
            raise state_dir_error(state_dir, e) from e

    @classmethod
    def read_only(cls, state_dir: Path) -> StateStore | None:
        """The store as it is, for `feedsvc check`, which writes nothing: None when there is no
        store yet, or it cannot be read (a refresh says why). Read-only still makes the WAL's
        index beside the store; a user who may not write there reads the store as last
        checkpointed (immutable), without the latest commits."""
        path = state_dir / STATE_FILE
        if not path.is_file():
            return None
        for options in ("mode=ro", "mode=ro&immutable=1"):
            db = None
            try:
                db = sqlite3.connect(f"{path.as_uri()}?{options}", uri=True, timeout=BUSY_TIMEOUT)
                store = cls(db, path)
                store._check_version()  # and SQLite opens the file only now: it may fail here
                return store
            except (sqlite3.Error, StateError):
                _close(db)
        return None

    def _check_version(self) -> None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as e:
            raise sqlite3.DatabaseError(f"no schema version: {e}") from e
        found = int(row[0]) if row else None
        if found != SCHEMA_VERSION:
            raise StateError(
                f"{self.path}: the state store has schema version {found}, this feedsvc needs "
                f"{SCHEMA_VERSION}. Run the feedsvc version that wrote it, or restore a backup; "
                "it is left untouched so no entry id is lost."
            )

    def _add_tables(self) -> None:
        """Tables and indexes, to a store made by a release before them; only then is this a
        write."""
        present = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        for name, create in _ADDED.items():
            if name not in present:
                self._db.execute(create)
        for name, on in _INDEXES.items():
            if name not in present:
                self._db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")

    def close(self) -> None:
        self._db.close()

    def backup(self, target: Path) -> None:
        """The whole store, as of its last commit, in one file at `target`: what a copy of
        `state.sqlite3` alone is not while a refresher runs (its latest commits are in the
        `-wal` file beside it). Written beside `target` and renamed over it: never half a copy."""
        partial = temporary_beside(target)
        try:
            copy = sqlite3.connect(partial)
            try:
                self._db.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")  # one file, as a backup is kept
            finally:
                copy.close()
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing: a refresh killed halfway leaves the store as it was before it."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
                self._flush()
            except BaseException:
                self._pending.clear()
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as e:
            raise StateError(f"{self.path}: {e}") from e

    @contextmanager
    def indexes_later(self) -> Iterator[None]:
        """Inside a transaction that fills an empty store: the rows go in without the lookups'
        indexes, which are then built once from sorted keys. Updating them (`_INDEXES`) row by row
        was a third of the SQLite time of a 10k cold build, all of it in the one process."""
        for name in _INDEXES:
            self._execute(f"DROP INDEX {name}")
        yield
        for name, on in _INDEXES.items():
            self._execute(f"CREATE INDEX {name} ON {on}")

    def _execute(self, sql: str, parameters: tuple[object, ...] = ()) -> sqlite3.Cursor:
        self._flush()
        return self._db.execute(sql, parameters)

    def _defer(self, sql: str, row: tuple[object, ...]) -> None:
        """A row write that can wait for the next statement: a cold build makes 10k of them."""
        rows = self._pending.setdefault(sql, [])
        rows.append(row)
        if len(rows) >= _BATCH:  # bounded: a cold build of 100k holds `_BATCH` rows a table
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        for sql, rows in pending.items():  # per table, in the order they were asked for
            self._db.executemany(sql, rows)

    # -- files -------------------------------------------------------------------------------
    def files(self, only: Collection[str] | None = None) -> dict[str, FileSignature]:
        """Every file's signature, or only those of the given paths."""
        if only is None:
            rows = self._execute("SELECT path, size, mtime_ns, hash FROM files")
        else:
            self._flush()
            self._db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (path TEXT PRIMARY KEY)")
            self._db.execute("DELETE FROM wanted")
            self._db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", [(p,) for p in only])
            rows = self._db.execute(
                "SELECT path, size, mtime_ns, hash FROM files WHERE path IN wanted"
            )
        return {path: FileSignature(size, mtime, digest) for path, size, mtime, digest in rows}

    def has_entries(self) -> bool:
        return self._execute("SELECT 1 FROM entries LIMIT 1").fetchone() is not None

    def save_file(self, record: FileRecord) -> None:
        problems = _json_list([[p.line, p.severity, p.message] for p in record.problems])
        self._defer(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
            (record.path, *record.signature, problems),
        )

    def touch_file(self, path: str, signature: FileSignature) -> None:
        """A new size or mtime for the same bytes: the file's problems stay as they were."""
        self._execute(
            "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
            (signature.size, signature.mtime_ns, path),
        )

    def forget_file(self, path: str) -> None:
        self._execute("DELETE FROM files WHERE path = ?", (path,))

    def problems(self, path: str | None = None) -> list[Problem]:
        """The problems of every file (or of one), as found when each was last read."""
        if path is None:
            rows = self._execute("SELECT path, problems FROM files WHERE problems != '[]'")
        else:
            rows = self._execute("SELECT path, problems FROM files WHERE path = ?", (path,))
        found = [Problem(path, *fields) for path, raw in rows for fields in json.loads(raw)]
        return sorted(found, key=lambda p: (p.path, p.line or 0))

    # -- entries -----------------------------------------------------------------------------
    def entries_from(self, path: str) -> list[StoredEntry]:
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM entries WHERE path = ? AND present = 1 ORDER BY ordinal",
            (path,),
        )
        return [_stored(row) for row in rows]

    def entry(self, entry_id: str) -> StoredEntry | None:
        row = self._execute(f"SELECT {_COLUMNS} FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return _stored(row) if row else None

    def entries_with_hash(self, content_hash: str) -> list[StoredEntry]:
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM entries WHERE content_hash = ? ORDER BY path, ordinal",
            (content_hash,),
        )
        return [_stored(row) for row in rows]

    def path_of(self, entry_id: str) -> str | None:
        """The file of the entry with this id, published or not."""
        row = self._execute("SELECT path FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return row[0] if row else None

    def slug_taken(self, slug: str) -> bool:
        return self._execute("SELECT 1 FROM entries WHERE slug = ?", (slug,)).fetchone() is not None

    def published_run(
        self, since: datetime, until: datetime, by_other_than: str | None
    ) -> datetime | None:
        """None when no entry other than `by_other_than` (present or removed) is published at
        `since`; else the last microsecond of the run of taken ones that starts there, looked
        for up to `until` (`corpus._first_free`). One query for a run alone in that window (the
        files of a `touch *`); with other dates in it (a file's articles, a second apart), the
        run's end is walked to, over `_WALKED` dates at most, past which it is the latest date
        in the window: later than needed, never a taken one."""
        window = (microseconds(since), microseconds(until), by_other_than or "")
        # `present IN (0, 1)`: every entry, by the index that starts with `present`
        if not self._exists(
            "entries WHERE present IN (0, 1) AND sort_key = ? AND id != ?",
            (window[0], window[2]),
        ):
            return None  # the usual answer, from the index alone (`_exists`)
        taken = "FROM entries WHERE present IN (0, 1) AND sort_key BETWEEN ? AND ? AND id != ?"
        first, last, count = self._execute(
            f"SELECT min(sort_key), max(sort_key), count(*) {taken}", window
        ).fetchone()
        if count != last - first + 1:  # not one run: it ends before the first gap
            found = self._execute(
                f"SELECT sort_key {taken} ORDER BY sort_key LIMIT ?", (*window, _WALKED)
            ).fetchall()
            free = first
            for (key,) in found:
                if key > free:
                    last = free - 1
                    break
                free = key + 1
        return _EPOCH + timedelta(microseconds=last)

    def updated_run(
        self, since: datetime, until: datetime, by_other_than: str | None
    ) -> datetime | None:
        """As `published_run`, for `updated`, compared as feeds write it (ISO 8601, in the
        offset the date was given in: in one offset, text orders as time does)."""
        moment, other = since.isoformat(), by_other_than or ""
        if not self._exists("entries WHERE updated = ? AND id != ?", (moment, other)):
            return None
        (last,) = self._execute(
            "SELECT max(updated) FROM entries WHERE updated BETWEEN ? AND ? AND id != ?",
            (moment, until.isoformat(), other),
        ).fetchone()
        return datetime.fromisoformat(last)

    def _exists(self, where: str, parameters: tuple[object, ...]) -> bool:
        """Whether any row matches `where`: asked before a range's min and max, which SQLite
        finds by reading the whole range (a file of thousands of stories, dated a microsecond
        apart, read them all for each of its stories)."""
        found = self._execute(f"SELECT 1 FROM {where} LIMIT 1", parameters).fetchone()
        return found is not None

    def save_entry(self, entry: Entry) -> None:
        self._defer(
            "INSERT OR REPLACE INTO entries VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                entry.id,
                entry.slug,
                1,  # present: saved as the article is read
                entry.path,
                entry.ordinal,
                entry.section,
                entry.title,
                entry.body_hash,
                entry.body_format,
                entry.summary,
                entry.author,
                _json_list(list(entry.tags)),
                _json_list([[r.section, r.age, r.title] for r in entry.related]),
                entry.content_hash,
                entry.published.isoformat(),
                entry.updated.isoformat(),
                microseconds(entry.published),
            ),
        )

    def entry_by_slug(self, slug: str) -> StoredEntry | None:
        row = self._execute(f"SELECT {_COLUMNS} FROM entries WHERE slug = ?", (slug,)).fetchone()
        return _stored(row) if row else None

    def page_changed(self, slug: str) -> None:
        self._defer("INSERT OR IGNORE INTO page_changes VALUES (?)", (slug,))

    def page_changes(self) -> list[str]:
        return [row[0] for row in self._execute("SELECT slug FROM page_changes ORDER BY slug")]

    def forget_page_changes(self, slugs: Collection[str]) -> None:
        for slug in slugs:
            self._defer("DELETE FROM page_changes WHERE slug = ?", (slug,))

    def remove_entry(self, entry_id: str, at: datetime) -> None:
        """Unpublish; the row (and so the id and slug) stays reserved forever."""
        self._execute("UPDATE entries SET present = 0 WHERE id = ?", (entry_id,))
        self._defer("INSERT OR REPLACE INTO removed VALUES (?, ?)", (entry_id, microseconds(at)))

    def forget_removed_before(self, moment: datetime) -> None:
        self._execute("DELETE FROM removed WHERE at < ?", (microseconds(moment),))

    def holding_paths(self) -> set[str]:
        """The files of the entries held."""
        rows = self._execute("SELECT DISTINCT path FROM entries JOIN held USING (id)")
        return {row[0] for row in rows}

    def removed_paths(self, since: datetime) -> set[str]:
        """The files of the entries removed at `since` or later."""
        rows = self._execute(
            "SELECT DISTINCT path FROM entries JOIN removed USING (id) "
            "WHERE present = 0 AND at >= ?",
            (microseconds(since),),
        )
        return {row[0] for row in rows}

    def removed_from(self, path: str | None, since: datetime) -> list[StoredEntry]:
        """The entries of `path` (None: of any file) removed at `since` or later, the last
        removed first."""
        where = "present = 0 AND at >= ?" + ("" if path is None else " AND path = ?")
        parameters = (microseconds(since),) + (() if path is None else (path,))
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM entries JOIN removed USING (id) "
            f"WHERE {where} ORDER BY at DESC, ordinal",
            parameters,
        )
        return [_stored(row) for row in rows]

    def newest(
        self, section: str | None, limit: int, until: datetime, leaving_out: Collection[str] = ()
    ) -> list[Entry]:
        """The newest `limit` present entries of a section (None: of every section) dated
        `until` or earlier, but for the entries `leaving_out` (ids)."""
        where = "present = 1 AND sort_key <= ?"
        parameters: list[object] = [microseconds(until)]
        if section is not None:
            where += " AND section = ?"
            parameters.append(section)
        if leaving_out:
            where += f" AND id NOT IN ({', '.join('?' * len(leaving_out))})"
            parameters += sorted(leaving_out)
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM entries WHERE {where} ORDER BY sort_key DESC, id LIMIT ?",
            (*parameters, limit),
        )
        return [_stored(row).entry for row in rows]

    def scheduled(self, after: datetime) -> list[Entry]:
        """The present entries dated after `after`, soonest first: not shown until then."""
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM entries WHERE present = 1 AND sort_key > ? "
            "ORDER BY sort_key, id",
            (microseconds(after),),
        )
        return [_stored(row).entry for row in rows]

    # -- held entries ------------------------------------------------------------------------
    def held(self) -> set[str]:
        return {row[0] for row in self._execute("SELECT id FROM held")}

    def hold(self, entry_id: str) -> None:
        self._execute("INSERT OR IGNORE INTO held VALUES (?)", (entry_id,))

    def release(self, entry_id: str) -> None:
        self._execute("DELETE FROM held WHERE id = ?", (entry_id,))

    # -- bodies ------------------------------------------------------------------------------
    def saved_body(self, content_hash: str) -> str | None:
        row = self._execute(
            "SELECT body FROM bodies WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        return row[0] if row else None

    def keep_bodies(self, read: Mapping[str, str], shown: Collection[str]) -> None:
        """Save the bodies just `read` (by content hash) of the entries `shown`, and forget
        those of entries neither shown nor held, nor removed lately (their file deleted and
        perhaps written again, edited: `pairing.same_story` compares paragraphs with it): the
        table stays the size of the feeds."""
        saved = {row[0] for row in self._execute("SELECT content_hash FROM bodies")}
        held = self._execute(
            "SELECT content_hash FROM entries WHERE id IN (SELECT id FROM held) AND present = 1"
        )
        removed = self._execute(
            "SELECT content_hash FROM entries WHERE id IN (SELECT id FROM removed) AND present = 0"
        )
        unused = saved.difference(shown, (row[0] for row in held), (row[0] for row in removed))
        self._db.executemany("DELETE FROM bodies WHERE content_hash = ?", [(h,) for h in unused])
        self._db.executemany(
            "INSERT INTO bodies VALUES (?, ?)",
            [(h, body) for h, body in read.items() if h in shown and h not in saved],
        )

    def parsed_with(self) -> str:
        """`ReaderSettings.digest` of the last update that read every file ("" before any)."""
        row = self._execute("SELECT value FROM meta WHERE key = 'parsed_with'").fetchone()
        return str(row[0]) if row else ""

    def set_parsed_with(self, digest: str) -> None:
        self._execute("INSERT OR REPLACE INTO meta VALUES ('parsed_with', ?)", (digest,))

    def shown_until(self) -> datetime | None:
        """The newest date up to which a version was published (`show_until`)."""
        row = self._execute("SELECT value FROM meta WHERE key = 'shown_until'").fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def show_until(self, moment: datetime) -> None:
        """A version showing the entries dated up to `moment` is being published."""
        known = self.shown_until()
        if known is None or moment > known:
            self._execute(
                "INSERT OR REPLACE INTO meta VALUES ('shown_until', ?)", (moment.isoformat(),)
            )

    def generation(self) -> int:
        """A counter bumped by every update that changed an entry."""
        row = self._execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def bump_generation(self) -> None:
        self._execute(
            "INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(self.generation() + 1),)
        )

    def section_starts(self) -> dict[str, int]:
        """Each section's oldest published entry (`sort_key`): the order sections appeared in."""
        rows = self._execute(
            "SELECT section, min(sort_key) FROM entries WHERE present = 1 GROUP BY section"
        )
        return {section: start for section, start in rows}

    def sections_published(self) -> set[str]:
        """Every section an entry was ever published in (`ReaderSettings.retired`). The first
        read of a refresher: a page the open did not read, damaged, is said as the open says
        it, and waited for as it is (`waiting`)."""
        return {section for (section,) in self._read(_SECTIONS_PUBLISHED)}

    def section_counts(self) -> dict[str, int]:
        """Read by `check` and `reload` too, the store as they find it."""
        sql = "SELECT section, count(*) FROM entries WHERE present = 1 GROUP BY section"
        return dict(self._read(sql))

    def path_counts(self) -> dict[str, int]:
        """The entries published from each file, as `check` finds the store."""
        sql = "SELECT path, count(*) FROM entries WHERE present = 1 GROUP BY path"
        return dict(self._read(sql))

    def _read(self, sql: str) -> list[Any]:
        """Every row of `sql`; a store that cannot answer it is a `StateError` saying why."""
        try:
            return self._execute(sql).fetchall()
        except sqlite3.DatabaseError as e:
            raise StateError(f"{self.path}: {_refused(e, self.path.parent)}") from e


#: entries are never deleted (`present = 0` keeps an id): their sections are every section ever
#: published. One index seek per section and `present`, not a scan of the archive (11 ms at 100k).
_SECTIONS_PUBLISHED = """
WITH RECURSIVE seen(present, section) AS (
    SELECT 0, (SELECT min(section) FROM entries WHERE present = 0)
    UNION ALL SELECT 1, (SELECT min(section) FROM entries WHERE present = 1)
    UNION ALL SELECT present, (
        SELECT min(section) FROM entries AS e
        WHERE e.present = seen.present AND e.section > seen.section
    ) FROM seen WHERE section IS NOT NULL
)
SELECT DISTINCT section FROM seen WHERE section IS NOT NULL
"""

_COLUMNS = (
    "id, slug, present, path, ordinal, section, title, body_hash, body_format, summary, author, "
    "tags, related, content_hash, published, updated"
)


def _refused(error: sqlite3.DatabaseError, state_dir: Path) -> str:
    """Why SQLite refused the store, and the fix: moving it aside only when it is damaged,
    never when the disk, the permissions or another process are the cause."""
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_BUSY":
        return (
            "the state store is busy: another feedsvc process is writing it, and did not finish "
            "while this one waited; try again once it is done"
        )
    if name.startswith(_NOT_WRITABLE):
        return (
            f"the state store cannot be opened for writing ({error}): check that this user "
            f"(uid {os.geteuid()}) may write {state_dir} and the files in it, and that its file "
            "system is mounted read-write"
        )
    if name.startswith(_DISK_REFUSED):
        return (
            f"the disk refused the state store's write ({error}): free space on the file "
            f"system of {state_dir}, or check the disk, then try again; keep the store, which "
            "holds every published entry id"
        )
    return (
        f"the state store is unreadable or corrupt ({error}). It holds every published entry "
        "id; restore it from a backup, or, to start over, move it and the publish directory "
        "beside it aside (every entry would then get a new id and readers would see "
        "duplicates)."
    )


def _close(db: sqlite3.Connection | None) -> None:
    if db is not None:
        db.close()


def _json_list(items: list[object]) -> str:
    # Most lists are empty (no problems, no tags): a cold build writes 30k of them.
    return json.dumps(items) if items else "[]"


#: dates `published_run` reads to find where a run ends among others
_WALKED = 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def microseconds(moment: datetime) -> int:
    """Since 1970, UTC: `published` as the store sorts by it, and dates as ties are told."""
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


@functools.lru_cache(maxsize=2048)  # every publish reads the newest 50 of each feed again
def _stored(row: tuple[object, ...]) -> StoredEntry:
    (eid, slug, present, path, ordinal, section, title, body_hash, body_format, summary, author,
     tags, related, content_hash, published, updated) = row  # fmt: skip
    entry = Entry(
        id=str(eid),
        slug=str(slug),
        section=str(section),
        title=str(title),
        body_hash=str(body_hash),
        body_format="markdown" if body_format == "markdown" else "text",
        summary=summary if isinstance(summary, str) else None,
        author=author if isinstance(author, str) else None,
        published=datetime.fromisoformat(str(published)),
        updated=datetime.fromisoformat(str(updated)),
        path=str(path),
        ordinal=int(str(ordinal)),
        tags=tuple(json.loads(str(tags))),
        related=tuple(RelatedHeadline(*r) for r in json.loads(str(related))),
        content_hash=str(content_hash),
    )
    return StoredEntry(entry, bool(present))
