"""`articles/` listed by stat alone: which article files there are, their sizes and mtimes.

A scan reads no file. It lists again only the directories that changed since the last scan,
and with worker processes it shares the stats of a large archive with them (`_EarlyStats`).
`corpus.update` then reads what the listing says changed.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
import time
from array import array
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from feedsvc.model import Problem
from feedsvc.parallel import PARALLEL_FROM, Workers
from feedsvc.readers import ARTICLE_SUFFIXES, reader_for
from feedsvc.text import is_ignored, let_read


class FileStat(NamedTuple):
    """A listing's answer for one file; a tuple, so 100k of them compare at C speed."""

    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Scan:
    """What a listing of `articles/` found, without reading any file."""

    files: dict[str, FileStat]  #: relative path → size and mtime, for readable article files
    problems: tuple[Problem, ...]  #: refused links and the like, by path
    #: set when the directory itself could not be listed: nothing may be unpublished then
    failure: str | None = None
    #: subdirectories (relative, with a trailing "/") that could not be listed: what was
    #: published from under them stays published
    unreadable: tuple[str, ...] = ()
    #: the paths listed and their stats, flat as `_stat_files` gives them: the next scan tells
    #: an identical listing (the usual case) at C speed, without building `files` again
    listed: tuple[list[str], array[int]] | None = field(default=None, compare=False, repr=False)


def listed(relative: str, directory: bool = False) -> bool:
    """Whether a scan lists what is at `relative` (to `articles_dir`, as `os.path.relpath`
    gives it): an article's name, or with `directory` any name it does not skip, inside the
    directories it lists. What a watcher counts: not the churn of a hidden `.git`, nor of a
    state_dir put in there."""
    if relative == os.curdir:
        return directory
    *parents, name = relative.split(os.sep)
    if any(is_ignored(parent) for parent in parents):  # ".." too: outside `articles_dir`
        return False
    if directory:
        return not is_ignored(name)
    return name.lower().endswith(ARTICLE_SUFFIXES) and not name.startswith(".")


def scan(
    articles_dir: Path,
    workers: Workers | None = None,
    last: Scan | None = None,
    directories: dict[str, Listed] | None = None,
) -> Scan:
    """List every article file under `articles_dir` (subdirectories too), by stat alone.

    With `workers`, a worker stats part of a large archive while this process lists it and
    stats the rest: at 100k files the stats are most of a scheduled refresh (`_EarlyStats`
    says how it is shared). `last` itself is returned when nothing changed since it was
    listed, and patched where only some files changed. `directories`, kept by the caller from
    scan to scan, spares listing again a directory that has not changed since it was listed.
    """
    root = articles_dir.resolve()
    lister = _Lister(root, directories if directories is not None else {})
    last_paths = last.listed[0] if last is not None and last.listed is not None else []
    early = None
    if workers is not None and len(last_paths) >= PARALLEL_FROM:
        early = _EarlyStats(workers, root, last_paths, lister.lists_again())
    try:
        lister.directory("", root)
        found, problems, unreadable = lister.found, lister.problems, lister.unreadable
        if early is None and workers is not None and len(found) >= PARALLEL_FROM:
            early = _EarlyStats(workers, root, found, relisting=False)  # no last listing: now
        stats = early.finish(found) if early else _stat_files((str(root), "\0".join(found)))
    except OSError as e:
        return Scan({}, (), f"cannot list {articles_dir}: {e.strerror or e}{let_read(e)}")
    if directories is not None:
        directories.clear()
        directories.update(lister.listed)
    if last is not None and last.listed is not None and last.listed[0] == found:
        if (
            last.listed[1] == stats
            and last.problems == tuple(problems)
            and last.unreadable == tuple(unreadable)
        ):
            return last
        # The same paths, some stats changed (an edit): patch the last listing's files, and
        # keep its list of paths, so that `changed_paths` compares the two item by identity.
        found = last.listed[0]
        files = dict(last.files)
        for index in _differing(last.listed[1], stats):
            size, mtime = stats[2 * index], stats[2 * index + 1]
            if size >= 0:
                files[found[index]] = FileStat(size, mtime)
            else:
                files.pop(found[index], None)
    else:
        sizes, mtimes = stats[0::2], stats[1::2]
        files = {
            path: FileStat(size, mtime)
            for path, size, mtime in zip(found, sizes, mtimes, strict=True)
            if size >= 0
        }
    return Scan(files, tuple(problems), unreadable=tuple(unreadable), listed=(found, stats))


