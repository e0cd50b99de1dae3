"""feedsvc's WSGI app plus one trivial route: the serving benchmark's baseline.

    FEEDSVC_CONFIG=config.toml gunicorn -w 2 --pythonpath bench 'bench_app:create_app()'

The extra route (`TRIVIAL_PATH`) goes through the same gunicorn worker and the same Flask app,
error handlers and all, but does no work: a request to it costs only what the stack costs.
"""

from __future__ import annotations

from flask import Flask, Response

from feedsvc.app import create_app as feedsvc_app

TRIVIAL_PATH = "/bench/trivial"


def create_app() -> Flask:
    app = feedsvc_app()

    def trivial() -> Response:
        return Response("ok\n", content_type="text/plain; charset=utf-8")

    app.add_url_rule(TRIVIAL_PATH, "bench_trivial", trivial)
    return app
