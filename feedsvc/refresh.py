"""One refresh: check the config, scan, update the store, render what changed, publish.

Every refresh goes through `Refresher.refresh`, whoever asks for it (the clock, `feedsvc refresh`,
`feedsvc build`, the admin endpoint). Rendering is keyed: a feed or page whose inputs did not
change is reused from the current version without being rendered again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc.config import Config, config_digest, parse_config, read_config
from feedsvc.control import (
    STATUS_FILE,
    amend_status,
    build_lock,
    read_status,
    state_dir_error,
    state_dir_errors,
    write_status,
)
from feedsvc.corpus import (
    ChangeSet,
    FileBodies,
    UpdateSettings,
    all_problems,
    sections_unpublished,
    update,
)
from feedsvc.errors import ConfigError, MovedAsideError, PublishError, StateError
from feedsvc.listing import Listed, Scan, changed_paths, patched, scan, scan_paths
from feedsvc.model import Entry, Problem
from feedsvc.pages import (
    SectionView,
    article_page,
    feed_links,
    home_page,
    load_templates,
    section_page,
)
from feedsvc.parallel import MAX_WORKERS, Workers, cores
from feedsvc.publish import (
    Pending,
    Resource,
    Version,
    archive,
    current_id,
    etag_of,
    file_of,
    load_current,
    publish_dir,
    rewrite_archived,
    unarchive,
    write_version,
)
from feedsvc.readers import ReaderSettings
from feedsvc.render import (
    CONTENT_TYPES,
    FORMATS,
    FeedSpec,
    ShownEntry,
    feed_model,
    feed_path,
    feed_specs,
    last_updated,
    renderer_digest,
    show,
    write_opml,
)
from feedsvc.state import BUSY_TIMEOUT, StateStore
from feedsvc.urls import article_path, article_slug

log = logging.getLogger(__name__)

#: a file modified this recently may still be being written: it is left for a later refresh
#: (the clock runs one again soon after), so a writer pausing less than this between two
#: writes is never published half-way
SETTLE_SECONDS = 1.0


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh did; printed by `feedsvc refresh`, kept for `/healthz`."""

    started_at: datetime
    seconds: float
    files_read: int
    added: int
    updated: int
    removed: int
    rendered: tuple[str, ...]  #: URL paths rendered anew (the rest were reused)
    version: str | None
    published: bool  #: False: the current version already said all this
    held_back: str | None
    problems: tuple[Problem, ...] = field(repr=False)
    #: files still being written (or changed while read): read again at a later refresh
    deferred: tuple[str, ...] = ()
    scheduled: int = 0  #: entries dated after the refresh, not shown yet
    next_scheduled: datetime | None = None  #: when the soonest of them is due

    def summary(self) -> str:
        feeds = [p for p in self.rendered if p.startswith("/feeds")]
        line = (
            f"read {self.files_read} file(s): {self.added} entries added, {self.updated} updated, "
            f"{self.removed} removed; {len(feeds)} feed(s) and "
            f"{len(self.rendered) - len(feeds)} page(s) rendered"
        )
        if self.published:
            line += f"; published version {self.version}"
        else:
            line += "; nothing new to publish"
        if self.deferred:
            line += f"; {len(self.deferred)} file(s) still being written, left for later"
        if self.next_scheduled is not None:
            line += f"; {self.scheduled} scheduled, the next at {self.next_scheduled.isoformat()}"
        return line + f" ({self.seconds * 1000:.0f} ms)"


class Progress:
    """Files read of total, with a rate: at most every `every` seconds, and once at the end
    when anything was shown (a refresh of three files says nothing)."""

    def __init__(self, emit: Callable[[str, bool], None], every: float) -> None:
        self.emit = emit
        self.every = every
        self.started = time.monotonic()
        self.shown = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        final = done == total
        if now - max(self.shown, self.started) < self.every and not (final and self.shown):
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-6)
        self.emit(f"read {done}/{total} files ({rate:,.0f}/s)", final)


