"""Shared fixtures: a small real site (config.toml + articles/) in a temporary directory."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from feedsvc import corpus
from feedsvc.config import Config, load_config
from feedsvc.refresh import Refresher, RefreshReport
from tests.servers import Process

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "articles" / "000_c5ae1000a567dda7.txt"
DATA = Path(__file__).resolve().parent / "data"
SECTIONS = ["America", "Europe", "Middle East", "Asia", "Diplomacy"]
#: the [content] table of a config that publishes the sections its files name, configured or not
ALLOW_NEW = 'articles_dir = "articles"\nstate_dir = "var"\nallow_new_sections = true'


def config_text(
    base_url: str = "http://127.0.0.1:8000", sections: Sequence[str] = SECTIONS, **tables: str
) -> str:
    """A complete config.toml; `tables` replaces whole tables, e.g. feeds='max_entries = 2'."""
    parts = {
        "site": (
            f'title = "Test Desk"\nbase_url = "{base_url}"\nlanguage = "en"\n'
            'timezone = "Europe/Paris"\nauthor = "Test Desk newsroom"\n'
            'description = "Tests of the desk."'
        ),
        "content": 'articles_dir = "articles"\nstate_dir = "var"',
        "feeds": "max_entries = 50\nfull_content = true",
        "refresh": "interval_seconds = 300",
    }
    parts.update(tables)
    text = "".join(f"[{name}]\n{body}\n\n" for name, body in parts.items())
    for name in sections:
        text += f'[[sections]]\nname = "{name}"\ndescription = "News: {name}."\n\n'
    return text


def config_without(section: str) -> str:
    """The test config with one section taken out (its entries and feeds go)."""
    return config_text(sections=[name for name in SECTIONS if name != section])


@dataclass
class Site:
    """A site on disk: write articles, refresh, look at what was published."""

    root: Path

    @property
    def articles(self) -> Path:
        return self.root / "articles"

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    def config(self) -> Config:
        return load_config(self.config_path)

    def write(self, name: str, text: str | bytes, mtime: float | None = None) -> Path:
        path = self.articles / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, str):
            path.write_text(text, encoding="utf-8")
        else:
            path.write_bytes(text)
        stamp = mtime if mtime is not None else 1_750_000_000.0
        os.utime(path, (stamp, stamp))
        return path

    def refresh(self) -> RefreshReport:
        refresher = Refresher(self.config())
        try:
            return refresher.refresh()
        finally:
            refresher.close()

    def published(self, url_path: str) -> bytes:
        from feedsvc.publish import load_current, publish_dir

        version = load_current(publish_dir(self.root / "var"))
        assert version is not None
        return version.read(version.resources[url_path], gzipped=False)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    (tmp_path / "articles").mkdir()
    (tmp_path / "config.toml").write_text(config_text(), encoding="utf-8")
    return Site(tmp_path)


@pytest.fixture
def sample_site(site: Site) -> Site:
    shutil.copy(SAMPLE, site.articles / SAMPLE.name)
    os.utime(site.articles / SAMPLE.name, (1_750_000_000, 1_750_000_000))
    return site


@pytest.fixture
def cwd(tmp_path: Path) -> Iterator[Path]:
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


@pytest.fixture
def running() -> Iterator[list[Process]]:
    """Processes to stop at the end of a test, whatever happens."""
    processes: list[Process] = []
    try:
        yield processes
    finally:
        for process in reversed(processes):
            process.stop()


def frozen_clock(monkeypatch: pytest.MonkeyPatch, at: float) -> list[float]:
    """The clock stops at `at` (seconds): sleeps are recorded, not slept, and change nothing."""
    waits: list[float] = []
    monkeypatch.setattr(corpus.time, "time_ns", lambda: int(at * 1e9))
    monkeypatch.setattr(corpus.time, "sleep", waits.append)
    return waits
