"""Feeds: the Atom and JSON Feed output formats of the front page and of each topic and provider.

Every URL in a feed is absolute (feeds are read out of context), so feeds exist only when
the site has a base URL. Entries are stories, the most recently updated first; an entry's
content is its lead link, excerpt and one "more coverage" link per other outlet. Nothing
depends on the clock: a feed's `updated` is its newest entry's, so the same seeds give the
same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from markupsafe import Markup

from . import __version__
from .config import Settings
from .model import Story
from .pages import OUTPUT_FORMATS, Page, Site, more_coverage, story_topics, story_url

ATOM = "http://www.w3.org/2005/Atom"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the `updated` of a feed with no entries

Absolute = Callable[[str], str]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def feed_title(page: Page, settings: Settings) -> str:
    return settings.title if page.kind == "home" else f"{page.title} · {settings.title}"


def entry_html(story: Story, site: Site) -> str:
    """An entry's content: the lead, its excerpt, then "More:" links. Seed text is escaped."""
    lead = story.lead
    parts = [Markup('<p><a href="{}">{}</a> ({})</p>').format(lead.url, lead.title, site.providers[lead.provider].name)]
    if lead.excerpt:
        parts.append(Markup("<p>{}</p>").format(lead.excerpt))
    more = more_coverage(story)
    if more:
        links = Markup(", ").join(
            Markup('<a href="{}">{}</a>').format(a.url, site.providers[a.provider].name) for a in more
        )
        parts.append(Markup("<p>More: {}</p>").format(links))
    return str(Markup("").join(parts))


def _updated(stories: Sequence[Story]) -> datetime:
    return max((s.updated for s in stories), default=EPOCH)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def atom(page: Page, site: Site, settings: Settings, absolute: Absolute) -> bytes:
    """The Atom 1.0 feed (RFC 4287) of a list page."""
    stories: Sequence[Story] = page.context["feed"]
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": settings.language})
    _sub(feed, "id", absolute(page.output_url("atom")))
    _sub(feed, "title", feed_title(page, settings))
    _sub(feed, "subtitle", page.description)
    _sub(feed, "link", rel="self", type=OUTPUT_FORMATS["atom"][1], href=absolute(page.output_url("atom")))
    _sub(feed, "link", rel="alternate", type="text/html", href=absolute(page.url))
    _sub(feed, "updated", rfc3339(_updated(stories)))
    _sub(_sub(feed, "author"), "name", settings.title)
    _sub(feed, "generator", "Newsstand", version=__version__)
    for story in stories:
        lead = story.lead
        entry = _sub(feed, "entry")
        _sub(entry, "id", absolute(story_url(story)))
        _sub(entry, "title", story.title)
        _sub(entry, "link", rel="alternate", type="text/html", href=absolute(story_url(story)))
        _sub(entry, "link", rel="related", type="text/html", href=lead.url, title=lead.title)
        _sub(entry, "published", rfc3339(story.published))
        _sub(entry, "updated", rfc3339(story.updated))
        _sub(_sub(entry, "author"), "name", site.providers[lead.provider].name)
        for slug in story_topics(story):
            _sub(entry, "category", term=slug, label=site.topics[slug].name)
        if lead.excerpt:
            _sub(entry, "summary", lead.excerpt)
        _sub(entry, "content", entry_html(story, site), type="html")
    ET.indent(feed, space=" ")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8", xml_declaration=False) + b"\n"


def json_feed(page: Page, site: Site, settings: Settings, absolute: Absolute) -> bytes:
    """The JSON Feed 1.1 (https://jsonfeed.org/version/1.1) of a list page."""
    stories: Sequence[Story] = page.context["feed"]
    items = []
    for story in stories:
        lead = story.lead
        item: dict[str, object] = {
            "id": absolute(story_url(story)),
            "url": absolute(story_url(story)),
            "external_url": lead.url,
            "title": story.title,
            "content_html": entry_html(story, site),
            "date_published": rfc3339(story.published),
            "date_modified": rfc3339(story.updated),
            "authors": [{"name": site.providers[lead.provider].name}],
            "tags": [site.topics[t].name for t in story_topics(story)],
        }
        if lead.excerpt:
            item["summary"] = lead.excerpt
        if lead.images:
            item["image"] = lead.images[0].url
        items.append(item)
    data = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed_title(page, settings),
        "home_page_url": absolute(page.url),
        "feed_url": absolute(page.output_url("jsonfeed")),
        "description": page.description,
        "language": settings.language,
        "authors": [{"name": settings.title}],
        "items": items,
    }
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


RENDERERS: dict[str, Callable[[Page, Site, Settings, Absolute], bytes]] = {"atom": atom, "jsonfeed": json_feed}
