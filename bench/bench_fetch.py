"""`newsstand fetch` over a folder of captured feeds, served from a loopback HTTP server.

    .venv/bin/python bench/bench_fetch.py                    # the captured feeds in tests/data/feeds
    .venv/bin/python bench/bench_fetch.py --feeds DIR        # any folder of .xml / .json feeds

Every file becomes one subscription, served with an ETag. Two runs into a fresh seeds folder: the first
fetches everything, the second gets a 304 for each feed that answered (and waits out nothing: the feeds
that failed are backing off). Printed for each run: each feed's line, the summary, the wall time; then
the build over the files written.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.feedserver import FeedServer, Route  # noqa: E402

from newsstand.build import build  # noqa: E402
from newsstand.config import Settings  # noqa: E402
from newsstand.fetch import fetch  # noqa: E402
from newsstand.httpget import Policy  # noqa: E402
from newsstand.subscriptions import Subscription  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=Path, default=ROOT / "tests" / "data" / "feeds")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    with FeedServer() as server:
        subs = []
        for path in sorted(args.feeds.rglob("*")):
            if path.is_file() and path.suffix in (".xml", ".json"):
                route = "/" + path.relative_to(args.feeds).as_posix()
                data = path.read_bytes()
                kind = "application/feed+json" if path.suffix == ".json" else "application/xml"
                server.routes[route] = Route(
                    data, headers={"Content-Type": kind}, gzip=True, etag=f'"{hashlib.sha256(data).hexdigest()[:16]}"'
                )
                subs.append(Subscription(server.url(route)))
        for run in ("first", "second"):
            started = time.perf_counter()
            report = fetch(subs, work / "seeds", work / "cache", 0, Policy())
            seconds = time.perf_counter() - started
            print(f"== {run} run")
            for result in report.feeds:
                print("  " + result.line().replace(server.url(""), ""))
            print(f"  {report.summary()}  (wall {seconds:.2f} s)")
    started = time.perf_counter()
    result = build(
        Settings(
            seeds=work / "seeds",
            out=work / "site",
            cache=work / "cache",
            templates=ROOT / "templates",
            static=ROOT / "static",
            search=False,
        )
    )
    print(f"== build: {result.summary()} (wall {time.perf_counter() - started:.2f} s)")


if __name__ == "__main__":
    main()
