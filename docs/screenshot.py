"""Take docs/screenshot.png: the example site's front page in Chromium (`make screenshot`).

Built without images, as publishers' thumbnails would be fetched from their hosts, and without a base
URL, so that the page opens from the file system.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from newsstand.build import build
from newsstand.config import Settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def main() -> int:
    target = ROOT / "docs" / "screenshot.png"
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "site"
        build(Settings(seeds=ROOT / "seeds", out=out, cache=Path(work) / "cache", show_images=False, search=False))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 900, "height": 600}, color_scheme="light")
            page.goto((out / "index.html").as_uri())
            page.screenshot(path=str(target))
            browser.close()
    print(f"{target.relative_to(ROOT)}: {target.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
