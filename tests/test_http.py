"""HTTP behaviour through a real server on loopback (`feedsvc serve`, as a newcomer runs it)."""

from __future__ import annotations

import fcntl
import functools
import gzip
import http.client
import re
import signal
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from lxml import etree

from feedsvc.app import PAGE_POLICY
from tests.conftest import SAMPLE, Site, config_text
from tests.servers import (
    BIN,
    Process,
    Server,
    feedsvc,
    free_port,
    get,
    gunicorn,
    serve,
    wait_for,
)

MARKUP_TITLE = "Asia\n<script>alert('x')</script> & <b>bold</b> claims\n\nBody <i>text</i>.\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("http")
    (root / "articles").mkdir()
    site = Site(root)
    site.write(SAMPLE.name, SAMPLE.read_bytes())  # dated 2025: feeds carry no build time
    site.write("markup.txt", MARKUP_TITLE, mtime=1_760_000_000)
    (root / "config.toml").write_text(config_text(), encoding="utf-8")
    running = serve(root / "config.toml", root / "serve.log")
    try:
        running.wait_until("/feeds/all.atom")
        yield running
    finally:
        running.stop()


def fetch(
    server: Server, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[http.client.HTTPResponse, bytes]:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def serving(site: Site, running: list[Process], path: str) -> Server:
    """`feedsvc serve` of `site`, once it answers `path`."""
    server = serve(site.config_path, site.root / "serve.log")
    running.append(server)
    server.wait_until(path)
    return server


def test_a_feed_is_served_with_its_caching_headers(server: Server) -> None:
    response, body = fetch(server, "/feeds/all.atom")
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/atom+xml; charset=utf-8"
    assert response.getheader("ETag", "").startswith('"')
    # the feed's own <updated> (its newest entry's), never the time it was built or served
    updated = etree.fromstring(body).findtext("{http://www.w3.org/2005/Atom}updated") or ""
    last_modified = parsedate_to_datetime(response.getheader("Last-Modified", ""))
    assert last_modified == datetime.fromisoformat(updated).replace(microsecond=0)
    assert response.getheader("Cache-Control") == "public, max-age=300"
    assert response.getheader("Vary") == "Accept-Encoding"
    assert body.startswith(b"<?xml") and response.getheader("Content-Encoding") is None


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/feeds/america.rss", "application/rss+xml; charset=utf-8"),
        ("/feeds/middle-east.json", "application/feed+json"),
        ("/feeds.opml", "text/x-opml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/sections/asia/", "text/html; charset=utf-8"),
        ("/articles/script-alert-x-script-b-bold-b-claims/", "text/html; charset=utf-8"),
    ],
)
def test_content_types_are_sent_never_to_be_sniffed_and_pages_with_their_policy(
    server: Server, path: str, content_type: str
) -> None:
    for encoding in ("identity", "gzip"):
        response, _ = fetch(server, path, headers={"Accept-Encoding": encoding})
        assert response.status == 200
        assert response.getheader("Content-Type") == content_type
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        policy = response.getheader("Content-Security-Policy")
        assert policy == (PAGE_POLICY if content_type.startswith("text/html") else None)
    assert "default-src 'none'" in PAGE_POLICY and "script" not in PAGE_POLICY


def test_if_none_match_gives_304_with_etag_and_no_body(server: Server) -> None:
    first, _ = fetch(server, "/feeds/america.atom")
    etag = first.getheader("ETag", "")
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response, body = fetch(server, "/feeds/america.atom", headers={"If-None-Match": header})
        assert response.status == 304, header
        assert body == b""
        assert response.getheader("ETag") == etag
        assert response.getheader("Cache-Control") == "public, max-age=300"
    response, body = fetch(server, "/feeds/america.atom", headers={"If-None-Match": '"nope"'})
    assert response.status == 200 and body


def test_if_match_that_does_not_match_is_412_never_304(server: Server) -> None:
    first, _ = fetch(server, "/feeds/america.atom")
    etag = first.getheader("ETag", "")
    for header, status in ((etag, 200), ("*", 200), ('"other"', 412), (f"W/{etag}", 412)):
        response, body = fetch(server, "/feeds/america.atom", headers={"If-Match": header})
        assert response.status == status, header  # W/: If-Match compares strongly
        assert body.startswith(b"<?xml") if status == 200 else len(body) < 100


