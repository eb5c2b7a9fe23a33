"""What a reader sees, in a real browser (Debian's chromium via Playwright): every page kind of the seeds' site,
served under /news/, at 390 px and 1280 px, light and dark, with the publishers' images unreachable (as they
are for many old article URLs): no horizontal scroll, no console error, no failed request to the site, no
request to another host but article images, no broken-image icon and no blank hole where an image failed,
one timeline mark per article, no serious or critical axe-core violation; and search working under the
Content-Security-Policy. Screenshots go to tests/screenshots/ (ignored by git), to look at.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .chromium import launched, require_chromium
from .conftest import ROOT
from .statichost import hosted_seeds

require_chromium("the reader's browser tests")

from playwright.sync_api import Browser, BrowserContext, expect  # noqa: E402
from playwright.sync_api import Page as Tab  # noqa: E402

expect.set_options(timeout=20_000)

AXE = ROOT / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "tests" / "screenshots"
LONDON = "stories/facial-recognition-to-be-rolled-out-across-london-by-police-despite-privacy/"
# One page of every kind; the 404 page is what the host serves for a missing path.
KINDS = {
    "home": "",
    "home-2": "page/2/",
    "story": LONDON,
    "story-one": "stories/editorial-facial-recognition-software-takes-personal-invasion-into-a-new/",
    "topics": "topics/",
    "topic": "topics/ai/",
    "providers": "providers/",
    "provider": "providers/new-york-times/",
    "days": "days/",
    "day": "days/2020-01-24/",
    "search": "search/?q=London",
    "notfound": "no/such/page/",
}
WIDTHS = (390, 1280)
SCHEMES = ("light", "dark")

if not AXE.exists():
    message = f"!!! {AXE} is missing: the accessibility checks cannot run (make test installs it with npm)"
    if os.environ.get("NEWSSTAND_REQUIRE_BROWSER"):
        raise RuntimeError(message)
    print(message, file=sys.stderr)
    pytest.skip(message, allow_module_level=True)


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    with hosted_seeds(tmp_path_factory.mktemp("reader-host")) as site:
        yield site


browser = pytest.fixture(scope="module")(launched)


class Watch:
    """What one page asked for and said while it loaded."""

    def __init__(self, tab: Tab, context: BrowserContext, base: str) -> None:
        self.base = base
        self.outside: list[tuple[str, str]] = []  # (resource type, URL) of requests to other hosts, all refused
        self.failed: list[str] = []  # requests to the site that failed or answered an error
        self.errors: list[tuple[str, str]] = []  # console errors: (text, URL they are about)
        context.route("**/*", self._route)
        tab.on(
            "console", lambda m: self.errors.append((m.text, m.location.get("url", ""))) if m.type == "error" else None
        )
        tab.on("pageerror", lambda e: self.errors.append((f"uncaught: {e}", "")))
        tab.on(
            "requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}") if r.url.startswith(base) else None
        )
        tab.on(
            "response",
            lambda r: self.failed.append(f"{r.url} {r.status}") if r.url.startswith(base) and r.status >= 400 else None,
        )

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(self.base):
            route.continue_()
        else:  # the publishers' hosts are unreachable, as many old images are
            self.outside.append((route.request.resource_type, url))
            route.abort()

    def real_errors(self, expected: set[str]) -> list[tuple[str, str]]:
        """Console errors beyond the browser's notice that a refused image (or an `expected` URL) failed."""
        refused = {url for kind, url in self.outside if kind == "image"} | expected
        return [
            (text, url)
            for text, url in self.errors
            if not (text.startswith("Failed to load resource") and url in refused)
        ]


def _scroll_through(tab: Tab) -> None:
    """Scroll to the end and back, so every lazy image is asked for, then let the requests settle."""
    tab.evaluate("""async () => {
        for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight / 2) {
            scrollTo(0, y); await new Promise(r => setTimeout(r, 30));
        }
        scrollTo(0, 0);
    }""")
    tab.wait_for_load_state("networkidle")


# Boxes taller than 40 px that show nothing: no text, no drawing, no loaded image, no control.
BLANK_BLOCKS = """() => {
    const shows = el => el.innerText.trim() !== "" ||
        el.querySelector("svg, input, button, select, textarea, iframe") !== null ||
        [...el.querySelectorAll("img")].some(i => i.complete && i.naturalWidth > 0);
    return [...document.querySelectorAll("main *")].filter(el => {
        const box = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        return box.height > 40 && box.width > 0 && style.visibility !== "hidden" && !el.closest("svg") &&
            !el.matches("input, button, select, textarea") && !shows(el);
    }).map(el => el.outerHTML.slice(0, 160));
}"""
# Images that did not load but still take room on the page (a broken icon or a hole).
BROKEN_IMAGES = """() => [...document.images]
    .filter(i => !(i.complete && i.naturalWidth > 0))
    .map(i => [i.currentSrc || i.src, i.getBoundingClientRect().width, i.getBoundingClientRect().height])
    .filter(([, w, h]) => w > 0 && h > 0)"""


