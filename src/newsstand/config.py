"""Settings: one frozen, validated object, loaded once and passed down.

The file is optional YAML (`newsstand.yaml` beside the seeds folder); every key has a
default, so a project with no config builds. Errors name the key and what it accepts, and, for a setting
from the file, where it is (`newsstand.yaml:3:1: jobs: ...`, as problems.Problem names a place in a seed).
"""

from __future__ import annotations

import difflib
import re
import reprlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml

from .problems import yaml_problem
from .subscriptions import Subscription, SubscriptionError, subscriptions_from

CONFIG_NAME = "newsstand.yaml"


class ConfigError(ValueError):
    """A setting is wrong; the message names the key and what it accepts."""

    def __init__(self, message: str, key: str = "", file: str = "") -> None:
        super().__init__(message)
        self.key = key  # which setting, down to the item (`jobs`, `feeds[2].url`): where the file says it
        self.file = file  # the config file it is in, if any: the message then starts with its place there


@dataclass(frozen=True, slots=True)
class Settings:
    # What the site shows: these, and nothing below, reach a page's signature (SiteSettings), so a change
    # to how the site is built (jobs, paths, cache) renders no page again.
    title: str = "Newsstand"
    description: str = "The day's news, grouped by story."
    language: str = "en"
    base_url: str = ""  # absolute http(s) URL ending in '/', or '' for relative links everywhere
    timezone: str = "UTC"  # IANA name: dates are shown in it
    page_size: int = 20
    show_images: bool = True
    search: bool = True  # build the Pagefind search index (serve: off unless --search)
    # What the front page lists, in rank order: the stories covered by at least this many outlets, and of
    # those the first so many (0: all of them, page after page). Older stories are in the day archives; a
    # long ranked list re-renders every page of it whenever a new story ranks in.
    front_page_stories: int = 60
    front_page_min_outlets: int = 1
    feed_size: int = 50  # entries in each feed (the front page's, each topic's and each outlet's)
    # How the site is built.
    seeds: Path = Path("seeds")
    out: Path = Path("site")
    templates: Path = Path("templates")  # the site's own templates and assets, over the theme's (see theme.py)
    static: Path = Path("static")
    theme: Path | None = None  # a theme elsewhere: a folder of templates/ and static/ over the default theme
    cache: Path = Path(".newsstand-cache")  # parsed seeds; safe to delete
    drafts: bool = False
    strict: bool = False
    use_cache: bool = True
    jobs: int = 0  # worker processes; 0: one per core
    # A story takes reports until this many hours after its last one; and the centroid similarity at which
    # two groups of reports are one event (the rest of clustering's knobs: cluster.params). They change
    # which stories there are, and pages follow their stories, not these numbers.
    cluster_window_hours: float = 96.0
    cluster_threshold: float = 0.30
    # What `newsstand fetch` reads, not the build: out of the repr, which signs every page the build writes.
    feeds: tuple[Subscription, ...] = field(default=(), repr=False)
    fetch_max_age: int = field(default=30, repr=False)  # days; older feed entries are skipped (0: no limit)
    # Outlets (by name or domain) and topics (by name or slug) the site leaves out, in any case: their
    # articles are in no story (see exclude.py). They change which stories there are, and pages follow
    # their stories, so they are not shown to pages.
    exclude_topics: tuple[str, ...] = ()
    exclude_outlets: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def site(self) -> SiteSettings:
        """The settings a page may show."""
        return SiteSettings(**{name: getattr(self, name) for name in _SHOWN})


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """The part of `Settings` that pages, feeds and templates see."""

    title: str
    description: str
    language: str
    base_url: str
    timezone: str
    page_size: int
    show_images: bool
    search: bool
    front_page_stories: int
    front_page_min_outlets: int
    feed_size: int

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_SHOWN = tuple(f.name for f in fields(SiteSettings))


_PATH_KEYS = {"seeds", "out", "templates", "static", "cache", "theme"}
_RANGES = {"cluster_window_hours": (1.0, 1440.0), "cluster_threshold": (0.01, 0.99)}  # as cluster.params checks
_WHOLE = {
    "jobs": (0, 1000),
    "fetch_max_age": (0, 1000),
    "front_page_stories": (0, 100_000),
    "front_page_min_outlets": (1, 100),
}
_NAMES = {"exclude_topics": "topic names or slugs", "exclude_outlets": "outlet names or domains"}


# A wrong value as an error shows it: its start (YAML's aliases make values huge, even recursive, cheaply).
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 3, 5, 5, 60, 60


def _got(value: Any) -> str:
    shown = _REPR.repr(value)
    return shown if len(shown) <= 100 else shown[:97] + "..."


def _check(key: str, value: Any) -> Any:
    """Validate and coerce one setting, or raise ConfigError naming it."""
    expected = {f.name: f.type for f in fields(Settings)}[key]
    if key == "feeds":
        try:
            return subscriptions_from(value)
        except SubscriptionError as err:
            # Its message starts with the item it is about (`feeds[2].url: ...`), as subscriptions.py promises.
            raise ConfigError(str(err), str(err).partition(": ")[0]) from None
    if key in _PATH_KEYS:
        if not isinstance(value, (str, Path)) or not str(value):
            raise ConfigError(f"{key}: expected a folder path, got {_got(value)}")
        return Path(value)
    if expected == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {_got(value)}")
        return value
    if key in _NAMES:
        items = [value] if isinstance(value, str) else value  # one name alone is a list of one
        if not isinstance(items, (list, tuple)):
            raise ConfigError(f"{key}: expected a list of {_NAMES[key]}, got {_got(value)}")
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(f"{key}[{i}]: expected a name, got {_got(item)}", f"{key}[{i}]")
        return tuple(dict.fromkeys(item.strip() for item in items))
    if expected == "int":
        low, high = _WHOLE.get(key, (1, 1000))
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{key}: expected a whole number from {low} to {high}, got {_got(value)}")
        return value
    if expected == "float":
        least, most = _RANGES[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not least <= value <= most:
            raise ConfigError(f"{key}: expected a number from {least:g} to {most:g}, got {_got(value)}")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected text, got {_got(value)}")
    if key == "base_url" and value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"base_url: expected an absolute http(s) URL such as https://example.org/news/, got {_got(value)}"
            )
        if not value.endswith("/"):
            value += "/"
    if key == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            near = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ConfigError(
                f"timezone: expected an IANA time zone such as UTC or Europe/London, got {_got(value)}{hint}"
            ) from None
    return value


