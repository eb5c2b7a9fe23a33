"""Debian's chromium for the browser tests: where it is, how to start it, and what to do when it is missing."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags chromium keeps dialling Google's hosts, which this network refuses.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def require_chromium(what: str) -> None:
    """Skip the calling test module loudly when chromium is missing; in CI (NEWSSTAND_REQUIRE_BROWSER) fail."""
    if Path(CHROMIUM).exists():
        return
    message = f"!!! {CHROMIUM} is missing: {what} cannot run (make test installs it with apt as root)"
    if os.environ.get("NEWSSTAND_REQUIRE_BROWSER"):
        raise RuntimeError(message)
    print(message, file=sys.stderr)
    pytest.skip(message, allow_module_level=True)


def launched() -> Iterator[Browser]:
    """Chromium for one test module: `browser = pytest.fixture(scope="module")(launched)` after require_chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
