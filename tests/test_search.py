"""Search in a real browser (Debian's chromium via Playwright), with the site served under /news/."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsstand import search
from newsstand.build import build

from .chromium import ARGS, CHROMIUM, require_chromium
from .conftest import SEEDS, settings_for

require_chromium("the search browser test")

from playwright.sync_api import expect, sync_playwright  # noqa: E402

# A loaded CI machine can take more than Playwright's default 5 s to load and render a page.
expect.set_options(timeout=20_000)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _served(root: Path, month_stories: int = search.MONTH_STORIES) -> Iterator[str]:
    """The seeds' site built under `root`/news/ and served over HTTP: its base URL; `month_stories`: the
    stories a month's search bundle holds before it is split in quarters (search.MONTH_STORIES)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}/news/"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "MONTH_STORIES", month_stories)
        build(settings_for(SEEDS, root / "news", base_url=base))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _served(tmp_path_factory.mktemp("search-host")) as base:
        yield base


def test_typing_a_query_finds_the_story_under_a_sub_path(news: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(news + "topics/ai/")
        page.fill("header input[name=q]", "Vuzix")
        page.press("header input[name=q]", "Enter")
        page.wait_for_url("**/news/search/?q=Vuzix")
        result = page.locator(".pagefind-ui__result-link").first
        expect(result).to_be_visible(timeout=20_000)
        expect(result).to_contain_text("Vuzix integrates TensorMark")
        href = result.get_attribute("href") or ""
        assert href.startswith("/news/stories/"), href
        # Typing into the search page's own box runs a new search: a provider and a topic are found too.
        box = page.locator(".pagefind-ui__search-input")
        box.fill("Engadget")
        expect(page.locator(".pagefind-ui__result-link", has_text="Engadget").first).to_be_visible(timeout=20_000)
        result = page.locator(".pagefind-ui__result-link", has_text="Engadget").first
        result.click()
        page.wait_for_url("**/news/providers/engadget/")
        expect(page.locator("h1")).to_have_text("Engadget")
        browser.close()


def _search_everywhere(base: str) -> list[str]:
    """On the search page at `base`: a story of January, one of February and a topic page are each found,
    and each bundle the page merges was loaded from under the sub-path, none with Pagefind's scripts again.
    Returns those bundles."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(base + "search/")
        parts = (page.locator("#search").get_attribute("data-parts") or "").split()
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        box = page.locator(".pagefind-ui__search-input")
        for query, title, href in (
            # January: the Moscow story keeps the address its first report (Forbes) gave it; The Verge's report leads.
            ("FindFace", "Moscow rolls out", "/news/stories/remember-findface-"),
            ("Vuzix", "Vuzix integrates TensorMark", "/news/stories/vuzix-integrates-"),  # February
            ("Computer Vision", "Computer Vision", "/news/topics/computer-vision/"),  # the lists
        ):
            box.fill(query)
            result = page.locator(f'.pagefind-ui__result-link[href^="{href}"]').first
            expect(result).to_be_visible()
            expect(result).to_contain_text(title)
        for part in parts:
            assert any(url.startswith(base + part + "pagefind-entry.json") for url in fetched), part
        assert not any("/parts/" in url and url.endswith(".js") for url in fetched)
        browser.close()
    return parts


def test_search_merges_the_month_partitions_and_the_lists(news: str) -> None:
    assert _search_everywhere(news) == ["pagefind/parts/2020-01/", "pagefind/parts/2020-02/"]


@pytest.fixture(scope="module")
def split_news(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeds' site with months of more than three stories indexed in quarters."""
    with _served(tmp_path_factory.mktemp("split-search-host"), month_stories=3) as base:
        yield base


def test_search_merges_the_quarters_of_a_month_it_split(split_news: str) -> None:
    parts = _search_everywhere(split_news)
    assert len(parts) > 2 and all(
        part.startswith(("pagefind/parts/2020-01-", "pagefind/parts/2020-02")) for part in parts
    )
