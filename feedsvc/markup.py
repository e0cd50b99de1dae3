"""Article bodies → safe HTML and plain-text summaries.

Called only for entries that are shown (the newest `max_entries` of a feed), never for the whole
archive: rendering is the expensive part of a build.
"""

from __future__ import annotations

import functools
import html

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from feedsvc.model import BodyFormat


@functools.cache
def _markdown() -> MarkdownIt:
    # CommonMark with raw HTML off: `<script>` in an article is shown as text, never run. The
    # preset stops at 20 nested blocks and drops the rest of the article: 10 nested list
    # levels reach it, so the limit is markdown-it's own default's, 100.
    options = {"html": False, "maxNesting": 100}
    return MarkdownIt("commonmark", options).enable(["table", "strikethrough"])


def _is_question(paragraph: str) -> bool:
    """Interview questions are short paragraphs ending in a question mark (Latin, full-width
    as in Chinese and Japanese, or Arabic); they are shown in bold."""
    return paragraph.endswith(("?", "\uff1f", "\u061f")) and len(paragraph) <= 300


def to_html(body: str, body_format: BodyFormat, base: str) -> str:
    """The body as sanitized HTML, one block element per line; relative links made absolute
    against `base` (the article's URL), as its page resolves them: feed readers resolve them
    against the feed's URL, or not at all."""
    if body_format == "text":
        blocks = []
        for paragraph in body.split("\n"):
            escaped = html.escape(paragraph, quote=False)
            if _is_question(paragraph):
                escaped = f"<strong>{escaped}</strong>"
            blocks.append(f"<p>{escaped}</p>")
        return "\n".join(blocks)
    markdown = _markdown()
    rendered = markdown.renderer.render(list(_parse(body)), markdown.options, {})
    cleaned = nh3.clean(
        rendered,
        link_rel="noopener nofollow",
        url_relative=("rewrite_with_base", base),
        tag_attribute_values=_CELL_ALIGNMENTS,
    )
    return str(cleaned).strip()


#: a table column's alignment, as markdown-it writes it (raw HTML is off: no other style)
_ALIGNED = {f"text-align:{side}" for side in ("left", "center", "right")}
_CELL_ALIGNMENTS = {"th": {"style": _ALIGNED}, "td": {"style": _ALIGNED}}


@functools.lru_cache(maxsize=16)
def _parse(body: str) -> tuple[Token, ...]:
    """A shown entry's body is parsed once for its summary and its HTML, not twice."""
    return tuple(_markdown().parse(body))


def first_paragraph(body: str, body_format: BodyFormat) -> str:
    """Plain text of the first paragraph: the default summary. Not a table's first cell or a
    heading, unless the body has no paragraph; struck-through text (a correction) left out."""
    if body_format == "text":
        return body.split("\n", 1)[0]
    tokens = _parse(body)
    fallback = ""
    for before, token in zip((None, *tokens), tokens, strict=False):
        if token.type != "inline" or token.children is None:
            continue
        text = _plain_text(token.children)
        if text and before is not None and before.type == "paragraph_open":
            return text
        fallback = fallback or text
    return fallback


def _plain_text(children: list[Token]) -> str:
    struck = 0
    parts = []
    for child in children:
        struck += {"s_open": 1, "s_close": -1}.get(child.type, 0)
        if struck:
            continue
        if child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
    return " ".join("".join(parts).split())
