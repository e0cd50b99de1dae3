"""Versions on disk: written completely and flushed to the disk, then made current with one
atomic switch.

Layout under `<state_dir>/publish/` (nginx or a CDN can serve `current/` as it stands):

    current -> versions/<id>          the one switch (a symlink replaced with rename)
    versions/<id>/manifest.json       every URL path with its file, type, ETags, Last-Modified
    versions/<id>/feeds/all.atom      the bytes, and beside each feed its .gz (gzip_static)
    versions/<id>/feeds.opml (+ .gz), index.html, sections/<slug>.html,
                  articles/<slug>.html   (the pages of /sections/<slug>/ and /articles/<slug>/;
                                          no .gz: a version holds hundreds, and readers, not
                                          aggregators, fetch them)
    archive/articles/<slug>.html      the pages of articles no feed shows any more (`ARCHIVE`)

A page URL ending in "/" is a file named after it, not a directory with an index.html: a version
is written for every change, and on ext4 making and removing one directory per shown entry cost
~45 ms of a refresh where a hard link costs 0.02 ms. nginx needs one rule for it (README).

Unchanged files are hard-linked from the previous version, so a refresh that changed one feed
writes one feed. A reader process only ever sees a complete version, and so does one started
after a power cut: without the flush, the switch could reach the disk before the files, and the
version served after a reboot would have empty feeds under the ETags of full ones.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedsvc import deflate
from feedsvc.control import temporary_beside
from feedsvc.errors import PublishError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
#: beside `versions/`: the pages of articles no feed shows any more, laid out as in a version
#: (`articles/<slug>.html`). Not versioned: it only grows by the pages that leave the feeds,
#: where every version linking every page ever shown would grow with the archive.
ARCHIVE = "archive"
#: versions kept besides the current one, for processes still switching over
KEEP_PREVIOUS = 2


@dataclass(frozen=True)
class Resource:
    """One published file, as the web side needs to answer for it."""

    path: str  #: the URL path: "/feeds/all.atom", "/", "/sections/asia/"
    content_type: str
    etag: str  #: strong, from the bytes
    last_modified: datetime
    #: what the bytes were made from: the same key means the file can be reused unrendered
    key: str

    @functools.cached_property  # asked four times per file per version, for hundreds of files
    def file(self) -> str:
        return file_of(self.path)

    @property
    def precompressed(self) -> bool:
        """Feeds and the OPML have a .gz beside them; HTML pages are compressed when loaded."""
        return not self.content_type.startswith("text/html")

    @property
    def gzip_etag(self) -> str:
        return self.etag + "-gz"

    @functools.cached_property  # an unchanged file's row is the same in every version
    def manifest_row(self) -> dict[str, object]:
        return {
            "file": self.file,
            "type": self.content_type,
            "etag": self.etag,
            "last_modified": self.last_modified.isoformat(),
            "key": self.key,
        }


def file_of(path: str) -> str:
    """A URL path's file, relative to a version directory (or the archive): `/` is index.html,
    `/a/b/` is a/b.html."""
    if path == "/":
        return "index.html"
    return path[1:-1] + ".html" if path.endswith("/") else path[1:]


@dataclass(frozen=True)
class Pending:
    """A file to publish: its bytes, or None to reuse the previous version's unchanged file."""

    resource: Resource
    body: bytes | None
    #: the .gz beside a feed, compressed on another core while the rest is rendered
    gzipped: Future[bytes] | None = None

    @classmethod
    def rendered(cls, resource: Resource, body: bytes) -> Pending:
        compressing = _compressor().submit(deflate.gzip, body) if resource.precompressed else None
        return cls(resource, body, compressing)

    @classmethod
    def unchanged(cls, resource: Resource) -> Pending:
        return cls(resource, None)


