"""`newsstand init DIR`: a new site folder from the starter that ships in the package.

The starter (package data under `starter/`, read with importlib.resources) is a commented
`newsstand.yaml`, a `seeds/` folder with one example story file, a README on building, serving and
deploying, and a `.gitignore`. Nothing is ever overwritten: a folder that already holds a site is
refused, and a README or .gitignore of the user's own is left as it is. The files are staged in a
folder beside the target and moved in, so a failed init leaves no half-made site.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from .config import CONFIG_NAME, settings_from

STARTER = files(__package__) / "starter"
# Where each starter file goes in the new site; package data leaves out dotfiles, hence "gitignore".
LAYOUT = {
    CONFIG_NAME: CONFIG_NAME,
    "README.md": "README.md",
    ".gitignore": "gitignore",
    "seeds/example-story.md": "seeds/example-story.md",
}
SITE_MARKERS = (CONFIG_NAME, "seeds")  # either one: the folder is a site already


class InitError(Exception):
    """The folder cannot become a new site; nothing was written."""


@dataclass(frozen=True, slots=True)
class Created:
    folder: Path
    written: tuple[str, ...]
    kept: tuple[str, ...]  # the user's own files, left alone


def starter_files(title: str, base_url: str, timezone: str) -> dict[str, bytes]:
    """The new site's files by path; the settings are checked as the build will check them."""
    checked = settings_from({"title": title, "base_url": base_url, "timezone": timezone})
    values = {"$title": checked.title, "$base_url": checked.base_url, "$timezone": checked.timezone}
    out: dict[str, bytes] = {}
    for name, source in LAYOUT.items():
        text = (STARTER / source).read_text(encoding="utf-8")
        for key, value in values.items():
            # YAML wants its scalars quoted; a JSON string is a YAML double-quoted one. The README, prose.
            text = text.replace(key, json.dumps(value, ensure_ascii=False) if name == CONFIG_NAME else value)
        out[name] = text.encode("utf-8")
    return out


def create_site(folder: Path, title: str = "My News", base_url: str = "", timezone: str = "UTC") -> Created:
    """Make `folder` a new site (the folder may exist, empty or holding other things)."""
    content = starter_files(title, base_url, timezone)
    if folder.exists() and not folder.is_dir():
        raise InitError(f"{folder}: not a folder")
    found = [name for name in SITE_MARKERS if (folder / name).exists()]
    if found:
        raise InitError(
            f"{folder}: already holds a site ({', '.join(found)}); init never overwrites one, choose a new folder"
        )
    kept = tuple(name for name in content if (folder / name).exists())
    try:
        folder.absolute().parent.mkdir(parents=True, exist_ok=True)
        # Staged on the target's file system (in the folder, or beside the folder it will become).
        stage = Path(
            tempfile.mkdtemp(prefix=".newsstand-init-", dir=folder if folder.exists() else folder.absolute().parent)
        )
    except OSError as err:
        raise InitError(f"{folder}: cannot write the new site: {err.strerror or err}") from None
    try:
        for name, data in content.items():
            if name not in kept:
                (stage / name).parent.mkdir(parents=True, exist_ok=True)
                (stage / name).write_bytes(data)
        if not folder.exists():
            os.rename(stage, folder)  # the whole site appears at once
        else:
            # The config last: until it is in, the folder is not a site, and init can be run again.
            for entry in sorted(stage.iterdir(), key=lambda e: (e.name == CONFIG_NAME, e.name)):
                if entry.is_dir():
                    os.mkdir(folder / entry.name)  # fails if it appeared meanwhile: never merged into
                    shutil.copytree(entry, folder / entry.name, dirs_exist_ok=True)
                else:
                    os.link(entry, folder / entry.name)  # fails rather than replace a file that appeared meanwhile
    except OSError as err:
        raise InitError(f"{folder}: cannot write the new site: {err.strerror or err}") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return Created(folder, tuple(name for name in content if name not in kept), kept)
