"""The built site on static hosting: under a sub-path over real HTTP, and from the file system."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit
from xml.etree import ElementTree as ET

import pytest

from .htmlscan import is_internal, resolve, scan
from .statichost import hosted_seeds


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (
                (name == "href" and tag in ("a", "link"))
                or (name == "src" and tag in ("script", "img"))
                or (name == "action" and tag == "form")
            ):
                self.urls.append(value)


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The seeds' site built for http://127.0.0.1:PORT/news/ and served from a folder where it sits at news/."""
    with hosted_seeds(tmp_path_factory.mktemp("host")) as site:
        yield site


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def links_in(url: str, ctype: str, body: bytes) -> list[str]:
    if "html" in ctype:
        parser = _Links()
        parser.feed(body.decode("utf-8"))
        return [urljoin(url, u) for u in parser.urls if not u.startswith("#")]  # same-page anchors: not a fetch
    if url.endswith(".xml"):
        tree = ET.fromstring(body)
        return [e.text or "" for e in tree.iter() if e.tag.endswith("}loc")] + [
            e.get("href", "") for e in tree.iter() if e.tag.endswith("}link")
        ]
    return []


def test_every_link_works_under_a_sub_path(hosted: tuple[str, Path]) -> None:
    base, site = hosted
    seen: set[str] = set()
    queue = [base, base + "feed.xml", base + "feed.json", base + "sitemap.xml", base + "robots.txt"]
    bad = []
    while queue:
        url = urldefrag(queue.pop())[0]
        if url in seen:
            continue
        seen.add(url)
        status, ctype, body = fetch(url)
        if status != 200:
            bad.append(f"{status} {url}")
            continue
        for link in links_in(url, ctype, body):
            if link.startswith(f"http://{urlsplit(base).netloc}/"):
                assert link.startswith(base), f"{url} links outside /news/: {link}"
                if urlsplit(link).query and "/search/" in link:
                    link = link.split("?")[0]
                queue.append(link)
    assert not bad, bad
    pages = [u for u in seen if u.endswith("/")]
    html_files = [p for p in site.rglob("index.html") if "pagefind" not in p.parts]
    assert len(pages) == len(html_files)  # every page is reachable by links from the front page or the feeds
    assert any("/static/style." in u for u in seen) and any("/pagefind/pagefind-ui.js" in u for u in seen)
    assert any(u.endswith("/topics/ai/feed.xml") for u in seen)


def test_the_404_page_works_at_any_depth(hosted: tuple[str, Path]) -> None:
    base, _ = hosted
    for missing in ("nope", "stories/gone/", "topics/ai/page/9/deeper/still/"):
        status, ctype, body = fetch(base + missing)
        assert status == 404 and "html" in ctype
        assert b"Page not found" in body
        for link in links_in(base + missing, ctype, body):
            if link.startswith(base):
                assert fetch(link)[0] == 200, f"404 page at {missing}: {link}"


def test_headers_file_covers_the_sub_path(hosted: tuple[str, Path]) -> None:
    _, site = hosted
    text = (site / "_headers").read_text()
    assert "/news/static/*\n  Cache-Control: public, max-age=31536000, immutable" in text


def test_without_base_url_every_link_works_from_the_file_system(seeds_site) -> None:
    site, _ = seeds_site
    start = site / "index.html"
    seen: set[Path] = set()
    queue = [start]
    while queue:
        page = queue.pop()
        if page in seen:
            continue
        seen.add(page)
        found = scan(page)
        forms = [("form", a.get("action") or "", a) for t, a in found.tags if t == "form"]
        for tag, url, _ in [*found.links, *forms]:
            if not is_internal(url) or page.name == "404.html":
                continue
            if tag in ("a", "form"):
                # A browser opening files does not look for index.html: links must name a file.
                assert not urlsplit(url).path.endswith("/"), f"{page}: {url}"
                assert not url.startswith("/"), f"{page}: root-relative {url}"
            target = resolve(site, page, url)
            assert target.is_file(), f"{page.relative_to(site)}: {url}"
            if target.suffix == ".html":
                queue.append(target)
    html_files = {p for p in site.rglob("*.html") if p.name != "404.html"}
    assert {p.resolve() for p in seen} == {p.resolve() for p in html_files}