def patched(full: Scan, partial: Scan, paths: Collection[str]) -> Scan:
    """The last full listing with the files a watcher reported (`partial`, a listing of
    `paths`) brought up to date, as the next full scan will compare with it."""
    files = dict(full.files)
    for path in paths:
        files.pop(path, None)
    files.update(partial.files)
    # what the full listing said of them (a broken link since fixed or deleted) is no more
    problems = tuple(p for p in full.problems if p.path not in paths) + partial.problems
    listed = full.listed
    if listed is not None:
        # Edits keep the flat copy valid, with their new stats; a file added or removed
        # changes the paths, and the next scan then compares file by file.
        found, stats = listed[0], array("q", listed[1])
        for path in paths:
            before, now = full.files.get(path), partial.files.get(path)
            if before is not None and now is not None:
                index = found.index(path)
                stats[2 * index : 2 * index + 2] = array("q", now)
            elif before is not None or now is not None:
                listed = None
                break
        else:
            listed = (found, stats)
    return dataclasses.replace(full, files=files, problems=problems, listed=listed)


def changed_paths(before: Scan, now: Scan) -> set[str]:
    """The paths whose listing differs between two scans (new, gone, changed or refused)."""
    if before.listed is not None and now.listed is not None and before.listed[0] == now.listed[0]:
        paths = now.listed[0]
        changed = {paths[index] for index in _differing(before.listed[1], now.listed[1])}
    else:
        changed = {path for path, info in now.files.items() if before.files.get(path) != info}
        changed.update(path for path in before.files if path not in now.files)
    if now.problems != before.problems:
        changed.update(p.path for p in (*now.problems, *before.problems))
    return changed


