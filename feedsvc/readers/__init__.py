"""Article files → `Article`s and `Problem`s. Pure: bytes in, values out.

One reader per format, chosen by file extension (`READERS`). A reader never raises on bad
input: it reports what is wrong, with the line, and returns whatever it could read.

`base` holds what every reader shares (the settings, the report, decoding, the checks of a
title); `plain` reads the plain-text format, `markdown` the Markdown one, whose front matter
`front_matter_syntax` parses (saying an author's usual YAML slips) and `front_matter` types.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable, Mapping

from feedsvc.model import Article, ReadResult
from feedsvc.readers.base import READING_CODE, ReaderSettings, Report, decode
from feedsvc.readers.front_matter import PLAUSIBLE_FROM
from feedsvc.readers.markdown import read_markdown
from feedsvc.readers.plain import read_text

__all__ = [
    "ARTICLE_SUFFIXES",
    "PLAUSIBLE_FROM",
    "READERS",
    "READING_CODE",
    "ReaderSettings",
    "read_bytes",
    "reader_for",
]

log = logging.getLogger(__name__)


def read_bytes(path: str, data: bytes, settings: ReaderSettings) -> ReadResult:
    """Read one file's bytes with the reader its extension selects."""
    report = Report(path)
    reader = reader_for(path)
    if reader is None:
        return ReadResult()
    text = decode(data, report)
    if text is None:
        return ReadResult(problems=tuple(report.problems))
    if not text.strip():
        report.add(None, "error", "the file is empty; add an article or delete the file")
        return ReadResult(problems=tuple(report.problems))
    try:
        articles = reader(path, text, settings, report)
    except Exception as e:  # feedsvc's fault, with this file: the others are read all the same
        log.exception("%s: reading it failed", path)
        what = textwrap.shorten(str(e), 80, placeholder="...")
        message = (
            f"feedsvc failed to read this file ({type(e).__name__}: {what}); what it "
            "published stays published. Please report it, with the file"
        )
        report.add(None, "error", message)
        return ReadResult(problems=tuple(report.problems))
    return ReadResult(
        tuple(articles),
        tuple(report.problems),
        tuple(report.unconfigured),
        tuple(report.sections_left_out),
    )


def reader_for(path: str) -> _ReaderFunc | None:
    suffix = path[path.rfind(".") :].lower() if "." in path else ""
    return READERS.get(suffix)


_ReaderFunc = Callable[[str, str, ReaderSettings, Report], list[Article]]

READERS: Mapping[str, _ReaderFunc] = {
    ".txt": read_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
}

#: what an article file's name ends with (in lower case)
ARTICLE_SUFFIXES = tuple(READERS)