def _axe(tab: Tab) -> list[str]:
    """Serious and critical axe-core violations on the page, one line each."""
    tab.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")  # evaluated by the browser's devtools: no CSP applies
    result = tab.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']} {v['id']}: {v['help']} — " + " | ".join(n["html"][:120] for n in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_kind_reads_right(browser: Browser, news: tuple[str, Path], width: int, scheme: str) -> None:
    base, site = news
    articles = {s["url"]: len(s["articles"]) for s in json.loads((site / "stories.json").read_text())["stories"]}
    SHOTS.mkdir(exist_ok=True)
    problems: list[str] = []
    images_refused = 0
    for kind, path in KINDS.items():
        context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
        tab = context.new_page()
        watch = Watch(tab, context, base)
        response = tab.goto(base + path)
        assert response is not None
        if kind == "notfound":
            assert response.status == 404
            watch.failed = [f for f in watch.failed if not f.startswith(base + path)]
        else:
            assert response.status == 200, (kind, response.status)
        if kind == "search":
            expect(tab.locator(".pagefind-ui__result-link").first).to_be_visible()
        _scroll_through(tab)
        where = f"{kind} ({path or '/'}) at {width} px, {scheme}"
        if tab.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"):
            problems.append(f"{where}: scrolls sideways ({tab.evaluate('document.documentElement.scrollWidth')} px)")
        expected = {base + path} if kind == "notfound" else set()
        problems += [f"{where}: console error: {text} ({url})" for text, url in watch.real_errors(expected)]
        problems += [f"{where}: failed request to the site: {f}" for f in watch.failed]
        problems += [
            f"{where}: request to another host that is not an image: {t} {u}" for t, u in watch.outside if t != "image"
        ]
        images_refused += sum(1 for t, _ in watch.outside if t == "image")
        problems += [f"{where}: a failed image still takes room: {b}" for b in tab.evaluate(BROKEN_IMAGES)]
        problems += [f"{where}: blank block: {b}" for b in tab.evaluate(BLANK_BLOCKS)]
        if kind.startswith("story"):
            marks = tab.locator("svg.timeline .tl-mark").count()
            count = articles[path]
            if count > 1 and marks != count:
                problems.append(f"{where}: {marks} timeline marks for {count} articles")
            if count > 1:
                assert tab.locator("svg.timeline .tl-mark.is-lead").count() == 1
        problems += [f"{where}: axe: {v}" for v in _axe(tab)]
        tab.screenshot(path=str(SHOTS / f"{kind}-{width}-{scheme}.png"), full_page=True)
        context.close()
    assert images_refused > 10  # the publishers' images were asked for, and refused: the checks above saw them fail
    assert not problems, "\n".join(problems)


def test_without_scripts_a_blocked_image_shows_no_icon(browser: Browser, news: tuple[str, Path]) -> None:
    # With scripts off nothing removes a failed image: its box stays (width and height are kept, so nothing
    # shifts), but the CSS paints it over: the box is one flat colour.
    # The site's script is refused (rather than scripts turned off, which stops the test's own probes too).
    base, _ = news
    context = browser.new_context(viewport={"width": 390, "height": 900})
    tab = context.new_page()
    Watch(tab, context, base)
    tab.route("**/static/site.*.js", lambda route: route.abort())
    for path, selector in (("", ".story-card .thumb"), (LONDON, ".story-head .hero")):
        tab.goto(base + path)
        image = tab.locator(selector).first
        image.scroll_into_view_if_needed()
        tab.wait_for_load_state("networkidle")
        box = image.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 40, box
        assert not image.evaluate("i => i.complete && i.naturalWidth > 0")  # it really failed
        shown = tab.screenshot(clip=box)
        # One flat colour compresses to almost nothing; a broken-image icon or alt text would not.
        assert len(shown) < 1500, f"{path or '/'}: the failed image's box is not blank ({len(shown)} bytes)"
        expect(tab.locator("h1")).to_be_visible()
    context.close()


def test_with_scripts_a_failed_image_gives_its_room_back(browser: Browser, news: tuple[str, Path]) -> None:
    # Lazy images far down the page fail after the script ran; the first ones fail before it: both go.
    base, _ = news
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    Watch(tab, context, base)
    tab.goto(base)
    _scroll_through(tab)
    assert tab.locator("img.thumb").count() == 0
    assert tab.locator(".story-card.has-image").count() == 0
    # The card lays out as one without an image: its text takes the card's whole width.
    card = tab.locator(".story-card").first.bounding_box()
    text = tab.locator(".story-card .story-body").first.bounding_box()
    assert card is not None and text is not None and abs(card["width"] - text["width"]) < 1
    context.close()


def test_keyboard_skip_link_and_visible_focus(browser: Browser, news: tuple[str, Path]) -> None:
    base, _ = news
    context = browser.new_context(viewport={"width": 390, "height": 900})
    tab = context.new_page()
    Watch(tab, context, base)
    tab.goto(base + LONDON)
    tab.keyboard.press("Tab")
    skip = tab.locator("a.skip")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0  # on screen once focused
    assert skip.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    tab.keyboard.press("Enter")
    assert tab.evaluate("document.activeElement.id") == "main"
    # Tab on from the content reaches the breadcrumbs' links and then the story's, each with a visible outline.
    tab.keyboard.press("Tab")
    focused = tab.evaluate(
        "[document.activeElement.closest('nav')?.className, getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["crumbs", "solid"], focused
    context.close()


def test_search_works_under_the_content_security_policy(browser: Browser, news: tuple[str, Path]) -> None:
    # Pagefind compiles WebAssembly: without 'wasm-unsafe-eval' in script-src the policy stops it.
    base, site = news
    policy = (site / "search" / "index.html").read_text()
    assert "Content-Security-Policy" in policy and "'wasm-unsafe-eval'" in policy and "'unsafe-inline'" not in policy
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    watch = Watch(tab, context, base)
    tab.goto(base + "search/?q=Vuzix")
    result = tab.locator(".pagefind-ui__result-link").first
    expect(result).to_contain_text("Vuzix integrates TensorMark")
    tab.locator(".pagefind-ui__search-input").fill("Engadget")
    expect(tab.locator(".pagefind-ui__result-link", has_text="Engadget").first).to_be_visible()
    assert not watch.real_errors(set()), watch.errors
    assert not watch.failed and not watch.outside
    context.close()
