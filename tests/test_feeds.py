"""Atom and JSON feeds of the seeds' site, read the way a feed reader reads them."""

from __future__ import annotations

import html
import json
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from newsstand.build import build

from .conftest import BASE_URL, settings_for, story_file
from .htmlscan import scan


def atom_feeds(site: Path) -> list[Path]:
    return sorted(site.rglob("feed.xml"))


def is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def test_every_list_has_an_atom_feed(based_site) -> None:
    site, _ = based_site
    feeds = {p.relative_to(site).as_posix() for p in atom_feeds(site)}
    assert "feed.xml" in feeds
    topics = {p.name for p in (site / "topics").iterdir() if p.is_dir()}
    providers = {p.name for p in (site / "providers").iterdir() if p.is_dir()}
    assert topics and providers
    assert {f"topics/{t}/feed.xml" for t in topics} <= feeds
    assert {f"providers/{p}/feed.xml" for p in providers} <= feeds
    assert not any("/page/" in f for f in feeds)


@pytest.mark.parametrize("kind", ["home", "topic", "provider"])
def test_feeds_parse_cleanly_with_ids_dates_links(based_site, kind: str) -> None:
    site, _ = based_site
    paths = {
        "home": [site / "feed.xml"],
        "topic": sorted((site / "topics").glob("*/feed.xml")),
        "provider": sorted((site / "providers").glob("*/feed.xml")),
    }[kind]
    for path in paths:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, f"{path}: {parsed.get('bozo_exception')}"
        assert parsed.version == "atom10"
        feed = parsed.feed
        assert feed.get("id") and feed.get("updated") and feed.get("link") and feed.get("title")
        assert is_absolute(feed.id) and is_absolute(feed.link)
        self_links = [link.href for link in feed.links if link.rel == "self"]
        assert self_links == [BASE_URL + path.relative_to(site).as_posix()]
        assert parsed.entries, path
        updated = [e.updated_parsed for e in parsed.entries]
        assert updated == sorted(updated, reverse=True), f"{path}: not newest first"
        assert feed.updated_parsed == updated[0]
        for entry in parsed.entries:
            assert entry.get("id") and entry.get("updated") and entry.get("link") and entry.get("title")
            assert entry.get("published")
            for url in [entry.id, entry.link, *(link.href for link in entry.links)]:
                assert is_absolute(url), f"{path}: relative URL {url!r}"
            assert entry.link.startswith(BASE_URL + "stories/")
            # The entry's content carries the lead's own link, and every URL in it is absolute.
            content = html.unescape(entry.content[0].value)  # an href's "&" is "&amp;" in the markup
            related = [link.href for link in entry.links if link.rel == "related"]
            assert len(related) == 1 and related[0] in content
            for href in content.split('href="')[1:]:
                assert is_absolute(href.split('"')[0])


def test_feed_entry_has_more_coverage_links(based_site) -> None:
    site, _ = based_site
    parsed = feedparser.parse((site / "feed.xml").read_bytes())
    with_more = [e for e in parsed.entries if "More:" in e.content[0].value]
    assert with_more
    for entry in with_more:
        assert entry.content[0].value.count("<a href=") >= 2


def test_json_feed(based_site) -> None:
    site, _ = based_site
    data = json.loads((site / "feed.json").read_text())
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["feed_url"] == BASE_URL + "feed.json" and data["home_page_url"] == BASE_URL
    assert data["items"]
    modified = [i["date_modified"] for i in data["items"]]
    assert modified == sorted(modified, reverse=True)
    for item in data["items"]:
        assert item["id"] and item["title"] and item["content_html"]
        assert is_absolute(item["url"]) and is_absolute(item["external_url"])
        assert item["date_published"].endswith("Z")
    atom = feedparser.parse((site / "feed.xml").read_bytes())
    assert [i["url"] for i in data["items"]] == [e.link for e in atom.entries]


def test_autodiscovery_links_match_the_page(based_site) -> None:
    site, _ = based_site

    def alternates(page: Path) -> list[tuple[str | None, str | None]]:
        return [
            (a.get("type"), a.get("href")) for t, a in scan(page).tags if t == "link" and a.get("rel") == "alternate"
        ]

    assert alternates(site / "index.html") == [
        ("application/atom+xml", BASE_URL + "feed.xml"),
        ("application/feed+json", BASE_URL + "feed.json"),
    ]
    assert alternates(site / "topics" / "ai" / "index.html") == [
        ("application/atom+xml", BASE_URL + "topics/ai/feed.xml")
    ]
    assert alternates(site / "providers" / "engadget" / "index.html") == [
        ("application/atom+xml", BASE_URL + "providers/engadget/feed.xml")
    ]
    if (site / "page" / "2" / "index.html").exists():
        assert alternates(site / "page" / "2" / "index.html")[0][1] == BASE_URL + "feed.xml"


def test_no_base_url_means_no_feeds(seeds_site) -> None:
    site, _ = seeds_site
    assert not list(site.rglob("feed.xml")) and not (site / "feed.json").exists()
    for page in (site / "index.html", site / "topics" / "ai" / "index.html"):
        assert not [a for t, a in scan(page).tags if t == "link" and a.get("rel") == "alternate"]


def test_feed_escapes_hostile_text_and_is_stable(tmp_path: Path, seed_dir) -> None:
    evil = "Breaking </title><script>alert(1)</script> & <b>more</b>"
    seeds = seed_dir(**{"a.txt": story_file(title=evil, extra="excerpt: '<img src=x onerror=alert(1)>'\n")})
    first = tmp_path / "one"
    build(settings_for(seeds, first, base_url=BASE_URL, search=False))
    raw = (first / "feed.xml").read_bytes()
    parsed = feedparser.parse(raw)
    assert not parsed.bozo
    assert parsed.entries[0].title == evil
    assert b"<script>" not in raw and b"<img" not in raw
    build(settings_for(seeds, tmp_path / "two", base_url=BASE_URL, search=False))
    assert (tmp_path / "two" / "feed.xml").read_bytes() == raw
    assert (tmp_path / "two" / "feed.json").read_bytes() == (first / "feed.json").read_bytes()