def _differing(old: array[int], new: array[int]) -> list[int]:
    """The indexes of the files whose size or mtime differ between two flat stat arrays of the
    same paths, in order. Equal halves are skipped whole, compared in C: an edit among 100k
    files costs a millisecond, not a loop over all of them."""
    old_view, new_view = memoryview(old), memoryview(new)
    found: list[int] = []
    spans = [(0, len(new) // 2)]
    while spans:
        first, end = spans.pop()
        if old_view[2 * first : 2 * end] == new_view[2 * first : 2 * end]:
            continue
        if end - first <= 8:
            found += (
                i for i in range(first, end) if old[2 * i : 2 * i + 2] != new[2 * i : 2 * i + 2]
            )
        else:
            middle = (first + end) // 2
            spans += [(middle, end), (first, middle)]  # the first half is looked at first
    return found


#: A directory whose ctime was older than this when it was listed cannot change unseen: any
#: later change moves its ctime (kernel clocks tick in milliseconds, FAT's in 2 s).
SETTLED_NS = 3_000_000_000


class Listed(NamedTuple):
    """A directory as last listed: reused while its stat stays what it was."""

    signature: tuple[int, int, int, int]  #: device, inode, mtime and ctime when listed
    files: list[str]  #: its article files, relative to the root, in listing order
    subdirectories: list[str]  #: names, each listed (or reused) in turn


class _Lister:
    """One listing of `articles/`: the relative paths of what look like article files, by
    name alone (stat decides), and the directories the next scan may reuse."""

    def __init__(self, root: Path, known: Mapping[str, Listed]) -> None:
        self.root = root
        self.known = known
        self.listed: dict[str, Listed] = {}
        self.found: list[str] = []
        self.problems: list[Problem] = []
        self.unreadable: list[str] = []

    def lists_again(self) -> bool:
        """Whether this listing will read a directory again (one stat per known directory)."""
        if "" not in self.known:
            return True
        try:
            return any(
                _signature_of(os.stat(self.root / p)) != d.signature for p, d in self.known.items()
            )
        except OSError:
            return True

    def directory(self, prefix: str, path: Path) -> None:
        """One directory's article files, then its subdirectories'."""
        now = time.time_ns()
        info = os.stat(path)  # before listing it: a change during or after that moves the ctime
        signature = _signature_of(info)
        listed = self.known.get(prefix)
        if listed is None or listed.signature != signature:
            listed, has_links = self._list(prefix, path, signature)
            # A change in the same clock tick as the last one would keep the ctime, and a
            # link's target can change unseen: such a listing is not reused.
            if not has_links and now - info.st_ctime_ns >= SETTLED_NS:
                self.listed[prefix] = listed
        else:
            self.listed[prefix] = listed
        self.found += listed.files
        for name in listed.subdirectories:
            self._subdirectory(prefix + name, path / name)

    def _list(
        self, prefix: str, path: Path, signature: tuple[int, int, int, int]
    ) -> tuple[Listed, bool]:
        regular: list[str] = []
        others: list[os.DirEntry[str]] = []
        # Runs once per file of a directory that changed: a plain file (the usual case) costs
        # one test from the directory entry's type, and its name one suffix test below.
        with os.scandir(path) as listing:
            for item in listing:
                if item.is_file(follow_symlinks=False):
                    regular.append(item.name)
                else:
                    others.append(item)
        files = [
            prefix + name
            for name in regular
            if name.lower().endswith(ARTICLE_SUFFIXES) and not name.startswith(".")
        ]  # (an article's name is ignored only when hidden)
        if not (prefix.isascii() and all(name.isascii() for name in regular)):
            files = [path for path in files if self._named_in_utf8(path)]
        subdirectories: list[str] = []
        has_links = False
        for item in others:
            if item.is_symlink():
                has_links = True
                if not is_ignored(item.name) and self._named_in_utf8(prefix + item.name):
                    self._link(prefix + item.name, item, files)
            elif (
                item.is_dir()
                and not is_ignored(item.name)
                and self._named_in_utf8(prefix + item.name + "/")
            ):
                subdirectories.append(item.name)
        return Listed(signature, files, subdirectories), has_links

    def _named_in_utf8(self, rel: str) -> bool:
        """The store, the logs and the feeds keep names as UTF-8: a name that is not (bytes from
        another system, decoded by Python as surrogates) is reported rather than stopping the
        refresh that would store it."""
        if _in_utf8(rel):
            return True
        shown = rel.encode(errors="surrogateescape").decode(errors="backslashreplace")
        message = "the name is not valid UTF-8; rename it (feedsvc reads only UTF-8 names)"
        self.problems.append(Problem(shown, None, "error", message))
        return False

    def _link(self, rel: str, item: os.DirEntry[str], files: list[str]) -> None:
        """Followed only inside `articles/`, and never to a directory (listed where it is)."""
        try:
            target = Path(item.path).resolve(strict=True)
        except FileNotFoundError:
            self._unfollowed(rel, "points to nothing (its target is gone)")
            return
        except RuntimeError:  # a loop, before Python 3.13
            self._unfollowed(rel, "points to itself, in a loop")
            return
        except OSError as e:
            looped = e.errno == errno.ELOOP
            self._unfollowed(rel, "points to itself, in a loop" if looped else str(e.strerror))
            return
        if not target.is_relative_to(self.root):
            self.problems.append(
                Problem(rel, None, "error", "symbolic link points outside articles/; refused")
            )
        elif not target.is_dir() and reader_for(item.name) is not None:
            files.append(rel)  # a link to a file inside articles/: read where it points

    def _unfollowed(self, rel: str, why: str) -> None:
        if reader_for(rel) is not None:  # a link by another name is no article anyway
            message = f"symbolic link {why}: nothing of it is published; fix or remove it"
            self.problems.append(Problem(rel, None, "error", message))

    def _subdirectory(self, rel: str, path: Path) -> None:
        try:
            self.directory(rel + "/", path)
        except OSError as e:
            self.unreadable.append(rel + "/")
            self.problems.append(
                Problem(
                    rel,
                    None,
                    "error",
                    f"cannot read this directory: {e.strerror or e}{let_read(e)}; what was "
                    "published from it stays published until it can be read again",
                )
            )


def _in_utf8(name: str) -> bool:
    """False for bytes Python decoded as surrogates (a name from another system's encoding)."""
    if name.isascii():
        return True
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def _signature_of(info: os.stat_result) -> tuple[int, int, int, int]:
    return info.st_dev, info.st_ino, info.st_mtime_ns, info.st_ctime_ns


class _EarlyStats:
    """The stats of a large listing, shared with a worker that starts on the paths the last
    listing ended with while this process lists the archive: most scans find the same paths (an
    edit, an editor's atomic save), and listing a changed directory again costs this process
    about a third of what stat'ing its files does. So the worker takes two thirds of the stats
    then, half when nothing is listed again (or the paths are already listed).

    A stat taken before the listing is as good as one taken after: a file changed since is
    seen by the next scan, as one changed after any stat is."""

    def __init__(self, workers: Workers, root: Path, paths: list[str], relisting: bool) -> None:
        self.workers = workers
        self.root = str(root)
        self.paths = paths
        self.start = len(paths) // 3 if relisting else len(paths) // 2
        self.task = (self.root, "\0".join(paths[self.start :]))
        self.future = workers.submit(_stat_files, self.task)

    def finish(self, found: list[str]) -> array[int]:
        """The stats of `found`: the worker's where it stat'ed the same path, else this
        process's."""
        if found == self.paths:
            stats = _stat_files((self.root, "\0".join(found[: self.start])))
            stats.extend(self._theirs())
            return stats
        # Paths were added or removed: look each one up.
        theirs = self._theirs()
        done = {path: 2 * index for index, path in enumerate(self.paths[self.start :])}
        missing = [path for path in found if path not in done]
        mine = _stat_files((self.root, "\0".join(missing)))
        stats = array("q")
        next_mine = 0
        for path in found:
            at = done.get(path)
            if at is None:
                stats.extend(mine[next_mine : next_mine + 2])
                next_mine += 2
            else:
                stats.extend(theirs[at : at + 2])
        return stats

    def _theirs(self) -> array[int]:
        return self.workers.result(self.future, _stat_files, self.task)


def _stat_files(task: tuple[str, str]) -> array[int]:
    """Size and mtime of each NUL-separated path under a root: -1 for what is not (or no
    longer) a file. Flat and in bulk, so that a worker's answer for 50k files is one copy."""
    root, paths = task
    stats = array("q")
    append = stats.append
    directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for path in paths.split("\0") if paths else ():
            try:
                info = os.stat(path, dir_fd=directory)
            except OSError:
                info = None  # vanished between listing and stat: the next scan decides
            if info is not None and stat.S_ISREG(info.st_mode):
                append(info.st_size)
                append(info.st_mtime_ns)
            else:
                append(-1)
                append(-1)
    finally:
        os.close(directory)
    return stats


class Opener:
    """Opens article files by their listed paths, never one outside `articles/`.

    The listing refuses a link that points outside, but a file can become one after it was
    listed: a contributor swapping `x.md` in a loop between a story and a link to a draft kept
    outside had the draft published within a few refreshes. So no link is followed on the way
    to a file: each directory is opened without following one (and kept open for the files
    after it), then the file. A file that is a link, one the listing let in, is opened where
    it points, the same way, when that is inside. Anything swapped in meanwhile reads as gone:
    the next scan sees it, and says so.
    """

    def __init__(self, articles_dir: Path) -> None:
        self.root = articles_dir.resolve()
        self._directories: dict[str, int] = {}  #: by relative path, "" for the root

    def __enter__(self) -> Opener:
        return self

    def __exit__(self, *_: object) -> None:
        for descriptor in self._directories.values():
            os.close(descriptor)
        self._directories.clear()

    def open(self, path: str) -> int:
        """A read-only descriptor of the file at `path`, relative to `articles/`.
        FileNotFoundError where it is gone, or no longer what was listed."""
        try:
            return self._open_file(path)
        except OSError as e:
            if e.errno != errno.ELOOP:
                raise
        target = Path(os.path.realpath(self.root / path))  # a link the listing let in
        if not target.is_relative_to(self.root) or target == self.root:
            raise FileNotFoundError(errno.ENOENT, "a link to outside articles/", path)
        return self._open_file(target.relative_to(self.root).as_posix())

    def _open_file(self, path: str) -> int:
        above, _, name = path.rpartition("/")
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=self._directory(above))

    def _directory(self, path: str) -> int:
        descriptor = self._directories.get(path)
        if descriptor is not None:
            return descriptor
        if not path:
            descriptor = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        else:
            above, _, name = path.rpartition("/")
            flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
            try:
                descriptor = os.open(name, flags, dir_fd=self._directory(above))
            except OSError as e:  # a link now, or a file: not the directory listed
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise FileNotFoundError(errno.ENOENT, "no longer a directory", path) from e
                raise
        self._directories[path] = descriptor
        return descriptor


def scan_paths(articles_dir: Path, paths: Iterable[str]) -> Scan | None:
    """A listing of just these files (what a watcher reported), by one stat each.

    None when one of them needs the full scan's care: a directory, or a symbolic link.
    """
    files: dict[str, FileStat] = {}
    for path in paths:
        # as the full scan: hidden files and ignored directories (`.drafts/`) are no articles
        if not listed(path, directory=True):
            continue
        if not _in_utf8(path):
            return None  # the full scan reports it
        article = listed(path)
        try:
            info = os.lstat(articles_dir / path)
        except FileNotFoundError:
            if article:
                continue  # deleted: absent from the listing, so its entries go
            return None  # perhaps a whole directory
        except OSError:
            return None
        if stat.S_ISDIR(info.st_mode) or stat.S_ISLNK(info.st_mode):
            return None
        if article and stat.S_ISREG(info.st_mode):
            files[path] = FileStat(info.st_size, info.st_mtime_ns)
    return Scan(files, ())