class Refresher:
    """Owns the state store and the publish directory of one `state_dir`."""

    def __init__(
        self, config: Config, published: bool = False, busy_wait: float = BUSY_TIMEOUT
    ) -> None:
        """`published`: versions were published from the state_dir when the caller looked (a
        refresher that waited for it), however it is now: moved aside meanwhile, say.
        `busy_wait`: for the store's opening (`StateStore.open`)."""
        self.config = config
        self.config_error: str | None = None
        self.root = publish_dir(config.content.state_dir)
        # Versions were published from a store: without it every entry would get a new id.
        self.store = StateStore.open(
            config.content.state_dir,
            expect_existing=published or current_id(self.root) is not None,
            busy_wait=busy_wait,
        )
        self.current: Version | None = None
        self.current = self._current_version()
        self._shown: dict[str, ShownEntry] = {}  #: by `Entry.rendering_key`
        self._read_bodies: dict[str, str] = {}  #: read to show, to be kept: by content hash
        self._last_success: datetime | None = _last_success(config.content.state_dir)
        self.last_report: RefreshReport | None = None
        self._last_listing: Scan | None = None  #: what the last refresh saw, all of it handled
        #: directories a scan need not list again while they stay unchanged
        self._directories: dict[str, Listed] = {}
        #: for the large batches: started at first use, kept for the next scheduled scan
        self.workers = Workers(min(cores(), MAX_WORKERS)) if cores() > 1 else None
        #: files a watcher saw closed after writing (relative path → when, in ns): complete,
        #: so they need not wait to settle
        self._closed: dict[str, int] = {}
        #: published entries per section, and the store generation they were counted at
        self._counts: tuple[int, dict[str, int]] | None = None
        #: what the updates of refreshes that failed after them stored (their publish, say),
        #: which no report or log said: said with the next refresh that ends
        self._unsaid: ChangeSet | None = None
        #: how files are read, the store's sections included: as the last update read them
        try:
            # moved aside since the store opened: as if it had been before
            with state_dir_errors(self.state_dir):
                #: the directory the store is in: the only one written (`in_place`)
                self._opened_in = os.stat(self.state_dir)
            self.reader = self._reading()
            self._bodies = FileBodies(config, self.reader)  #: what `_show` reads entries from
        except StateError:
            self.store.close()  # a refresher waiting for its store opens it again each second
            raise
        _say_problems(config)

    def saw_closed(self, path: str) -> None:
        """Called from a watcher thread: `path` was closed after writing, or moved into place."""
        self._closed[path] = time.time_ns()

    @property
    def state_dir(self) -> Path:
        return self.config.content.state_dir

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()
        self.store.close()

    # -- config ------------------------------------------------------------------------------
    def check_config(self) -> bool:
        """Apply a changed, valid config file; keep the old one (and say why) if it is invalid."""
        try:
            raw = read_config(self.config.path)
            if config_digest(raw) == self.config.digest:
                self.config_error = None
                return False
            fresh = parse_config(raw, self.config.path)
        except ConfigError as e:
            return self._rejected(str(e))
        if fresh.content.state_dir != self.config.content.state_dir:
            return self._rejected(
                f"{fresh.path}: content.state_dir changed; restart the refresher to move to it "
                "(the rest of the new config is not applied until then)"
            )
        log.info("config reloaded from %s", fresh.path)
        _say_problems(fresh)
        self.config = fresh
        self.config_error = None
        self._shown.clear()
        return True

    def _rejected(self, message: str) -> bool:
        """Said once, not at every tick while the file stays as it is: to /healthz first, as a
        failed refresh is (the refresh's status says it again when it ends)."""
        if message != self.config_error:
            if self.in_place():
                amend_status(self.state_dir, config_error=message)
            log.error("config rejected, still serving with the previous one: %s", message)
        self.config_error = message
        return False

    # -- the refresh -------------------------------------------------------------------------
    def refresh(
        self,
        progress: Callable[[int, int], None] | None = None,
        paths: Collection[str] | None = None,
        emptied: bool = False,
    ) -> RefreshReport:
        """Run one refresh under the state directory's build lock.

        `paths`: only these files changed (a watcher said so); they alone are looked at, unless
        the last full scan is unknown or one of them needs the full scan (a directory, a link).
        `emptied`: an articles_dir listing no file was emptied on purpose (`UpdateSettings`).
        """
        started = time.perf_counter()
        self._write_in_place()
        with build_lock(self.state_dir):
            # After the wait: a refresh that waited for another must not publish less than it did.
            started_at = datetime.now(UTC)
            config_changed = self.check_config()
            config = self.config
            self.current = self._current_version()
            # Taken, not borrowed: a refresh that fails half-way leaves the next one to compare
            # the whole listing with the store again.
            last, self._last_listing = self._last_listing, None
            partial = None if last is None or config_changed else self._partial_scan(paths)
            if partial is None:
                listing = scan(config.content.articles_dir, self.workers, last, self._directories)
                only = None if config_changed else _changed_since(last, listing)
                if only == set() and self._store_published(listing.unreadable, started_at):
                    self._last_listing = last
                    return self._unchanged(started, started_at)
                looked_at = listing if only is None else _restricted(listing, only)
            else:
                assert paths is not None and last is not None
                only, looked_at = set(paths), partial
                listing = patched(last, partial, only)
            closed = dict(self._closed)
            self.reader = self._reading()  # as files are read now, and shown
            self._bodies = FileBodies(self.config, self.reader)  # files read back anew each time
            changes = update(
                self.store,
                config.content.articles_dir,
                looked_at,
                self._update_settings(closed, started_at, emptied),
                progress,
                only=only,
                workers=self.workers,
            )
            said = self._unsaid = _with_unsaid(self._unsaid, changes)
            for path, seen in closed.items():
                if self._closed.get(path) == seen:
                    del self._closed[path]
            # a section renamed in config.toml alone: said however the config came (a restart)
            gone = Counter(entry.section for entry in changes.unpublished.values())
            for problem in sections_unpublished(config, gone, "refresh"):
                log.warning("%s", problem)
            if changes.held_back:
                log.warning("%s", changes.held_back)
            for problem in changes.unreadable:
                log.warning("%s", problem)
            # Dated after this refresh began: left out of the feeds until then.
            scheduled = self.store.scheduled(started_at)
            source = self._source(listing.unreadable, scheduled)
            rendered: list[str] = []
            published = False
            if self.current is None or self.current.source != source or config_changed:
                published = self._publish_what_can_be_shown(
                    config, source, changes, scheduled, listing.unreadable, started_at, rendered
                )
        report = RefreshReport(
            started_at=started_at,
            seconds=time.perf_counter() - started,
            files_read=said.files_read,
            added=len(said.added),
            updated=len(said.updated),
            removed=len(said.removed),
            rendered=tuple(rendered),
            version=self.current.id if self.current else None,
            published=published,
            held_back=changes.held_back,
            problems=tuple(
                all_problems(self.store, listing, scheduled, self._left_out(), changes.unreadable)
            ),
            deferred=tuple(changes.deferred),
            scheduled=len(scheduled),
            next_scheduled=scheduled[0].published if scheduled else None,
        )
        self._last_success = started_at
        self.last_report = report
        unfinished = changes.deferred or changes.unreadable or changes.held_back or listing.failure
        self._last_listing = None if unfinished else listing
        self._say_done(report)
        _log_report(report, said)
        self._unsaid = None
        return report

    def _publish_what_can_be_shown(
        self,
        config: Config,
        source: str,
        changes: ChangeSet,
        scheduled: list[Entry],
        unreadable: tuple[str, ...],
        started_at: datetime,
        rendered: list[str],
    ) -> bool:
        """Publish a version; whether it is a new one. Files under a directory that cannot be
        read stay published in the store, and so do articles held by a file that no longer reads
        cleanly (`held`). Those whose bodies cannot be read, nor were kept, are left out of the
        feeds until they can be: waiting for them would publish nothing else, ever. An entry
        whose file changed after the scan publishes nothing: the file is read again later."""
        before = self.current.id if self.current else None
        counts = self._section_counts(changes)
        counts = dict(Counter(counts) - Counter(e.section for e in scheduled))
        left_out: set[str] = set()
        held = self.store.held()

        def lasting(entry: Entry) -> bool:
            """Its body cannot be read until its file or directory is fixed."""
            return entry.path.startswith(unreadable) or entry.id in held

        while True:
            try:
                self.current = self._publish(
                    config, source, counts, rendered, started_at, left_out, lasting
                )
            except _Unsettled as e:
                rendered.clear()
                if lasting(e.entry) and e.entry.id not in left_out:
                    left_out.add(e.entry.id)  # that entry alone: not its whole file
                    continue
                # Its body is no longer what was scanned: publish nothing rather than a
                # half-written or mismatched entry; the current version keeps serving.
                path = e.entry.path
                log.info("%s: changed after it was scanned; publishing it later", path)
                if path not in changes.deferred:
                    changes.deferred.append(path)
                return False
            return self.current.id != before

    def _shown_until(self) -> datetime | None:
        """The newest date a published version showed: as each publish records it, or as the
        current version says (the record is made just after it; a store from before it)."""
        known = [self.store.shown_until(), self.current.built_at if self.current else None]
        return max((moment for moment in known if moment is not None), default=None)

    def _left_out(self) -> list[Entry]:
        """The entries the current version leaves out, their text unreadable (`lasting`)."""
        found = (self.store.entry(i) for i in (self.current.left_out if self.current else ()))
        return [stored.entry for stored in found if stored is not None]

    def _partial_scan(self, paths: Collection[str] | None) -> Scan | None:
        """The listing of just `paths`, when that is enough; None: scan everything."""
        return None if paths is None else scan_paths(self.config.content.articles_dir, paths)

    def _source(self, unreadable: tuple[str, ...], scheduled: list[Entry]) -> str:
        """What a version is made from: the store's generation, the directories left out of it
        (unreadable), the entries not due yet (those from the soonest on), the config and the
        renderer."""
        left_out = f"-{_key(*unreadable)[:8]}" if unreadable else ""
        due = f"@{_key(scheduled[0].id)[:8]}" if scheduled else ""
        return f"{self.store.generation()}{left_out}{due}:{_made_with(self.config)}"

    def _reuses_nothing(self, config: Config) -> bool:
        """No file of the current version can be reused: it was made with another config or
        renderer (or there is none)."""
        return self.current is None or self.current.source.partition(":")[2] != _made_with(config)

    def _store_published(self, unreadable: tuple[str, ...], now: datetime) -> bool:
        """The current version was made from the store as it is (no other process changed it,
        no scheduled entry came due)."""
        if self.current is None:
            return False
        return self.current.source == self._source(unreadable, self.store.scheduled(now))

    def _unchanged(self, started: float, started_at: datetime) -> RefreshReport:
        """The report of a refresh that had nothing to do: no file read, nothing rendered."""
        assert self.last_report is not None and self.current is not None
        report = dataclasses.replace(
            self.last_report,
            started_at=started_at,
            seconds=time.perf_counter() - started,
            files_read=0,
            added=0,
            updated=0,
            removed=0,
            rendered=(),
            version=self.current.id,
            published=False,
        )
        self._last_success = started_at
        self.last_report = report
        self._say_done(report)
        log.info("refresh: %s", report.summary())
        return report

    def in_place(self) -> bool:
        """Whether the state_dir path still names the directory the store is in. Moved aside
        (to be restored, or by a deploy switching a relative one), it would be made afresh
        there, versions published beside no store while ids went into the store aside, and a
        backup restored meanwhile would lack them."""
        try:
            return os.path.samestat(os.stat(self.state_dir), self._opened_in)
        except OSError:
            return False  # gone

    def _write_in_place(self) -> None:
        """Raise `MovedAsideError` unless this refresher may write at the state_dir path."""
        if not self.in_place():
            raise MovedAsideError(
                f"state_dir {self.state_dir} is no longer the directory this refresher's store "
                "is in (moved aside?): nothing is refreshed, nor made there, until that one is "
                "put back whole; or restart the refresher to use the one then at that path"
            )

    def _current_version(self) -> Version | None:
        """The version being served: the one this refresher holds, unless another process
        switched to another (or removed it). A damaged one is rebuilt from the store, never
        patched."""
        held = self.current
        if held is not None and current_id(self.root) == held.id and held.directory.is_dir():
            return held  # one readlink and one stat, not the manifest parsed again
        try:
            return load_current(self.root)
        except PublishError as e:
            log.error("%s; the next version is rendered in full", e)
            return None

    def _reading(self) -> ReaderSettings:
        """How files are read now: by the config, and the sections the store ever published."""
        return ReaderSettings.from_config(self.config, self.store.sections_published())

    def _update_settings(
        self, closed: dict[str, int], now: datetime, emptied: bool
    ) -> UpdateSettings:
        config = self.config
        return UpdateSettings(
            reader=self.reader,
            authority=config.site.authority,
            max_file_bytes=config.content.max_file_bytes,
            now=now,
            shown_until=min(now, self._shown_until() or now),
            settle_ns=int(SETTLE_SECONDS * 1e9),
            closed=closed,
            returns_within=timedelta(seconds=config.refresh.interval_seconds),
            emptied=emptied,
        )

    def _section_counts(self, changes: ChangeSet) -> dict[str, int]:
        """Published entries per section: the last count moved by what this update changed.
        Counting them in the store reads the whole archive's index (10 ms at 100k), so that
        is done only when this process has no count of the store as the update found it: at
        start, or after another process changed the store."""
        generation = self.store.generation()
        before = generation - 1 if changes.changed else generation
        if self._counts is not None and self._counts[0] == before:
            counts = dict(Counter(self._counts[1]) + changes.sections)  # drops emptied sections
        else:
            counts = self.store.section_counts()
        self._counts = (generation, counts)
        return counts

    def _publish(
        self,
        config: Config,
        source: str,
        counts: dict[str, int],
        rendered: list[str],
        started_at: datetime,
        left_out: set[str],  #: entry ids
        lasting: Callable[[Entry], bool],
    ) -> Version:
        configured = {s.name for s in config.sections}
        extra = (
            [n for n in counts if n not in configured] if config.content.allow_new_sections else []
        )
        if extra:  # oldest first: a section found later never takes an existing one's slug
            starts = self.store.section_starts()
            extra.sort(key=lambda name: (starts.get(name, 0), name))
        specs = feed_specs(config, extra)
        while True:
            newest = self._newest(specs, started_at, left_out)
            visible = {e.rendering_key: e for entries in newest.values() for e in entries}
            if not left_out:
                break  # the first try: nothing is known to be missing
            # One entry could not be shown: find all such at once, not one publish each.
            missing = {
                e.id
                for key, e in visible.items()
                if key not in self._shown and lasting(e) and not self._can_show(e)
            }
            if not missing:
                break
            left_out |= missing
        # Keep rendered entries only while a feed shows them: memory follows the feeds' size.
        self._shown = {key: shown for key, shown in self._shown.items() if key in visible}
        # with the bodies they were rendered from, still to keep: one rendered for an archived
        # page at the last publish, shown now, is not read again (`keep_bodies`)
        hashes = {e.content_hash for e in visible.values()}
        self._read_bodies = {h: body for h, body in self._read_bodies.items() if h in hashes}
        anew = self._reuses_nothing(config)  # every visible entry and every feed are rendered
        if anew:
            self._show_all(config, [e for k, e in visible.items() if k not in self._shown])
        # The first publish of this store dates new files by their entries (the same input,
        # the same manifest); later ones date a file new to the current version now.
        first = self._shown_until() is None
        plan = _Plan(config, self.current, first, rendered, self._show, specs, newest, started_at)
        made = self._feeds_in_workers(config, specs, newest) if anew else {}
        plan.pages()  # while the workers render the feeds, if they do
        plan.opml()
        for spec in specs:
            plan.feed(spec, made.get(spec.slug))
        slug_counts = {spec.slug: counts.get(spec.section, 0) for spec in specs if spec.section}
        slug_counts["all"] = sum(counts.values())
        self._write_in_place()  # moved while it rendered? nothing is written yet
        # Before the switch: a page leaving the feeds is never missing, even for a moment.
        applied, failed = self._archive_pages(plan)
        version = write_version(
            self.root,
            plan.pending,
            slug_counts,
            self.current,
            started_at,
            source,
            config.refresh.interval_seconds,
            config.site.base_url,
            left_out,
            served_from=plan.served_from,
        )
        _say_gone_feeds(self.current, version, config)
        with self.store.transaction():
            self.store.keep_bodies(self._read_bodies, hashes)
            self.store.show_until(started_at)
            self.store.forget_page_changes(applied)
            for slug in failed:
                self.store.page_changed(slug)
        self._read_bodies = {h: body for h, body in self._read_bodies.items() if h not in hashes}
        return version

    def _archive_pages(self, plan: _Plan) -> tuple[list[str], list[str]]:
        """Article pages outlive the feeds: a reader's list keeps an item long after the feeds
        drop it, and its link must not turn into a 404. A page the next version leaves out is
        kept in the archive; the archived page of an entry changed since (`StateStore.
        page_changes`) is made again, or goes with its entry. Returns the slugs whose changes
        were applied, to forget once the version is published, and those of pages that could
        not be archived, to make at the next publish (the others wait for it too)."""
        changed = self.store.page_changes()
        previous = self.current
        next_paths = {pending.resource.path for pending in plan.pending}  #: the next version's
        failed: list[str] = []
        if previous is not None:
            left = {slug for path in previous.resources if (slug := article_slug(path))}
            for slug in sorted(left - {article_slug(path) for path in next_paths} - set(changed)):
                path = article_path(slug)
                try:
                    archive(self.root, previous, file_of(path))
                except OSError as e:
                    log.warning("could not keep the page %s, for now: %s", path, e)
                    failed.append(slug)
        return [slug for slug in changed if self._redo_archived(slug, next_paths, plan)], failed

    def _redo_archived(self, slug: str, next_paths: set[str], plan: _Plan) -> bool:
        """The archived page of an entry changed since the last publish: made again (edited, or
        back after it was removed) or removed. Whether that is done."""
        path = article_path(slug)
        file = file_of(path)
        stored = self.store.entry_by_slug(slug)
        try:
            # shown (the version's page comes first), gone, or scheduled (no page before its date)
            if (
                path in next_paths
                or stored is None
                or not stored.present
                or stored.entry.published > plan.now
            ):
                unarchive(self.root, file)
            else:
                rewrite_archived(self.root, file, plan.article(stored.entry))
        except _Unsettled:
            return False  # its file changed again: the page as it was, until it is read
        except OSError as e:
            log.warning("could not keep the page %s, for now: %s", path, e)
            return False
        return True

    def warm(self) -> None:
        """Render what the current version shows before a change asks for it.

        A refresher starts with nothing rendered. Its first publish would read and render
        every entry the feeds show (250 with five sections of 50: each page's view is made of
        its feed's entries), write each entry of the feeds it changes in every format, and
        compile the page templates: ~100 ms more than the publishes after it (10k). The
        long-running refreshers (`serve`, `clock`) call this once, after their first refresh;
        a one-shot command would only waste it. An entry that cannot be shown now is left to
        the publish that needs it; so are sections found in the articles rather than in the
        config."""
        if self.current is None or self._reuses_nothing(self.config):
            return  # the next publish renders every entry anew, as a cold build does
        specs = feed_specs(self.config, [])
        newest = self._newest(specs, datetime.now(UTC), set(self.current.left_out))
        for spec in specs:
            shown = [self._show(entry) for entry in newest[spec.slug] if self._can_show(entry)]
            _make_feed((self.config, spec, shown))  # each entry's bytes are kept: see render
        load_templates()

    def _newest(
        self, specs: Sequence[FeedSpec], until: datetime, left_out: Collection[str]
    ) -> dict[str, list[Entry]]:
        """What each feed shows, by slug: its newest entries dated `until` or earlier."""
        return {
            spec.slug: self.store.newest(spec.section, spec.max_entries, until, left_out)
            for spec in specs
        }

    def _show(self, entry: Entry) -> ShownEntry:
        """Render an entry once per content: the same entry in a section feed and in `all`."""
        key = entry.rendering_key
        shown = self._shown.get(key)
        if shown is None:
            made = _shown_from_file(self._bodies, entry) or self._shown_as_kept(entry)
            shown = self._shown[key] = self._keep(entry, made)
        return shown

    def _can_show(self, entry: Entry) -> bool:
        try:
            self._show(entry)
        except _Unsettled:
            return False
        return True

    def _shown_as_kept(self, entry: Entry) -> tuple[ShownEntry, str]:
        """The entry from its kept body: its file no longer holds it (see `_remove_or_hold`)."""
        body = self.store.saved_body(entry.content_hash)
        if body is None:
            raise _Unsettled(entry)
        return show(self.config, entry, body), body

    def _keep(self, entry: Entry, made: tuple[ShownEntry, str]) -> ShownEntry:
        shown, body = made
        self._read_bodies[entry.content_hash] = body
        return shown

    def _show_all(self, config: Config, entries: list[Entry]) -> None:
        """Render `entries` in the workers when there are many: a publish that can reuse no
        file of the current version (a first build, a config change) shows every entry of
        every feed, a fifth of a cold build's publish (.txt) to a half (Markdown).

        Only workers forked from this process (`feedsvc build`) have the renderer loaded. A
        service's come from a fork server: importing it there, or starting them for this,
        costs more than rendering a few hundred entries here."""
        if self.workers is None or not self.workers.forked or len(entries) < SHOW_IN_WORKERS_FROM:
            return  # `_show` renders each as the plan asks for it
        entries.sort(key=lambda e: (e.path, e.ordinal))  # a file's articles in one batch
        batches = [
            (config, self.reader, entries[start : start + _SHOW_BATCH])
            for start in range(0, len(entries), _SHOW_BATCH)
        ]
        made_in_workers = self.workers.map(_show_batch, batches)
        for (_, _, batch), made in zip(batches, made_in_workers, strict=True):
            for entry, shown in zip(batch, made, strict=True):
                if shown is not None:  # else `_show` looks for its kept body
                    self._shown[entry.rendering_key] = self._keep(entry, shown)

    def _feeds_in_workers(
        self, config: Config, specs: Sequence[FeedSpec], newest: dict[str, list[Entry]]
    ) -> dict[str, Callable[[], _MadeFeed]]:
        """Every feed rendered by the workers, while this process renders the pages: in a
        publish that reuses nothing, the 18 feeds (85-110 ms of a 10k cold build) and the
        256 pages (~45 ms) each took this process's core while the workers sat idle.

        Only workers forked from this process (`feedsvc build`) have the renderer loaded, as
        in `_show_all`. Each feed's answer, when the plan asks for it."""
        if self.workers is None or not self.workers.forked:
            return {}
        workers = self.workers
        made: dict[str, Callable[[], _MadeFeed]] = {}
        for spec in specs:
            task = (config, spec, [self._show(e) for e in newest[spec.slug]])
            future = workers.submit(_make_feed, task)
            made[spec.slug] = functools.partial(workers.result, future, _make_feed, task)
        return made

    # -- status for /healthz -----------------------------------------------------------------
    def _say_done(self, report: RefreshReport) -> None:
        """The status of a refresh that worked: one that cannot be written leaves it done (and
        published), not failed, as an exception here would be reported."""
        try:
            self.write_status(report)
        except OSError as e:
            log.error(
                "the refresh worked, but /healthz goes on saying what it said before it: %s",
                state_dir_error(self.state_dir, e),
            )

    def write_status(self, report: RefreshReport | None, error: str | None = None) -> None:
        """`status.json` for `/healthz`; a failed refresh keeps the last report's details.
        Never written where the state_dir was moved aside: it goes with the directory."""
        if not self.in_place():
            return
        report = report or self.last_report
        status: dict[str, object] = {
            "last_attempt": datetime.now(UTC).isoformat(),
            "last_success": self._last_success.isoformat() if self._last_success else None,
            "interval_seconds": self.config.refresh.interval_seconds,
            "error": error,
            "config_error": self.config_error,
            "held_back": report.held_back if report else None,
            "last_refresh": _report_json(report) if report else None,
            "problems": [asdict(p) for p in report.problems] if report else [],
            "deferred": list(report.deferred) if report else [],
        }
        write_status(self.state_dir, status)


