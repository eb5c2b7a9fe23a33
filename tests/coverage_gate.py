"""The coverage gate of `make test`, run after the suite: every stage module is covered.

pytest-cov prints the table and holds the whole package to its floor (--cov-fail-under); this holds each
stage of the pipeline (README, "Layout") to one of its own, so that a stage whose tests went missing
cannot hide behind the others. Only what runs in the test process counts: the commands the tests start
as subprocesses (serve, above all) are measured by what they do, not here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "newsstand"
STAGES = [
    "read.py",
    "normalize.py",
    "markup.py",
    "urls.py",
    "ingest.py",
    "exclude.py",
    "cluster/",
    "identity.py",
    "rank.py",
    "pages.py",
    "days.py",
    "coverage.py",
    "countries.py",
    "timeline.py",
    "summary.py",
    "images.py",
    "render.py",
    "feeds.py",
    "sitemap.py",
    "metadata.py",
    "assets.py",
    "search.py",
    "theme.py",
    "write.py",
]
FLOOR = 80.0  # percent of statements, per stage module


def main() -> int:
    data = coverage.Coverage(data_file=str(ROOT / ".coverage"))
    data.load()
    failed = []
    shown = []
    for stage in STAGES:
        files = sorted((PACKAGE / stage).rglob("*.py")) if stage.endswith("/") else [PACKAGE / stage]
        for path in files:
            _, statements, _, missing, _ = data.analysis2(str(path))
            percent = 100.0 * (len(statements) - len(missing)) / len(statements) if statements else 100.0
            name = path.relative_to(PACKAGE).as_posix()
            shown.append(f"{name} {percent:.0f}%")
            if percent < FLOOR:
                failed.append(
                    f"{name}: {percent:.1f}% of its statements run by the tests, under the floor of {FLOOR:.0f}%"
                )
    print("stage coverage: " + ", ".join(shown))
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
