"""URL paths shared by what renders the site and what serves it (the web side imports nothing
that renders)."""

from __future__ import annotations

import ipaddress
import logging
import re
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

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


def say_other_port(base_url: str, port: int) -> None:
    """Served on this machine while base_url names another port of it: every link in the feeds
    and pages leads to the other port. (Behind a proxy, base_url names the proxy's port, or
    none, and differs from the one served on, as it should.)"""
    url = urlsplit(base_url)
    named = url.port  # none named: a proxy's default port (nginx on 80), not this one's
    if named is not None and url.hostname and _this_machine(url.hostname) and named != port:
        host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname
        log.warning(
            "site.base_url is %s, on port %d, and this serves on port %d: every link in the "
            "feeds and pages leads there; unless a proxy there forwards to this port, set it "
            "to %s",
            base_url,
            named,
            port,
            urlunsplit(url._replace(netloc=f"{host}:{port}")),
        )


def say_local_base_url(base_url: str) -> None:
    """The Procfile's refresher deployed with the config that `make serve` ships: readers
    elsewhere cannot follow a link to this machine, and every entry first published meanwhile
    keeps an id minted from its host for good."""
    host = urlsplit(base_url).hostname
    if host is not None and _this_machine(host):
        log.warning(
            "site.base_url is %s, which only this machine can reach: readers elsewhere cannot "
            "follow the feeds' links, and each entry first published keeps an id of that host "
            "(tag:%s,...) for good; set site.base_url to the site's public address before "
            "readers subscribe",
            base_url,
            host,
        )


def _this_machine(host: str) -> bool:
    """A loopback address, or a name of one (RFC 6761: `localhost` and below it, absolute with
    a trailing dot too), or the unspecified address a server binds (`0.0.0.0`, copied from the
    Procfile): none leads a reader elsewhere here."""
    host = host.removesuffix(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1, which Python 3.11 does not look into
    return address.is_loopback or address.is_unspecified


def canonical(url: str) -> str:
    """A URL with a host, as feed validators compare URLs (RFC 3986, 6.2.2): the W3C validator
    warns of every id and link given otherwise. `HTTPS://News.Example.org:443/%7eDesk/./a` is
    `https://news.example.org/~Desk/a`, `http://example.org` is `http://example.org/`. Raises
    ValueError for a port out of range."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    elif host.endswith(".") and "." in host[:-1]:  # the root's dot: the same host
        host = host[:-1]
    default = 443 if parts.scheme.lower() == "https" else 80
    netloc = host if parts.port in (None, default) else f"{host}:{parts.port}"
    if "@" in parts.netloc:
        netloc = f"{parts.netloc.rpartition('@')[0]}@{netloc}"
    path, query, fragment = (
        _ESCAPED.sub(_unescaped_if_unreserved, part)
        for part in (_without_dot_segments(parts.path) or "/", parts.query, parts.fragment)
    )
    return urlunsplit((parts.scheme.lower(), netloc, path, query, fragment))


_ESCAPED = re.compile(r"%[0-9A-Fa-f]{2}")


def _unescaped_if_unreserved(escaped: re.Match[str]) -> str:
    character = chr(int(escaped.group()[1:], 16))
    unreserved = character.isascii() and (character.isalnum() or character in "-._~")
    return character if unreserved else escaped.group().upper()


def _without_dot_segments(path: str) -> str:
    """RFC 3986, 5.2.4: `/a/./b/../c` is `/a/c`, `/a/b/..` is `/a/`."""
    segments = path.split("/")
    kept: list[str] = []
    for number, segment in enumerate(segments, start=1):
        if segment == "..":
            if len(kept) > 1:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
            continue
        if number == len(segments):  # the directory it names, as a path ending in "/"
            kept.append("")
    return "/".join(kept)
