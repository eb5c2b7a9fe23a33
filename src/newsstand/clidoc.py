"""The command-line reference (docs/cli.md), written from the argument parser itself so it cannot drift.

    python -m newsstand.clidoc docs/cli.md      # or: make docs

A test compares the committed file with what this makes from the parser.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli import _parser

HEADER = """# Command-line reference

<!-- Generated from the argument parser (src/newsstand/cli.py) by `make docs`; do not edit by hand: a test
fails when this file and the parser differ. -->

Every command reads `newsstand.yaml` in the working folder when there is one (or the file `--config`
names), and its flags override the file (see [configuration.md](configuration.md)). Exit status: 0 on
success, 1 when the build or check fails (or finds problems, for `check`), 130 when interrupted.
"""


def _usage(parser: argparse.ArgumentParser) -> str:
    # Wide enough never to wrap: the terminal's width must not change the page.
    formatter = argparse.HelpFormatter(parser.prog, width=10_000)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, prefix="")
    return formatter.format_help().strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("." if text and not text.endswith(".") else "")


def _options(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        if action.option_strings:
            value = "" if action.nargs == 0 else f" {action.metavar or action.dest.upper()}"
            names = ", ".join(f"`{name}{value}`" for name in action.option_strings)
        else:
            names = f"`{action.metavar or action.dest}`"
        rows.append(f"| {names} | {_cell(action.help or '')} |")
    return ["| argument | what it does |", "| --- | --- |", *rows] if rows else []


def reference(parser: argparse.ArgumentParser | None = None) -> str:
    """docs/cli.md as the parser describes the commands."""
    parser = parser or _parser()
    lines = [
        HEADER,
        f"## {parser.prog}",
        "",
        parser.description or "",
        "",
        "```",
        _usage(parser),
        "```",
        "",
        *_options(parser),
        "",
    ]
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in commands._choices_actions}
    for name, sub in commands.choices.items():
        lines += [
            f"## {sub.prog}",
            "",
            _sentence(helps.get(name) or ""),
            "",
            "```",
            _usage(sub),
            "```",
            "",
            *_options(sub),
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = reference()
    if not args:
        sys.stdout.write(text)
    else:
        Path(args[0]).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
