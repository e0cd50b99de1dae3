"""The web side: serves what `publish` wrote, and nothing else.

Published files are answered by `PublishedFiles`, a WSGI layer in front of Flask (behind
`UnderBasePath`, which answers under base_url's path): a dictionary lookup in the current
version held in memory, with headers computed once per version. Nothing
is rendered, compressed or read from disk per request, but the pages of articles no feed shows
any more (`publish.ARCHIVE`: a stat, and the file read once per change). Flask handles the rest:
`/healthz`, the admin endpoint and short errors.
Each request checks the `current` switch (one `readlink`), so a new version is served as soon as
it is published, and a process switches between requests, never within one.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote_to_bytes

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.http import (
    http_date,
    parse_accept_header,
    parse_date,
    parse_etags,
    quote_etag,
)

from feedsvc import deflate, logs
from feedsvc.config import DEFAULT_INTERVAL, config_path, load_config, state_dir_of
from feedsvc.control import read_status, refresher_pid, request_control, silent_since
from feedsvc.errors import ConfigError, PublishError, StateError
from feedsvc.publish import (
    ARCHIVE,
    Resource,
    Version,
    current_id,
    etag_of,
    file_of,
    load_current,
    manifest_stamp,
    publish_dir,
)
from feedsvc.urls import ARTICLES, PAGE_TYPE, article_slug, base_path, say_other_port

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

ADMIN_TOKEN_ENV = "FEEDSVC_ADMIN_TOKEN"


@dataclass(frozen=True)
class Variant:
    """One representation of a resource (plain or gzip), its headers computed once."""

    body: bytes
    etag: str
    quoted_etag: str
    last_modified: datetime
    headers: list[tuple[str, str]]  #: for a 200, Content-Length included
    not_modified: list[tuple[str, str]]  #: for a 304: the same validators, no entity headers


@dataclass(frozen=True)
class Loaded:
    """A version with every body in memory: its plain and gzip variants per URL path."""

    version: Version
    variants: dict[str, tuple[Variant, Variant]]


class PublishedSite:
    """The current version of one publish directory, reloaded when the switch moves."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._loaded: Loaded | None = None
        self._lock = threading.Lock()
        #: the version that failed to load, and its manifest's stamp then
        self._failed: tuple[str, tuple[int, int] | None] | None = None

    def current(self) -> Loaded | None:
        wanted = current_id(self.root)
        loaded = self._loaded
        if wanted is None or (loaded is not None and loaded.version.id == wanted):
            return loaded
        if self._failed == (wanted, manifest_stamp(self.root, wanted)):
            return loaded  # a broken version is read again only once it was written again
        # One thread loads; the others keep serving what they had (or wait, having nothing).
        if self._lock.acquire(blocking=loaded is None):
            try:
                self._reload(wanted)
            finally:
                self._lock.release()
        return self._loaded

    def _reload(self, wanted: str) -> None:
        if self._loaded is not None and self._loaded.version.id == wanted:
            return
        stamp = manifest_stamp(self.root, wanted)  # before: a rewrite after it is tried again
        try:
            version = load_current(self.root)
            if version is None:
                return
            # A new version mostly repeats the last one: bytes with the same ETag are taken over,
            # so a switch reads (and compresses) only what changed.
            known = {
                variant.etag: variant.body
                for pair in (self._loaded.variants.values() if self._loaded else ())
                for variant in pair
            }
            variants = {
                path: self._variants(version, r, known) for path, r in version.resources.items()
            }
        except (OSError, PublishError) as e:
            # Damaged, or collected under our feet: keep serving the one we have.
            log.warning("could not load version %s: %s", wanted, e)
            self._failed = (wanted, stamp)
            return
        self._loaded = Loaded(version, variants)
        log.info("serving version %s", version.id)

    def find(self, loaded: Loaded, path: str) -> tuple[Variant, Variant] | None:
        """The file at `path`: the current version's, or an archived page."""
        pair = loaded.variants.get(path)
        if pair is None and path.startswith(ARTICLES):
            pair = self.archived(loaded, path)
        return pair

    def archived(self, loaded: Loaded, path: str) -> tuple[Variant, Variant] | None:
        """The page of an article no feed shows any more (`publish.ARCHIVE`), with the headers
        of the current pages: the same bytes keep the ETag they had while a feed showed them.
        The one answer read from disk: a stat a request, the bytes once per change."""
        if article_slug(path) is None:
            return None
        file = str(self.root / ARCHIVE / file_of(path))
        try:
            info = os.stat(file)
        except (OSError, ValueError):  # ValueError: a NUL in the path, which no name can hold
            return None
        read = _read_archived(file, info.st_mtime_ns, info.st_size)
        if read is None:
            return None
        body, zipped, etag = read
        modified = datetime.fromtimestamp(info.st_mtime_ns // 10**9, UTC)
        resource = Resource(path, PAGE_TYPE, etag, modified, key="")
        return (
            self._variant(loaded.version, resource, False, body),
            self._variant(loaded.version, resource, True, zipped),
        )

    def _variants(
        self, version: Version, resource: Resource, known: dict[str, bytes]
    ) -> tuple[Variant, Variant]:
        plain = known.get(resource.etag)
        if plain is None:
            plain = version.read(resource, gzipped=False)
        zipped = known.get(resource.gzip_etag)
        if zipped is None:
            # Pages have no .gz beside them: compressed here, from the bytes just read.
            zipped = (
                version.read(resource, gzipped=True)
                if resource.precompressed
                else deflate.gzip(plain)
            )
        return (
            self._variant(version, resource, False, plain),
            self._variant(version, resource, True, zipped),
        )

    def _variant(self, version: Version, resource: Resource, gzipped: bool, body: bytes) -> Variant:
        etag = resource.gzip_etag if gzipped else resource.etag
        validators = [
            ("ETag", quote_etag(etag)),
            ("Last-Modified", http_date(resource.last_modified)),
            # The interval the version was made with: a reloaded config applies with its version.
            ("Cache-Control", f"public, max-age={version.max_age}"),
            ("Vary", "Accept-Encoding"),
        ]
        entity = [("Content-Type", resource.content_type), ("Content-Length", str(len(body)))]
        if gzipped:
            entity.append(("Content-Encoding", "gzip"))
        entity += _PAGE_HEADERS if resource.content_type == PAGE_TYPE else _FILE_HEADERS
        return Variant(
            body, etag, quote_etag(etag), resource.last_modified, entity + validators, validators
        )


#: A page runs no script, and loads nothing but the images its articles show: a body the
#: sanitizer let something through in stays inert. Inline styles: the page's own, and tables'
#: column alignment. (The README's nginx block sends the same.)
PAGE_POLICY = (
    "default-src 'none'; img-src *; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)
#: a feed is never read as anything but its type (a browser sniffing one as HTML would run
#: what an entry smuggled in)
_FILE_HEADERS = [("X-Content-Type-Options", "nosniff")]
_PAGE_HEADERS = [*_FILE_HEADERS, ("Content-Security-Policy", PAGE_POLICY)]


class PublishedFiles:
    """WSGI layer: a published path is answered from memory before Flask sees the request."""

    def __init__(self, app: WSGIApplication, site: PublishedSite) -> None:
        self.app = app
        self.site = site

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # the version `UnderBasePath` found: one readlink a request, not two
        loaded = environ.get(_LOADED) or self.site.current()
        # "" is the root under a prefix (`/news` of `https://example.org/news`): the home page
        path = environ.get("PATH_INFO", "") or "/"
        pair = self.site.find(loaded, path) if loaded else None
        if pair is None:
            # Flask: healthz, admin, or a short 404 (503 while nothing is published)
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            response = _short(405, "method not allowed")
            response.headers["Allow"] = "GET, HEAD"
            return response(environ, start_response)
        variant = pair[1] if _accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", "")) else pair[0]
        if_match = environ.get("HTTP_IF_MATCH")
        if if_match is not None:
            # RFC 9110, 13.1.1: checked first, compared strongly, and never a 304
            if not parse_etags(if_match).contains(variant.etag):
                return _short(412, "precondition failed")(environ, start_response)
        elif _changed_after(environ.get("HTTP_IF_UNMODIFIED_SINCE"), variant):
            return _short(412, "precondition failed")(environ, start_response)  # 13.1.4
        if not _modified(environ, variant):
            start_response("304 NOT MODIFIED", variant.not_modified)
            return []
        start_response("200 OK", variant.headers)
        return [] if method == "HEAD" else [variant.body]


#: the WSGI environ key under which `UnderBasePath` hands the version to `PublishedFiles`
_LOADED = "feedsvc.loaded"


class UnderBasePath:
    """Answers under base_url's path, with no SCRIPT_NAME to set (gunicorn's answers 500 to a
    path outside it); a path outside it is left as it is, for a proxy that strips it.

    The path is that of the version served, whose links say it: a reload that moves base_url
    moves what is answered with the version that links there, whichever process published
    it. `PATH_INFO` is decoded (PEP 3333: its bytes as Latin-1), so the path is compared so
    too (`_as_path_info`)."""

    def __init__(self, app: WSGIApplication, site: PublishedSite, configured: str) -> None:
        self.app = app
        self.site = site
        self.configured = configured  #: the config's base_url, when no version says one

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        loaded = environ[_LOADED] = self.site.current()
        # a version from before versions recorded it, or none yet: the config's
        base_url = (loaded and loaded.version.base_url) or self.configured
        prefix = _as_path_info(base_url)
        path = environ.get("PATH_INFO", "")
        script = environ.get("SCRIPT_NAME", "")
        if (
            prefix
            and (path == prefix or path.startswith(prefix + "/"))
            # once only: a base path named as a folder of the site (`/feeds`) is that folder
            # once gunicorn's SCRIPT_NAME, or a proxy, took it away
            and not script.endswith(prefix)
            and not (loaded and self.site.find(loaded, path))
        ):
            environ["SCRIPT_NAME"] = script + prefix
            environ["PATH_INFO"] = path[len(prefix) :]
        return self.app(environ, start_response)


@functools.cache
def _as_path_info(base_url: str) -> str:
    """base_url's path as `PATH_INFO` gives it: decoded, its bytes as Latin-1. Once per
    base_url, not per request."""
    return unquote_to_bytes(base_path(base_url)).decode("latin-1")


@functools.lru_cache(maxsize=64)
def _read_archived(file: str, mtime_ns: int, size: int) -> tuple[bytes, bytes, str] | None:
    """An archived page's bytes, their gzip and ETag, kept while the file stays as it was."""
    try:
        with open(file, "rb") as page:
            body = page.read()
    except OSError:
        return None
    return body, deflate.gzip(body), etag_of(body)


@functools.lru_cache(maxsize=256)
def _accepts_gzip(header: str) -> bool:
    """RFC 9110, 12.5.3: gzip (or x-gzip) at a quality above 0, named or through `*`; a named
    coding outranks `*` (Werkzeug's `Accept.quality` lets a `*` win over `gzip;q=0`).

    Kept per header value: pollers send the same few, so a request costs a dictionary lookup.
    """
    qualities = {coding.lower(): quality for coding, quality in parse_accept_header(header)}
    named = [qualities[coding] for coding in ("gzip", "x-gzip") if coding in qualities]
    return max(named) > 0 if named else qualities.get("*", 0) > 0


@functools.lru_cache(maxsize=256)  # pollers send the same few
def _http_date(value: str) -> datetime | None:
    """A conditional header's date, None if it is not one: RFC 9110, 13.1.3 and 13.1.4 say to
    ignore such a header (Werkzeug's parser raises on a year too large for the C library), and
    one of several dates (two header lines joined: Werkzeug reads the first)."""
    if len(value.strip()) > 33:  # the longest HTTP date: "Wednesday, 09-Nov-94 08:49:37 GMT"
        return None
    try:
        return parse_date(value)
    except OverflowError:
        return None


def _changed_after(header: str | None, variant: Variant) -> bool:
    """If-Unmodified-Since fails: the variant changed after its date (RFC 9110, 13.1.4)."""
    if header is None:
        return False
    since = _http_date(header)
    return since is not None and variant.last_modified.replace(microsecond=0) > since


def _modified(environ: WSGIEnvironment, variant: Variant) -> bool:
    """RFC 9110, 13.2.2: If-None-Match decides when sent (weak comparison, lists, `*`); else
    If-Modified-Since, ignored when it is no date (13.1.3)."""
    none_match = environ.get("HTTP_IF_NONE_MATCH")
    if none_match == variant.quoted_etag:
        return False  # what an aggregator sends back: decided without parsing
    if none_match is not None:
        return not parse_etags(none_match).contains_weak(variant.etag)
    header = environ.get("HTTP_IF_MODIFIED_SINCE")
    since = None if header is None else _http_date(header)
    return since is None or variant.last_modified.replace(microsecond=0) > since


def create_app(config_file: str | os.PathLike[str] | None = None, by_port: bool = True) -> Flask:
    """Build the app for one config file; reads nothing else until the first request.
    `by_port`: served on `$PORT` (`feedsvc serve` is served on its --port, and says so).

    A config that does not validate (a typo the refresher rejects, keeping its last good one)
    must not keep a web worker from starting: gunicorn halts altogether when a restarted worker
    fails to boot. What is published is served from the state directory, made out of the
    broken file if at all possible; /healthz shows the refresher's config error meanwhile.
    """
    logs.configure()
    path = config_path(config_file)
    found = _published_site(path)
    if isinstance(found, ConfigError):
        log.error("%s; answering 503 until the published feeds can be found by it", found)
        waiting = Flask(__name__)
        waiting.wsgi_app = WaitingForConfig(path, str(found), by_port)  # type: ignore[method-assign]
        return waiting
    return _serving(*found, by_port, _admin_token())


def _serving(
    state_dir: Path,
    interval: int,
    base_url: str,
    error: ConfigError | None,
    by_port: bool,
    token: str,
) -> Flask:
    """The app serving what is published under `state_dir` (`_published_site`), `token` the
    admin token, read (and said) once a process by its caller."""
    if error is not None:
        log.error("%s; serving what is published under %s until it is fixed", error, state_dir)
    port = os.environ.get("PORT", "")
    if port.isdigit() and by_port:  # the Procfile's gunicorn binds it; honcho and foreman 5000
        say_other_port(base_url, int(port))
    app = Flask(__name__)
    app.config["FEEDSVC_STATE_DIR"] = state_dir
    app.config["FEEDSVC_INTERVAL"] = interval
    app.config["FEEDSVC_BASE_URL"] = base_url  #: when the version served does not say its own
    site = PublishedSite(publish_dir(state_dir))
    app.extensions["feedsvc"] = site
    app.wsgi_app = UnderBasePath(  # type: ignore[method-assign]
        PublishedFiles(app.wsgi_app, site), site, base_url
    )
    app.add_url_rule("/healthz", view_func=healthz)
    if token:  # with no token configured, the endpoint does not exist at all (`_not_found`)
        app.config["ADMIN_TOKEN"] = token
        app.add_url_rule("/admin/refresh", view_func=admin_refresh, methods=["POST"])

    app.register_error_handler(405, _method_not_allowed)
    app.register_error_handler(404, _not_found)
    return app


def _admin_token() -> str:
    """The admin token from the environment, as an env file may leave it: spaces or a CR around
    it are not part of it (every request would be refused, unsaid); one that is blank or holds
    other control characters turns the endpoint off, said."""
    given = os.environ.get(ADMIN_TOKEN_ENV, "")
    token = given.strip()
    how = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
    # HTTP headers come as Latin-1: a token beyond ASCII could never match one
    if given and not (token and token.isprintable() and token.isascii()):
        log.error(
            "%s is blank, or holds control or non-ASCII characters: POST /admin/refresh is "
            "off until it is set to a token (%s)",
            ADMIN_TOKEN_ENV,
            how,
        )
        return ""
    if token and len(token) < MIN_TOKEN_LENGTH:
        log.warning(
            "%s has %d characters, short enough to guess: give it %d or more random ones (%s)",
            ADMIN_TOKEN_ENV,
            len(token),
            MIN_TOKEN_LENGTH,
            how,
        )
    return token


#: a token shorter than this is said to be guessable (32 URL-safe random characters: 192 bits)
MIN_TOKEN_LENGTH = 16


def _published_site(path: Path) -> tuple[Path, int, str, ConfigError | None] | ConfigError:
    """The state_dir, refresh interval and base_url a config file gives, with its error if it
    does not validate (then as much as can be made out of it: the versions say their own
    base_url); only the error if that names no directory that exists."""
    try:
        config = load_config(path, check_articles=False)
    except ConfigError as e:
        found = state_dir_of(path)
        return (found, DEFAULT_INTERVAL, "", e) if found is not None and found.is_dir() else e
    return config.content.state_dir, config.refresh.interval_seconds, config.site.base_url, None


class WaitingForConfig:
    """WSGI app of a worker started while its config cannot be read and names no published
    site (the file gone halfway through a deploy, or cut short): 503 and why, until it can be.
    Raising instead would halt gunicorn: it stops when a restarted worker fails to boot."""

    def __init__(self, path: Path, error: str, by_port: bool) -> None:
        self.path = path
        self.error = error
        self.by_port = by_port
        self.token = _admin_token()
        self._app: Flask | None = None
        self._tried = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        app = self._ready()
        if app is not None:
            return app(environ, start_response)
        why = "the config cannot be read, so nothing is served until it can"
        # what is wrong names a path and config values: as /healthz says them (`_withheld`)
        detailed = _carries(environ.get("HTTP_AUTHORIZATION", ""), self.token)
        config_error = _withheld(self.error, detailed, self.token)
        if environ.get("PATH_INFO", "").endswith("/healthz"):  # JSON, as a monitor reads it
            said = {"status": "error", "version": None, "error": why, "config_error": config_error}
            response = Response(json.dumps(said), status=503, content_type="application/json")
            response.cache_control.no_store = True
            return response(environ, start_response)
        return _short(503, f"{why}: {config_error}")(environ, start_response)

    def _ready(self) -> Flask | None:
        """The real app, once the config leads to the published feeds; looked for at most once
        a second."""
        with self._lock:
            if self._app is None and time.monotonic() - self._tried >= 1.0:
                self._tried = time.monotonic()
                found = _published_site(self.path)
                if isinstance(found, ConfigError):
                    if str(found) != self.error:
                        log.error("%s; answering 503 until the published feeds can be found", found)
                    self.error = str(found)
                else:
                    self._app = _serving(*found, self.by_port, self.token)
            return self._app


def _state_dir() -> Path:
    state_dir: Path = current_app.config["FEEDSVC_STATE_DIR"]
    return state_dir


def _site() -> PublishedSite:
    site: PublishedSite = current_app.extensions["feedsvc"]
    return site


def healthz() -> Response:
    loaded = _site().current()
    status = read_status(_state_dir())
    # The refresher's interval (it may have reloaded its config since this process started).
    interval = status.get("interval_seconds")
    if not isinstance(interval, int):
        interval = current_app.config["FEEDSVC_INTERVAL"]
    last_success = status.get("last_success")
    # Problems name files and headlines, a scheduled one's too, and when it is due: an
    # embargo. The refresher's errors name paths and config values. Anyone may ask /healthz
    # whether all is well; what is wrong goes to whoever holds the admin token.
    detailed, token = _authorized(), current_app.config.get("ADMIN_TOKEN")
    problems, deferred = _listed(status.get("problems")), _listed(status.get("deferred"))
    last_refresh = status.get("last_refresh")
    if isinstance(last_refresh, dict) and not detailed:
        last_refresh = {k: v for k, v in last_refresh.items() if k != "next_scheduled"}
    error = _withheld(status.get("error"), detailed, token) or (
        None if loaded else _why_nothing(status)
    )
    if loaded is not None and current_id(_site().root) is None:
        # Moved aside (to be restored, say), its status.json with it: "stale", and no error.
        error = _withheld(
            f"nothing is published in {_state_dir()} now (moved aside?): this process serves "
            "the version it loaded before",
            detailed,
            token,
        )
    silent = silent_since(_state_dir())
    state = "ok"
    if loaded is None or error:
        state = "error"
    elif (
        silent is not None
        or not isinstance(last_success, str)
        or datetime.now(UTC) - datetime.fromisoformat(last_success)
        > timedelta(seconds=3 * interval)
    ):
        state = "stale"
    body: dict[str, Any] = {
        "status": state,
        "version": loaded.version.id if loaded else None,
        "built_at": loaded.version.built_at.isoformat() if loaded else None,
        "entries": dict(loaded.version.counts) if loaded else {},
        "last_success": last_success,
        "last_attempt": status.get("last_attempt"),
        "last_refresh": last_refresh,
        "error": error,
        "config_error": _withheld(status.get("config_error"), detailed, token),
        "held_back": _withheld(status.get("held_back"), detailed, token),
        # killed, not stopped: its feeds go stale unseen until three intervals have passed
        "refresher_silent_since": silent.isoformat() if silent else None,
        "deferred_count": len(deferred),
        "problem_count": len(problems),
    }
    if detailed:
        body.update(deferred=deferred, problems=problems)
    response = jsonify(body)
    response.status_code = 503 if state == "error" else 200
    response.cache_control.no_store = True
    return response


#: what /healthz says, without the admin token, in place of a text that names paths or values
WITHHELD = (
    "said with the admin token (Authorization: Bearer $FEEDSVC_ADMIN_TOKEN), and in feedsvc's log"
)


#: the same where this process has no token: none sent can be taken
WITHHELD_NO_TOKEN = (
    "said in feedsvc's log, and with the admin token once FEEDSVC_ADMIN_TOKEN is set in this "
    "web process's environment"
)


def _withheld(said: object, detailed: bool, token: str | None) -> object:
    """`said` to a request that carries the admin `token`, else where to read it."""
    if detailed or not said:
        return said
    return WITHHELD if token else WITHHELD_NO_TOKEN


def _listed(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _authorized() -> bool:
    return _carries(request.headers.get("Authorization", ""), current_app.config.get("ADMIN_TOKEN"))


def _carries(authorization: str, token: str | None) -> bool:
    """An `Authorization: Bearer ...` header carries the admin token, and one is set."""
    if not token:
        return False
    scheme, _, credentials = authorization.partition(" ")
    # RFC 9110, 11.1: the scheme's case does not matter
    given = credentials.lstrip(" ").encode() if scheme.lower() == "bearer" else b""
    return hmac.compare_digest(given, token.encode())


def admin_refresh() -> Response:
    if not _authorized():
        response = _short(401, "unauthorized")
        response.headers["WWW-Authenticate"] = 'Bearer realm="feedsvc"'
        return response
    try:
        request_control(_state_dir(), "refresh")  # none left where there is no state_dir
    except StateError as e:  # a web tier run as another user than its refresher, say
        failed = jsonify({"error": f"the request could not be left for the refresher: {e}"})
        failed.status_code = 503
        return failed
    answer = {"requested": "refresh"}
    if refresher_pid(_state_dir()) is None:  # its lock not held, as far as this machine sees
        if read_status(_state_dir()).get("last_attempt"):
            answer["note"] = f"no refresher runs now (the last one stopped): {_NO_REFRESH}"
        else:
            answer["note"] = f"nothing acts on it until a refresher runs: {_NO_REFRESH}"
    response = jsonify(answer)
    response.status_code = 202
    return response


def _short(code: int, text: str) -> Response:
    return Response(text + "\n", status=code, content_type="text/plain; charset=utf-8")


def _not_found(_: Exception) -> Response:
    if request.method == "POST" and request.path == "/admin/refresh":
        _said_no_admin_token()  # an env file not passed on to this process, say
    loaded = _site().current()
    if loaded is None:
        return _short(503, f"nothing published yet: {_why_nothing(read_status(_state_dir()))}")
    if request.method in ("GET", "HEAD") and _site().find(loaded, request.path + "/"):
        return _slash_added(loaded.version.base_url or current_app.config["FEEDSVC_BASE_URL"])
    return _short(404, "not found")


def _slash_added(base_url: str) -> Response:
    """`/sections/asia` typed for `/sections/asia/`: a page's URL ends in a slash, and starts
    with base_url's path, whether this process was asked under it or behind a proxy that
    strips it."""
    location = base_path(base_url) + quote(request.path + "/")
    if request.query_string:
        location += "?" + request.query_string.decode("latin-1")
    response = _short(301, f"moved to {location}")
    response.headers["Location"] = location
    return response


def _said_no_admin_token() -> None:
    if current_app.config.get("FEEDSVC_SAID_NO_TOKEN"):
        return  # once a process: a script may ask every minute
    current_app.config["FEEDSVC_SAID_NO_TOKEN"] = True
    log.warning(
        "POST /admin/refresh was asked for, and %s is not set in this process (or blank): the "
        "endpoint is off (a 404) until it is",
        ADMIN_TOKEN_ENV,
    )


_NO_REFRESH = "start the refresher (`feedsvc clock`, the Procfile's clock) or run `feedsvc refresh`"


def _why_nothing(status: dict[str, object]) -> str:
    """Why nothing is published, from what the refresher last said (if it ever ran): a web tier
    started without its `clock` would otherwise wait for a refresh that nobody runs."""
    if status.get("error"):
        return "the last refresh failed (see /healthz)"
    if not status.get("last_attempt"):
        return (
            f"no refresh has finished; the first may still be running, else {_NO_REFRESH} (a "
            "refresher running when content.state_dir was changed publishes into the old one "
            "until it is restarted)"
        )
    return "the last refresh published no version (see /healthz)"


def _method_not_allowed(error: MethodNotAllowed) -> Response:
    response = _short(405, "method not allowed")
    response.headers["Allow"] = ", ".join(sorted(error.valid_methods or ()))  # as HTTP requires
    return response
