"""Full-text search that runs in the browser: a Pagefind index of the rendered pages.

Pagefind's binary ships inside the `pagefind[bin]` wheel; nothing is fetched at run time.
It indexes the rendered HTML in a scratch folder and its bundle (`pagefind/…`) joins the
site's other files before the atomic write, so a failed index never half-replaces a site.
Only story pages and the first page of each topic and provider are indexed: their `<main>`
carries `data-pagefind-body` (the story cards on term pages are `data-pagefind-ignore`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

BUNDLE = "pagefind"


class SearchIndexError(RuntimeError):
    """Pagefind could not index the site."""


def search_files(outputs: Iterable[tuple[str, bytes]], language: str = "en") -> list[tuple[str, bytes]]:
    """The Pagefind bundle for the HTML among `outputs`, as (path, bytes) under `pagefind/`."""
    with tempfile.TemporaryDirectory(prefix="newsstand-search-") as tmp:
        site = Path(tmp) / "site"
        for path, data in outputs:
            # Only pages that mark a body to index are given to Pagefind: the rest would be parsed for nothing.
            if path.endswith(".html") and b"data-pagefind-body" in data:
                target = site / PurePosixPath(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        site.mkdir(exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "pagefind",
            "--site",
            str(site),
            "--output-subdir",
            BUNDLE,
            "--force-language",
            language.split("-")[0],
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise SearchIndexError(f"pagefind could not run: {err}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise SearchIndexError("pagefind failed: " + " | ".join(tail))
        bundle = site / BUNDLE
        return [(p.relative_to(site).as_posix(), p.read_bytes()) for p in sorted(bundle.rglob("*")) if p.is_file()]
