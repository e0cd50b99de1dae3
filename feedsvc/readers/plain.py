"""The plain-text format (`.txt`): articles one after another, each a section line, a title
line, a blank line and one paragraph per line; a related-headlines block closes the articles
above it."""

from __future__ import annotations

import re
from typing import NamedTuple

from nh3 import ALLOWED_TAGS

from feedsvc.model import Article, RelatedHeadline
from feedsvc.readers.base import ReaderSettings, Report, check_title
from feedsvc.text import markup_in, name_key, one_line

# "Europe2 weeks ago": a section name glued to a relative age, inside the related block. The
# section ends at the first of a run of blanks, never further in (`(?<!\s\s)`): `\s*` read the
# rest of the run from each, and 40,000 blanks took two minutes.
_AGE = re.compile(
    r"^(?P<section>.*?\D)(?<!\s\s)\s*(?P<age>(?:\d+|an?|one)\s+(?:second|minute|hour|day|week|month|year)s?"
    r"\s+ago|yesterday|today|just now)$",
    re.IGNORECASE,
)


#: drawn as nothing, and kept by `str.strip`: a line of them is blank to a reader, and in front
#: of a section's name (the second file's byte-order mark, where `cat` joined two) they hid the
#: line, gluing two stories into one
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def _without_zero_width_ends(line: str) -> str:
    """The line, or its text without the zero-width characters among the blanks at its ends."""
    if not any(character in line for character in _ZERO_WIDTH):
        return line
    stripped = line.strip()
    while stripped and (stripped[0] in _ZERO_WIDTH or stripped[-1] in _ZERO_WIDTH):
        stripped = stripped.strip(_ZERO_WIDTH).strip()
    return stripped


def read_text(path: str, text: str, settings: ReaderSettings, report: Report) -> list[Article]:
    """The sample's format: section line, title line, blank line, one paragraph per line."""
    lines = text.removesuffix("\n").split("\n")  # the final newline ends a line, adds none
    if any(character in text for character in _ZERO_WIDTH):
        lines = [_without_zero_width_ends(line) for line in lines]
    starts = _article_starts(lines, settings, report)
    opened = starts[0].at if starts else len(lines)
    lead = next((i for i, line in enumerate(lines[:opened]) if line.strip()), None)
    if lead is not None:
        line, message = _before_the_first_article(lines, lead, settings, found=bool(starts))
        report.add(line, "error", message)
    if not starts:
        return []
    # Each related-headlines block closes the run of articles above it: the file's last, and
    # one left inside by an article appended below it or by two files merged into one.
    closed = _blocks_inside(lines, starts, settings)
    body_end, related = _related_block(lines, starts[-1].at + 3, len(lines), settings, report)
    articles: list[Article] = []
    run: list[tuple[_Start, int]] = []  #: articles waiting for the block closing them, and ends
    for number, start in enumerate(starts):
        last = number + 1 == len(starts)
        end = body_end if last else closed.get(number, starts[number + 1].at)
        run.append((start, end))
        if number in closed:
            _, block = _related_block(lines, end, starts[number + 1].at, settings, report)
        elif last:
            block = related
        else:
            continue
        for opening, closing in run:
            at, section = opening.at, opening.section
            if opening.unconfigured:  # read, its problems unsaid: it is published nowhere
                left = _text_article(path, lines, at, closing, section, block, Report(path))
                if left is not None:
                    report.unconfigured.append(left)
                continue
            article = _text_article(path, lines, at, closing, section, block, report)
            if article is None:
                continue
            if settings.may_hold_a_section_line(article.body):
                _report_glued(lines, at, closing, article.title, settings, report)
            articles.append(article)
        run = []
    return articles


def _before_the_first_article(
    lines: list[str], first: int, settings: ReaderSettings, found: bool
) -> tuple[int, str]:
    """The error of text above a file's first article (or in a file of none), and its line:
    where it opens with a section line, the slip that kept it from being read, and its fix."""
    if settings.canonical_section(lines[first]) is None:
        sections = ", ".join(settings.sections)
        if found:
            why = f"delete it, or start an article here with a section line (one of: {sections})"
            return first + 1, f"text before the first article is not read; {why}"
        return 1, (
            f"no article found; an article starts with a section line (one of: {sections}), "
            "a title line and a blank line"
        )
    section = lines[first].strip()
    rest = [i for i in range(first + 1, len(lines)) if lines[i].strip()]
    if not rest:
        return first + 1, f"{section!r} alone: put the article's title on the next line"
    if rest[0] > first + 1:  # a blank line right below the section line
        return first + 2, _untitled_fix(section)
    if len(rest) == 1 or settings.canonical_section(lines[rest[1]]) is not None:
        return first + 2, "the article has a title but no body; add a blank line, then its text"
    return rest[1] + 1, "put a blank line between the title and the article's text"


