"""Seed Markdown → HTML that is safe to put in a page: an allow-list, http(s) links only."""

from __future__ import annotations

import threading
from html.parser import HTMLParser

import markdown
import nh3

from .urls import safe_url

MAX_BODY_CHARS = 100_000

_TAGS = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align"},
    "td": {"align"},
}


def _only_http(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src"):
        return safe_url(value)
    return value


class _Links(HTMLParser):
    """The href and src of the links and images a body asks for, to report those that will be dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("a", "img"):
            for name, value in attrs:
                if name in ("href", "src") and value is not None:
                    self.found.append(("image" if tag == "img" else "link", value))


def _unsafe_urls(html: str) -> list[str]:
    reader = _Links()
    reader.feed(html)
    reader.close()
    return [
        f"body: {kind} to {url[:80]!r} dropped: only http and https URLs are allowed"
        for kind, url in dict.fromkeys(reader.found)
        if safe_url(url) is None
    ]


_local = threading.local()


def _converter() -> markdown.Markdown:
    """One converter per thread, reset between bodies: building one costs more than converting a body."""
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = markdown.Markdown(extensions=["tables", "sane_lists"], output_format="html")
    return converter


def markdown_to_html(text: str, notes: list[str] | None = None) -> str:
    """Render untrusted Markdown; anything outside the allow-list is dropped (script content with it).

    Each link or image URL dropped for not being http(s), and a body cut to the limit, is
    described in `notes` (when given), so that the build can report it.
    """
    text = text.strip()
    if not text:
        return ""
    if len(text) > MAX_BODY_CHARS:
        if notes is not None:
            notes.append(f"body: {len(text):,} characters, cut to the limit of {MAX_BODY_CHARS:,}")
        text = text[:MAX_BODY_CHARS]

    html = _converter().reset().convert(text)
    # A story page already has an <h1>; a body's top heading becomes a second-level one.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    if notes is not None:
        notes.extend(_unsafe_urls(html))
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math"},
        attributes=_ATTRIBUTES,
        attribute_filter=_only_http,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