def test_if_modified_since(server: Server) -> None:
    first, _ = fetch(server, "/feeds/all.rss")
    last_modified = parsedate_to_datetime(first.getheader("Last-Modified", ""))
    later = format_datetime(last_modified + timedelta(hours=1), usegmt=True)
    earlier = format_datetime(last_modified - timedelta(hours=1), usegmt=True)
    for since, status in (
        (first.getheader("Last-Modified", ""), 304),
        (later, 304),
        (earlier, 200),
    ):
        response, _ = fetch(server, "/feeds/all.rss", headers={"If-Modified-Since": since})
        assert response.status == status, since
    # If-None-Match takes precedence: a stale ETag means 200 whatever the date says.
    response, _ = fetch(
        server, "/feeds/all.rss", headers={"If-None-Match": '"stale"', "If-Modified-Since": later}
    )
    assert response.status == 200


def test_an_entry_dated_before_the_newest_moves_last_modified(
    site: Site, running: list[Process]
) -> None:
    """For clients that send only If-Modified-Since: the feed changed, so it is later, though
    its newest entry (and its own <updated>) did not."""
    site.write("new.txt", "Asia\nThe newest story\n\nBody.\n", mtime=1_760_000_000)
    server = serving(site, running, "/feeds/all.rss")
    first, _ = fetch(server, "/feeds/all.rss")
    since = first.getheader("Last-Modified", "")
    site.write("old.txt", "Europe\nFound in the archive\n\nBody.\n", mtime=1_700_000_000)
    assert feedsvc("refresh", "--config", str(site.config_path)).returncode == 0
    wait_for(
        lambda: fetch(server, "/feeds/all.rss")[0].getheader("ETag") != first.getheader("ETag"),
        "the new version served",
    )
    response, body = fetch(server, "/feeds/all.rss", headers={"If-Modified-Since": since})
    assert response.status == 200 and b"Found in the archive" in body
    moved = parsedate_to_datetime(response.getheader("Last-Modified", ""))
    assert moved > parsedate_to_datetime(since)


def test_a_last_modified_sent_back_is_a_304_when_the_entry_is_dated_within_a_second(
    site: Site, running: list[Process]
) -> None:
    """HTTP dates have whole seconds; an entry dated by a file saved at 10:00:00.25 is not
    "modified since" the 10:00:00 its feed's Last-Modified says, nor modified after it for an
    If-Unmodified-Since."""
    site.write("fraction.txt", "Asia\nSaved between two seconds\n\nBody.\n", mtime=1_760_000_000.25)
    server = serving(site, running, "/feeds/asia.rss")
    first, _ = fetch(server, "/feeds/asia.rss")
    since = first.getheader("Last-Modified", "")
    assert parsedate_to_datetime(since).timestamp() == 1_760_000_000
    response, body = fetch(server, "/feeds/asia.rss", headers={"If-Modified-Since": since})
    assert response.status == 304 and body == b""
    response, _ = fetch(server, "/feeds/asia.rss", headers={"If-Unmodified-Since": since})
    assert response.status == 200


@pytest.mark.parametrize(
    "since",
    [
        "Thu, 26 Nov 99999999999999999999 15:28:42 GMT",  # too large for the C library
        "Thu, 26 Nov 9223372036854775807 15:28:42 GMT",
        "yesterday",
        "",
        "Thu, 01 Jan 2099 00:00:00 GMT, Fri, 01 Jan 2010 00:00:00 GMT",  # two: which one?
        "Thu Jan  1 00:00:00 2099, Fri Jan  1 00:00:00 2010",  # two in asctime's form
    ],
)
def test_a_date_that_is_not_one_is_ignored_never_a_500(server: Server, since: str) -> None:
    """RFC 9110, 13.1.3 and 13.1.4: a recipient ignores a conditional date it cannot read."""
    plain, plain_body = fetch(server, "/feeds/all.atom")
    for header in ("If-Modified-Since", "If-Unmodified-Since"):
        response, body = fetch(server, "/feeds/all.atom", headers={header: since})
        assert (response.status, body) == (200, plain_body), header
    response, body = fetch(
        server,
        "/feeds/all.atom",
        headers={"If-Modified-Since": since, "If-None-Match": plain.getheader("ETag", "")},
    )
    assert response.status == 304


