"""The Markdown format (`.md`, `.markdown`): front matter (`front_matter`), then a Markdown
body, in which what a feed would show wrong is said."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from nh3 import ALLOWED_URL_SCHEMES

from feedsvc.model import Article
from feedsvc.readers.base import ReaderSettings, Report, check_title
from feedsvc.readers.front_matter import FrontMatter
from feedsvc.readers.front_matter_syntax import has_forbidden_value, parse_front_matter


def read_markdown(path: str, text: str, settings: ReaderSettings, report: Report) -> list[Article]:
    """Front matter (TOML between +++ or YAML between ---), then a Markdown body."""
    lines = text.split("\n")
    fence = lines[0].strip()
    if fence not in ("+++", "---"):
        opening = next((i for i, line in enumerate(lines) if line.strip()), 0)
        if lines[opening].strip() in ("+++", "---"):
            blank = "blank line" if opening == 1 else "blank lines"
            message = f"the front matter must open on line 1: remove the {blank} above it"
            report.add(opening + 1, "error", message)
        else:
            message = "no front matter; start the file with '---' (YAML) or '+++' (TOML)"
            report.add(1, "error", message)
        return []
    # At the start of its line: an indented `---` is inside a value (a YAML block string).
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() == fence), None)
    if close is None:
        message = (
            f"the front matter opened with {fence!r} is never closed; end it with a line of "
            f"{fence!r} above the body"
        )
        report.add(1, "error", message)
        return []
    source = "\n".join(lines[1:close])
    meta = parse_front_matter(source, fence, report)
    if meta is None:
        return []
    # A YAML or TOML escape ("\a", "\u0007") makes a character the file's bytes do not have.
    if not report.dirty and "\\" in source:
        report.dirty = has_forbidden_value(meta)
    fields = FrontMatter(meta, lines[1:close], settings, report, yaml=fence == "---")
    body = report.clean("\n".join(lines[close + 1 :]).strip("\n"), close + 2, "the body")
    # Images, comments and links, looked for where the body has a bracket or an angle: a
    # search for two characters is ten times slower than for one in text that is not ASCII,
    # and a body of neither (most) is read for none of them.
    bracket, angle = "[" in body, "<" in body
    if bracket and "![" in body:
        _say_relative_images(lines, close + 1, report)
    if angle and "<!--" in body:
        _say_comments(lines, close + 1, report)
    if angle or (bracket and ("](" in body or "]:" in body)):
        _say_addresses_left_out(lines, close + 1, report)
    fields.not_a_draft()
    section = fields.section()
    title = fields.text("title", required=True, single_line=True)
    if title and not check_title(title, fields.line("title"), report):
        title = None
    article_fields = {
        "date": fields.datetime("date"),
        "updated": fields.datetime("updated"),
        "author": fields.author(),
        "summary": fields.summary(),
        "id": fields.uri("id"),
        "slug": fields.slug("slug"),
        "tags": fields.tags(),
    }
    dated, updated = article_fields["date"], article_fields["updated"]
    if isinstance(dated, datetime) and isinstance(updated, datetime) and updated < dated:
        message = "'updated' is before 'date': no story is updated before it is out; ignored"
        report.add(fields.line("updated"), "warning", message)
    if not body.strip():
        report.add(
            close + 2,
            "error",
            "the article has no body; add text after the front matter",
        )
        return []
    named = section if section is not None else fields.unconfigured_section
    if fields.failed or not title or named is None:
        return []
    article = Article(
        path=path,
        line=1,
        section=named,
        title=title,
        body=body,
        body_format="markdown",
        key_lines=fields.key_lines(),
        **article_fields,  # type: ignore[arg-type]
    )
    if section is None:  # in a section the config does not publish
        report.unconfigured.append(article)
        return []
    return [article]


#: `![alt](img/map.png)`, `![alt](<my map.png>)`: where an image's address is. Brackets in the
#: alt text, as CommonMark takes them, balanced (`![map [2025]](m.png)`): one running on to the
#: line's end from each `![` took a minute for a line of them.
_IMAGE = re.compile(r"!\[(?:[^\][]|\[[^\][]*\])*\]\(\s*(?:<([^>]*)>|([^)\s]+))")
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:|/|#")


def _say_relative_images(lines: list[str], first: int, report: Report) -> None:
    """feedsvc publishes no images: one beside the article's file is a broken image in every
    feed reader and on its page. (A root-relative one may be served by the site's own server.)"""
    for number, line in enumerate(lines[first:], start=first + 1):
        for found in _IMAGE.finditer(line):
            address = found.group(1) if found.group(1) is not None else found.group(2)
            if not _ABSOLUTE.match(address):  # a path relative to the article's page
                report.add(
                    number,
                    "warning",
                    f"image {address!r} is relative to the article's page, where feedsvc "
                    "publishes no images; give its absolute URL (https://...)",
                )


#: a link's (or an image's) address that starts with a scheme, where it starts: inline
#: (`[a](x:...)`), an autolink (`<x:...>`), a reference definition (`[a]: x:...`; not a
#: paragraph such as `[Update]: Correction: ...`, whose colon a blank follows)
_SCHEMED = re.compile(
    r"\]\(\s*<?([A-Za-z][A-Za-z0-9+.-]*):"
    r"|<([A-Za-z][A-Za-z0-9+.-]{1,31}):[^\s<>]*>"
    r"|^\[[^\]]+\]:\s*<?([A-Za-z][A-Za-z0-9+.-]*):(?!\s|$)"
)
#: a code span: what is in it is code, shown as written on purpose
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+\1")


def _say_addresses_left_out(lines: list[str], first: int, report: Report) -> None:
    """A link's address is published only with a scheme feed readers take safely (`nh3`'s:
    http, https, mailto, tel...): a urn: or git: link was published as its text alone, a
    javascript:, file: or data: one as the Markdown written (markdown-it refuses them)."""
    # An indented line may be a list item's paragraph, not code: looked at (rv38b).
    for number, text in _outside_code(lines, first, indented=False):
        for found in _SCHEMED.finditer(_CODE_SPAN.sub("", text) if "`" in text else text):
            scheme = next(group for group in found.groups() if group).lower()
            if scheme not in ALLOWED_URL_SCHEMES:
                report.add(
                    number,
                    "warning",
                    f"a link to a {scheme}: address is published without it, as text alone or "
                    "as the Markdown written: feeds keep http, https, mailto, tel and a few more; "
                    "link to a web page instead",
                )
                break


def _say_comments(lines: list[str], first: int, report: Report) -> None:
    """Raw HTML is off: an editor's `<!-- note -->` is published as text, for every reader to
    see (one in code is code, shown on purpose)."""
    for number, text in _outside_code(lines, first):
        if text.startswith("<!--"):
            report.add(
                number,
                "warning",
                "an HTML comment is published as text, for readers to see (raw HTML is off); "
                "remove it, or keep notes out of the article",
            )


def _outside_code(lines: list[str], first: int, indented: bool = True) -> Iterator[tuple[int, str]]:
    """The body's lines that are not code, by number, their indent taken off: a code block is
    in a fence, or (`indented`) indented four columns where no paragraph goes on (an indented
    line continues a paragraph above it; one in a list item, this does not tell)."""
    fence = ""  #: the fence of the code block the line is in
    paragraph = False  #: the line above is a paragraph's, which an indented line continues
    for number, line in enumerate(lines[first:], start=first + 1):
        text = line.expandtabs(4).lstrip()
        indent = len(line.expandtabs(4)) - len(text)
        found = _fence_of(text) if indent < 4 else None
        if fence:  # closed by the same character, as many or more times, and nothing else
            if found and found[0].startswith(fence) and not found[1].strip():
                fence = ""
            continue
        if found:
            fence, paragraph = found[0], False
            continue
        code = indented and bool(text) and indent >= 4 and not paragraph
        if code or not text:
            paragraph = False
            continue
        yield number, text
        # An indented line only continues the paragraph. A heading or a rule ends what an
        # indented line below could continue, and so does an underline below a paragraph.
        if indent < 4:
            paragraph = not (
                _HEADING_OR_RULE.match(text) or (paragraph and _UNDERLINE.fullmatch(text))
            )


#: an ATX heading, or a thematic break (three or more of one of -, * and _)
_HEADING_OR_RULE = re.compile(r"#{1,6}(\s|$)|([-*_])(\s*\2){2,}\s*$")
#: what turns the paragraph above into a setext heading
_UNDERLINE = re.compile(r"(=+|-+)\s*")


def _fence_of(text: str) -> tuple[str, str] | None:
    """A CommonMark code fence, and its info string: three or more backticks (with no backtick
    after them: that is inline code) or tildes."""
    found = _FENCE.fullmatch(text)
    if found is None:
        return None
    return (found[1], found[2]) if found[1] else (found[3], found[4])


_FENCE = re.compile(r"(`{3,})([^`]*)|(~{3,})(.*)")
