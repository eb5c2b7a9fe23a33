"""`newsstand check --site DIR`: walk a built site and report what a visitor would trip over.

Every internal link (`<a href>`, `<form action>`) must lead to a file, and to an element
with the fragment's id when it names one; every internal asset (`<link href>`, `<script src>`,
`<img src>`) must exist; ids must be unique on a page. Links are internal when relative,
root-relative, or absolute under the base URL; the sitemap's and the feeds' URLs under the
base URL are checked too. Nothing is fetched from the network.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree as ET

LINK_TAGS = {"a": "href", "area": "href", "form": "action"}
ASSET_TAGS = {
    "link": "href",
    "script": "src",
    "img": "src",
    "source": "src",
    "iframe": "src",
    "video": "src",
    "audio": "src",
}


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    page: str  # relative to the site root
    kind: str  # broken-link | missing-asset | broken-fragment | duplicate-id
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}: {self.detail}"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.refs: list[tuple[str, str]] = []  # (tag, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        attr = LINK_TAGS.get(tag) or ASSET_TAGS.get(tag)
        if tag == "link" and (a.get("rel") or "") in ("canonical", "alternate"):
            attr = "href"  # a page link, checked the same way
        if attr and a.get(attr) is not None:
            self.refs.append((tag, a[attr] or ""))


def _site_path(url: str, page: str, base_url: str) -> str | None:
    """The site-relative path `url` (on `page`) points at, or None when it leaves the site."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        if base_url and url.startswith(base_url):
            return unquote(urlsplit(url[len(base_url) :]).path)
        return None
    path = unquote(parts.path)
    if path.startswith("/"):
        prefix = urlsplit(base_url).path if base_url else "/"
        if not path.startswith(prefix):
            return "\0outside"
        return path[len(prefix) :]
    if not path:
        return page
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    if joined == "." or path.endswith("/"):
        joined = "" if joined == "." else joined + "/"
    return joined


def _file_for(root: Path, path: str) -> Path | None:
    if path.startswith("..") or "\0" in path:
        return None
    target = root / path if path else root
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def check_site(root: Path, base_url: str = "") -> list[Finding]:
    """Every problem found in the built site at `root`, sorted."""
    if not root.is_dir():
        return [Finding(str(root), "missing-site", "no such folder: build the site first")]
    root = root.resolve()
    pages: dict[str, _Page] = {}
    for path in sorted(root.rglob("*.html")):
        parser = _Page()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages[path.relative_to(root).as_posix()] = parser
    findings: list[Finding] = []
    for name, parsed in pages.items():
        for ident, n in Counter(parsed.ids).items():
            if n > 1:
                findings.append(Finding(name, "duplicate-id", f"id={ident!r} appears {n} times"))
        for tag, url in parsed.refs:
            if url.startswith(("mailto:", "tel:", "data:", "javascript:")) or not url:
                continue
            where = _site_path(url, name, base_url)
            if where is None:
                continue
            if tag == "link":
                kind = "broken-link" if _page_link(url) else "missing-asset"
            else:
                kind = "missing-asset" if tag in ASSET_TAGS else "broken-link"
            target = _file_for(root, where)
            if target is None:
                findings.append(Finding(name, kind, f"<{tag}> {url}"))
                continue
            fragment = urlsplit(url).fragment
            if fragment and tag in LINK_TAGS and target.suffix == ".html":
                ids = pages[target.relative_to(root).as_posix()].ids
                if unquote(fragment) not in ids and fragment != "top":
                    findings.append(Finding(name, "broken-fragment", f"<{tag}> {url}: no id {fragment!r}"))
    findings += _check_xml(root, base_url)
    return sorted(set(findings))


def _page_link(url: str) -> bool:
    """A <link> that names a page (canonical, alternate) rather than an asset."""
    return not url.endswith((".css", ".js", ".ico", ".png", ".svg", ".webmanifest"))


def _check_xml(root: Path, base_url: str) -> list[Finding]:
    """URLs under the base URL in the sitemap(s) and the Atom feeds."""
    if not base_url:
        return []
    findings = []
    for path in sorted(root.rglob("*.xml")):
        name = path.relative_to(root).as_posix()
        try:
            tree = ET.parse(path)
        except ET.ParseError as err:
            findings.append(Finding(name, "bad-xml", str(err)))
            continue
        urls = [el.text or "" for el in tree.iter() if el.tag.endswith("}loc")]
        urls += [el.get("href", "") for el in tree.iter() if el.tag.endswith("}link")]
        for url in urls:
            if url.startswith(base_url) and _file_for(root, unquote(urlsplit(url[len(base_url) :]).path)) is None:
                findings.append(Finding(name, "broken-link", url))
    return findings
