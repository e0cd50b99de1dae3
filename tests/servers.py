"""Real servers on loopback for the HTTP tests: `feedsvc serve`, gunicorn, `feedsvc clock`."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from signal import SIGKILL, SIGTERM
from typing import Any
from urllib.parse import urlsplit

import requests

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Process:
    """A child process with its output in a file; stopped (and reaped) by `stop`."""

    def __init__(self, args: Sequence[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.handle = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            list(args),
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def stop(self, signum: int = SIGTERM) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signum)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, SIGKILL)
                self.popen.wait(timeout=10)
        self.handle.close()


class Server(Process):
    """An HTTP server process and its base URL."""

    def __init__(
        self, args: Sequence[str], port: int, log: Path, env: dict[str, str] | None = None
    ) -> None:
        super().__init__(args, log, env)
        self.url = f"http://127.0.0.1:{port}"

    def wait_until(self, path: str = "/healthz", status: int = 200, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"server exited ({self.popen.returncode}):\n{self.output()}")
            try:
                last = requests.get(self.url + path, timeout=2).status_code
                if last == status:
                    return
            except requests.ConnectionError as e:
                last = e
            time.sleep(0.05)
        raise TimeoutError(
            f"{self.url}{path} never answered {status} (last: {last})\n{self.output()}"
        )


def serve(
    config: Path, log: Path, env: dict[str, str] | None = None, port: int | None = None
) -> Server:
    """`feedsvc serve`: the embedded one-process default."""
    port = port or free_port()
    args = [str(BIN / "feedsvc"), "serve", "--config", str(config), "--port", str(port)]
    return Server(args, port, log, env)


def gunicorn(config: Path, log: Path, workers: int, env: dict[str, str] | None = None) -> Server:
    """The Procfile's `web` process: gunicorn serving what the clock publishes."""
    port = free_port()
    args = [
        str(BIN / "gunicorn"),
        "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}",
        "feedsvc.app:create_app()",
    ]  # fmt: skip
    return Server(args, port, log, {"FEEDSVC_CONFIG": str(config), **(env or {})})


def clock(config: Path, log: Path, env: dict[str, str] | None = None) -> Process:
    """The Procfile's `clock` process."""
    return Process([str(BIN / "feedsvc"), "clock", "--config", str(config)], log, env)


def feedsvc(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run one `feedsvc` command to completion, as an operator types it."""
    return subprocess.run(
        [str(BIN / "feedsvc"), *args], capture_output=True, text=True, timeout=timeout
    )


def get(
    base_url: str, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on its own connection (no keep-alive): any worker may answer it."""
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        connection.request(method, path, headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def wait_for(
    check: Callable[[], Any], what: str, timeout: float = 15.0, every: float = 0.05
) -> Any:
    """Poll until `check()` is truthy; generous timeouts, no timing assertions."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)
