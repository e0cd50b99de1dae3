"""The home page in a real browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
import requests
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import SAMPLE, Site, config_text
from tests.servers import Server, free_port, serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Debian's build, not a downloaded one; the flags keep it off this machine's closed network.
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
FEED_TYPES = {"application/atom+xml", "application/rss+xml", "application/feed+json"}
ARABIC = "استئناف محادثات السلام!"  # an RTL headline ending in a neutral "!"
#: what authors paste: a long code line, a long address, a long compound word, a wide table
#: (its first column centred), a photo (on this server: the browser reaches no other)
WIDE = (
    "---\ntitle: Wide content\nsection: Asia\n---\n"
    f"```\n{'x' * 140}\n```\n\n"
    f"See https://example.org/{'long-path-' * 12} and "
    f"{'Donaudampfschifffahrtsgesellschaft' * 3}.\n\n"
    f"| {' | '.join(f'column {n}' for n in range(12))} |\n|:---:|{'---|' * 11}\n\n"
    "![The delta from the air](delta.png)\n"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("browser")
    (root / "articles").mkdir()
    shutil.copy(SAMPLE, root / "articles" / SAMPLE.name)
    Site(root).write("asia.txt", "Asia\nA <b>tagged</b> headline\n\nBody.\n")
    Site(root).write("arabic.txt", f"Middle East\n{ARABIC}\n\nبدأت المحادثات اليوم.\n")
    Site(root).write("wide.md", WIDE)
    port = free_port()  # links in feeds and pages are absolute: base_url must be this server
    config = config_text(base_url=f"http://127.0.0.1:{port}")
    (root / "config.toml").write_text(config, encoding="utf-8")
    running = serve(root / "config.toml", root / "serve.log", port=port)
    try:
        running.wait_until("/")
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run scripts/system-deps.sh"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


def test_readers_discover_every_feed_from_the_home_page(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    page = browser.new_page(java_script_enabled=False)  # the pages need none
    page.goto(server.url + "/")
    links = page.eval_on_selector_all(
        "head link[rel=alternate]",
        "els => els.map(e => ({href: e.href, type: e.type, title: e.title}))",
    )
    assert {link["type"] for link in links} == FEED_TYPES
    assert len(links) == 18  # all + five sections, three formats each
    assert links[0]["href"] == server.url + "/feeds/all.atom"
    for link in links:
        response = requests.get(link["href"], timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith(link["type"])
        if link["type"] == "application/feed+json":
            assert response.json()["version"] == "https://jsonfeed.org/version/1.1"
        else:
            assert feedparser.parse(response.content).bozo == 0
    assert page.inner_text("h1") == "Test Desk"
    assert "A <b>tagged</b> headline" in page.inner_text("body")  # markup stays text
    assert page.locator("a[href*='/articles/']").count() >= 4  # the stories, as links
    page.screenshot(path=str(tmp_path / "home.png"), full_page=True)  # for a human to look at


def test_a_section_page_lists_its_own_feeds_first(server: Server, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(server.url + "/sections/america/")
    hrefs = page.eval_on_selector_all("head link[rel=alternate]", "els => els.map(e => e.href)")
    assert hrefs[:3] == [server.url + f"/feeds/america.{fmt}" for fmt in ("atom", "rss", "json")]
    page.click("text=Pentagon removes all bureaucratic hurdles for drone production")
    assert page.url.startswith(server.url + "/articles/pentagon-removes")
    assert "Related" in page.inner_text("aside")


def test_the_home_page_fits_a_phone(server: Server, browser: Browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(server.url + "/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.screenshot(path=str(tmp_path / "phone.png"))
    healthz = json.loads(requests.get(server.url + "/healthz", timeout=10).text)
    assert healthz["status"] == "ok"


def test_an_article_page_fits_a_phone_whatever_its_author_pasted(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(server.url + "/articles/wide-content/")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    # code keeps its lines, scrolled in its own box
    assert page.locator("pre").evaluate("el => el.scrollWidth > el.clientWidth")
    page.screenshot(path=str(tmp_path / "article-phone.png"), full_page=True)


def test_pages_look_as_written_under_a_policy_that_runs_no_script(
    server: Server, browser: Browser
) -> None:
    """The Content-Security-Policy a page is served with refuses scripts, not the page's own
    style, a table's alignment, or an article's photo."""
    page = browser.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    answered: list[str] = []
    page.on("response", lambda response: answered.append(response.url))
    page.goto(server.url + "/articles/wide-content/")  # returns once the photo was asked for
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "704px"  # 44rem
    assert page.locator("th").first.evaluate("el => getComputedStyle(el).textAlign") == "center"
    assert server.url + "/articles/wide-content/delta.png" in answered  # a 404 here
    assert not [text for text in refused if "Content Security Policy" in text]
    policy = requests.get(server.url + "/", timeout=10).headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy


def test_a_right_to_left_headline_is_laid_out_right_to_left(
    server: Server, browser: Browser
) -> None:
    """In an English site, an Arabic headline's "!" belongs at its left end, as Arabic readers
    read it: each title takes its direction from its own first letter."""
    page = browser.new_page()
    page.goto(server.url + "/")
    direction = "el => getComputedStyle(el).direction"
    assert page.locator(f"a:has-text('{ARABIC[:10]}')").first.evaluate(direction) == "rtl"
    english = page.locator("a:has-text('A <b>tagged</b> headline')").first
    assert english.evaluate(direction) == "ltr"
    page.locator(f"a:has-text('{ARABIC[:10]}')").first.click()
    assert page.locator("h1").evaluate(direction) == "rtl"
