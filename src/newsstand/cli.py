"""The `newsstand` command: parse arguments, call the pipeline, print, and choose the exit code."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .build import BuildError, build
from .config import ConfigError, Settings, load_settings
from .write import WriteError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsstand", description="Build a static news-aggregator site from story files."
    )
    parser.add_argument("--version", action="version", version=f"newsstand {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seeds", type=Path, metavar="DIR", help="folder of story files (default: seeds/)")
        p.add_argument(
            "--config", type=Path, metavar="FILE", help="config file (default: newsstand.yaml, when present)"
        )
        p.add_argument("--drafts", action="store_true", default=None, help="include story files marked draft: true")

    b = commands.add_parser("build", help="build the site")
    common(b)
    b.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: site/)")
    b.add_argument(
        "--theme", type=Path, metavar="DIR", help="a theme folder (templates/, static/) under the site's own files"
    )
    b.add_argument(
        "--base-url", metavar="URL", help="absolute URL the site is served from, e.g. https://example.org/news/"
    )
    b.add_argument("--strict", action="store_true", default=None, help="fail on any problem, writing nothing")
    b.add_argument(
        "--search",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="build the in-browser search index (default: on)",
    )
    b.add_argument(
        "--timings", action="store_true", help="print the seconds each stage took, and the peak memory after it"
    )
    c = commands.add_parser("check", help="validate the story files only; exit 1 when any problem is found")
    common(c)
    c.add_argument(
        "--site",
        type=Path,
        metavar="DIR",
        help="check a built site instead: broken links, missing assets, duplicate ids",
    )
    c.add_argument("--base-url", metavar="URL", help="the base URL the site was built with (default: the config's)")
    s = commands.add_parser("serve", help="build, serve with live reload, rebuild on change")
    common(s)
    s.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: site/)")
    s.add_argument(
        "--theme", type=Path, metavar="DIR", help="a theme folder (templates/, static/) under the site's own files"
    )
    s.add_argument(
        "--host", default="127.0.0.1", metavar="ADDRESS", help="address to bind (default: 127.0.0.1, this machine only)"
    )
    s.add_argument("--port", type=int, default=8000, help="port to serve on (default: 8000)")
    s.add_argument("--base-url", help=argparse.SUPPRESS)
    s.add_argument(
        "--search",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also build the search index on every rebuild (default: off, for fast rebuilds)",
    )
    i = commands.add_parser(
        "init", help="make a new site folder: a commented newsstand.yaml, seeds/ with an example, a README"
    )
    i.add_argument(
        "folder", type=Path, metavar="DIR", help="the new site's folder (made if need be; never overwritten)"
    )
    i.add_argument("--title", default="My News", help="the site's name (default: My News)")
    i.add_argument(
        "--base-url",
        default="",
        metavar="URL",
        help="the URL it will be served from (default: none yet, fill it in later)",
    )
    i.add_argument(
        "--timezone", default="UTC", metavar="ZONE", help="IANA time zone its dates are shown in (default: UTC)"
    )
    f = commands.add_parser("fetch", help="fetch the subscribed feeds into story files (then build)")
    f.add_argument("--seeds", type=Path, help="folder to write the story files into (default: seeds/)")
    f.add_argument("--config", type=Path, help="config file (default: newsstand.yaml, when present)")
    f.add_argument("--opml", type=Path, help="also fetch the feeds of this OPML file")
    f.add_argument(
        "--max-age", type=int, metavar="DAYS", help="skip entries older than this (0: no limit; default: 30)"
    )
    o = commands.add_parser("export-opml", help="write the config's feeds as an OPML file")
    o.add_argument("--config", type=Path, help="config file (default: newsstand.yaml, when present)")
    o.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    return parser


def init(args: argparse.Namespace) -> int:
    from .scaffold import InitError, create_site

    try:
        created = create_site(args.folder, title=args.title, base_url=args.base_url, timezone=args.timezone)
    except (InitError, ConfigError) as err:
        print(f"newsstand: {err}", file=sys.stderr)
        return 1
    print(f"A new site in {created.folder}: {', '.join(created.written)}")
    if created.kept:
        print(f"  left as they were: {', '.join(created.kept)}")
    print(f"Next: cd {created.folder} && newsstand serve")
    return 0


def settings_for(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "seeds": getattr(args, "seeds", None),
        "out": getattr(args, "out", None),
        "base_url": getattr(args, "base_url", None),
        "drafts": getattr(args, "drafts", None),
        "strict": getattr(args, "strict", None),
        "search": getattr(args, "search", None),
        "theme": getattr(args, "theme", None),
        "fetch_max_age": getattr(args, "max_age", None),
    }
    return load_settings(args.config, overrides)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "init":  # makes a site, so reads no site's settings
        return init(args)
    try:
        settings = settings_for(args)
        if args.command == "check" and args.site is not None:
            from .checksite import check_site

            findings = check_site(args.site, settings.base_url)
            for finding in findings:
                print(finding, file=sys.stderr)
            print(f"{args.site}: {len(findings)} problems")
            return 1 if findings else 0
        if args.command == "fetch":
            return _fetch(settings, args.opml)
        if args.command == "export-opml":
            return _export_opml(settings, args.output)
        if args.command == "serve":
            from .serve import serve

            return serve(settings, host=args.host, port=args.port, config=args.config, load=lambda: settings_for(args))
        result = build(settings, write=args.command == "build")
    except (ConfigError, BuildError, WriteError) as err:
        for problem in getattr(err, "problems", ()):
            print(problem, file=sys.stderr)
        # A config file's error starts with its place in the file (`newsstand.yaml:3:1: ...`), as a seed's does.
        print(err if getattr(err, "file", "") else f"newsstand: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("newsstand: interrupted; the last good site is untouched", file=sys.stderr)
        return 130
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if args.command == "check":
        print(f"{result.files_read} files checked, {result.files_rejected} rejected, {len(result.problems)} problems")
        return 1 if result.problems else 0
    print(result.summary())
    if getattr(args, "timings", False):
        print("  " + ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in result.timings.items()))
        if result.peaks:
            print("  peak memory after " + ", ".join(f"{stage} {mb:.0f} MB" for stage, mb in result.peaks.items()))
    return 0


def _fetch(settings: Settings, opml: Path | None) -> int:
    """`newsstand fetch`: a line per feed on a terminal; under cron only problems and one summary line."""
    from .fetch import fetch
    from .httpget import Policy
    from .subscriptions import SubscriptionError, read_opml, subscriptions_from

    try:
        subs = subscriptions_from([*settings.feeds, *(read_opml(opml) if opml is not None else ())])
    except SubscriptionError as err:
        print(f"newsstand: {err}", file=sys.stderr)
        return 1
    if not subs:
        print(
            "newsstand: no feeds to fetch: list them under feeds: in newsstand.yaml, or give --opml FILE",
            file=sys.stderr,
        )
        return 1
    terminal = sys.stdout.isatty()

    def progress(result: Any) -> None:
        print(result.line(), file=sys.stderr if result.outcome == "failed" else sys.stdout, flush=True)

    report = fetch(
        subs,
        settings.seeds,
        settings.cache,
        settings.fetch_max_age,
        Policy(contact=settings.base_url),
        progress=progress if terminal else None,
    )
    if not terminal:
        for result in report.feeds:
            if result.outcome == "failed":
                progress(result)
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(report.summary())
    return 0  # a feed that fails is reported and tried again later: the build after it still has work to do


def _export_opml(settings: Settings, output: Path | None) -> int:
    from .subscriptions import opml_bytes
    from .write import atomic_write

    data = opml_bytes(settings.feeds, settings.title)
    if output is None:
        sys.stdout.buffer.write(data)
        return 0
    try:
        atomic_write(output, data)
    except OSError as err:
        print(f"newsstand: {output}: cannot write: {err.strerror or err}", file=sys.stderr)
        return 1
    print(f"{output}: {len(settings.feeds)} feeds")
    return 0


def run() -> None:
    """The console script: `main`, then exit without tearing the interpreter down. A build leaves millions of
    objects behind, and freeing them one by one, then a last collection over what is left, took most of a
    second at 10k stories: the system takes the whole memory back at once. Nothing is left to flush but
    the standard streams (files are written and closed, locks released, worker pools joined by then)."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
