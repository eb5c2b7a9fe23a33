"""`newsstand init`: a new site folder that builds as it is, and never a site overwritten."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
import yaml

from newsstand.cli import main
from newsstand.config import load_settings
from newsstand.read import seed_files

from .conftest import ROOT


def test_a_new_site_builds_with_no_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "blog"), "--timezone", "Europe/Lisbon"]) == 0
    blog = tmp_path / "blog"
    assert sorted(p.relative_to(blog).as_posix() for p in blog.rglob("*") if p.is_file()) == [
        ".gitignore",
        "README.md",
        "newsstand.yaml",
        "seeds/example-story.md",
    ]
    config = (blog / "newsstand.yaml").read_text()
    assert "base_url" in config and config.count("\n#") > 5  # commented, the base URL left to fill in
    settings = load_settings(blog / "newsstand.yaml")
    assert (settings.title, settings.base_url, settings.timezone) == ("My News", "", "Europe/Lisbon")
    assert settings.seeds == blog / "seeds" and settings.out == blog / "site"
    assert "newsstand serve" in (blog / "README.md").read_text()
    assert seed_files(blog / "seeds") == [str(blog / "seeds" / "example-story.md")]
    capsys.readouterr()
    assert main(["build", "--config", str(blog / "newsstand.yaml")]) == 0
    out = capsys.readouterr()
    assert "1 files read, 0 rejected, 0 problems" in out.out and out.err == ""
    assert (blog / "site" / "index.html").is_file() and not (blog / "site" / "feed.xml").exists()  # no base URL yet


def test_the_example_story_uses_both_url_schemas_and_invents_its_outlets(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "blog")]) == 0
    text = (tmp_path / "blog" / "seeds" / "example-story.md").read_text()
    front = yaml.safe_load(text.split("---\n")[1])
    urls = [front["webUrl"], *(u for item in front["related"] for k, u in item.items() if k.endswith(("Url", "url")))]
    assert {"webUrl", "ampWebUrl"} <= {k for item in front["related"] for k in item} | set(front)
    assert any("sourceUrl" in item for item in front["related"])
    assert all(u.split("/")[2].endswith(".example") for u in urls)  # reserved example domains, no real outlet


def test_init_refuses_a_folder_that_holds_a_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blog = tmp_path / "blog"
    assert main(["init", str(blog)]) == 0
    (blog / "newsstand.yaml").write_text("title: Mine\n")
    before = {p: p.read_bytes() for p in blog.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["init", str(blog)]) == 1
    assert "already holds a site (newsstand.yaml, seeds)" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in blog.rglob("*") if p.is_file()} == before
    only_seeds = tmp_path / "other"
    (only_seeds / "seeds").mkdir(parents=True)
    assert main(["init", str(only_seeds)]) == 1
    assert "already holds a site (seeds)" in capsys.readouterr().err
    assert [p.name for p in only_seeds.iterdir()] == ["seeds"]


def test_init_in_a_folder_of_other_things_keeps_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "README.md").write_text("my own readme\n")
    (folder / "notes.txt").write_text("notes\n")
    assert main(["init", str(folder)]) == 0
    assert "left as they were: README.md" in capsys.readouterr().out
    assert (folder / "README.md").read_text() == "my own readme\n" and (folder / "notes.txt").is_file()
    assert (folder / "newsstand.yaml").is_file() and (folder / "seeds" / "example-story.md").is_file()
    assert not [p for p in folder.iterdir() if p.name.startswith(".newsstand-init")]  # no stage left behind


def test_init_checks_what_it_is_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for flag, value, said in (
        ("--base-url", "ftp://x.example/", "base_url"),
        ("--timezone", "Mars/Olympus", "timezone"),
    ):
        assert main(["init", str(tmp_path / "blog"), flag, value]) == 1
        assert said in capsys.readouterr().err
    assert not (tmp_path / "blog").exists()
    (tmp_path / "file").write_text("x")
    assert main(["init", str(tmp_path / "file")]) == 1
    assert "not a folder" in capsys.readouterr().err


def test_a_title_with_quotes_and_colons_reaches_the_pages_as_written(tmp_path: Path) -> None:
    title = 'News: "the harbour" & more'
    assert main(["init", str(tmp_path / "blog"), "--title", title, "--base-url", "https://n.example.org/x"]) == 0
    settings = load_settings(tmp_path / "blog" / "newsstand.yaml")
    assert settings.title == title and settings.base_url == "https://n.example.org/x/"
    assert main(["build", "--config", str(tmp_path / "blog" / "newsstand.yaml"), "--no-search"]) == 0
    feed = feedparser.parse((tmp_path / "blog" / "site" / "feed.xml").read_bytes())
    assert feed.feed.title == title


def test_the_repositorys_example_site_has_a_base_url_so_it_gets_feeds_and_a_sitemap(tmp_path: Path) -> None:
    settings = load_settings(ROOT / "newsstand.yaml")
    assert settings.base_url.startswith("https://")
    out = tmp_path / "site"
    assert main(["build", "--config", str(ROOT / "newsstand.yaml"), "--out", str(out), "--no-search"]) == 0
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo and feed.entries and all(e.link.startswith(settings.base_url) for e in feed.entries)
    assert (out / "sitemap.xml").is_file() and f"Sitemap: {settings.base_url}sitemap.xml" in (
        out / "robots.txt"
    ).read_text()