#: a publish showing at least this many entries not yet rendered has the workers render them
SHOW_IN_WORKERS_FROM = 64
_SHOW_BATCH = 16  #: entries per task


#: a feed's files in the order of `FORMATS`, and its last change
_MadeFeed = tuple[list[bytes], datetime]


def _make_feed(task: tuple[Config, FeedSpec, list[ShownEntry]]) -> _MadeFeed:
    config, spec, shown = task
    model = feed_model(config, spec, shown)
    return [writer(model) for writer in FORMATS.values()], model.updated


def _show_batch(
    batch: tuple[Config, ReaderSettings, list[Entry]],
) -> list[tuple[ShownEntry, str] | None]:
    config, reader, entries = batch
    bodies = FileBodies(config, reader)
    return [_shown_from_file(bodies, entry) for entry in entries]


def _shown_from_file(bodies: FileBodies, entry: Entry) -> tuple[ShownEntry, str] | None:
    """The entry rendered, and its body; None when its file no longer holds it."""
    body = bodies.body(entry)
    return None if body is None else (show(bodies.config, entry, body), body)


class _Unsettled(Exception):
    """An entry's file no longer holds what the scan stored, and no body of it was kept: the
    entry is left out when that lasts (it is held, or under an unreadable directory); else
    nothing is published this time."""

    def __init__(self, entry: Entry) -> None:
        super().__init__(entry.path)
        self.entry = entry


