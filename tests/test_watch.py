"""With `refresh.watch` on, a change under articles/ is published without waiting for the clock."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import Site, config_text
from tests.servers import Server, serve


@pytest.fixture
def watched(site: Site) -> Iterator[tuple[Site, Server]]:
    # An hour between scheduled refreshes: only the watcher can publish within the test.
    site.config_path.write_text(
        config_text(refresh="interval_seconds = 3600\nwatch = true"), encoding="utf-8"
    )
    site.write("first.txt", "Asia\nAlready there\n\nBody.\n")
    running = serve(site.config_path, site.root / "serve.log")
    try:
        running.wait_until("/feeds/all.json")
        yield site, running
    finally:
        running.stop()


def titles(server: Server) -> list[str]:
    document = json.loads(requests.get(server.url + "/feeds/all.json", timeout=10).text)
    return [item["title"] for item in document["items"]]


def eventually(check, what: str, timeout: float = 15) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_new_edited_renamed_and_deleted_files_are_published(
    watched: tuple[Site, Server],
) -> None:
    site, server = watched
    # An editor's atomic save: a hidden temporary file renamed onto the name.
    temporary = site.articles / ".new.txt.tmp"
    temporary.write_text("Europe\nSaved atomically\n\nBody.\n", encoding="utf-8")
    os.replace(temporary, site.articles / "new.txt")
    eventually(lambda: "Saved atomically" in titles(server), "the renamed-in file")
    # A plain write and close.
    (site.articles / "plain.txt").write_text("Asia\nWritten in place\n\nBody.\n", "utf-8")
    eventually(lambda: "Written in place" in titles(server), "the written file")
    # An edit of a file already published, in place.
    (site.articles / "first.txt").write_text("Asia\nAlready there, edited\n\nBody.\n", "utf-8")
    eventually(lambda: "Already there, edited" in titles(server), "the edit")
    # A new folder moved in, then a deletion.
    folder = site.root / "incoming"
    folder.mkdir()
    (folder / "inside.txt").write_text("Diplomacy\nFrom a moved folder\n\nBody.\n", "utf-8")
    os.rename(folder, site.articles / "incoming")
    eventually(lambda: "From a moved folder" in titles(server), "the moved-in folder")
    (site.articles / "plain.txt").unlink()
    eventually(lambda: "Written in place" not in titles(server), "the deletion")
    # Renamed to a backup name: no longer an article.
    os.rename(site.articles / "new.txt", site.articles / "new.txt~")
    eventually(lambda: "Saved atomically" not in titles(server), "the rename to a backup")
    assert sorted(titles(server)) == ["Already there, edited", "From a moved folder"]
