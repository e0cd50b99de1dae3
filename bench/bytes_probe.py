"""Figure 6: bytes per poll over a simulated day, in-process (Flask test client + Refresher).

    python bench/bytes_probe.py CONFIG [--hours 24] [--poll-minutes 5] [--publish-minutes 10]

CONFIG points at a state_dir a cold build filled and at a scratch corpus (new article files are
added to it). The clock is simulated: every `--publish-minutes` a new article is written (its
mtime is the simulated time) and `Refresher.refresh()` runs; every `--poll-minutes` an
aggregator polls every feed (`/feeds/<slug>.atom|rss|json`, 18 with five sections) four ways:

- naive:        plain GET, full body every time;
- gzip:         Accept-Encoding: gzip, no validators;
- conditional:  If-None-Match + If-Modified-Since from its last 200, no gzip;
- polite:       conditional and gzip (what a good aggregator does): the figure of the issue.

Bytes counted are the response as it goes on the wire: status line, headers, blank line, body,
plus `Date` and `Server` lines a real server adds. The web side looks at the published version
on every request, so a simulated clock far faster than the real one needs no special setting.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime

from feedsvc.app import create_app
from feedsvc.config import load_config
from feedsvc.refresh import Refresher
from feedsvc.render import FORMATS

#: what gunicorn adds to every response besides the app's headers
SERVER_LINES = len(b"Date: Tue, 15 Jul 2025 12:00:00 GMT\r\nServer: gunicorn\r\n")
#: simulated day starts just after the corpus's newest article (make_corpus.py's fixed end)
DAY_START = datetime(2025, 7, 16, tzinfo=UTC)
MODES = ("naive", "gzip", "conditional", "polite")


def wire_bytes(response: object) -> int:
    status = getattr(response, "status", "")
    headers = getattr(response, "headers", {})
    data = getattr(response, "data", b"")
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return len(head.encode("latin-1")) + 2 + SERVER_LINES + len(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--poll-minutes", type=int, default=5)
    parser.add_argument("--publish-minutes", type=int, default=10)
    args = parser.parse_args()
    # Warnings only: the suite takes anything on stderr for a problem, and the app (as a web
    # worker would) logs each version it serves.
    logging.basicConfig(level=logging.WARNING)

    config = load_config(args.config)
    articles = config.content.articles_dir
    refresher = Refresher(config)
    refresher.refresh()
    app = create_app(config.path)
    client = app.test_client()
    slugs = ["all"] + [s.slug for s in config.sections]
    urls = [f"/feeds/{slug}.{fmt}" for slug in slugs for fmt in FORMATS]

    totals = dict.fromkeys(MODES, 0)
    statuses: dict[str, dict[int, int]] = {m: {} for m in MODES}
    validators: dict[tuple[str, str], dict[str, str]] = {}
    published = refresh_s = 0.0
    minutes = int(args.hours * 60)
    for minute in range(0, minutes, args.poll_minutes):
        if minute % args.publish_minutes == 0:
            moment = DAY_START.timestamp() + minute * 60
            number = minute // args.publish_minutes
            section = config.sections[number % len(config.sections)].name
            path = articles / f"zz-simulated-{number:04d}.txt"
            paragraph = f"Published at minute {minute} of the simulated day. " * 3
            path.write_text(f"{section}\nSimulated day article {number}\n\n{paragraph}\n", "utf-8")
            os.utime(path, (moment, moment))
            started = time.perf_counter()
            report = refresher.refresh()
            refresh_s += time.perf_counter() - started
            if report.added != 1:
                print(f"expected one new entry: {report.summary()}", file=sys.stderr)
            published += 1
        for url in urls:
            for mode in MODES:
                headers: dict[str, str] = {}
                if mode in ("gzip", "polite"):
                    headers["Accept-Encoding"] = "gzip"
                if mode in ("conditional", "polite"):
                    headers.update(validators.get((mode, url), {}))
                response = client.get(url, headers=headers)
                totals[mode] += wire_bytes(response)
                code = response.status_code
                statuses[mode][code] = statuses[mode].get(code, 0) + 1
                if code == 200 and mode in ("conditional", "polite"):
                    kept = {}
                    if response.headers.get("ETag"):
                        kept["If-None-Match"] = response.headers["ETag"]
                    if response.headers.get("Last-Modified"):
                        kept["If-Modified-Since"] = response.headers["Last-Modified"]
                    validators[(mode, url)] = kept
    refresher.close()
    polls = len(range(0, minutes, args.poll_minutes)) * len(urls)
    print(
        json.dumps(
            {
                "feeds": len(urls),
                "polls_per_mode": polls,
                "articles_published": published,
                "bytes": totals,
                "share_of_naive": {m: totals[m] / totals["naive"] for m in MODES},
                "statuses": statuses,
                "refresh_mean_s": refresh_s / max(published, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
