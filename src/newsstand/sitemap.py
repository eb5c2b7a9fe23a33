"""`sitemap.xml` (sitemaps.org protocol 0.9) and `robots.txt`.

A sitemap lists absolute URLs only, so it is written only when the site has a base URL.
Past 50,000 URLs (the protocol's limit per file) `sitemap.xml` becomes a sitemap index
pointing at `sitemap-1.xml`, `sitemap-2.xml`, …
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from .feeds import rfc3339

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000

Entry = tuple[str, datetime | None]  # (absolute URL, last modified)


def _document(root: str, item: str, entries: Sequence[Entry]) -> bytes:
    """A sitemap (<urlset> of <url>) or a sitemap index (<sitemapindex> of <sitemap>): one shape."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<{root} xmlns="{SITEMAP_NS}">']
    for url, lastmod in entries:
        mod = f"<lastmod>{rfc3339(lastmod)}</lastmod>" if lastmod is not None else ""
        lines.append(f"<{item}><loc>{escape(url)}</loc>{mod}</{item}>")
    lines.append(f"</{root}>\n")
    return "\n".join(lines).encode("utf-8")


def _urlset(entries: Sequence[Entry]) -> bytes:
    return _document("urlset", "url", entries)


def _index(parts: Sequence[Entry]) -> bytes:
    return _document("sitemapindex", "sitemap", parts)


def sitemap_files(entries: Sequence[Entry], base_url: str, limit: int = MAX_URLS) -> list[tuple[str, bytes]]:
    """`sitemap.xml`, and the numbered parts it indexes when there are more than `limit` URLs."""
    if len(entries) <= limit:
        return [("sitemap.xml", _urlset(entries))]
    files: list[tuple[str, bytes]] = []
    parts: list[tuple[str, datetime | None]] = []
    for number, start in enumerate(range(0, len(entries), limit), start=1):
        chunk = entries[start : start + limit]
        name = f"sitemap-{number}.xml"
        files.append((name, _urlset(chunk)))
        parts.append((base_url + name, max((m for _, m in chunk if m is not None), default=None)))
    return [("sitemap.xml", _index(parts)), *files]


def robots_txt(base_url: str) -> bytes:
    """Allow everything; name the sitemap when there is one (the Sitemap line must be absolute)."""
    lines = ["User-agent: *", "Allow: /"]
    if base_url:
        lines += ["", f"Sitemap: {base_url}sitemap.xml"]
    return ("\n".join(lines) + "\n").encode("utf-8")