class _Plan:
    """Decides, file by file, whether to render or to reuse the current version's bytes."""

    def __init__(
        self,
        config: Config,
        current: Version | None,
        first: bool,
        rendered: list[str],
        show_entry: Callable[[Entry], ShownEntry],
        specs: Sequence[FeedSpec],
        newest: dict[str, list[Entry]],
        now: datetime,
    ) -> None:
        self.config = config
        self.current = current
        self.first = first  #: no version was published from this store before
        self.now = now  #: no Last-Modified is later, but a second change's (`add`)
        #: not switched to before this: set only where a file changed again within the second
        #: it was dated (`add`)
        self.served_from: datetime | None = None
        #: the newest entry's date: the OPML's Last-Modified in a first publish (with none, a
        #: fixed date, as an empty feed's: the same input, the same version)
        self.newest_update = last_updated(e.updated for es in newest.values() for e in es)
        self.rendered = rendered
        self.show = show_entry
        self.specs = specs
        self.newest = newest
        self._views: dict[str, SectionView] = {}
        #: the spec whose feed an article's page lists beside it: its section's, else all
        self._beside = {spec.section: spec for spec in specs[1:]}
        self.basis = _made_with(config)  #: in every key: files made otherwise are not reused
        self.pending: list[Pending] = []
        #: what each feed is made from; the pages that list a feed's entries share its key
        self.feed_keys = {
            spec.slug: _key(self.basis, spec, [e.rendering_key for e in newest[spec.slug]])
            for spec in specs
        }

    def _reusable(self, path: str, key: str) -> Resource | None:
        if self.current is None:
            return None
        resource = self.current.resources.get(path)
        return resource if resource is not None and resource.key == key else None

    def add(
        self,
        path: str,
        kind: str,
        key: str,
        make: Callable[[], tuple[bytes, datetime]],
    ) -> None:
        reused = self._reusable(path, key)
        if reused is not None:
            self.pending.append(Pending.unchanged(reused))
            return
        body, last_modified = make()
        etag = etag_of(body)
        before = self.current.resources.get(path) if self.current else None
        latest = self.now
        if before is not None and before.etag == etag:
            last_modified = before.last_modified  # rendered again, the same bytes
        elif before is not None:
            # Changed, so later than before, whatever the entries' dates say (one dated before
            # the newest was added): a client sending only If-Modified-Since would miss it.
            last_modified = max(last_modified, before.last_modified + timedelta(seconds=1))
            # HTTP dates count whole seconds: changed again within the second it was dated,
            # it is dated the next, and its version waits for that second (`write_version`).
            # Not when that is over a second ahead (a clock set back): waiting gains nothing.
            next_second = before.last_modified.replace(microsecond=0) + timedelta(seconds=1)
            if self.now < next_second <= self.now + timedelta(seconds=1):
                latest = self.served_from = next_second  # `now`'s next second, for every file
        elif not self.first:
            # Back after an absence (a page, a section's feed), or the last version unreadable:
            # what a client saw of it is unknown, but it was before now.
            last_modified = self.now
        resource = Resource(
            path=path,
            content_type=CONTENT_TYPES[kind],
            etag=etag,
            # a feed's own `updated` at first; never later than it is served
            last_modified=min(last_modified, latest),
            key=key,
        )
        self.pending.append(Pending.rendered(resource, body))
        self.rendered.append(path)

    def feed(self, spec: FeedSpec, made: Callable[[], _MadeFeed] | None) -> None:
        """`made`: the feed as the workers rendered it; else rendered here, if needed."""

        @functools.cache  # one answer for the three formats, asked only if one is rendered
        def rendered() -> _MadeFeed:
            if made is not None:
                return made()
            return _make_feed((self.config, spec, [self.show(e) for e in self.newest[spec.slug]]))

        for index, fmt in enumerate(FORMATS):

            def make(index: int = index) -> tuple[bytes, datetime]:
                bodies, updated = rendered()
                return bodies[index], updated

            self.add(feed_path(spec.slug, fmt), fmt, self.feed_keys[spec.slug], make)

    def view(self, spec: FeedSpec) -> SectionView:
        """A feed's entries as pages list them: made once, for every page that shows them."""
        made = self._views.get(spec.slug)
        if made is None:
            shown = [self.show(e) for e in self.newest[spec.slug]]
            made = self._views[spec.slug] = SectionView(spec, shown, feed_links(self.config, spec))
        return made

    def article(self, entry: Entry) -> bytes:
        """An article's page, linked to its section's feeds (if it has its own)."""
        spec = self.section_of(entry)
        return article_page(self.config, self.show(entry), spec, self.specs[0], entry.related)

    def section_of(self, entry: Entry) -> FeedSpec:
        """The feed an article's page links to: its section's, or the combined one."""
        return self._beside.get(entry.section, self.specs[0])

    def pages(self) -> None:
        combined, sections = self.specs[0], self.specs[1:]
        all_entries = [e for spec in self.specs for e in self.newest[spec.slug]]
        self.add(
            "/",
            "html",
            _key(self.basis, *self.feed_keys.values()),
            lambda: (
                home_page(self.config, self.view(combined), [self.view(s) for s in sections]),
                last_updated(e.updated for e in all_entries),
            ),
        )
        for spec in sections:
            self.add(
                spec.page_path,
                "html",
                self.feed_keys[spec.slug],
                lambda spec=spec: (  # type: ignore[misc]
                    section_page(self.config, self.view(spec), self.view(combined)),
                    last_updated(e.updated for e in self.newest[spec.slug]),
                ),
            )
        shown = {e.id: e for e in all_entries}
        for entry in sorted(shown.values(), key=lambda e: e.slug):
            self.add(
                article_path(entry.slug),
                "html",
                # its section's spec: a discovered section's slug may move (`feed_specs`)
                _key(self.basis, entry.rendering_key, repr(entry.related), self.section_of(entry)),
                lambda entry=entry: (self.article(entry), entry.updated),  # type: ignore[misc]
            )

    def opml(self) -> None:
        self.add(
            "/feeds.opml",
            "opml",
            _key(self.basis, *(s.slug for s in self.specs)),
            lambda: (write_opml(self.config, self.specs), self.newest_update),  # none of its own
        )