def _untitled_fix(section: str) -> str:
    return (
        "a section line followed by a blank line: an article without its title; put its title "
        f"on the line after {section!r}"
    )


class _Start(NamedTuple):
    """A line that opens an article."""

    at: int  #: the section line's index
    section: str | None  #: None: unknown, the article refused
    #: `section` is one the config does not publish: the article is read, then left out
    unconfigured: bool = False


def _article_starts(lines: list[str], settings: ReaderSettings, report: Report) -> list[_Start]:
    starts: list[_Start] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    # An article opens two lines above a blank line: the paragraphs between are never looked at.
    for blank in [i for i, line in enumerate(lines) if not line.strip()]:
        index = blank - 2
        if _untitled(lines, index + 1, first, settings):
            # A title cleared halfway through an edit: an error, so that the file keeps what it
            # published, rather than the story taken down and its body glued to the one above.
            report.add(index + 2, "error", _untitled_fix(lines[index + 1].strip()))
            starts.append(_Start(index + 1, None))
            continue
        if index < 0 or not lines[index + 1].strip() or not lines[index].strip():
            continue
        line = lines[index]
        section = settings.canonical_section(line)
        if section is not None:
            starts.append(_Start(index, section))
        elif index == first or settings.is_retired(line):
            # Only the file's first line can open an article in an unconfigured section, and a
            # section published before; elsewhere "paragraph, paragraph, blank" is body text.
            name = line.strip()
            if settings.allow_new_sections:
                starts.append(_Start(index, name))
            elif report.not_configured(index + 1, name, settings):
                starts.append(_Start(index, name, unconfigured=True))
            else:
                starts.append(_Start(index, None))
        elif _misspelt_opening(lines, index, settings):
            # Refused, as on a file's first line: its story is never glued to the one above.
            report.not_configured(index + 1, line.strip(), settings)
            starts.append(_Start(index, None))
        else:
            _report_lookalike(lines, index, settings, report)
    return starts


def _misspelt_opening(lines: list[str], index: int, settings: ReaderSettings) -> bool:
    """A near miss of a configured section ("Midle East", "Aisa") above a title and a blank
    line (a body yet to come too: a save halfway through the story): an article whose section
    line is misspelt. Read as paragraphs, its story would be published inside the one above,
    and a feed item cannot be taken back. Not a word made of a section's name ("Americans",
    "Asian"): a subheading, in a body spaced out with blank lines, that refused would cut the
    story above short."""
    line = lines[index].strip()
    # in lower case too: a section line is read case-blind ("asia" opens an article)
    name = _reads_like_a_name(line) or (line.islower() and _reads_like_a_name(line.title()))
    if not (name and _reads_like_a_title(lines[index + 1].strip())):
        return False
    meant = settings.section_like(line, swapped=True)
    return meant is not None and not name_key(line).startswith(name_key(meant))


def _untitled(lines: list[str], index: int, first: int | None, settings: ReaderSettings) -> bool:
    """A section line above a blank line, and no section line above it (that one would open
    an article titled like a section), nor a related headline's age (it is that headline): an
    article whose title went missing, inside a body."""
    return (
        first is not None
        and index > first
        and settings.canonical_section(lines[index]) is not None
        and settings.canonical_section(lines[index - 1]) is None
        and not (
            index >= 2 and lines[index - 2].strip() == "-" and _age_line(lines[index - 1], settings)
        )
    )


