"""sitemap.xml, its index past 50,000 URLs, and robots.txt."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from newsstand.sitemap import MAX_URLS, SITEMAP_NS, robots_txt, sitemap_files

from .conftest import BASE_URL

NS = {"s": SITEMAP_NS}


def test_sitemap_lists_every_page_once_with_absolute_urls(based_site) -> None:
    site, _ = based_site
    tree = ET.parse(site / "sitemap.xml")
    assert tree.getroot().tag == f"{{{SITEMAP_NS}}}urlset"
    locs = [e.text or "" for e in tree.getroot().iterfind("s:url/s:loc", NS)]
    assert len(locs) == len(set(locs))
    assert all(u.startswith(BASE_URL) for u in locs)
    pages = {p.relative_to(site).as_posix() for p in site.rglob("index.html") if "pagefind" not in p.parts}
    pages.discard("search/index.html")
    expected = {BASE_URL + p.removesuffix("index.html") for p in pages}
    assert set(locs) == expected
    for mod in tree.getroot().iterfind("s:url/s:lastmod", NS):
        datetime.fromisoformat((mod.text or "").replace("Z", "+00:00"))


def test_robots_names_the_sitemap(based_site, seeds_site) -> None:
    assert (based_site[0] / "robots.txt").read_text() == f"User-agent: *\nAllow: /\n\nSitemap: {BASE_URL}sitemap.xml\n"
    assert "Sitemap" not in (seeds_site[0] / "robots.txt").read_text()
    assert not (seeds_site[0] / "sitemap.xml").exists()  # no base URL: no absolute URLs to list


def test_past_the_limit_the_sitemap_becomes_an_index() -> None:
    when = datetime(2020, 1, 1, tzinfo=UTC)
    entries = [(f"{BASE_URL}stories/{i}/", when) for i in range(MAX_URLS + 1)]
    files = dict(sitemap_files(entries, BASE_URL))
    assert set(files) == {"sitemap.xml", "sitemap-1.xml", "sitemap-2.xml"}
    index = ET.fromstring(files["sitemap.xml"])
    assert index.tag == f"{{{SITEMAP_NS}}}sitemapindex"
    assert [e.text for e in index.iterfind("s:sitemap/s:loc", NS)] == [
        BASE_URL + "sitemap-1.xml",
        BASE_URL + "sitemap-2.xml",
    ]
    assert len(ET.fromstring(files["sitemap-1.xml"]).findall("s:url", NS)) == MAX_URLS
    assert len(ET.fromstring(files["sitemap-2.xml"]).findall("s:url", NS)) == 1
    assert len(files["sitemap-1.xml"]) < 50 * 1024 * 1024  # the protocol's size limit too
    assert dict(sitemap_files(entries[:MAX_URLS], BASE_URL)).keys() == {"sitemap.xml"}


def test_sitemap_escapes_urls() -> None:
    ((_, data),) = sitemap_files([("https://example.org/?a=1&b=<2>", None)], "https://example.org/")
    assert b"a=1&amp;b=&lt;2&gt;" in data and b"lastmod" not in data
    assert robots_txt("") == b"User-agent: *\nAllow: /\n"
