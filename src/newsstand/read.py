"""Read seed files: bytes → front matter mapping + Markdown body, or a precise problem.

This stage and `write` are the only ones that touch the disk. Everything read here is
untrusted: sizes and nesting are bounded before anything walks the parsed tree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's C parser is several times faster; PyYAML's own is the reference and the fallback
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader  # type: ignore[assignment]

from .problems import Problem, yaml_problem

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
    # File line of each field and list item, by path: "title", "related[2]", "related[2].webUrl".
    lines: Mapping[str, int] = field(default_factory=dict)
    front_text: str = ""  # kept when the fast parser read it: lines are then surveyed only if asked for

    def line_of(self, where: str) -> int | None:
        """The line of `where` (a field path), or of the nearest enclosing field that has one."""
        lines = self.lines
        if not lines and self.front_text:
            try:  # only problems ask for lines, so a clean file never pays for the survey
                lines = _survey(self.front_text)
            except Exception:
                lines = {}
        while where:
            if where in lines:
                return lines[where]
            cut = max(where.rfind("."), where.rfind("["))
            where = where[:cut] if cut > 0 else ""
        return None


class _Reject(Exception):
    def __init__(self, message: str, line: int | None = None, col: int | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


def seed_files(folder: Path) -> list[str]:
    """Seed files below `folder`, sorted, so that the build never depends on directory order."""
    found: list[tuple[str, ...]] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        parts = tuple(Path(root).parts)
        found.extend((*parts, f) for f in files if _is_seed(f))
    # Sorted as Paths sort (part by part), but as str: ten times faster at 10k files, and the build with
    # nothing to do lists them all (then stats them, by name: no Path is made).
    found.sort()
    return [os.path.join(*parts) for parts in found]


def _is_seed(name: str) -> bool:
    return name.endswith(SEED_SUFFIXES) and not name.startswith(".")


def seed_name(folder: Path, path: str) -> str | None:
    """The name `seed_files(folder)` gives the file at `path` (absolute, as file events name it), or None
    if it is not a seed file there."""
    rel = os.path.relpath(path, os.path.abspath(folder))
    parts = Path(rel).parts
    if not parts or rel.startswith("..") or any(p.startswith(".") for p in parts) or not _is_seed(parts[-1]):
        return None
    return os.path.join(*Path(folder).parts, *parts)


Identity = tuple[tuple[int, int, int, int], str]  # a seed file's stat (seed_stamp) and its bytes' digest


def seed_stamp(path: str | Path) -> tuple[int, int, int, int] | None:
    """A seed file's identity on disk: size, mtime, ctime, inode (any edit changes one); None if it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def seed_paths(folder: Path) -> list[Path]:
    return [Path(name) for name in seed_files(folder)]


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


