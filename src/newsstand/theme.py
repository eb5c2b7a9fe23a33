"""The theme a site is rendered with: layers of templates and static files, the first that has a file wins.

From the top: the site's own `templates/` and `static/` folders (settings.templates, settings.static), then
those of a theme elsewhere (`--theme DIR`, settings.theme: a folder holding `templates/` and `static/`),
then the default theme that ships inside the package, read with importlib.resources so that it is found
wherever the package is installed. A site overrides the default theme file by file: a `templates/base.html`
of its own, say, and every other template and asset from below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from .config import Settings

DEFAULT: Traversable = files(__package__) / "theme"  # templates/ and static/ of the default theme
KINDS = ("templates", "static")


class ThemeError(LookupError):
    """The theme named by --theme (or `theme:`) is not there."""


def layers(settings: Settings, kind: str) -> tuple[Traversable, ...]:
    """The folders of one kind ("templates" or "static") that exist, first wins."""
    own = settings.templates if kind == "templates" else settings.static
    found: list[Traversable] = [own] if own.is_dir() else []
    if settings.theme is not None:
        if not settings.theme.is_dir():
            raise ThemeError(f"{settings.theme}: no such theme folder")
        if not any((settings.theme / k).is_dir() for k in KINDS):
            raise ThemeError(f"{settings.theme}: a theme folder holds templates/ or static/ (or both), it has neither")
        if (settings.theme / kind).is_dir():
            found.append(settings.theme / kind)
    found.append(DEFAULT / kind)
    return tuple(found)


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """(name relative to the folder, file) of every file below `folder`, hidden ones left out (editors' swap files)."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        elif entry.is_file():
            yield f"{prefix}{entry.name}", entry


def theme_files(settings: Settings, kind: str) -> dict[str, Traversable]:
    """Every file of one kind by its name, taken from the first layer that has it."""
    chosen: dict[str, Traversable] = {}
    for folder in layers(settings, kind):
        for name, entry in _walk(folder):
            chosen.setdefault(name, entry)
    return dict(sorted(chosen.items()))


def static_files(settings: Settings) -> dict[str, bytes]:
    """The assets the site is built with, by path relative to `static/`."""
    return {name: entry.read_bytes() for name, entry in theme_files(settings, "static").items()}


def digest(settings: Settings, kind: str) -> str:
    """Names and bytes of the files of one kind the site is built with: a page is rendered again when they change."""
    h = hashlib.sha256()
    for name, entry in theme_files(settings, kind).items():
        h.update(name.encode() + b"\0")
        h.update(entry.read_bytes())
    return h.hexdigest()


def watched(settings: Settings) -> list[Path]:
    """The theme's folders on disk, for serve to watch (it skips those that do not exist): the default
    theme's too where it is a folder, for whoever edits it in a checkout."""
    folders = [settings.templates, settings.static]
    if settings.theme is not None:
        folders += [settings.theme / kind for kind in KINDS]
    folders += [Path(str(DEFAULT / kind)) for kind in KINDS if isinstance(DEFAULT, Path)]
    return folders
