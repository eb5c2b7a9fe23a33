"""The documentation matches the code: the CLI reference is the parser's, every setting and seed field
the code reads is documented, every page kind's template is described, and the links between pages hold."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from newsstand import normalize
from newsstand.clidoc import main as write_reference
from newsstand.clidoc import reference
from newsstand.config import Settings

from .conftest import ROOT, THEME

DOCS = ROOT / "docs"


def test_the_cli_reference_is_what_the_parser_says() -> None:
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == reference(), "docs/cli.md is stale: run `make docs`"


def test_the_cli_reference_names_every_command_and_flag(tmp_path: Path) -> None:
    out = tmp_path / "cli.md"
    assert write_reference([str(out)]) == 0
    text = out.read_text()
    for command in ("build", "check", "serve", "init"):
        assert f"## newsstand {command}\n" in text
    for flag in (
        "--seeds DIR",
        "--theme DIR",
        "--base-url URL",
        "--strict",
        "--search`, `--no-search",
        "--timezone ZONE",
    ):
        assert flag in text, flag
    assert "--base-url URL" not in text.split("## newsstand serve")[1].split("## newsstand init")[0]  # hidden there


def _default(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def test_every_setting_is_in_the_configuration_reference_with_its_default() -> None:
    rows = {
        m[1]: m[2] for m in re.finditer(r"^\| `(\w+)` \| ([^|]*) \|", (DOCS / "configuration.md").read_text(), re.M)
    }
    names = [f.name for f in fields(Settings)]
    assert sorted(rows) == sorted(names)
    for f in fields(Settings):
        default = _default(f.default)
        if default:
            assert f"`{default}`" in rows[f.name], (f.name, rows[f.name])
        else:
            assert "none" in rows[f.name], (f.name, rows[f.name])


def test_every_field_the_seeds_are_read_for_is_in_the_seed_format_reference() -> None:
    text = (DOCS / "seed-format.md").read_text()
    read = set(re.findall(r"""\.get\("(\w+)"[,)]""", Path(normalize.__file__).read_text()))
    schemas = {name for schema in normalize._URL_SCHEMAS for name in schema}
    assert schemas == {"webUrl", "ampWebUrl", "cdnAmpWebUrl", "sourceUrl", "ampUrl", "cdnAmpUrl"}
    assert {"title", "publishedDateTime", "provider", "excerpt", "topics", "images", "draft", "related"} <= read
    for name in read | schemas:
        assert f"`{name}`" in text or f"{name}," in text or f"{{{name}" in text or f" {name}}}" in text, name
    for ignored in ("category", "type", "secured"):
        assert f"`{ignored}`" in text
    for limit in (
        normalize.MAX_TITLE,
        normalize.MAX_EXCERPT,
        normalize.MAX_TOPICS,
        normalize.MAX_IMAGES,
        normalize.MAX_RELATED,
    ):
        assert f"{limit:,}" in text or f" {limit} " in text, limit


def test_every_template_of_the_default_theme_is_in_the_template_reference() -> None:
    text = (DOCS / "templates.md").read_text()
    for template in sorted((THEME / "templates").iterdir()):
        assert f"`{template.name}`" in text, template.name
    for kind in ("home", "story", "taxonomy", "term", "search", "redirect", "notfound", "data"):
        assert f"`{kind}`" in text, kind


@pytest.mark.parametrize("page", [*sorted(p.name for p in DOCS.glob("*.md")), "../README.md"])
def test_links_between_the_docs_lead_to_files(page: str) -> None:
    source = (DOCS / page).resolve()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", source.read_text()):
        if "://" in target:
            continue
        assert (source.parent / target).exists(), f"{page}: {target}"


def test_the_readme_opens_with_a_small_screenshot_of_the_front_page() -> None:
    readme = (ROOT / "README.md").read_text()
    first_section = readme.split("\n## ")[0]
    assert "](docs/screenshot.png)" in first_section
    data = (DOCS / "screenshot.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 150_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert 600 <= width <= 1400 and 400 <= height <= 1000
