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
from xml.sax.saxutils import escape as _xml_escape

from markupsafe import Markup

from . import __version__
from .config import SiteSettings
from .model import Story
from .pages import OUTPUT_FORMATS, Page, Site, more_coverage, story_topics, story_url

ATOM = "http://www.w3.org/2005/Atom"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the `updated` of a feed with no entries

Absolute = Callable[[str], str]


def escape(text: str) -> str:
    """Text for XML content and attribute values: &, <, > and both quotes escaped; control characters dropped."""
    clean = "".join(c for c in text if c >= " " or c in "\t\n\r") if not text.isprintable() else text
    return _xml_escape(clean, {'"': "&quot;", "'": "&apos;"})


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def feed_title(page: Page, settings: SiteSettings) -> str:
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


def _attrs(**attrs: str) -> str:
    return "".join(f' {name}="{escape(value)}"' for name, value in attrs.items())


def _el(tag: str, text: str | None = None, **attrs: str) -> str:
    return f"<{tag}{_attrs(**attrs)}/>" if text is None else f"<{tag}{_attrs(**attrs)}>{escape(text)}</{tag}>"


def atom_entry(story: Story, site: Site, absolute: Absolute) -> str:
    """A story's <entry>, the same in every feed it is in: the caller keeps it (render.Renderer)."""
    lead = story.lead
    parts = [
        _el("id", absolute(story_url(story))),
        _el("title", story.title),
        _el("link", rel="alternate", type="text/html", href=absolute(story_url(story))),
        _el("link", rel="related", type="text/html", href=lead.url, title=lead.title),
        _el("published", rfc3339(story.published)),
        _el("updated", rfc3339(story.updated)),
        f"<author>{_el('name', site.providers[lead.provider].name)}</author>",
        *(_el("category", term=slug, label=site.topics[slug].name) for slug in story_topics(story)),
    ]
    if lead.excerpt:
        parts.append(_el("summary", lead.excerpt))
    parts.append(_el("content", entry_html(story, site), type="html"))
    return " <entry>\n" + "".join(f"  {p}\n" for p in parts) + " </entry>\n"


def atom(page: Page, site: Site, settings: SiteSettings, absolute: Absolute, entry: Callable[[Story], str]) -> bytes:
    """The Atom 1.0 feed (RFC 4287) of a list page, written as text: every value is escaped. `entry` gives a
    story's <entry> (atom_entry, as the caller keeps them)."""
    stories: Sequence[Story] = page.context["feed"]
    head = [
        _el("id", absolute(page.output_url("atom"))),
        _el("title", feed_title(page, settings)),
        _el("subtitle", page.description),
        _el("link", rel="self", type=OUTPUT_FORMATS["atom"][1], href=absolute(page.output_url("atom"))),
        _el("link", rel="alternate", type="text/html", href=absolute(page.url)),
        _el("updated", rfc3339(_updated(stories))),
        f"<author>{_el('name', settings.title)}</author>",
        _el("generator", "Newsstand", version=__version__),
    ]
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="{ATOM}" xml:lang="{escape(settings.language)}">\n'
        + "".join(f" {h}\n" for h in head)
        + "".join(entry(story) for story in stories)
        + "</feed>\n"
    )
    return text.encode("utf-8")


def json_feed(page: Page, site: Site, settings: SiteSettings, absolute: Absolute) -> bytes:
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
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