def _say_gone_feeds(before: Version | None, after: Version, config: Config) -> None:
    """Feeds a publish takes away: their subscribers get 404s from then on. Told from the
    versions, whatever changed the config (a reload, a restart, `feedsvc refresh`)."""
    if before is None:
        return
    gone = sorted(set(before.counts) - set(after.counts))
    configured = {section.slug for section in config.sections}
    new = sorted((set(after.counts) - set(before.counts)) & configured)
    for slug in gone:
        # A configured section's feeds, at another address; not where its entries stayed
        # behind: renamed in config.toml alone, they were unpublished (`sections_unpublished`
        # says why), and the old slug would bring back an empty feed.
        if len(gone) == len(new) == 1 and (after.counts[new[0]] or not before.counts[slug]):
            log.warning(
                "the feeds /feeds/%s.* moved to /feeds/%s.* (a section renamed, or its slug "
                'changed): their subscribers get 404s now; to keep them, set slug = "%s" in '
                "its [[sections]] entry",
                slug,
                new[0],
                slug,
            )
        else:
            log.warning(
                "the feeds /feeds/%s.* are gone (their section taken out of the config, or, "
                "found in articles, left with none): their subscribers get 404s now",
                slug,
            )


def _changed_since(last: Scan | None, listing: Scan) -> set[str] | None:
    """The paths whose listing differs from the last fully handled one.

    None when the whole listing must be compared with the store: no earlier listing, or one that
    may be a fault (empty, or with unreadable parts), which that comparison knows to hold back.
    """
    if last is None or listing.failure or listing.unreadable or not listing.files:
        return None
    if listing is last:
        return set()  # the usual scheduled refresh: `scan` found the listing identical
    return changed_paths(last, listing)


