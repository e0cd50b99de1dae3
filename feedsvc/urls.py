"""URL paths shared by what renders the site and what serves it (the web side imports nothing
that renders)."""

from __future__ import annotations

#: where article pages are: ARTICLES + slug + "/"
ARTICLES = "/articles/"


def article_path(slug: str) -> str:
    return f"{ARTICLES}{slug}/"