def test_if_unmodified_since_before_the_last_change_is_412(server: Server) -> None:
    first, body = fetch(server, "/feeds/all.rss")
    last_modified = parsedate_to_datetime(first.getheader("Last-Modified", ""))
    for moment, status in (
        (last_modified, 200),
        (last_modified + timedelta(hours=1), 200),
        (last_modified - timedelta(seconds=1), 412),
    ):
        since = format_datetime(moment, usegmt=True)
        response, answer = fetch(server, "/feeds/all.rss", headers={"If-Unmodified-Since": since})
        assert response.status == status, since
        assert answer == body if status == 200 else len(answer) < 100
    # If-Match, when sent, decides instead (RFC 9110, 13.2.2)
    earlier = format_datetime(last_modified - timedelta(hours=1), usegmt=True)
    response, _ = fetch(
        server,
        "/feeds/all.rss",
        headers={"If-Match": first.getheader("ETag", ""), "If-Unmodified-Since": earlier},
    )
    assert response.status == 200


@pytest.mark.parametrize(
    ("accept_encoding", "gzipped"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("GZIP", True),  # codings are case-insensitive (RFC 9110, 8.4.1)
        ("x-gzip", True),  # 8.4.1.3: the same as gzip
        ("br;q=1, x-gzip", True),
        ("*", True),
        ("*, identity;q=0", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("gzip;q=0", False),  # q=0: "not acceptable" (12.4.2)
        ("gzip;Q=0", False),
        ("gzip;q=0, *", False),  # named beats the wildcard
        ("gzip;q=abc", False),  # a malformed weight is no consent
        ("*;q=0", False),
        ("notgzip", False),
        ("gzipx", False),
        ("br, deflate", False),
        ("identity", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_as_rfc_9110_says(
    server: Server, accept_encoding: str, gzipped: bool
) -> None:
    _, plain_body = fetch(server, "/feeds/all.atom")
    response, body = fetch(server, "/feeds/all.atom", headers={"Accept-Encoding": accept_encoding})
    assert response.status == 200
    assert response.getheader("Vary") == "Accept-Encoding"
    assert (response.getheader("Content-Encoding") == "gzip") == gzipped
    assert (gzip.decompress(body) if gzipped else body) == plain_body


@pytest.mark.parametrize("path", ["/feeds/all.atom", "/feeds/asia.rss", "/feeds/all.json", "/"])
def test_gzip_is_the_stored_bytes_with_their_own_etag(server: Server, path: str) -> None:
    plain, plain_body = fetch(server, path)
    zipped, zipped_body = fetch(server, path, headers={"Accept-Encoding": "gzip"})
    assert zipped.getheader("Content-Encoding") == "gzip"
    assert zipped.getheader("Vary") == "Accept-Encoding"
    assert gzip.decompress(zipped_body) == plain_body
    assert zipped_body[4:8] == b"\0\0\0\0"  # mtime=0: the same bytes every build
    assert zipped.getheader("ETag") != plain.getheader("ETag")
    again, body = fetch(
        server,
        path,
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.getheader("ETag", "")},
    )
    assert again.status == 304 and body == b""
    refused, body = fetch(server, path, headers={"Accept-Encoding": "gzip;q=0"})
    assert refused.getheader("Content-Encoding") is None and body == plain_body


def test_clients_that_never_finish_a_request_do_not_shut_others_out(server: Server) -> None:
    """waitress's defaults: 100 such connections, one client's, and every feed reader waited
    two minutes (security review 05). A proxy in front is the answer to thousands (README)."""
    url = urlsplit(server.url)
    idle = []
    try:
        for _ in range(150):
            connection = socket.create_connection((url.hostname or "", url.port or 80), 5)
            connection.sendall(b"GET /feeds/all.atom HTTP/1.1\r\nHost: x")  # and no more
            idle.append(connection)
        status, _, body = get(server.url, "/feeds/all.atom")
        assert status == 200 and body.startswith(b"<?xml")
    finally:
        for connection in idle:
            connection.close()


def test_head_answers_like_get_without_a_body(server: Server) -> None:
    get, get_body = fetch(server, "/feeds/asia.rss")
    head, head_body = fetch(server, "/feeds/asia.rss", method="HEAD")
    assert head.status == 200 and head_body == b""
    for header in ("Content-Type", "ETag", "Last-Modified", "Cache-Control", "Content-Length"):
        assert head.getheader(header) == get.getheader(header), header
    assert int(head.getheader("Content-Length", "0")) == len(get_body)


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/sports.atom",
        "/feeds/all.xml",
        "/feeds/all",
        "/feeds/../config.toml",
        "/feeds/..%2Fconfig.toml",
        "/feeds/%2e%2e%2fvar%2fstate.sqlite3",
        "/feeds/" + "a" * 5000 + ".atom",
        "/sections/nowhere/",
        "/articles/../../etc/passwd/",
        "/articles/script-alert-x-script-b-bold-b-claims.html",
        "/manifest.json",
        "/index.html",
        "/feeds/all.atom.gz",
        "/articles/%00/",  # a name no file can have: not a server error
        "/articles/a%00b/",
    ],
)
def test_anything_else_is_a_short_404(server: Server, path: str) -> None:
    response, body = fetch(server, path)
    assert response.status == 404
    assert len(body) < 100


def test_a_pages_address_typed_without_its_slash_is_redirected_to_the_page(
    server: Server,
) -> None:
    """`/sections/asia` was a 404, where a reader typing the address expects the page."""
    article = "/articles/script-alert-x-script-b-bold-b-claims/"
    for page, query in (("/sections/asia/", ""), (article, "?utm_source=mail")):
        for method in ("GET", "HEAD"):
            response, body = fetch(server, page.rstrip("/") + query, method=method)
            assert response.status == 301 and len(body) < 100, (page, method)
            assert response.getheader("Location") == page + query
        assert fetch(server, page)[0].status == 200
    for path in ("/sections/nowhere", "/feeds/all", "/feeds"):  # no page there: no redirect
        assert fetch(server, path)[0].status == 404, path
    assert fetch(server, "/sections/asia", method="POST")[0].status == 404


def test_a_wrong_method_is_405(server: Server) -> None:
    response, body = fetch(server, "/feeds/all.atom", method="POST")
    assert response.status == 405 and len(body) < 100
    assert response.getheader("Allow") == "GET, HEAD"  # a 405 must say what is allowed
    response, body = fetch(server, "/healthz", method="DELETE")
    assert response.status == 405 and len(body) < 100
    assert response.getheader("Allow") == "GET, HEAD, OPTIONS"
    response, _ = fetch(server, "/admin/refresh", method="POST")
    assert response.status == 404  # no FEEDSVC_ADMIN_TOKEN: the endpoint does not exist


def test_pages_escape_every_field(server: Server) -> None:
    _, home = fetch(server, "/")
    assert b"<script>alert" not in home
    assert (
        b"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; claims"
        in home
    )
    _, page = fetch(server, "/articles/script-alert-x-script-b-bold-b-claims/")
    assert b"<script>" not in page and b"&lt;i&gt;text&lt;/i&gt;" in page


def test_healthz_reports_the_version_and_counts(server: Server) -> None:
    import json

    response, body = fetch(server, "/healthz")
    assert response.status == 200
    report = json.loads(body)
    assert report["status"] == "ok"
    assert report["entries"]["america"] == 4 and report["entries"]["all"] == 5
    assert report["version"] and report["built_at"]
    # the escaping tests' title and body, with their tags, said: counted, the words for the
    # token alone
    assert report["problem_count"] == 2 and "problems" not in report


def test_serve_answers_under_the_path_of_the_base_url(tmp_path: Path) -> None:
    """Every link is under it: `https://example.org/news/feeds/all.atom`."""
    site = Site(tmp_path)
    site.write(SAMPLE.name, SAMPLE.read_bytes())
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/news"
    site.config_path.write_text(config_text(base_url=base_url), encoding="utf-8")
    running = serve(site.config_path, tmp_path / "serve.log", port=port)
    try:
        running.wait_until("/news/feeds/all.atom")
        status, _, home = get(running.url, "/news/")
        assert status == 200 and f'href="{base_url}/feeds/all.atom"'.encode() in home
        assert get(running.url, "/news/healthz")[0] == 200
        assert get(running.url, "/news")[2] == home  # the prefix alone: the home page too
        status, headers, _ = get(running.url, "/news/sections/asia")
        assert (status, headers["Location"]) == (301, "/news/sections/asia/")
        assert "site.base_url is" not in running.output()  # its port is the one served on

        # Reloaded with another path, it answers there, as the links it publishes now say
        # (the prefix was fixed at start: every link was a 404 until a restart); then with a
        # path percent-encoded, as the config asks a non-ASCII one to be.
        def links_under(path: str) -> bool:
            link = f'href="http://127.0.0.1:{port}{path}/feeds/all.atom"'
            return link.encode() in get(running.url, f"{path}/")[2]

        for path in ("/world", "/n%C3%BCrnberg"):
            moved = f"http://127.0.0.1:{port}{path}"
            site.config_path.write_text(config_text(base_url=moved), encoding="utf-8")
            running.signal(signal.SIGHUP)
            wait_for(functools.partial(links_under, path), f"{path}, and its links")
            assert get(running.url, f"{path}/feeds/all.atom")[0] == 200
        assert get(running.url, "/world/feeds/all.atom")[0] == 404  # no link says it now
    finally:
        running.stop()


def test_gunicorn_answers_under_the_path_of_the_base_url_and_a_short_404_outside_it(
    tmp_path: Path,
) -> None:
    """As `serve` does, with no SCRIPT_NAME to set: gunicorn's answers 500 outside its path,
    and a crawler takes a 5xx for robots.txt as "fetch nothing"."""
    site = Site(tmp_path)
    site.write(SAMPLE.name, SAMPLE.read_bytes())
    base_url = "https://news.example.org/news"
    site.config_path.write_text(config_text(base_url=base_url), encoding="utf-8")
    site.refresh()
    web = gunicorn(site.config_path, tmp_path / "web.log", workers=1)
    try:
        web.wait_until("/news/feeds/all.atom")
        assert get(web.url, "/news/healthz")[0] == 200
        status, headers, body = get(web.url, "/robots.txt")
        assert (status, headers["Content-Type"]) == (404, "text/plain; charset=utf-8")
        assert len(body) < 100
        # behind a proxy that strips the path, at the root
        assert get(web.url, "/feeds/all.atom")[2] == get(web.url, "/news/feeds/all.atom")[2]
        for asked in ("/news/sections/asia", "/sections/asia"):  # the page is under it
            status, headers, _ = get(web.url, asked)
            assert (status, headers["Location"]) == (301, "/news/sections/asia/"), asked
    finally:
        web.stop()


@pytest.mark.parametrize("script_name", [None, "/feeds"], ids=["app", "gunicorn's SCRIPT_NAME"])
def test_a_base_path_named_as_a_folder_of_the_site_is_taken_away_once(
    tmp_path: Path, script_name: str | None
) -> None:
    """base_url `https://example.org/feeds`: its feed is /feeds/feeds/all.atom, also with
    gunicorn's SCRIPT_NAME (as the README once said to set), and /feeds/all.atom behind a proxy
    that strips the path."""
    site = Site(tmp_path)
    site.write(SAMPLE.name, SAMPLE.read_bytes())
    base_url = "https://news.example.org/feeds"
    site.config_path.write_text(config_text(base_url=base_url), encoding="utf-8")
    site.refresh()
    env = {"SCRIPT_NAME": script_name} if script_name else {}
    web = gunicorn(site.config_path, tmp_path / "web.log", workers=1, env=env)
    try:
        web.wait_until("/feeds/feeds/all.atom")
        feed = site.published("/feeds/all.atom")
        stripped = () if script_name else ("/feeds/all.atom",)  # else gunicorn strips it
        for path in ("/feeds/feeds/all.atom", *stripped):
            assert get(web.url, path)[:3:2] == (200, feed), path
        assert get(web.url, "/feeds/sections/america/")[0] == 200
        assert get(web.url, "/feeds/feeds/feeds/all.atom")[0] == 404  # not twice
    finally:
        web.stop()


def test_a_base_path_named_articles_serves_archived_pages_behind_a_stripping_proxy(
    tmp_path: Path,
) -> None:
    """An archived page is a file of the site too: `/articles/old/` is that page, not
    `/old/` under the base path."""
    site = Site(tmp_path)
    base_url = "https://news.example.org/articles"
    config = config_text(base_url=base_url, feeds="max_entries = 1", sections=["Asia"])
    site.config_path.write_text(config, encoding="utf-8")
    site.write("old.txt", "Asia\nOld story\n\nFirst.\n", mtime=1_700_000_000)
    site.refresh()
    site.write("new.txt", "Asia\nNew story\n\nSecond.\n", mtime=1_700_000_100)
    site.refresh()  # the old story's page leaves the feeds for the archive
    web = gunicorn(site.config_path, tmp_path / "web.log", workers=1)
    try:
        web.wait_until("/articles/feeds/all.atom")
        for path in ("/articles/old-story/", "/articles/articles/old-story/"):
            status, _, page = get(web.url, path)
            assert status == 200 and b"Old story" in page, path
    finally:
        web.stop()


def test_serve_answers_under_the_path_of_the_version_it_serves(tmp_path: Path) -> None:
    """Started after base_url moved, before its first refresh has published: the version it
    serves links to the old path, and answers there (the new path, with its old links, and
    the old one a 404, until a publish that might fail or be minutes away)."""
    site = Site(tmp_path)
    site.write(SAMPLE.name, SAMPLE.read_bytes())
    port = free_port()
    site.config_path.write_text(config_text(base_url=f"http://127.0.0.1:{port}/news"), "utf-8")
    site.refresh()
    site.config_path.write_text(config_text(base_url=f"http://127.0.0.1:{port}/world"), "utf-8")
    with open(site.root / "var" / "build.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # its first refresh waits, as behind a `build`
        running = serve(site.config_path, tmp_path / "serve.log", port=port)
        try:
            running.wait_until("/news/feeds/all.atom")
            assert get(running.url, "/world/feeds/all.atom")[0] == 404
            fcntl.flock(lock, fcntl.LOCK_UN)
            running.wait_until("/world/feeds/all.atom")
            assert b"/world/feeds/all.atom" in get(running.url, "/world/")[2]
            assert get(running.url, "/news/feeds/all.atom")[0] == 404
        finally:
            running.stop()


def test_serve_on_port_0_says_the_port_it_bound(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.write(SAMPLE.name, SAMPLE.read_bytes())
    site.config_path.write_text(config_text(), encoding="utf-8")
    args = [str(BIN / "feedsvc"), "serve", "--config", str(site.config_path), "--port", "0"]
    running = Process(args, tmp_path / "serve.log", env={"PORT": "5000"})  # honcho's, not its
    try:
        said = wait_for(
            lambda: re.search(r"serving on http://127\.0\.0\.1:(\d+)/", running.output()),
            "the line that says where it serves",
        )
        port = int(said.group(1))
        assert port != 0
        wait_for(lambda: get(f"http://127.0.0.1:{port}", "/feeds/all.atom")[0] == 200, "a feed")
        # base_url still says 8000: every link would lead there, and nothing said so
        assert (
            f"site.base_url is http://127.0.0.1:8000, on port 8000, and this serves on port "
            f"{port}: every link in the feeds and pages leads there; unless a proxy there "
            f"forwards to this port, set it to http://127.0.0.1:{port}"
        ) in running.output()
        assert "serves on port 5000" not in running.output()
    finally:
        running.stop()


def test_the_web_tier_says_when_a_procfile_runners_port_is_not_base_urls(
    sample_site: Site, tmp_path: Path, running: list[Process]
) -> None:
    """honcho and foreman set PORT=5000: the Procfile's gunicorn bound it, and every link of
    the default config's base_url led to port 8000, unsaid."""
    sample_site.refresh()
    port = free_port()
    web = gunicorn(
        sample_site.config_path, tmp_path / "web.log", workers=1, env={"PORT": str(port)}
    )
    running.append(web)
    web.wait_until("/feeds/all.atom")
    assert (
        f"site.base_url is http://127.0.0.1:8000, on port 8000, and this serves on port {port}"
        in web.output()
    )
