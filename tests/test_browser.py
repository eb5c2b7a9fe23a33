"""The served site in a real browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .chromium import launched, require_chromium
from .conftest import ROOT, SEEDS, THEME, free_port, own_template, wait_until_listening

require_chromium("the browser tests")

from playwright.sync_api import Browser, Page, expect  # noqa: E402

# A loaded CI machine can take more than Playwright's default 5 s to load and render a page.
expect.set_options(timeout=20_000)


browser = pytest.fixture(scope="module")(launched)


def serving(args: list[str], cwd: Path, folder: Path) -> Iterator[tuple[str, Path]]:
    """Run `newsstand serve ARGS` in CWD until the test is done; yield its address and FOLDER."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsstand", "serve", *args, "--port", str(port)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_listening(proc, port, lambda: proc.stdout.read() if proc.stdout else "")
        yield f"http://127.0.0.1:{port}/", folder
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    yield from serving(["--seeds", str(seeds), "--out", str(tmp_path / "site")], ROOT, seeds)


def test_click_through_story_topic_provider(browser: Browser, served: tuple[str, Path]) -> None:
    base, _ = served
    page: Page = browser.new_page()
    page.goto(base)
    expect(page.locator("h1")).to_have_text("Top stories")
    first = page.locator(".story-card h2 a").first
    headline = first.inner_text()
    first.click()
    # A loaded CI machine can take longer than expect's 5 s default to follow the link.
    page.wait_for_url("**/stories/**", timeout=30_000)
    expect(page.locator("h1")).to_have_text(headline, timeout=30_000)
    page.locator(".facets .chips a").first.click()
    assert "/topics/" in page.url
    expect(page.locator(".story-card").first).to_be_visible()
    page.get_by_role("link", name="Sources", exact=True).click()
    expect(page.locator("h1")).to_have_text("Sources")
    page.get_by_role("link", name="Engadget").click()
    expect(page.locator("h1")).to_have_text("Engadget")
    assert "/providers/engadget/" in page.url
    page.get_by_role("link", name="Topics", exact=True).click()
    page.get_by_role("link", name="Computer Vision").click()
    expect(page.locator("h1")).to_have_text("Computer Vision")
    page.close()


def test_editing_a_seed_reloads_the_open_page(browser: Browser, served: tuple[str, Path]) -> None:
    base, seeds = served
    page = browser.new_page()
    page.goto(base)
    expect(page.locator(".story-card h2 a").first).to_contain_text("London Police Amp Up Surveillance")
    page.wait_for_timeout(1500)  # let livereload's socket connect
    seed = seeds / "003_42a5eca9757d8fec.txt"
    text = seed.read_text()
    seed.write_text(text.replace("London Police Amp Up Surveillance", "Edited Live: London Police Surveillance"))
    expect(page.locator(".story-card h2 a").first).to_contain_text("Edited Live:", timeout=20_000)
    page.close()


def test_a_failed_build_shows_its_error_and_the_last_good_site(browser: Browser, served: tuple[str, Path]) -> None:
    base, seeds = served
    page = browser.new_page()
    page.goto(base)
    page.wait_for_timeout(1500)
    template = THEME / "templates"
    # Break the build without touching the repo: point at a seed folder that vanished.
    shutil.rmtree(seeds)
    expect(page.locator("#newsstand-build-error")).to_be_visible(timeout=20_000)
    expect(page.locator(".story-card").first).to_be_visible()
    assert template.is_dir()
    page.close()


@pytest.fixture
def served_with_own_theme(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`serve` in a site folder with a base.html and a style.css of its own over the default theme."""
    root = tmp_path / "blog"
    shutil.copytree(SEEDS, root / "seeds")
    own_template(root / "templates")
    (root / "static").mkdir()
    (root / "static" / "style.css").write_text((THEME / "static" / "style.css").read_text())
    yield from serving([], root, root)


def test_editing_the_sites_own_stylesheet_or_template_reloads_the_open_page(
    browser: Browser, served_with_own_theme: tuple[str, Path]
) -> None:
    base, root = served_with_own_theme
    page = browser.new_page()
    page.goto(base)
    expect(page.locator("h1")).to_have_text("Top stories")
    page.wait_for_timeout(1500)  # let livereload's socket connect
    css = root / "static" / "style.css"
    css.write_text(css.read_text() + "\nh1.page-title { color: rgb(0, 128, 0); }\n")
    expect(page.locator("h1")).to_have_css("color", "rgb(0, 128, 0)", timeout=20_000)
    template = root / "templates" / "base.html"
    template.write_text(template.read_text().replace("<footer", '<p id="own-note">Edited theme</p><footer', 1))
    expect(page.locator("#own-note")).to_have_text("Edited theme", timeout=20_000)
    page.close()
