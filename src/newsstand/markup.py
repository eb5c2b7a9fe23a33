"""Seed Markdown → HTML that is safe to put in a page: an allow-list, http(s) links only."""

from __future__ import annotations

import markdown
import nh3

from .urls import safe_url

MAX_BODY_CHARS = 100_000

_TAGS = {
    "p", "br", "hr", "em", "strong", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "h5", "h6", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub",
}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}, "th": {"align"}, "td": {"align"}}


def _only_http(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src"):
        return safe_url(value)
    return value


def markdown_to_html(text: str) -> str:
    """Render untrusted Markdown; anything outside the allow-list is dropped (script content with it)."""
    text = text.strip()
    if not text:
        return ""
    html = markdown.markdown(text[:MAX_BODY_CHARS], extensions=["tables", "sane_lists"], output_format="html")
    # A story page already has an <h1>; a body's top heading becomes a second-level one.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
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
