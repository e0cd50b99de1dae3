"""URL paths shared by what renders the site and what serves it (the web side imports nothing
that renders)."""

from __future__ import annotations

from urllib.parse import urlsplit

#: where article pages are: ARTICLES + slug + "/"
ARTICLES = "/articles/"
#: what every page is sent as
PAGE_TYPE = "text/html; charset=utf-8"


def base_path(base_url: str) -> str:
    """base_url's path, which every link starts with (`/news` of `https://example.org/news`)."""
    return urlsplit(base_url).path.rstrip("/")


def article_path(slug: str) -> str:
    return f"{ARTICLES}{slug}/"


def article_slug(path: str) -> str | None:
    """The slug of an article page's path, None for any other path (or a hidden name)."""
    slug = path.removeprefix(ARTICLES).removesuffix("/")
    if len(slug) + len(ARTICLES) + 1 != len(path) or not slug or "/" in slug:
        return None
    return None if slug.startswith(".") else slug
