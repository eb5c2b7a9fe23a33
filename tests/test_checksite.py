"""`newsstand check --site`: the built site's internal links, assets and ids."""

from __future__ import annotations

import shutil
from pathlib import Path

from newsstand.checksite import check_site
from newsstand.cli import main

from .conftest import BASE_URL


def test_the_seeds_site_has_no_problems(seeds_site, based_site) -> None:
    assert check_site(seeds_site[0]) == []
    assert check_site(based_site[0], BASE_URL) == []


def test_cli_checks_a_built_site(based_site, capsys) -> None:
    assert main(["check", "--site", str(based_site[0]), "--base-url", BASE_URL]) == 0
    assert "0 problems" in capsys.readouterr().out
    assert main(["check", "--site", str(based_site[0] / "nope")]) == 1


def test_reports_broken_links_missing_assets_duplicate_ids(tmp_path: Path, based_site, capsys) -> None:
    site = tmp_path / "site"
    shutil.copytree(based_site[0], site)
    topic = site / "topics" / "ai" / "index.html"
    html = topic.read_text()
    html = html.replace(
        "</main>",
        '<a href="../../stories/gone/">gone</a><a href="../../index.html#nowhere">x</a>'
        '<img src="../../static/missing.png" alt=""><p id="main">dup</p>'
        f'<a href="{BASE_URL}topics/absent/">abs</a><a href="https://other.example/">ext</a></main>',
    )
    topic.write_text(html)
    css = next((site / "static").glob("style.*.css"))
    css.unlink()
    (site / "sitemap.xml").write_text((site / "sitemap.xml").read_text().replace("topics/ai/", "topics/ia/"))
    findings = check_site(site, BASE_URL)
    text = "\n".join(map(str, findings))
    assert "topics/ai/index.html: broken-link: <a> ../../stories/gone/" in text
    assert "topics/ai/index.html: broken-fragment: <a> ../../index.html#nowhere" in text
    assert "topics/ai/index.html: missing-asset: <img> ../../static/missing.png" in text
    assert "topics/ai/index.html: duplicate-id: id='main' appears 2 times" in text
    assert f"topics/ai/index.html: broken-link: <a> {BASE_URL}topics/absent/" in text
    assert "other.example" not in text
    assert f"index.html: missing-asset: <link> {css.name}" not in text  # the href is relative: named as written
    assert any(f.kind == "missing-asset" and css.name in f.detail and f.page == "index.html" for f in findings)
    assert f"sitemap.xml: broken-link: {BASE_URL}topics/ia/" in text
    assert main(["check", "--site", str(site), "--base-url", BASE_URL]) == 1
    assert "duplicate-id" in capsys.readouterr().err
