"""The publish directory as the README and `bench/nginx.conf` tell nginx to serve it: every URL
from the files as they stand, the .gz beside each feed for gzip_static, and each new version as
soon as it is switched."""

from __future__ import annotations

import gzip
import json
import os
import pwd
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import pytest

from feedsvc.app import PAGE_POLICY
from feedsvc.publish import publish_dir
from tests.conftest import ROOT, Site, config_text
from tests.servers import Server, free_port, get, gunicorn
from tests.test_feeds import current

#: what the README adds around its `server` block to make a whole config, kept under `prefix`
FRAME = """user {user};
worker_processes 1;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
{readme}
}}
"""


def readme_config() -> str:
    """The nginx configuration the README shows, as an operator copies it."""
    readme = (ROOT / "README.md").read_text("utf-8")
    found = re.search(r"```nginx\n(.*?)```", readme, re.DOTALL)
    assert found is not None, "the README shows no nginx configuration"
    return found.group(1)


def configured(how: str, prefix: Path, current: Path, port: int, app: str) -> str:
    """A whole nginx.conf serving `current` on `port`: the README's block in a frame, with the
    app's own paths passed to `app`, or `bench/nginx.conf` as the benchmark (and an operator)
    runs it."""
    user = pwd.getpwuid(os.geteuid()).pw_name  # workers must read the test's private tmp dir
    if how == "bench":
        os.symlink(current, prefix / "current")  # the file's root is `current` under the prefix
        os.symlink(current.with_name("archive"), prefix / "archive")
        conf = (ROOT / "bench" / "nginx.conf").read_text("utf-8")
        return f"user {user};\n" + conf.replace(
            "listen 127.0.0.1:8080;", f"listen 127.0.0.1:{port};"
        )
    server_block = (
        readme_config()
        .replace("listen 80;", f"listen 127.0.0.1:{port};")
        .replace("/srv/feedsvc/var/publish/current", str(current))
        .replace("/srv/feedsvc/var/publish/archive", str(current.with_name("archive")))
        .replace("http://127.0.0.1:8000", app)
    )
    return FRAME.format(user=user, prefix=prefix, readme=server_block)


@pytest.fixture(params=["readme", "bench"])
def nginx(request: pytest.FixtureRequest, sample_site: Site, tmp_path: Path) -> Iterator[Server]:
    sample_site.refresh()
    prefix = tmp_path / "nginx"
    (prefix / "tmp").mkdir(parents=True)
    port = free_port()
    current = publish_dir(sample_site.root / "var") / "current"
    app = gunicorn(sample_site.config_path, tmp_path / "gunicorn.log", workers=1)
    try:
        conf = configured(request.param, prefix, current, port, app.url)
        (prefix / "nginx.conf").write_text(conf, "utf-8")
        command = shutil.which("nginx") or "/usr/sbin/nginx"
        args = [command, "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf")]
        args += ["-e", str(prefix / "error.log"), "-g", "daemon off;"]
        running = Server(args, port, prefix / "nginx.log")
        try:
            running.wait_until("/feeds/all.atom")
            app.wait_until("/feeds/all.atom")
            yield running
        finally:
            running.stop()
    finally:
        app.stop()


