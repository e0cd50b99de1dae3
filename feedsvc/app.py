"""The web side: serves what `publish` wrote, and nothing else.

A request is a dictionary lookup in the current version held in memory; nothing is rendered,
compressed or read from disk per request. Each process notices a newly published version within
`RELOAD_CHECK_SECONDS` (one `readlink`) and switches to it between requests.
"""

from __future__ import annotations

import hmac
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, request
from werkzeug.http import http_date, is_resource_modified, quote_etag

from feedsvc.config import Config, load_config
from feedsvc.publish import Resource, Version, current_id, load_current, publish_dir
from feedsvc.refresh import read_status, request_control

ADMIN_TOKEN_ENV = "FEEDSVC_ADMIN_TOKEN"
RELOAD_CHECK_SECONDS = 1.0
_FEED_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\.(?:atom|rss|json)")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MAX_NAME = 200


@dataclass(frozen=True)
class Variant:
    """One representation of a resource (plain or gzip), headers computed once at load."""

    body: bytes
    etag: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Loaded:
    """A version with every body in memory: its plain and gzip variants per URL path."""

    version: Version
    variants: dict[str, tuple[Variant, Variant]]


class PublishedSite:
    """The current version of one publish directory, reloaded when the switch moves."""

    def __init__(self, root: Path, max_age: int) -> None:
        self.root = root
        self.max_age = max_age
        self._loaded: Loaded | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def current(self) -> Loaded | None:
        now = time.monotonic()
        if now - self._checked >= RELOAD_CHECK_SECONDS:
            with self._lock:
                if now - self._checked >= RELOAD_CHECK_SECONDS:
                    self._checked = now
                    self._reload_if_switched()
        return self._loaded

    def _reload_if_switched(self) -> None:
        wanted = current_id(self.root)
        if wanted is None or (self._loaded and self._loaded.version.id == wanted):
            return
        try:
            version = load_current(self.root)
            if version is None:
                return
            variants = {
                path: (self._variant(version, r, False), self._variant(version, r, True))
                for path, r in version.resources.items()
            }
        except OSError as e:
            # Mid-switch, or a version collected under our feet: keep serving the one we have.
            current_app.logger.warning("could not load version %s: %s", wanted, e)
            return
        self._loaded = Loaded(version, variants)
        current_app.logger.info("serving version %s", version.id)

    def _variant(self, version: Version, resource: Resource, gzipped: bool) -> Variant:
        etag = resource.gzip_etag if gzipped else resource.etag
        headers = [
            ("Content-Type", resource.content_type),
            ("ETag", quote_etag(etag)),
            ("Last-Modified", http_date(resource.last_modified)),
            ("Cache-Control", f"public, max-age={self.max_age}"),
            ("Vary", "Accept-Encoding"),
        ]
        if gzipped:
            headers.append(("Content-Encoding", "gzip"))
        return Variant(version.read(resource, gzipped), etag, tuple(headers))


def create_app(config_path: str | os.PathLike[str] | None = None) -> Flask:
    """Build the app for one config file; reads nothing else until the first request."""
    config = load_config(config_path)
    app = Flask(__name__)
    app.config["FEEDSVC"] = config
    app.extensions["feedsvc"] = PublishedSite(
        publish_dir(config.content.state_dir), config.refresh.interval_seconds
    )

    app.add_url_rule("/", view_func=home)
    app.add_url_rule("/feeds.opml", view_func=opml)
    app.add_url_rule("/feeds/<name>", view_func=feed)
    app.add_url_rule("/sections/<slug>/", view_func=section)
    app.add_url_rule("/articles/<slug>/", view_func=article)
    app.add_url_rule("/healthz", view_func=healthz)
    token = os.environ.get(ADMIN_TOKEN_ENV, "")
    if token:  # with no token configured, the endpoint does not exist at all
        app.config["ADMIN_TOKEN"] = token
        app.add_url_rule("/admin/refresh", view_func=admin_refresh, methods=["POST"])
    for code, text in ((404, "not found"), (405, "method not allowed"), (401, "unauthorized")):
        app.register_error_handler(code, _short_error(code, text))
    return app


def _config() -> Config:
    config: Config = current_app.config["FEEDSVC"]
    return config


def _site() -> PublishedSite:
    site: PublishedSite = current_app.extensions["feedsvc"]
    return site


def home() -> Response:
    return _serve("/")


def opml() -> Response:
    return _serve("/feeds.opml")


def section(slug: str) -> Response:
    return _page("sections", slug)


def article(slug: str) -> Response:
    return _page("articles", slug)


def feed(name: str) -> Response:
    if len(name) > _MAX_NAME or not _FEED_NAME.fullmatch(name):
        abort(404)
    return _serve(f"/feeds/{name}")


def _page(kind: str, slug: str) -> Response:
    if len(slug) > _MAX_NAME or not _SLUG.fullmatch(slug):
        abort(404)
    return _serve(f"/{kind}/{slug}/")


def _serve(path: str) -> Response:
    loaded = _site().current()
    if loaded is None:
        return _short(503, "nothing published yet; the first refresh is still running")
    pair = loaded.variants.get(path)
    if pair is None:
        abort(404)
    variant = pair[1] if request.accept_encodings["gzip"] > 0 else pair[0]
    # Werkzeug applies If-None-Match (weak comparison, lists, *) before If-Modified-Since.
    last_modified = loaded.version.resources[path].last_modified
    if not is_resource_modified(request.environ, variant.etag, last_modified=last_modified):
        return Response(status=304, headers=variant.headers)
    return Response(variant.body, headers=variant.headers)


def healthz() -> Response:
    config = _config()
    loaded = _site().current()
    status = read_status(config.content.state_dir)
    interval = config.refresh.interval_seconds
    last_success = status.get("last_success")
    state = "ok"
    if loaded is None or status.get("error"):
        state = "error"
    elif not isinstance(last_success, str) or datetime.now(UTC) - datetime.fromisoformat(
        last_success
    ) > timedelta(seconds=3 * interval):
        state = "stale"
    body: dict[str, Any] = {
        "status": state,
        "version": loaded.version.id if loaded else None,
        "built_at": loaded.version.built_at.isoformat() if loaded else None,
        "entries": dict(loaded.version.counts) if loaded else {},
        "last_success": last_success,
        "last_attempt": status.get("last_attempt"),
        "last_refresh": status.get("last_refresh"),
        "error": status.get("error"),
        "config_error": status.get("config_error"),
        "held_back": status.get("held_back"),
        "problems": status.get("problems", []),
    }
    response = jsonify(body)
    response.status_code = 503 if state == "error" else 200
    response.cache_control.no_store = True
    return response


def admin_refresh() -> Response:
    expected = f"Bearer {current_app.config['ADMIN_TOKEN']}".encode()
    given = request.headers.get("Authorization", "").encode()
    if not hmac.compare_digest(given, expected):
        response = _short(401, "unauthorized")
        response.headers["WWW-Authenticate"] = 'Bearer realm="feedsvc"'
        return response
    request_control(_config().content.state_dir, "refresh")
    response = jsonify({"requested": "refresh"})
    response.status_code = 202
    return response


def _short(code: int, text: str) -> Response:
    return Response(text + "\n", status=code, content_type="text/plain; charset=utf-8")


def _short_error(code: int, text: str) -> Any:
    def handler(_: Exception) -> Response:
        return _short(code, text)

    return handler