@dataclass(frozen=True)
class Version:
    id: str
    built_at: datetime
    directory: Path
    resources: Mapping[str, Resource]
    counts: Mapping[str, int]  #: entries per section slug, and "all"
    #: the store generation and config digest it was made from: equal means nothing to do
    source: str
    #: seconds shared caches may keep its files (the refresh interval it was made with)
    max_age: int
    #: ids of entries it leaves out, their text unreadable and not kept: said until shown
    left_out: tuple[str, ...] = ()
    #: the site.base_url its links are made of (None: written before feedsvc recorded it)
    base_url: str | None = None

    def read(self, resource: Resource, gzipped: bool) -> bytes:
        """The file's bytes, or its .gz beside it (feeds and the OPML only)."""
        return (self.directory / (resource.file + (".gz" if gzipped else ""))).read_bytes()

    def manifest(self) -> dict[str, object]:
        """What its `MANIFEST` holds: all of it but the directory, which holds the file."""
        return {
            "version": self.id,
            "built_at": self.built_at.isoformat(),
            "counts": dict(self.counts),
            "source": self.source,
            "max_age": self.max_age,
            "left_out": list(self.left_out),
            "base_url": self.base_url,
            "resources": {path: r.manifest_row for path, r in sorted(self.resources.items())},
        }

    @classmethod
    def from_manifest(cls, directory: Path, manifest: dict[str, Any]) -> Version:
        return cls(
            id=manifest["version"],
            built_at=datetime.fromisoformat(manifest["built_at"]),
            directory=directory,
            resources={
                path: Resource(
                    path=path,
                    content_type=r["type"],
                    etag=r["etag"],
                    last_modified=datetime.fromisoformat(r["last_modified"]),
                    key=r["key"],
                )
                for path, r in manifest["resources"].items()
            },
            counts=manifest["counts"],
            source=manifest["source"],
            max_age=manifest["max_age"],
            left_out=tuple(manifest.get("left_out", ())),
            base_url=manifest.get("base_url"),
        )


def etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def publish_dir(state_dir: Path) -> Path:
    return state_dir / "publish"


def current_id(root: Path) -> str | None:
    """The current version's id from the switch alone: one readlink, cheap enough per request."""
    try:
        return os.readlink(root / "current").rsplit("/", 1)[-1]
    except OSError:
        return None


def manifest_stamp(root: Path, version_id: str) -> tuple[int, int] | None:
    """Inode and mtime of a version's manifest: changes when the version is written anew."""
    try:
        info = os.stat(root / "versions" / version_id / MANIFEST)
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns


def load_current(root: Path) -> Version | None:
    """The current version, or None when nothing was ever published."""
    version_id = current_id(root)
    if version_id is None:
        return None
    return _load(root / "versions" / version_id)


def _load(directory: Path) -> Version:
    try:
        manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
        return Version.from_manifest(directory, manifest)
    except (OSError, ValueError, KeyError, TypeError) as e:
        # Damaged, or written by another feedsvc: the refresher renders a version anew.
        raise PublishError(f"{directory}: unreadable manifest: {e!r}") from e


def _readable(directory: Path) -> bool:
    try:
        _load(directory)
    except PublishError:
        return False
    return True


