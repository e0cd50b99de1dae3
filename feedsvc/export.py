"""`feedsvc build --out`: the current version, and the pages of articles no feed shows any
more (`publish.ARCHIVE`), copied into a directory for a static host.

The directory is the operator's. They may post-process it and keep their own files in it (a
robots.txt, a CNAME, a .git). So its files are copies, never links to the version's: an edit in
place would reach every version sharing the file, under its old ETag. Each copy replaces the
file before it with a rename, so a server reading the directory never sends half a file. What
an earlier export wrote there and the site no longer has is removed (a deleted article's page,
a removed section's feeds, which would otherwise stay public, and frozen), by the record of
what each export wrote: never anything else.

The caller holds the state_dir's build lock: exports share the record, and nothing is published
meanwhile, so the version stays whole.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

from feedsvc.control import describe, not_a_directory, read_json, write_json
from feedsvc.errors import PublishError
from feedsvc.publish import Version

#: in the state_dir: the files each export wrote, by the resolved path of its directory
RECORD = "exports.json"
#: directories the record remembers, the most recently exported to; a directory is never
#: forgotten for being missing a while (a mount down), only for being unused the longest
KEEP_DIRECTORIES = 100
TEMPORARY = ".feedsvc-tmp"  #: how a copy on its way is named: `.NAME.XXXXXXXX.feedsvc-tmp`
#: a copy on its way older than this (by ctime) was left by a killed build; a younger one may
#: be another build's, into the same directory from another state_dir
STALE_NS = 600 * 10**9


def export(version: Version, out: Path, record: Path, archived: Mapping[str, Path]) -> list[str]:
    """Copy `version` into `out`, with the `archived` pages it does not have (by file, relative
    to `out`); remove what an earlier export wrote there and the site no longer has. Returns the
    files removed, relative to `out`."""
    sources = {**archived, **_files_of(version)}  # a page in the version: the version's
    files = sorted(sources)
    at = ""  # what was being written when an error came: named in its message
    try:
        out.mkdir(parents=True, exist_ok=True)
        key = str(out.resolve())
        exported = _read(record)
        before = exported.pop(key, [])
        # Recorded first with what is about to be written: a build that fails or is killed
        # halfway has written some of both, and the next one must know them all.
        _write(record, {**exported, key: sorted({*before, *files})}, out)
        for folder in sorted({out, *((out / f).parent for f in files)}):
            at = "" if folder == out else f"{folder.relative_to(out)}/"
            folder.mkdir(parents=True, exist_ok=True)
            _sweep(folder)
        for name in files:
            at = name
            _copy(sources[name], out / name)
    except OSError as e:
        where = f" at {at}" if at else ""
        why = f"{e.strerror or e}"
        if isinstance(e, (FileExistsError, NotADirectoryError)) and e.filename:
            blocking = not_a_directory(Path(e.filename))  # a file where a directory goes
            if blocking is not None:
                where, why = "", f"{'it' if blocking == out else blocking} {describe(blocking)}"
        raise PublishError(
            f"cannot write the site into {out}{where}: {why}; version {version.id} "
            "is published all the same: fix this and run the build again"
        ) from e
    keep = set(files)
    removed = [gone for gone in before if gone not in keep and _remove(out, gone)]
    # What could not be removed stays recorded, and a later build removes it once it can: a
    # directory made a link for a while, a permission, or a file not there at all, as when
    # `out` is a mount point and this build wrote onto it while the mount was down.
    _write(record, {**exported, key: sorted({*before, *files}.difference(removed))}, out)
    return removed


def _files_of(version: Version) -> dict[str, Path]:
    """Every file of a version but its manifest, by its path relative to the version."""
    resources = version.resources.values()
    names = [r.file for r in resources] + [f"{r.file}.gz" for r in resources if r.precompressed]
    return {name: version.directory / name for name in names}


def _copy(source: Path, target: Path) -> None:
    """`source` as `target`, with its mtime (nginx's Last-Modified), renamed over whatever was
    there. The temporary file is created anew (`O_EXCL`: never opened through a link that
    someone put in its place), its mode from this process's umask, as any file it writes: the
    version's may come from a refresher run with another."""
    handle, temporary = _create_temporary(target)
    try:
        with open(handle, "wb") as copy, open(source, "rb") as original:
            shutil.copyfileobj(original, copy)
            copy.flush()
            info = os.fstat(original.fileno())
            os.utime(copy.fileno(), ns=(info.st_atime_ns, info.st_mtime_ns))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _create_temporary(target: Path) -> tuple[int, Path]:
    """A new, empty file beside `target`, hidden, open for writing. Its name carries `target`'s
    cut short: a page's own may be as long as the file system allows."""
    while True:
        temporary = target.with_name(f".{target.name[:64]}.{secrets.token_hex(4)}{TEMPORARY}")
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), temporary
        except FileExistsError:  # someone's file, or a link to one: another name
            continue


def _sweep(folder: Path) -> None:
    """Remove the copies a killed build left on their way (hidden, but nginx serves them)."""
    oldest = time.time_ns() - STALE_NS
    for left in folder.glob(f".*{TEMPORARY}"):
        with contextlib.suppress(OSError):
            if left.lstat().st_ctime_ns <= oldest:
                left.unlink()


def _remove(out: Path, name: str) -> bool:
    """Remove a file an earlier export wrote, and the directories it leaves empty (up to
    `out`); whether it did. Walks down with handles that follow no link, so a directory
    replaced by a link elsewhere, even while this runs, is never removed through. Whatever
    stands in the way (the file gone, a directory in its place, a name this system refuses)
    leaves it, and the next names are removed all the same."""
    *folders, leaf = name.split("/")
    handles: list[int] = []
    try:
        handles.append(os.open(out, os.O_RDONLY | os.O_DIRECTORY))
        for folder in folders:
            flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
            handles.append(os.open(folder, flags, dir_fd=handles[-1]))
        os.unlink(leaf, dir_fd=handles[-1])
        for depth in range(len(folders), 0, -1):  # deepest first, and only while empty
            try:
                os.rmdir(folders[depth - 1], dir_fd=handles[depth - 1])
            except OSError:
                break
        return True
    except (OSError, ValueError):
        return False
    finally:
        for handle in handles:
            os.close(handle)


def _read(record: Path) -> dict[str, list[str]]:
    """What each export wrote, by directory, the least recently exported to first. Only names
    an export could have written: anyone with the state_dir can edit the record, and no name
    such as ../x may reach `_remove`. An unreadable record is an empty one: nothing is
    removed, the safe way to be wrong."""
    return {
        directory: [name for name in names if isinstance(name, str) and _exportable(name)]
        for directory, names in read_json(record).items()
        if isinstance(names, list)
    }


def _exportable(name: str) -> bool:
    """A relative path of plain names, none hidden: the shape of every file a version has."""
    parts = name.split("/")
    return "\0" not in name and all(part and not part.startswith(".") for part in parts)


def _write(record: Path, exported: dict[str, list[str]], out: Path) -> None:
    try:
        write_json(record, dict(list(exported.items())[-KEEP_DIRECTORIES:]))
    except OSError as e:
        raise PublishError(
            f"cannot record what was written into {out} in {record}: {e.strerror or e}; "
            "the site is published all the same: fix this and run the build again"
        ) from e
