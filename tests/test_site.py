"""The whole pipeline over the five real seeds, checked by reading the HTML it wrote."""

from __future__ import annotations

import json
import re
from pathlib import Path

from newsstand.build import build

from .conftest import BASE_URL, SEEDS, settings_for, story_file
from .htmlscan import is_internal, resolve, scan


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_summary_counts(seeds_site) -> None:
    site, result = seeds_site
    assert (result.files_read, result.files_rejected) == (5, 0)
    assert result.articles == 57
    assert 0 < result.stories <= result.articles
    assert result.report is not None
    # Every page, plus robots.txt, _headers, _redirects, the stylesheet, search.js, site.js, the icon and the search bundle
    # (no base URL: no feeds, no sitemap).
    bundle = sum(1 for p in (site / "pagefind").rglob("*") if p.is_file())
    assert bundle > 5
    assert result.report.total == result.pages + 7 + bundle


def test_expected_pages_exist(seeds_site) -> None:
    site, _ = seeds_site
    data = json.loads((site / "stories.json").read_text())
    for rel in (
        "index.html",
        "404.html",
        "topics/index.html",
        "topics/ai/index.html",
        "topics/computer-vision/index.html",
        "providers/index.html",
        "providers/new-york-times/index.html",
        "providers/engadget/index.html",
        "search/index.html",
        "robots.txt",
        "_headers",
        "pagefind/pagefind-ui.js",
    ):
        assert (site / rel).is_file(), rel
    assert len(list((site / "static").glob("style.*.css"))) == 1
    for story in data["stories"]:
        assert (site / story["url"] / "index.html").is_file()


def test_every_internal_link_resolves_to_a_written_file(seeds_site) -> None:
    site, _ = seeds_site
    checked = 0
    for page in html_pages(site):
        for tag, url, _attrs in scan(page).links:
            if is_internal(url):
                target = resolve(site, page, url)
                assert target.is_file(), f"{page.relative_to(site)}: <{tag}> {url} → missing {target}"
                assert site.resolve() in target.parents
                checked += 1
    assert checked > 500


def test_external_links_are_http_and_noopener(seeds_site) -> None:
    site, _ = seeds_site
    for page in html_pages(site):
        for tag, url, attrs in scan(page).links:
            if not is_internal(url):
                assert url.startswith(("https://", "http://")), url
                if tag == "a":
                    assert "noopener" in (attrs.get("rel") or "") and "noreferrer" in (attrs.get("rel") or "")


def test_the_computing_article_appears_once(seeds_site) -> None:
    site, _ = seeds_site
    data = json.loads((site / "stories.json").read_text())
    urls = [a["url"] for s in data["stories"] for a in s["articles"]]
    assert len(urls) == len(set(urls)) == 57
    computing = [u for u in urls if "computing.co.uk" in u]
    assert computing == ["https://www.computing.co.uk/news/4010475/met-police-live-facial-recognition"]
    pages_linking = [
        p for p in (site / "stories").rglob("index.html") if "computing.co.uk/news/4010475" in p.read_text()
    ]
    assert len(pages_linking) == 1


def test_no_secured_text_anywhere(seeds_site) -> None:
    site, _ = seeds_site
    secrets = []
    for seed in SEEDS.iterdir():
        for line in seed.read_text().splitlines():
            if line.startswith("secured:"):
                secrets.append(line.split('"')[1][:24])
    assert len(secrets) == 5
    for path in site.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "secured" not in text
            assert not any(s in text for s in secrets)


def test_every_page_has_lang_title_description_canonical(seeds_site) -> None:
    site, _ = seeds_site
    for page in html_pages(site):
        s = scan(page)
        assert s.lang == "en"
        assert s.title.strip()
        metas = {a.get("name"): a.get("content") for t, a in s.tags if t == "meta"}
        assert metas.get("description"), page
        assert metas.get("viewport")
        assert any(t == "link" and a.get("rel") == "canonical" for t, a in s.tags)
        assert len(s.ids) == len(set(s.ids)), page
        assert not s.handlers
        # Nothing loads from another host but article images.
        for tag, url, _ in s.links:
            if tag in ("script", "link") and not is_internal(url):
                assert tag == "link" and dict(_).get("rel") == "canonical"


def test_front_page_cards(seeds_site) -> None:
    site, _ = seeds_site
    s = scan(site / "index.html")
    imgs = [a for t, a in s.tags if t == "img"]
    assert imgs and all(a.get("width") and a.get("height") and a.get("loading") == "lazy" for a in imgs)
    assert "Editor’s pick" in "".join(s.text)
    assert "More:" in "".join(s.text)
    data = json.loads((site / "stories.json").read_text())
    first = data["stories"][0]
    assert first["articles"][0]["url"].startswith("https://www.nytimes.com/2020/01/24/business/")  # the pick leads


def test_stories_json_shape(seeds_site) -> None:
    site, _ = seeds_site
    data = json.loads((site / "stories.json").read_text())
    scores = [s["score"] for s in data["stories"]]
    assert scores == sorted(scores, reverse=True)
    for story in data["stories"]:
        assert set(story) == {"slug", "url", "title", "score", "articles"}
        assert story["url"] == f"stories/{story['slug']}/"
        assert story["title"] == story["articles"][0]["title"]
        for article in story["articles"]:
            assert set(article) == {"url", "title", "provider", "published", "topics"}
            assert set(article["provider"]) == {"name", "domain"}