def test_nginx_serves_every_url_from_the_files_as_they_stand(
    sample_site: Site, nginx: Server
) -> None:
    assert "[warn]" not in nginx.output()  # the configuration as written, without a complaint
    version = current(sample_site)
    assert any(path.startswith("/articles/") for path in version.resources)
    for path, resource in version.resources.items():
        status, headers, body = get(nginx.url, path)
        assert status == 200, path
        assert body == version.read(resource, gzipped=False), path
        assert headers["Content-Type"].split(";")[0] == resource.content_type.split(";")[0], path
        assert headers["Cache-Control"] == "public, max-age=300", path
        # as the app sends them: never sniffed, and pages with their policy
        assert headers["X-Content-Type-Options"] == "nosniff", path
        page = resource.content_type.startswith("text/html")
        assert headers.get("Content-Security-Policy") == (PAGE_POLICY if page else None), path
        etag = headers["ETag"]
        assert get(nginx.url, path, headers={"If-None-Match": etag})[0] == 304, path
        # as the app answers: a date at or after Last-Modified is not modified since
        later = parsedate_to_datetime(headers["Last-Modified"]) + timedelta(hours=1)
        since = {"If-Modified-Since": format_datetime(later, usegmt=True)}
        assert get(nginx.url, path, headers=since)[0] == 304, path
        status, headers, zipped = get(nginx.url, path, headers={"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip", path
        through_a_cdn = {"Accept-Encoding": "gzip", "Via": "1.1 cdn.example"}
        assert get(nginx.url, path, headers=through_a_cdn)[2] == zipped, path
        if resource.precompressed:  # gzip_static: the .gz published beside it, as it is
            assert zipped == version.read(resource, gzipped=True), path
        assert gzip.decompress(zipped) == body, path
    assert get(nginx.url, "/manifest.json")[0] == 404
    for folder in ("/feeds", "/sections", "/articles"):  # as the app: no redirect to a 404
        assert get(nginx.url, folder)[0] == 404, folder
    for path in version.resources:  # a page's address without its slash: the page, as the app
        if path.startswith(("/sections/", "/articles/")):
            status, headers, _ = get(nginx.url, path.rstrip("/") + "?utm_source=mail")
            assert (status, headers["Location"]) == (301, f"{path}?utm_source=mail")
    # Decoded, a CR LF in the address would end the Location header and start another one.
    injected = "/sections/asia%0d%0aSet-Cookie:%20session=attacker"
    status, headers, _ = get(nginx.url, injected)
    assert status == 404 and "Set-Cookie" not in headers, injected
    for method in ("POST", "OPTIONS", "PUT"):  # a 405 says what is allowed (RFC 9110, 15.5.6)
        status, headers, _ = get(nginx.url, "/feeds/all.atom", method=method)
        assert (status, headers["Allow"]) == (405, "GET, HEAD"), method
    assert get(nginx.url, "/")[0] == 200
    # Files that are no URL of the app's: the same 404, and no raw gzip sent as text/plain.
    page = next(path for path in version.resources if path.startswith("/sections/"))
    for file in ("/index.html", "/feeds/all.atom.gz", "/feeds.opml.gz", page.rstrip("/") + ".html"):
        assert get(nginx.url, file)[0] == 404, file


def test_the_readme_block_passes_the_apps_own_paths_to_it(
    request: pytest.FixtureRequest, nginx: Server
) -> None:
    if "readme" not in request.node.callspec.id:
        pytest.skip("bench/nginx.conf serves the published files alone")
    status, headers, body = get(nginx.url, "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert headers.get_all("Cache-Control") == ["no-store"]  # the app's alone
    assert get(nginx.url, "/admin/refresh", method="POST")[0] == 404  # no token configured


def test_nginx_serves_a_new_version_as_soon_as_it_is_switched(
    sample_site: Site, nginx: Server
) -> None:
    before = get(nginx.url, "/feeds/asia.atom")[2]
    sample_site.write("asia.txt", "Asia\nA new story\n\nJust published.\n", mtime=1_760_000_000)
    sample_site.refresh()
    after = get(nginx.url, "/feeds/asia.atom")[2]
    assert after != before and b"A new story" in after
    assert after == sample_site.published("/feeds/asia.atom")


def test_nginx_serves_an_articles_page_after_the_feeds_dropped_it(
    sample_site: Site, nginx: Server
) -> None:
    before = current(sample_site)
    pages = {path: get(nginx.url, path)[2] for path in before.resources if "/articles/" in path}
    sample_site.config_path.write_text(config_text(feeds="max_entries = 1"), "utf-8")
    sample_site.refresh()
    dropped = sorted(set(pages) - set(current(sample_site).resources))
    assert dropped  # one entry per feed now: most articles left every feed
    for path in dropped:
        status, headers, body = get(nginx.url, path)
        assert (status, body) == (200, pages[path]), path
        assert headers["Cache-Control"] == "public, max-age=300"
        assert headers["Content-Type"].startswith("text/html")
        status, headers, _ = get(nginx.url, path.rstrip("/"))  # typed without its slash
        assert (status, headers["Location"]) == (301, path)
    assert get(nginx.url, "/articles/no-such-story/")[0] == 404
    assert get(nginx.url, "/articles/")[0] == 404  # the archive's folder, not a listing
    assert get(nginx.url, "/sections/no-such-section/")[0] == 404


def test_nginx_never_serves_a_hidden_name_but_well_known(sample_site: Site, nginx: Server) -> None:
    """No published file is hidden; a `.git` or a file that `build --out` is copying (where the
    block serves that directory) is, and `/.well-known/` (ACME challenges, security.txt) is
    the operator's to serve."""
    served = publish_dir(sample_site.root / "var") / "current"
    (served / ".git").mkdir()
    (served / ".git" / "config").write_text("[remote]\n", "utf-8")
    (served / "feeds" / ".all.atom.a1b2c3d4.feedsvc-tmp").write_text("<feed", "utf-8")
    (served / ".well-known").mkdir()
    (served / ".well-known" / "security.txt").write_text("Contact: a@b.example\n", "utf-8")
    for path in ("/.git/config", "/feeds/.all.atom.a1b2c3d4.feedsvc-tmp"):
        assert get(nginx.url, path)[0] == 404, path
    assert get(nginx.url, "/.well-known/security.txt")[0] == 200
    assert get(nginx.url, "/feeds/all.atom")[0] == 200
