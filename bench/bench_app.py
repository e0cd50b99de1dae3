"""feedsvc's WSGI app plus two trivial routes: the serving benchmark's baselines.

    FEEDSVC_CONFIG=config.toml gunicorn -w 2 --pythonpath bench 'bench_app:create_app()'

- `TRIVIAL_PATH`, a Flask route of the same app: it goes through the same gunicorn worker, the
  published-files layer (which looks at the `current` switch and misses) and Flask, error
  handlers and all, but does no work. The issue's baseline ("a trivial route of the same app").
- `BARE_PATH`, answered by the outermost WSGI layer, before feedsvc's published-files layer and
  Flask: the cheapest answer this gunicorn worker can give. Since published files are served in
  front of Flask, a feed can beat the Flask route; this row shows what a request costs at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, Response

from feedsvc.app import create_app as feedsvc_app

TRIVIAL_PATH = "/bench/trivial"
BARE_PATH = "/bench/bare"
_BARE_BODY = b"ok\n"
_BARE_HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "3")]


class Bare:
    """WSGI layer answering BARE_PATH itself and passing everything else on."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == BARE_PATH:
            start_response("200 OK", _BARE_HEADERS)
            return [_BARE_BODY]
        result: Iterable[bytes] = self.app(environ, start_response)
        return result


def create_app() -> Flask:
    app = feedsvc_app()

    def trivial() -> Response:
        return Response("ok\n", content_type="text/plain; charset=utf-8")

    app.add_url_rule(TRIVIAL_PATH, "bench_trivial", trivial)
    app.wsgi_app = Bare(app.wsgi_app)  # type: ignore[method-assign]
    return app
