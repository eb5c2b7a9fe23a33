"""Shared fixtures: the project's seeds, a site built from them, and a way to write seed files."""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import textwrap
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from newsstand.build import BuildResult, build
from newsstand.config import Settings
from newsstand.theme import DEFAULT

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
THEME = Path(str(DEFAULT))  # the default theme, as the package holds it: templates/ and static/


def settings_for(seeds: Path, out: Path, **changes: object) -> Settings:
    """Settings for a site in `out`'s folder: without a theme of its own, unless `changes` names one."""
    changes.setdefault("cache", out.parent / ".newsstand-cache")
    changes.setdefault("templates", out.parent / "templates")
    changes.setdefault("static", out.parent / "static")
    return Settings(seeds=seeds, out=out, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def seeds_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """The five real seeds, built once for the whole session."""
    out = tmp_path_factory.mktemp("seeds-site") / "site"
    result = build(settings_for(SEEDS, out))
    return out, result


BASE_URL = "https://example.org/news/"


@pytest.fixture(scope="session")
def based_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """The real seeds built with a base URL (feeds, sitemap, absolute metadata), once per session."""
    out = tmp_path_factory.mktemp("based-site") / "site"
    result = build(settings_for(SEEDS, out, base_url=BASE_URL))
    return out, result


@pytest.fixture
def seed_dir(tmp_path: Path) -> Callable[..., Path]:
    """Write seed files into a fresh folder: make(name=text, ...) → the folder."""
    folder = tmp_path / "seeds"
    folder.mkdir()

    def make(copy_real: bool = False, **files: str | bytes) -> Path:
        if copy_real:
            for p in SEEDS.iterdir():
                shutil.copy(p, folder / p.name)
        for name, content in files.items():
            path = folder / name.replace("__", ".")
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        return folder

    return make


def story_file(
    title: str = "A story",
    url: str = "https://example.com/a",
    when: str = "2020-01-24T12:00:00Z",
    extra: str = "",
    related: str = "",
    body: str = "",
) -> str:
    """A minimal valid seed file."""
    text = (
        "---\n"
        f"title: {title!r}\n"
        f"publishedDateTime: {when}\n"
        f"webUrl: {url!r}\n"
        "provider:\n  name: Example\n  domain: example.com\n"
        "topics:\n  - Testing\n"
        f"{extra}"
    )
    if related:
        text += "related:\n" + related
    return text + "---\n" + body


def seed_cache_database(cache: Path) -> Path:
    """The seed cache's database in the cache folder `cache`."""
    (database,) = cache.glob("seeds-*.sqlite")
    return database


def seed_cache_rows(cache: Path) -> dict[str, bytes]:
    """Each file the seed cache holds, with the checksum its row carries."""
    with closing(sqlite3.connect(seed_cache_database(cache))) as db:
        return dict(db.execute("SELECT path, sum FROM results"))


def own_template(folder: Path, name: str = "base.html") -> Path:
    """A site's own copy of one of the default theme's templates in `folder` (made if need be): the rest come
    from the default theme."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(THEME / "templates" / name, folder / name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_listening(
    proc: subprocess.Popen[str], port: int, output: Callable[[], str], seconds: float = 60
) -> None:
    """Wait for a server we started to accept connections; fail with its output if it died first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert proc.poll() is None, output()
            time.sleep(0.1)
    raise AssertionError(f"nothing listened on port {port} within {seconds} s:\n{output()}")