def write_version(
    root: Path,
    pending: list[Pending],
    counts: Mapping[str, int],
    previous: Version | None,
    built_at: datetime,
    source: str,
    max_age: int,
    base_url: str,
    left_out: Collection[str] = (),
    served_from: datetime | None = None,
) -> Version:
    """Write every file, then switch `current`; on any failure the previous version stays.
    `served_from`: not switched to sooner (no Last-Modified later than the response, RFC 9110,
    8.8.2.1: one dated the next second, `refresh._Plan.add`)."""
    resources = {p.resource.path: p.resource for p in pending}
    version_id = _version_id(resources, counts, source)
    versions = root / "versions"
    final = versions / version_id
    if previous is not None and previous.id == version_id:
        return previous
    version = Version(
        version_id,
        built_at,
        final,
        resources,
        dict(counts),
        source,
        max_age,
        tuple(sorted(left_out)),
        base_url,
    )
    staging = versions / f".tmp-{version_id}-{os.getpid()}"
    try:
        versions.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(root)
        with _switching:  # a version found here is not collected before it is switched to
            if final.exists() and not _readable(final):
                shutil.rmtree(final)  # damaged or from another feedsvc: written anew, never reused
            elif final.exists():
                os.utime(final)  # the newest again: collected last
            if not final.exists():
                staging.mkdir()
                made: set[str] = {""}
                flushing: list[Future[None]] = []
                # what is still being compressed last: links and pages go meanwhile
                for item in sorted(pending, key=lambda p: p.gzipped is not None):
                    flushing += _write_file(str(staging), item, previous, made)
                # one line: json's C encoder does not indent, and every refresh writes one
                (staging / MANIFEST).write_text(json.dumps(version.manifest()), "utf-8")
                flushing.append(_flush_later(staging / MANIFEST))
                # the directories too: they hold the hard links and the new files' names
                flushing += (_flush_later(staging / folder) for folder in made)
                for flushed in flushing:
                    flushed.result()
                os.rename(staging, final)
            # The version's name too (also when an earlier try renamed it, then failed).
            _flush(versions)
            if served_from is not None:
                _wait_until(served_from)
            _switch(root, version_id)
    except (OSError, PublishError) as e:
        # A full disk must not stay full of a version nobody will serve.
        shutil.rmtree(staging, ignore_errors=True)
        raise PublishError(
            f"could not publish version {version_id} under {root}: {e}; "
            f"version {previous.id if previous else '(none)'} stays current"
        ) from e
    try:
        # The switch too: a power cut undoing it would serve the version before again, and a
        # later one could give a changed file a Last-Modified its clients were already sent.
        _flush(root)
    except OSError as e:  # switched already: served, if not yet sure to outlive a power cut
        log.warning("version %s is current, but the disk did not confirm it: %s", version_id, e)
    # Old versions go in the background: removing hundreds of files is nobody's wait.
    threading.Thread(target=_collect_garbage, args=(versions, version_id), daemon=True).start()
    log.info("published version %s (%d files)", version_id, len(resources))
    return version


def _write_file(
    staging: str, item: Pending, previous: Version | None, made: set[str]
) -> list[Future[None]]:
    """One file of a new version: written when rendered, else linked to the previous one's
    (flushed when it was written). What is written is flushed meanwhile: wait for that."""
    resource = item.resource
    folder = os.path.dirname(resource.file)
    if folder not in made:
        os.makedirs(os.path.join(staging, folder), exist_ok=True)
        made.add(folder)
    target = os.path.join(staging, resource.file)
    if item.body is None:
        if previous is None:
            raise PublishError(f"{resource.path}: nothing to reuse and nothing rendered")
        source = os.path.join(previous.directory, resource.file)
        os.link(source, target)
        if resource.precompressed:
            os.link(f"{source}.gz", f"{target}.gz")
        return []
    # Dated as served: nginx, serving the directory, takes Last-Modified and its ETag from the
    # file's mtime, so the same bytes written again keep them too.
    stamp = resource.last_modified.timestamp()
    with open(target, "wb") as out:
        out.write(item.body)
    os.utime(target, (stamp, stamp))
    flushing = [_flush_later(target)]
    if item.gzipped is not None:  # beside the file, as nginx's gzip_static wants it
        with open(f"{target}.gz", "wb") as out:
            out.write(item.gzipped.result())
        os.utime(f"{target}.gz", (stamp, stamp))
        flushing.append(_flush_later(f"{target}.gz"))
    return flushing


def archive(root: Path, version: Version, file: str) -> None:
    """Keep a page that leaves the versions: linked from the last version that had it."""
    _into_archive(root, file, lambda temporary: os.link(version.directory / file, temporary))


def rewrite_archived(root: Path, file: str, body: bytes) -> None:
    """An archived page made again: its article was edited, or is back."""
    _into_archive(root, file, lambda temporary: temporary.write_bytes(body))


def _into_archive(root: Path, file: str, put: Callable[[Path], object]) -> None:
    """Replaced in one rename: a reader (or nginx) may be reading the page there."""
    target = root / ARCHIVE / file
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_beside(target)
    temporary.unlink(missing_ok=True)
    put(temporary)
    os.replace(temporary, target)


def archived_pages(root: Path) -> dict[str, Path]:
    """The pages in the archive, by their file's path in a version (`articles/<slug>.html`)."""
    folder = root / ARCHIVE
    pages = (page for page in folder.rglob("*.html") if not page.name.startswith("."))
    return {page.relative_to(folder).as_posix(): page for page in pages}