def _report_lookalike(
    lines: list[str], index: int, settings: ReaderSettings, report: Report
) -> None:
    """Paragraph, paragraph, blank line inside a body, not taken for a misspelt opening (see
    `_misspelt_opening`): a near miss of a section, or an article in a section not configured,
    read as paragraphs of the article above. Said when it looks so, never guessed at."""
    line = lines[index].strip()
    if len(line) > 2 * max(map(len, settings.sections), default=0):
        return  # a paragraph, surely: no need to compare it
    meant = settings.section_like(line)
    if meant is not None:
        report.add(
            index + 1,
            "warning",
            f"{line!r} is read as a paragraph: no section is named so; if a new article starts "
            f"here, spell its section as configured ({meant!r}?)",
        )
    elif (
        _reads_like_a_name(line)
        and _reads_like_a_title(lines[index + 1].strip())
        and _headline_at(lines, index - 1, len(lines), settings) is None  # "-", "Asia2 weeks ago"
        and _body_below(lines, index + 3, settings)
    ):
        elsewhere = (
            ", or start a file with it (only a file's first line opens a section not configured)"
            if settings.allow_new_sections
            else ""
        )
        report.add(
            index + 1,
            "warning",
            f"{line!r} and the line after it are read as paragraphs of the article above: no "
            f"section is named so; if a new article starts here, add a [[sections]] entry with "
            f'name = "{line}" to config.toml{elsewhere}',
        )


def _body_below(lines: list[str], index: int, settings: ReaderSettings) -> bool:
    """A paragraph at `index`: not the file's end, a related block ("-") or the next article
    (a byline above a blank line is no article)."""
    if index >= len(lines):
        return False
    line = lines[index].strip()
    return bool(line) and line != "-" and settings.canonical_section(line) is None


def _reads_like_a_name(line: str) -> bool:
    """A section's name: a few words, capitalised, no sentence's punctuation."""
    return (
        len(line) <= 30
        and len(line.split()) <= 3
        and line[0].isupper()
        and not any(mark in line for mark in '.,;:!?"“”')
    )


def _reads_like_a_title(line: str) -> bool:
    """A headline ends without the period a paragraph ends with, but for an abbreviation's
    ("China overtakes the U.S.")."""
    end = line.rstrip("\"\u201d\u2019')")
    return not end.endswith((".", ",", ";", ":")) or _ABBREVIATION.search(end) is not None


#: "U.S.", "a.m.": a word of single letters each followed by a period
_ABBREVIATION = re.compile(r"(?:^|\s)(?:\w\.){2,}$")


def _report_glued(
    lines: list[str],
    start: int,
    end: int,
    title: str,
    settings: ReaderSettings,
    report: Report,
) -> None:
    """A section line inside a body, above a line of text: an article whose blank line after
    the title is missing, read as paragraphs of the one above. Said, not guessed at."""
    for index in range(start + 3, end - 1):
        if settings.canonical_section(lines[index]) and lines[index + 1].strip():
            report.add(
                index + 1,
                "warning",
                f"a section line inside the article {title!r}, read as one of its paragraphs; "
                "if a new article starts here, put a blank line after its title",
            )


def _text_article(
    path: str,
    lines: list[str],
    start: int,
    end: int,
    section: str | None,
    related: tuple[RelatedHeadline, ...],
    report: Report,
) -> Article | None:
    if section is None:
        return None
    title_line = start + 2  # 1-based number of the title line
    written = lines[start + 1]
    if not written.isascii():  # Unicode's line separators, which readers break a title at
        written = one_line(written)
    title = report.clean(written.strip(), title_line, "the title")
    body = lines[start + 3 : end]
    if report.dirty:  # only then can a paragraph lose characters (and be left empty)
        cleaned = (
            report.clean(line.strip(), number, "a paragraph")
            for number, line in enumerate(body, start=start + 4)
            if line.strip()
        )
        paragraphs = [p for p in cleaned if p]
    else:
        paragraphs = [stripped for line in body if (stripped := line.strip())]
    if not paragraphs:
        report.add(
            start + 1,
            "error",
            f"article {title!r} has a title but no body; add paragraphs after the blank line",
        )
        return None
    if not title:
        message = "the title is empty after removing control characters; write a title"
        report.add(title_line, "error", message)
        return None
    if not check_title(title, title_line, report):
        return None
    text = "\n".join(paragraphs)
    if "<" in text or "&" in text:
        _say_markup_in_body(body, start + 4, report)
    return Article(
        path=path,
        line=start + 1,
        section=section,
        title=title,
        body=text,
        body_format="text",
        related=related,
    )


#: the tags a writer may have pasted into a body: those HTML readers keep (`nh3`'s), and those
#: they remove; `<Enter>`, `<desk@example.org>` or `x<y and y>z` are text to them too
_ELEMENTS = frozenset(ALLOWED_TAGS) | {
    *("script", "style", "iframe", "object", "embed", "form", "input", "button", "select"),
    *("html", "head", "body", "meta", "link", "title", "font", "center", "svg", "math"),
}