def _restricted(listing: Scan, paths: set[str]) -> Scan:
    """Only what `listing` says of `paths`: the part of a full scan that changed."""
    files = {path: listing.files[path] for path in paths if path in listing.files}
    problems = tuple(p for p in listing.problems if p.path in paths)
    return dataclasses.replace(listing, files=files, problems=problems, listed=None)


def _made_with(config: Config) -> str:
    """Besides its entries, what every published file is made with: the config and the code."""
    return f"{config.digest}:{renderer_digest()}"


def _key(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def _report_json(report: RefreshReport) -> dict[str, object]:
    return {
        "started_at": report.started_at.isoformat(),
        "seconds": round(report.seconds, 4),
        "files_read": report.files_read,
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "rendered": len(report.rendered),
        "version": report.version,
        "published": report.published,
        "scheduled": report.scheduled,
        "next_scheduled": report.next_scheduled.isoformat() if report.next_scheduled else None,
    }


#: entries named one per log line; a bulk change (a first build) is counted instead
LOGGED_ENTRIES = 20


def _with_unsaid(unsaid: ChangeSet | None, changes: ChangeSet) -> ChangeSet:
    """`changes` after those of refreshes that failed unsaid, to report and log as one, as
    readers see them: an entry added then is added, whatever changed it since; one added then
    and removed since, or removed then and back since, they never saw come or go. The problems
    are this update's: the files read then may be fixed since."""
    if unsaid is None:
        return changes
    # added then and removed since (never seen), or removed then and back since (never lost)
    unseen = set(unsaid.added) & changes.unpublished.keys()
    unseen |= unsaid.unpublished.keys() & set(changes.added)
    added = [i for i in dict.fromkeys(unsaid.added + changes.added) if i not in unseen]
    removed = {**unsaid.unpublished, **changes.unpublished}
    said = {*added, *removed}  # an entry updated too is said as added or removed
    return dataclasses.replace(
        changes,
        files_read=unsaid.files_read + changes.files_read,
        added=added,
        updated=[i for i in dict.fromkeys(unsaid.updated + changes.updated) if i not in said],
        unpublished={i: e for i, e in removed.items() if i not in unseen},
    )


def _log_report(report: RefreshReport, changes: ChangeSet) -> None:
    log.info("refresh: %s", report.summary())
    for verb, ids in (
        ("added", changes.added),
        ("updated", changes.updated),
        ("removed", changes.removed),
    ):
        _log_some(logging.INFO, ids, f"entry {verb}: %s", f"more entries {verb}")
    written = "%s: still being written (or changed while read); read it later"
    _log_some(logging.INFO, changes.deferred, written, "more files still being written, read later")
    # An operator watching the refresher's log learns of a bad file as it is read.
    problems = [problem for found in changes.problems.values() for problem in found]
    _log_some(logging.WARNING, problems, "%s", "more problems: `feedsvc check` lists them all")


def _log_some(level: int, items: Sequence[object], each: str, more: str) -> None:
    """The first items, one a line, and a count of the rest: a first build has thousands."""
    for item in items[:LOGGED_ENTRIES]:
        log.log(level, each, item)
    if len(items) > LOGGED_ENTRIES:
        log.log(level, "... and %d %s", len(items) - LOGGED_ENTRIES, more)


def _say_problems(config: Config) -> None:
    """What a config is published with anyway: as it is read, not at every refresh."""
    for problem in config.problems:
        log.warning("%s", problem)


def failed_refresh(refresher: Refresher, error: BaseException) -> None:
    """Log a failed refresh with its cause; the last good version keeps serving. /healthz is
    told first: whoever reads the log line and asks it at once is not told `ok`."""
    message = f"{type(error).__name__}: {error}"
    try:
        refresher.write_status(None, error=message)
    except OSError as e:  # the disk that made the refresh fail may refuse this too
        log.error("could not write %s: %s", refresher.state_dir / STATUS_FILE, e)
    log.error("refresh failed, the last good version keeps serving: %s", message)
    log.debug("the failed refresh", exc_info=error)


def _last_success(state_dir: Path) -> datetime | None:
    """The last good refresh a previous run recorded: a restart is not a fresh success."""
    value = read_status(state_dir).get("last_success")
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
