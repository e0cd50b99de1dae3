"""How feedsvc's processes log: one format, timestamped, for the CLI and for web workers."""

from __future__ import annotations

import logging
import sys


def configure() -> None:
    """INFO and above to stderr, with the time and the level. A no-op where logging is set up
    already (a test, an application that embeds feedsvc's): under gunicorn nothing is, and a
    web worker's error came out as a bare line, with no time."""
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