def _say_markup_in_body(body: list[str], first: int, report: Report) -> None:
    """A .txt body is text, shown as written: '&amp;' copied from a web page is shown to readers
    so, '<b>' and '<!-- a note -->' too. Said once an article, where it first is."""
    for number, line in enumerate(body, start=first):
        found = markup_in(line, _ELEMENTS)
        if found is not None:
            message = (
                f"a paragraph holds {found!r}, which readers are shown as written: a .txt "
                "article is plain text ('&' for '&amp;'; markup, and notes, belong elsewhere: "
                "a Markdown file takes markup)"
            )
            report.add(number, "warning", message)
            return


def _blocks_inside(
    lines: list[str], starts: list[_Start], settings: ReaderSettings
) -> dict[int, int]:
    """Blocks above the last article, by the number of the article they end, and where each
    starts. Only a whole block of configured sections counts here: "-", then "The vote is
    expected today", then a line, is text inside an article, where the file's last block is
    looked for more leniently."""
    if "-" not in map(str.strip, lines[: starts[-1].at]):
        return {}  # the usual file: no "-" line above its last article (~1 µs to know)
    closed = {}
    for number, start in enumerate(starts[:-1]):
        end = starts[number + 1].at
        while not lines[end - 1].strip():
            end -= 1
        block = next(
            (i for i in range(start.at + 3, end) if _whole_block(lines, i, end, settings)),
            None,
        )
        if block is not None:
            closed[number] = block
    return closed


def _whole_block(lines: list[str], start: int, end: int, settings: ReaderSettings) -> bool:
    """Whether lines[start:end] are all headlines of a related block, of configured sections
    (blank lines between them, as the file's last block may have)."""
    index = start
    while index < end:
        found = _headline_at(lines, index, end, settings)
        if found is None or settings.canonical_section(found[0]["section"]) is None:
            return False
        index += 3
        while index < end and not lines[index].strip():
            index += 1
    return True


def _headline_at(
    lines: list[str], index: int, end: int, settings: ReaderSettings
) -> tuple[re.Match[str], str] | None:
    """The age line's match and the title of the headline at `index` ("-", "<Section><age>
    ago", "<headline>"), if one is there, before `end`."""
    if index + 2 >= end or lines[index].strip() != "-":
        return None
    match = _age_line(lines[index + 1], settings)
    title = lines[index + 2].strip()
    return (match, title) if match is not None and title else None


def _age_line(line: str, settings: ReaderSettings) -> re.Match[str] | None:
    """`<Section><age>`, written together as the format has it ("Europe2 weeks ago", "World
    news3 days ago"), or apart for a section the site knows ("Europe 2 weeks ago"). A sentence
    that ends in "today" ("The final communique was published today") is no age line."""
    match = _AGE.match(line.strip())
    if match is None:
        return None
    section = match["section"].strip()
    # together: a number of days after a name, not "Canad|a years ago", "2,|700 years ago"
    if match.start("age") == match.end("section") and match["age"][0].isdigit():
        return match if not _NUMBER_CUT.search(section) else None
    known = settings.canonical_section(section) is not None or settings.is_retired(section)
    return match if known else None


#: what the age's digits would continue: "2,700 years ago", "1.5 years ago"
_NUMBER_CUT = re.compile(r"\d[.,]$")


def _related_block(
    lines: list[str], after: int, end: int, settings: ReaderSettings, report: Report
) -> tuple[int, tuple[RelatedHeadline, ...]]:
    """Where the related-headlines block in lines[after:end] starts (`end`: no block), and its
    headlines."""
    start = next(
        (
            i
            for i in range(after, end - 1)
            if lines[i].strip() == "-" and _age_line(lines[i + 1], settings)
        ),
        end,
    )
    headlines: list[RelatedHeadline] = []
    index = start
    while index < end:
        if not lines[index].strip():
            index += 1
            continue
        found = _headline_at(lines, index, end, settings)
        if found is None:
            report.add(
                index + 1,
                "warning",
                "unexpected line in the related-headlines block (expected '-', "
                "'<Section><age> ago', '<headline>'); ignored",
            )
            index += 1
            continue
        match, title = found
        headlines.append(
            RelatedHeadline(
                section=match["section"].strip(),
                age=match["age"],
                title=report.clean(title, index + 3, "a related headline"),
            )
        )
        index += 3
    return start, tuple(headlines)