def test_same_input_same_bytes(tmp_path: Path, seeds_site) -> None:
    site, _ = seeds_site
    build(settings_for(SEEDS, tmp_path / "again"))
    first = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path / "again"): p.read_bytes() for p in (tmp_path / "again").rglob("*") if p.is_file()}
    assert first == second


def test_base_url_makes_canonical_absolute(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(settings_for(SEEDS, out, base_url="https://example.org/news/"))
    s = scan(out / "topics" / "ai" / "index.html")
    canonical = next(a["href"] for t, a in s.tags if t == "link" and a.get("rel") == "canonical")
    assert canonical == "https://example.org/news/topics/ai/"
    internal = [u for t, u, _ in s.links if t == "a" and is_internal(u)]
    assert internal and all(not u.endswith("index.html") for u in internal)
    notfound = scan(out / "404.html")
    site_links = [u for t, u, _ in notfound.links if t in ("a", "link") and not u.startswith("#")]
    assert site_links and all(u.startswith("https://example.org/news/") for u in site_links)


def _json_ld(page: Path) -> list[dict]:
    text = page.read_text()
    blocks = text.split('<script type="application/ld+json">')[1:]
    return [json.loads(b.split("</script>")[0]) for b in blocks]


def test_metadata_opengraph_and_json_ld(based_site) -> None:
    site, _ = based_site
    story = sorted((site / "stories").glob("*/index.html"))[0]
    s = scan(story)
    props = {a.get("property") or a.get("name"): a.get("content") for t, a in s.tags if t == "meta"}
    assert props["og:type"] == "article" and props["og:title"] and props["og:site_name"] == "Newsstand"
    assert props["og:url"] == BASE_URL + story.parent.relative_to(site).as_posix() + "/"
    assert props["twitter:card"] in ("summary", "summary_large_image")
    nodes = _json_ld(story)
    types = [n["@type"] for n in nodes]
    assert types == ["NewsArticle", "BreadcrumbList"]
    article = nodes[0]
    assert article["@context"] == "https://schema.org" and article["headline"] and article["datePublished"]
    assert article["url"].startswith("http") and article["publisher"]["name"]
    crumbs = nodes[1]["itemListElement"]
    assert crumbs[0]["item"] == BASE_URL and crumbs[-1]["item"] == props["og:url"]
    home = _json_ld(site / "index.html")
    assert [n["@type"] for n in home] == ["ItemList"]
    assert all(i["url"].startswith(BASE_URL + "stories/") for i in home[0]["itemListElement"])
    term = _json_ld(site / "topics" / "ai" / "index.html")
    assert [n["@type"] for n in term] == ["ItemList", "BreadcrumbList"]
    assert [c["name"] for c in term[1]["itemListElement"]][1:] == ["Topics", "AI"]
    assert [n["@type"] for n in _json_ld(site / "topics" / "index.html")] == ["ItemList", "BreadcrumbList"]
    assert _json_ld(site / "404.html") == []


def test_every_date_is_a_time_element(seeds_site) -> None:
    site, _ = seeds_site
    for page in html_pages(site):
        text = page.read_text().split("<body>", 1)[1]
        text = re.sub(r"<time datetime=\"[^\"]+\">[^<]+</time>", "", text)
        text = re.sub(r"<script.*?</script>", "", text, flags=re.S)
        assert not re.search(r"\b(19|20)\d\d, \d\d:\d\d", text), page  # a shown date outside <time>


def test_json_ld_cannot_be_closed_by_seed_text(tmp_path: Path, seed_dir) -> None:
    seeds = seed_dir(**{"a.txt": story_file(title="</script><script>alert(1)</script>")})
    out = tmp_path / "site"
    build(settings_for(seeds, out, base_url="https://example.org/", search=False))
    page = next((out / "stories").glob("*/index.html"))
    assert "<script>alert(1)" not in page.read_text()
    assert _json_ld(page)[0]["headline"] == "</script><script>alert(1)</script>"


def test_same_bytes_across_processes_with_different_hash_seeds(tmp_path: Path) -> None:
    """Set and dict orders of strings change with PYTHONHASHSEED: nothing in the output may depend on them."""
    import os
    import subprocess
    import sys

    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"site{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "newsstand",
                "build",
                "--seeds",
                str(SEEDS),
                "--out",
                str(out),
                "--base-url",
                "https://example.org/",
                "--no-search",
            ],
            cwd=tmp_path,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        outputs.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert outputs[0] == outputs[1]


def test_related_stories_link_to_their_pages_with_their_lead(seeds_site) -> None:
    import html

    site, _ = seeds_site
    data = {s["slug"]: s for s in json.loads((site / "stories.json").read_text())["stories"]}
    shown = 0
    for page in sorted(site.glob("stories/*/index.html")):
        block = re.search(r'<ul class="related">(.*?)</ul>', page.read_text(encoding="utf-8"), re.S)
        if block is None:
            continue
        items = re.findall(r'<li><a href="([^"]+)">(.*?)</a> <span class="meta">(.*?) · <time', block.group(1))
        assert 0 < len(items) <= 10
        for href, title, outlet in items:
            target = resolve(site, page, href)
            assert target.is_file() and target != page
            story = data[target.parent.name]
            assert html.unescape(title) == story["title"]
            assert html.unescape(outlet) == story["articles"][0]["provider"]["name"]
            shown += 1
    assert shown > 0  # the seeds' related lists link stories