# Explicit tags a story file may use; anything else (!!python/object, !!binary, !custom) is refused unread.
_SAFE_TAGS = frozenset(
    {"!"} | {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")}
)


class _Frame:
    __slots__ = ("anchor", "index", "key", "kind", "path", "size", "want_key")

    def __init__(self, kind: str, path: str | None, anchor: str | None) -> None:
        self.kind, self.path, self.anchor = kind, path, anchor
        self.size, self.index, self.want_key = 1, 0, True
        self.key: str | None = None


def _tag_name(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _survey(text: str) -> dict[str, int]:
    """Walk the YAML *events* (libyaml's iterative parser: no recursion, nothing built) and refuse,
    before any tree exists, what is too deep, too large counted through aliases and merge keys,
    or tagged with anything but a plain data type. Returns the file line of each field path."""
    lines: dict[str, int] = {}
    sizes: dict[str, int] = {}  # anchor → how many values it stands for, expanded
    stack: list[_Frame] = []

    def where(event: Any) -> tuple[int, int]:
        mark = event.start_mark
        return mark.line + 2, mark.column + 1  # the front matter starts on the file's line 2

    def place(event: Any) -> str | None:
        """The path of the node `event` starts, its line recorded; None for keys and unnamed places."""
        if not stack:
            return ""
        top = stack[-1]
        if top.kind == "seq":
            top.index += 1
            if top.path is None:
                return None
            path = f"{top.path}[{top.index - 1}]"
        elif top.want_key:
            top.want_key = False
            top.key = event.value if isinstance(event, yaml.ScalarEvent) else None
            if top.key is not None and top.path is not None and len(lines) < MAX_NODES:
                lines.setdefault(f"{top.path}.{top.key}" if top.path else top.key, where(event)[0])
            return None
        else:
            top.want_key = True
            if top.path is None or top.key is None:
                return None
            return f"{top.path}.{top.key}" if top.path else top.key
        if len(lines) < MAX_NODES:
            lines[path] = where(event)[0]
        return path

    def add(size: int, event: Any) -> None:
        if stack:
            stack[-1].size += size
            if stack[-1].size > MAX_NODES:
                raise _Reject(
                    f"front matter too large: more than {MAX_NODES:,} values (counting aliases)", *where(event)
                )

    for event in yaml.parse(text, Loader=SafeLoader):
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _SAFE_TAGS:
            raise _Reject(f"YAML tag {_tag_name(tag)!r} is not allowed: only plain data", *where(event))
        if isinstance(event, yaml.ScalarEvent):
            place(event)
            if event.anchor is not None:
                sizes[event.anchor] = 1
            add(1, event)
        elif isinstance(event, yaml.AliasEvent):
            place(event)
            add(sizes.get(event.anchor or "", 1), event)
        elif isinstance(event, yaml.CollectionStartEvent):
            path = place(event)
            stack.append(_Frame("seq" if isinstance(event, yaml.SequenceStartEvent) else "map", path, event.anchor))
            if len(stack) > MAX_DEPTH:
                raise _Reject(f"front matter nested more than {MAX_DEPTH} levels deep", *where(event))
        elif isinstance(event, yaml.CollectionEndEvent):
            frame = stack.pop()
            if frame.anchor is not None:
                sizes[frame.anchor] = frame.size
            add(frame.size, event)
    return lines


def _bounded(value: Any) -> None:
    """Refuse trees that are too deep or, counted through shared aliases, too large (a second line of defence)."""
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise _Reject(f"front matter too large: more than {MAX_NODES:,} values (counting aliases)")
        if depth > MAX_DEPTH:
            raise _Reject(f"front matter nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
            stack.extend((k, depth + 1) for k in node if isinstance(k, (tuple, list, dict)))
        elif isinstance(node, (list, tuple)):
            stack.extend((v, depth + 1) for v in node)


def _yaml_error(err: Exception) -> _Reject:
    if isinstance(err, yaml.MarkedYAMLError):
        what, line, col = yaml_problem(err, first_line=2)
        return _Reject(f"invalid YAML: {what}", line, col)
    return _Reject(f"invalid YAML: {type(err).__name__}: {err}"[:300])


def parse_seed(path: str, data: bytes) -> RawRecord:
    """Parse one seed file's bytes; raises _Reject with the position of what is wrong."""
    if len(data) > MAX_FILE_BYTES:
        raise _Reject(f"file is larger than the limit of {MAX_FILE_BYTES:,} bytes")
    front_text, body, body_line = _split(_decode(data))
    if _flow_depth(front_text) > MAX_DEPTH:
        raise _Reject(f"front matter nested more than {MAX_DEPTH} levels deep")
    front = fast_load(front_text)
    if isinstance(front, dict):
        return RawRecord(path=path, front=front, body=body, body_line=body_line, front_text=front_text)
    try:
        lines = _survey(front_text)
        front = yaml.load(front_text, Loader=SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError, TypeError) as err:
        raise _yaml_error(err) from None
    if not isinstance(front, dict):
        kind = "empty" if front is None else type(front).__name__
        raise _Reject(f"front matter must be a mapping of fields, not {kind}", 2, 1)
    _bounded(front)
    return RawRecord(path=path, front=front, body=body, body_line=body_line, lines=lines)


# The fast path. yaml-rs (Rust) parses ten times faster than PyYAML's C loader, whose tree is built in
# Python; but it reads YAML 1.2 and PyYAML reads 1.1, and PyYAML is the reference. So yaml-rs only sees
# front matter written in the subset both read alike, and everything else (and anything yaml-rs
# refuses) goes the reference way, with its survey and its positioned errors. tests/test_read.py
# proves the two agree on every seed and on generated corpora.
# Plain scalars that YAML 1.1 and 1.2 resolve alike: the 1.2 booleans, null, simple numbers, canonical
# dates, and text that starts with a letter or '/' and is not a 1.1 boolean (yes/no/on/off/y/n); "Q"
# stands for a quoted scalar set aside.
_SCALAR = (
    r"(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~|Q|\[\]|\{\}"
    r"|[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[-+][0-9]{2}:[0-9]{2})?)?"
    r"|(?!(?:[yYnN]|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)[ ]*$)[A-Za-z/](?:[^\n:]|:(?![ ]|$))*)"
)
_BOOL_1_1 = r"(?:[yYnN]|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)"
# Every line: a comment, or an optional "- ", then a simple key with an optional value, or a value.
_LINE = rf"[ ]*(?:#[^\n]*|(?:-[ ]+)?(?:(?!{_BOOL_1_1}:)[A-Za-z_][A-Za-z0-9_-]*:(?:[ ]+{_SCALAR})?|{_SCALAR})?)[ ]*"
# Matched line by line: one regex over the whole document backtracks through the ways every earlier line
# could match (trailing spaces: in the scalar or after it) when a late line fails: seconds per document.
_SAFE_LINE = re.compile(_LINE)


def fast_load(text: str) -> dict[str, Any] | None:
    """The front matter parsed by yaml-rs when the text is in the subset PyYAML reads the same way;
    None to say: use the reference parser."""
    if _fast_loads is None or _needs_reference(text):
        return None
    try:
        front = _fast_loads(text)
    except Exception:  # let the reference parser find and place the error
        return None
    return front if isinstance(front, dict) else None


def _needs_reference(text: str) -> bool:
    """Whether the front matter uses anything outside the subset both parsers read alike."""
    # One-line quoted scalars read alike in both versions: set them aside, so that what they
    # contain ('&', '?', '%' in URLs, ':' in titles) is not mistaken for structure.
    if 2 * text.count("\n") + 2 > MAX_NODES:  # in this subset a line holds at most a key and a value
        return True
    bare = _QUOTED.sub("Q", text)
    if _TRIGGERS.search(bare) is not None and _REFERENCE_SYNTAX.search(bare) is not None:
        return True
    return not all(map(_SAFE_LINE.fullmatch, bare.split("\n")))


# A quote opens a scalar at the start of the text or after " [{,"; the check comes after the quote and
# the loops are unrolled, so the engine scans for quotes instead of trying every position (5x faster).
_QUOTED = re.compile(r"""(?:"(?<![^ \[{,]")[^"\\\n]*(?:\\.[^"\\\n]*)*"|'(?<![^ \[{,]')[^'\n]*(?:''[^'\n]*)*')""")
# At the start of a node: anchors, aliases, tags, directives, block scalars, reserved indicators,
# quotes left open (multi-line), complex keys; anywhere: merge keys, tabs, non-empty flow
# collections, deep indentation. All of these go the reference way.
_REFERENCE_SYNTAX = re.compile(
    r"(?:^[ ]*|[ ]-[ ]+|^-[ ]+|:[ ]+)[&*!%|>@`\"'?]|^[ ]*(?:-[ ]+)?<<|\t|[\[{](?![\]}])|^[ ]{16,}",
    re.MULTILINE,
)

# A character every match of _REFERENCE_SYNTAX holds: most front matter has none, and one scan for a
# character class is a fifth of the cost of trying every alternative at every position.
_TRIGGERS = re.compile(r"[&*!%|>@`\"'?<\t\[{]|^[ ]{16}", re.MULTILINE)

try:
    from yaml_rs import loads as _yaml_rs_loads

    def _fast_loads(text: str) -> Any:
        return _yaml_rs_loads(text, duplicate_key_policy=_LAST_WINS)

    from yaml_rs import DuplicateKeyPolicy as _Policy

    _LAST_WINS = _Policy.LastWins  # PyYAML keeps the last of two equal keys
except ImportError:  # pragma: no cover - the reference parser alone is correct, only slower
    _fast_loads = None  # type: ignore[assignment]


def read_bytes(path: Path) -> bytes:
    """A seed file's bytes, never more than one past the limit (so an oversized file is still refused)."""
    with path.open("rb") as f:
        return f.read(MAX_FILE_BYTES + 1)


def seed_from_bytes(name: str, data: bytes) -> tuple[RawRecord | None, Problem | None]:
    """Parse one file's bytes: a record, or the problem that left it out."""
    try:
        return parse_seed(name, data), None
    except _Reject as err:
        return None, Problem(name, err.line, err.col, err.message, rejected=True)


def read_seed(path: Path) -> tuple[RawRecord | None, Problem | None]:
    """Read and parse one file: a record, or the problem that left it out."""
    try:
        data = read_bytes(path)
    except OSError as err:
        return None, Problem(str(path), message=f"cannot read: {err.strerror or err}", rejected=True)
    return seed_from_bytes(str(path), data)


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