def unarchive(root: Path, file: str) -> None:
    (root / ARCHIVE / file).unlink(missing_ok=True)


def _flush_later(path: str | Path) -> Future[None]:
    return _flusher().submit(_flush, path)


def _flush(path: str | Path) -> None:
    """Wait until a file (or a directory's list of names) is on the disk, not only in memory."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    except OSError as e:
        if e.errno != errno.EINVAL:  # a file system that cannot flush (some FUSE ones)
            raise
    finally:
        os.close(handle)


@functools.cache
def _flusher() -> ThreadPoolExecutor:
    # fsync waits on the disk, not the CPU: a version's dozens of files are flushed together,
    # while the rest of it is written.
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="fsync")


@functools.cache
def _compressor() -> ThreadPoolExecutor:
    # zlib-ng lets go of the GIL: feeds compress on a second core while pages are rendered.
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="gzip")


def _version_id(resources: Mapping[str, Resource], counts: Mapping[str, int], source: str) -> str:
    """Of everything a web process answers from: two versions with one id answer alike (one
    found on disk under the id is reused), Last-Modified included."""
    digest = hashlib.sha256(source.encode())
    for path, resource in sorted(resources.items()):
        stamp = resource.last_modified.isoformat()
        digest.update(f"{path}\0{resource.etag}\0{resource.content_type}\0{stamp}\n".encode())
    digest.update(json.dumps(dict(counts), sort_keys=True).encode())
    return digest.hexdigest()[:20]


def _wait_until(moment: datetime) -> None:
    """A second at most: the clock may be set back since `moment` was found."""
    ahead = (moment - datetime.now(UTC)).total_seconds()
    if ahead > 0:
        time.sleep(min(ahead, 1.0))


def _switch(root: Path, version_id: str) -> None:
    link = root / f".current-{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    os.symlink(f"versions/{version_id}", link)
    os.replace(link, root / "current")  # atomic: readers see the old target or the new one


def _remove_leftovers(root: Path) -> None:
    """What a refresher killed mid-write left: a staging directory, a version half removed, a
    switch never made.

    Only the holder of the build lock publishes, so nothing else is writing these; this
    process's own collectors are left to finish what they are removing.
    """
    for stale in (root / "versions").glob(".tmp-*"):
        with _switching:
            if stale in _collecting:
                continue  # this process's collector is removing it: not a leftover
        shutil.rmtree(stale, ignore_errors=True)
    for link in root.glob(".current-*"):
        link.unlink(missing_ok=True)


#: held by the publisher from finding a version to switching to it, and by the collector
#: while it takes one away: a config change reverted brings an old version's id back, and
#: the collector started by the publish before must not take it away meanwhile
_switching = threading.Lock()
#: versions this process's collectors are removing (renamed `.tmp-gone-*`), under `_switching`:
#: a publish meanwhile must not remove them too, on its own time (twice the work, and the
#: publish waited for it)
_collecting: set[Path] = set()


def _collect_garbage(versions: Path, current: str) -> None:
    """Keep the current version and the `KEEP_PREVIOUS` newest before it (a process may still
    be switching away from them); a version that vanished meanwhile was collected already."""
    finished: list[tuple[float, Path]] = []
    for directory in versions.iterdir():
        if directory.name.startswith(".") or directory.name == current:
            continue
        with contextlib.suppress(FileNotFoundError):
            finished.append((directory.stat().st_mtime, directory))
    for _, old in sorted(finished, reverse=True)[KEEP_PREVIOUS:]:
        # Out of the way in one rename first: a process stopped while the files go (this thread
        # is not waited for) must not leave, under the version's name, a version that looks
        # whole and is not; the same id comes back when a config change is reverted. The next
        # publish sweeps what is left (`_remove_leftovers`).
        doomed = versions / f".tmp-gone-{old.name}"
        with _switching:
            if current_id(versions.parent) == old.name:
                continue  # switched back to since this collection started
            try:
                os.rename(old, doomed)
            except OSError:
                continue  # collected meanwhile
            _collecting.add(doomed)
        try:
            shutil.rmtree(doomed, ignore_errors=True)
        finally:
            with _switching:
                _collecting.discard(doomed)
