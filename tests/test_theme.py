"""Themes: the site's own templates and static files over a theme's (--theme) over the default one, file by file."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from newsstand.cli import main

from .conftest import SEEDS, THEME, own_template
from .htmlscan import scan


def site_folder(root: Path) -> Path:
    """A site as `init` makes one, with no theme of its own yet."""
    shutil.copytree(SEEDS, root / "seeds")
    (root / "newsstand.yaml").write_text("title: Themed\nsearch: false\n")
    return root


def stylesheet(site: Path) -> str:
    (css,) = (site / "static").glob("style.*.css")
    return css.read_text()


def test_a_site_overrides_one_template_and_one_stylesheet_and_keeps_the_rest(tmp_path: Path) -> None:
    root = site_folder(tmp_path / "blog")
    base = own_template(root / "templates")
    base.write_text(base.read_text().replace("<footer", '<p id="own-footer">Our own base</p>\n<footer', 1))
    (root / "static").mkdir()
    (root / "static" / "style.css").write_text("body { color: rebeccapurple; }\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Built from another folder: the config's folder is the site's, its templates/ and static/ with it.
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(elsewhere)
        assert main(["build", "--config", str(root / "newsstand.yaml")]) == 0
    site = root / "site"
    pages = sorted(site.rglob("index.html"))
    assert len(pages) > 20
    for path in pages:
        if "http-equiv" in path.read_text():  # a merged story's old address: the redirect template, not base.html
            continue
        assert "own-footer" in scan(path).ids, path  # every page from the site's base.html
    story = next(site.glob("stories/*/index.html")).read_text()
    assert "<article" in story  # story.html is still the default theme's
    assert stylesheet(site) == "body{color:rebeccapurple}\n"  # the site's stylesheet, minified like any
    assert list((site / "static").glob("search.*.js"))  # the default theme's script, as the site has none
    assert not list(elsewhere.iterdir())


def test_a_theme_folder_sits_between_the_site_and_the_default_theme(tmp_path: Path) -> None:
    root = site_folder(tmp_path / "blog")
    theme = tmp_path / "sepia"
    (theme / "templates").mkdir(parents=True)
    (theme / "static").mkdir()
    home = (THEME / "templates" / "home.html").read_text()
    (theme / "templates" / "home.html").write_text(home.replace("Top stories", "Sepia headlines"))
    (theme / "static" / "style.css").write_text("body { background: #f4ecd8; }\n")
    (theme / "static" / "sepia.css").write_text("h1 { color: #704214; }\n")
    (root / "static").mkdir()
    (root / "static" / "style.css").write_text("body { background: white; }\n")  # the site's own wins over the theme's
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        assert main(["build", "--theme", str(theme)]) == 0
    site = root / "site"
    assert "Sepia headlines" in (site / "index.html").read_text()
    assert stylesheet(site) == "body{background:white}\n"
    assert [p.read_text() for p in (site / "static").glob("sepia.*.css")] == ["h1{color:#704214}\n"]
    assert list((site / "static").glob("search.*.js"))


def test_a_missing_theme_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = site_folder(tmp_path / "blog")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        assert main(["build", "--theme", "nowhere"]) == 1
        assert "nowhere: no such theme folder" in capsys.readouterr().err
        (root / "empty-theme").mkdir()
        assert main(["build", "--theme", "empty-theme"]) == 1
        assert "holds templates/ or static/" in capsys.readouterr().err
    assert not (root / "site").exists()


def test_an_error_in_the_sites_own_template_names_its_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = site_folder(tmp_path / "blog")
    story = own_template(root / "templates", "story.html")
    story.write_text(story.read_text() + "{% if %}\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        assert main(["build"]) == 1
    err = capsys.readouterr().err
    found = re.search(r"newsstand: (\S+):\d+: template error", err)
    assert found and (root / found[1]).resolve() == story.resolve(), err  # the site's file, not the default theme's
