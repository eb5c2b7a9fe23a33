"""Read seed files: bytes → front matter mapping + Markdown body, or a precise problem.

This stage and `write` are the only ones that touch the disk. Everything read here is
untrusted: sizes and nesting are bounded before anything walks the parsed tree.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's C parser is several times faster; PyYAML's own is the reference and the fallback
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader  # type: ignore[assignment]

from .problems import Problem

MAX_FILE_BYTES = 2 * 1024 * 1024  # the largest real seed is 35 kB; a scraper gone wrong is not a story
MAX_NODES = 50_000  # values in one front matter, counted through aliases (defuses "billion laughs")
MAX_DEPTH = 20  # nesting of mappings and lists; real seeds go 4 deep
SEED_SUFFIXES = (".txt", ".md", ".markdown")


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One seed file as read: its front matter, untouched, and its Markdown body."""

    path: str
    front: dict[str, Any]
    body: str
    body_line: int  # the file line where the body starts, for messages about it


class _Reject(Exception):
    def __init__(self, message: str, line: int | None = None, col: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


def seed_paths(folder: Path) -> list[Path]:
    """Seed files below `folder`, sorted, so that the build never depends on directory order."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / f for f in files if f.endswith(SEED_SUFFIXES) and not f.startswith("."))
    return sorted(found)


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        col = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise _Reject(f"not UTF-8 text (byte 0x{data[err.start]:02x})", line, col) from None
    if "\x00" in text:
        raise _Reject("contains NUL characters: not a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _split(text: str) -> tuple[str, str, int]:
    """Front matter text, body text, and the file line where the body starts."""
    if not text.strip():
        raise _Reject("empty file")
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise _Reject("expected '---' on the first line to open the front matter", 1, 1)
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    raise _Reject("the front matter opened on line 1 is never closed with '---'", 1, 1)


def _flow_depth(text: str) -> int:
    """An upper bound of flow-style ([ ] { }) nesting, cheap enough to run before parsing."""
    if text.count("[") + text.count("{") < MAX_DEPTH:
        return 0
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


def _bounded(value: Any) -> None:
    """Refuse trees that are too deep or, counted through shared aliases, too large."""
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise _Reject(f"front matter too large: more than {MAX_NODES} values (counting aliases)")
        if depth > MAX_DEPTH:
            raise _Reject(f"front matter nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
            stack.extend((k, depth + 1) for k in node if isinstance(k, (tuple, list, dict)))
        elif isinstance(node, (list, tuple)):
            stack.extend((v, depth + 1) for v in node)


def parse_seed(path: str, data: bytes) -> RawRecord:
    """Parse one seed file's bytes; raises _Reject with the position of what is wrong."""
    if len(data) > MAX_FILE_BYTES:
        raise _Reject(f"file is {len(data):,} bytes; the limit is {MAX_FILE_BYTES:,}")
    front_text, body, body_line = _split(_decode(data))
    if _flow_depth(front_text) > MAX_DEPTH:
        raise _Reject(f"front matter nested more than {MAX_DEPTH} levels deep")
    try:
        front = yaml.load(front_text, Loader=SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        what = " ".join(str(p) for p in (err.context, err.problem) if p) or "invalid YAML"
        if mark is None:
            raise _Reject(f"invalid YAML: {what}") from None
        raise _Reject(f"invalid YAML: {what}", mark.line + 2, mark.column + 1) from None
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as err:
        raise _Reject(f"invalid YAML: {type(err).__name__}: {err}"[:300]) from None
    if not isinstance(front, dict):
        kind = "empty" if front is None else type(front).__name__
        raise _Reject(f"front matter must be a mapping of fields, not {kind}", 2, 1)
    _bounded(front)
    return RawRecord(path=path, front=front, body=body, body_line=body_line)


def read_seed(path: Path) -> tuple[RawRecord | None, Problem | None]:
    """Read and parse one file: a record, or the problem that left it out."""
    name = str(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
        return parse_seed(name, data), None
    except _Reject as err:
        return None, Problem(name, err.line, err.col, err.message, rejected=True)
    except OSError as err:
        return None, Problem(name, message=f"cannot read: {err.strerror or err}", rejected=True)


def read_seeds(paths: Iterable[Path]) -> tuple[tuple[RawRecord, ...], tuple[Problem, ...]]:
    records: list[RawRecord] = []
    problems: list[Problem] = []
    for path in paths:
        record, problem = read_seed(path)
        if record is not None:
            records.append(record)
        if problem is not None:
            problems.append(problem)
    return tuple(records), tuple(problems)
