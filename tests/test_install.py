"""Newsstand as a user gets it: a wheel, installed (not editable) into a new virtual environment, and the
`newsstand` command it installs run from folders that have nothing to do with this checkout.

The wheel is built from a copy of the sources (a build in the checkout would reuse its `build/` folder,
where files deleted since can linger) without build isolation, from the setuptools of the test
dependencies, so nothing is downloaded. The new environment gets the wheel alone (`--no-deps --no-index`)
and finds the dependencies through one line of a `.pth` file naming this environment's site-packages:
such a line only appends that folder to `sys.path` (the `.pth` files inside it, among them the editable
install of this checkout, are not run), so `newsstand` itself can only come from the wheel. Installing
the dependencies from PyPI instead would be as honest but take a minute and the network.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import newsstand

from .conftest import ROOT, SEEDS


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path

    @property
    def newsstand(self) -> str:
        return str(self.venv / "bin" / "newsstand")

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([self.newsstand, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    wheels = work / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "-w", str(wheels)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("newsstand-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    subprocess.run(
        [*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    purelib = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "newsstand-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return Installed(venv, wheel)


def test_the_wheel_holds_the_default_theme(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    theme = ROOT / "src" / "newsstand" / "theme"
    shipped = {f"newsstand/theme/{p.relative_to(theme).as_posix()}" for p in theme.rglob("*") if p.is_file()}
    assert shipped and shipped <= names
    assert {"newsstand/theme/templates/base.html", "newsstand/theme/static/style.css"} <= names


def test_the_installed_command_builds_the_seeds_from_any_folder(installed: Installed, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"  # no seeds, no config, no theme: only what is asked for
    elsewhere.mkdir()
    where = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", "import newsstand; print(newsstand.__file__)"],
        cwd=elsewhere,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.venv), where  # the wheel's copy, not this checkout
    out = tmp_path / "out"
    proc = installed.run(
        "build", "--seeds", str(SEEDS), "--out", str(out), "--base-url", "https://example.org/", cwd=elsewhere
    )
    assert "5 files read, 0 rejected, 0 problems" in proc.stdout
    stories = json.loads((out / "stories.json").read_text())["stories"]
    assert stories and all((out / "stories" / s["slug"] / "index.html").is_file() for s in stories)
    css = list((out / "static").glob("style.*.css"))
    assert len(css) == 1 and css[0].stat().st_size > 1000  # the packaged stylesheet, minified
    assert 'class="story-card' in (out / "index.html").read_text()  # the packaged templates
    assert (out / "feed.xml").is_file() and (out / "sitemap.xml").is_file()
    assert sorted(p.name for p in elsewhere.iterdir()) == [".newsstand-cache"]  # nothing else written there


def test_the_installed_command_says_its_version(installed: Installed, tmp_path: Path) -> None:
    proc = installed.run("--version", cwd=tmp_path)
    assert proc.stdout.strip() == f"newsstand {newsstand.__version__}"
    assert installed.wheel.name.startswith(f"newsstand-{newsstand.__version__}-")


def test_init_makes_a_site_the_installed_command_builds_from_another_folder(
    installed: Installed, tmp_path: Path
) -> None:
    import feedparser

    made = installed.run(
        "init", "blog", "--title", "Harbour News", "--base-url", "https://news.example.org/", cwd=tmp_path
    )
    assert "A new site in blog" in made.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    built = installed.run("build", "--config", str(tmp_path / "blog" / "newsstand.yaml"), cwd=elsewhere)
    assert "1 files read, 0 rejected, 0 problems" in built.stdout
    site = tmp_path / "blog" / "site"
    front = (site / "index.html").read_text()
    assert "<title>Harbour News</title>" in front
    stories = json.loads((site / "stories.json").read_text())["stories"]
    assert len(stories) == 1 and len(stories[0]["articles"]) == 3  # the example's three reports, one story
    assert (site / "stories" / stories[0]["slug"] / "index.html").is_file()
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo and feed.feed.title == "Harbour News"
    assert [e.link for e in feed.entries] == [f"https://news.example.org/stories/{stories[0]['slug']}/"]
    sitemap = (site / "sitemap.xml").read_text()
    assert "<loc>https://news.example.org/</loc>" in sitemap
    assert not list(elsewhere.iterdir())  # the site, its cache and all, is in its own folder
    again = subprocess.run([installed.newsstand, "init", "blog"], cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 1 and "already holds a site" in again.stderr


def test_make_test_min_pins_every_dependency_at_its_lower_bound() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    proc = subprocess.run(
        [sys.executable, "tests/lower_bounds.py"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    pins = [line.split("==") for line in proc.stdout.splitlines()]
    # One pin a dependency, in order, named without extras (pip refuses them in constraints), at its bound.
    assert [f"{name}>={pin}" for name, pin in pins] == [d.replace("[bin]", "") for d in declared]
    assert all(name.replace("-", "").replace(".", "").isalnum() for name, _ in pins)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "tests/lower_bounds.py --check" in makefile.split("\ntest-min:")[1].split("\n\n")[0]
    assert "test-min" not in makefile.split("\ntest:")[1].split("\n\n")[0]  # not in make test: CI time