def settings_from(mapping: dict[str, Any], base: Settings | None = None, root: Path | None = None) -> Settings:
    """Settings from `mapping` over `base`; relative paths are taken from `root`."""
    names = [f.name for f in fields(Settings)]
    changes: dict[str, Any] = {}
    for key, value in mapping.items():
        if key not in names:
            near = difflib.get_close_matches(str(key), names, n=1)
            hint = f" did you mean {near[0]!r}?" if near else ""
            raise ConfigError(f"{key}: unknown setting;{hint} known settings: {', '.join(names)}", str(key))
        try:
            value = _check(key, value)
        except ConfigError as err:
            raise ConfigError(str(err), err.key or key) from None
        if key in _PATH_KEYS and root is not None and not value.is_absolute():
            value = root / value
        changes[key] = value
    return replace(base or Settings(), **changes)


def _marks(root: yaml.Node) -> dict[str, yaml.Mark]:
    """Where each setting and each item under it starts in the file: `jobs` at its key, `feeds[2]` at the
    item, `feeds[2].url` at its key. Breadth first, and each node once, so aliases neither loop nor
    multiply, and of a key given twice the last is kept, as the loader keeps its value."""
    found: dict[str, yaml.Mark] = {}
    seen: set[int] = set()
    queue: deque[tuple[yaml.Node, str]] = deque([(root, "")])
    while queue:
        node, where = queue.popleft()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    name = f"{where}.{key.value}" if where else str(key.value)
                    found[name] = key.start_mark
                    queue.append((value, name))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                found[f"{where}[{i}]"] = item.start_mark
                queue.append((item, f"{where}[{i}]"))
    return found


_LAST_STEP = re.compile(r"(?:\.[^.\[\]]*|\[\d+\])$")


def _place(shown: str, mark: yaml.Mark) -> str:
    return f"{shown}:{mark.line + 1}:{mark.column + 1}"


def _at(shown: str, marks: Mapping[str, yaml.Mark], key: str) -> str:
    """`file:line:col` of setting `key`, or of the nearest item above it the file has (a URL given alone for
    a feed has no `url` key of its own); just `file` when the file does not hold it."""
    while key:
        mark = marks.get(key)
        if mark is not None:
            return _place(shown, mark)
        up = _LAST_STEP.sub("", key)
        if up == key:
            break
        key = up
    return shown


def _read(path: Path, shown: str) -> tuple[dict[str, Any], dict[str, yaml.Mark]]:
    """The settings the file holds, and where each is (see `_marks`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{shown}: cannot read: {err.strerror}", file=shown) from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{shown}: not UTF-8 text (byte {err.start + 1})", file=shown) from None
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as err:  # a character YAML refuses anywhere in the text: it says where
        line = text.count("\n", 0, err.position) + 1
        col = err.position - text.rfind("\n", 0, err.position)
        raise ConfigError(
            f"{shown}:{line}:{col}: not valid YAML: {err.reason} #x{err.character:04x}", file=shown
        ) from None
    try:
        node = loader.get_single_node()
        loaded = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as err:
        what, at_line, at_col = yaml_problem(err)
        where = f"{shown}:{at_line}:{at_col}" if at_line is not None else shown
        raise ConfigError(f"{where}: not valid YAML: {what}", file=shown) from None
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError, TypeError) as err:
        raise ConfigError(f"{shown}: not valid YAML: {type(err).__name__}: {err}"[:300], file=shown) from None
    finally:
        loader.dispose()
    if node is None or loaded is None:
        return {}, {}
    if not isinstance(loaded, dict):
        raise ConfigError(
            f"{_place(shown, node.start_mark)}: expected a mapping of settings at the top level", file=shown
        )
    return loaded, _marks(node)


def load_settings(path: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read the config file (optional when `path` is None) and apply command-line overrides."""
    root = Path.cwd()
    mapping: dict[str, Any] = {}
    shown = str(path)
    if path is None and (root / CONFIG_NAME).is_file():
        path, shown = root / CONFIG_NAME, CONFIG_NAME
    marks: dict[str, yaml.Mark] = {}
    if path is not None:
        mapping, marks = _read(path, shown)
        root = path.parent
        if root.resolve() != Path.cwd().resolve():
            # A config file elsewhere (`--config blog/newsstand.yaml`) describes the site beside it: the
            # folders it leaves out are that site's too, not the working folder's.
            defaults = Settings()
            mapping = {
                **{k: getattr(defaults, k) for k in sorted(_PATH_KEYS) if getattr(defaults, k) is not None},
                **mapping,
            }
    try:
        from_file = settings_from(mapping, root=root)
    except ConfigError as err:
        raise ConfigError(f"{_at(shown, marks, err.key)}: {err}", err.key, shown) from None
    # The command line's errors name the setting alone: the flag that gave it is on the line just typed.
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    return settings_from(given, base=from_file)
