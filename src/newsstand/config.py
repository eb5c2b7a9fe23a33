"""Settings: one frozen, validated object, loaded once and passed down.

The file is optional YAML (`newsstand.yaml` beside the seeds folder); every key has a
default, so a project with no config builds. Errors name the key and what it accepts.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .subscriptions import Subscription, SubscriptionError, subscriptions_from

CONFIG_NAME = "newsstand.yaml"


class ConfigError(ValueError):
    """A setting is wrong; the message names the key and what it accepts."""


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
    cluster_threshold: float = 0.26
    # What `newsstand fetch` reads, not the build: out of the repr, which signs every page the build writes.
    feeds: tuple[Subscription, ...] = field(default=(), repr=False)
    fetch_max_age: int = field(default=30, repr=False)  # days; older feed entries are skipped (0: no limit)

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

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_SHOWN = tuple(f.name for f in fields(SiteSettings))


_PATH_KEYS = {"seeds", "out", "templates", "static", "cache", "theme"}
_RANGES = {"cluster_window_hours": (1.0, 1440.0), "cluster_threshold": (0.01, 0.99)}  # as cluster.params checks


def _check(key: str, value: Any) -> Any:
    """Validate and coerce one setting, or raise ConfigError naming it."""
    expected = {f.name: f.type for f in fields(Settings)}[key]
    if key == "feeds":
        try:
            return subscriptions_from(value)
        except SubscriptionError as err:
            raise ConfigError(str(err)) from None
    if key in _PATH_KEYS:
        if not isinstance(value, (str, Path)) or not str(value):
            raise ConfigError(f"{key}: expected a folder path, got {value!r}")
        return Path(value)
    if expected == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if expected == "int":
        low = 0 if key in ("jobs", "fetch_max_age") else 1
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 1000:
            raise ConfigError(f"{key}: expected a whole number from {low} to 1000, got {value!r}")
        return value
    if expected == "float":
        least, most = _RANGES[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not least <= value <= most:
            raise ConfigError(f"{key}: expected a number from {least:g} to {most:g}, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected text, got {value!r}")
    if key == "base_url" and value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"base_url: expected an absolute http(s) URL such as https://example.org/news/, got {value!r}"
            )
        if not value.endswith("/"):
            value += "/"
    if key == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"timezone: expected an IANA time zone such as UTC or Europe/London, got {value!r}"
            ) from None
    return value


def settings_from(mapping: dict[str, Any], base: Settings | None = None, root: Path | None = None) -> Settings:
    """Settings from `mapping` over `base`; relative paths are taken from `root`."""
    names = [f.name for f in fields(Settings)]
    changes: dict[str, Any] = {}
    for key, value in mapping.items():
        if key not in names:
            near = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ConfigError(f"{key}: unknown setting{hint}; known settings: {', '.join(names)}")
        value = _check(key, value)
        if key in _PATH_KEYS and root is not None and not value.is_absolute():
            value = root / value
        changes[key] = value
    return replace(base or Settings(), **changes)


def load_settings(path: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read the config file (optional when `path` is None) and apply command-line overrides."""
    root = Path.cwd()
    mapping: dict[str, Any] = {}
    if path is None and (root / CONFIG_NAME).is_file():
        path = root / CONFIG_NAME
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
            loaded = yaml.safe_load(text)
        except OSError as err:
            raise ConfigError(f"{path}: cannot read: {err.strerror}") from None
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {err}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of settings at the top level")
        mapping = loaded
        root = path.parent
        if root.resolve() != Path.cwd().resolve():
            # A config file elsewhere (`--config blog/newsstand.yaml`) describes the site beside it: the
            # folders it leaves out are that site's too, not the working folder's.
            defaults = Settings()
            mapping = {
                **{k: getattr(defaults, k) for k in sorted(_PATH_KEYS) if getattr(defaults, k) is not None},
                **mapping,
            }
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    return settings_from(given, base=settings_from(mapping, root=root))
