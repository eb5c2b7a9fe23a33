"""What a page says about itself to search engines and link previews: OpenGraph, Twitter card, JSON-LD.

Pure: given a page and a way to make links, it returns plain data; the template prints the
tags and passes JSON-LD through the `json` filter, which cannot close a <script>.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .config import SiteSettings
from .days import day_title, day_url, story_day
from .feeds import rfc3339
from .pages import Page, Pager, Site, provider_url, story_url, topic_url

Link = Callable[[str], str]  # a page URL (relative to the site root) → the href to print on this page


def social(page: Page, site: Site, settings: SiteSettings, absolute: Link | None) -> list[tuple[str, str, str]]:
    """(attribute, name, content) of the OpenGraph and Twitter card <meta> tags.

    og:url and og:image must be absolute: og:url is left out without a base URL; images are
    the publishers' own absolute URLs.
    """
    story = page.context.get("story")
    title = page.title if page.kind != "home" or page.url else settings.title
    tags = [
        ("property", "og:site_name", settings.title),
        ("property", "og:title", title),
        ("property", "og:description", page.description[:300]),
        ("property", "og:type", "article" if story else "website"),
        ("property", "og:locale", settings.language.replace("-", "_")),
    ]
    if absolute is not None:
        tags.append(("property", "og:url", absolute(page.url)))
    image = story.lead.images[0] if story is not None and story.lead.images and settings.show_images else None
    if image is not None:
        tags.append(("property", "og:image", image.url))
        if image.width and image.height:
            tags += [
                ("property", "og:image:width", str(image.width)),
                ("property", "og:image:height", str(image.height)),
            ]
    if story is not None:
        tags += [
            ("property", "article:published_time", rfc3339(story.published)),
            ("property", "article:modified_time", rfc3339(story.updated)),
        ]
    tags += [
        ("name", "twitter:card", "summary_large_image" if image is not None else "summary"),
        ("name", "twitter:title", title),
        ("name", "twitter:description", page.description[:200]),
    ]
    return tags


def crumbs(page: Page, settings: SiteSettings) -> list[tuple[str, str]]:
    """(name, URL) from the front page down to this page: the page's breadcrumbs, seen and in JSON-LD."""
    trail = [(settings.title, "")]
    if page.kind in ("archive", "day", "story"):
        trail.append(("Days", "days/"))
    day = page.context.get("day")
    story = page.context.get("story")
    if day is None and story is not None:
        day = story_day(story, settings.zone)
    if day is not None:
        trail.append((day_title(day), day_url(day)))
    taxonomy = page.context.get("taxonomy")
    if taxonomy:
        trail.append(("Topics" if taxonomy == "topics" else "Sources", f"{taxonomy}/"))
    term = page.context.get("term")
    if term is not None:
        trail.append((term.name, topic_url(term) if taxonomy == "topics" else provider_url(term)))
    if story is not None:
        trail.append((story.title, story_url(story)))
    if page.kind == "search":
        trail.append((page.title, page.url))
    return trail


def json_ld(page: Page, site: Site, settings: SiteSettings, link: Link) -> list[dict[str, Any]]:
    """The schema.org graph of a page: NewsArticle for a story's lead, ItemList on lists, BreadcrumbList."""
    if page.kind in ("notfound", "data"):
        return []
    graph: list[dict[str, Any]] = []
    story = page.context.get("story")
    if story is not None:
        lead = story.lead
        article: dict[str, Any] = {
            "@type": "NewsArticle",
            "headline": lead.title[:110],
            "url": lead.url,
            "datePublished": rfc3339(lead.published),
            "dateModified": rfc3339(lead.published),
            "publisher": {"@type": "Organization", "name": site.providers[lead.provider].name},
            "author": {"@type": "Organization", "name": site.providers[lead.provider].name},
            "mainEntityOfPage": link(page.url),
        }
        if lead.excerpt:
            article["description"] = lead.excerpt
        if lead.images:
            article["image"] = [i.url for i in lead.images]
        graph.append(article)
    pager = page.context.get("pager")
    if pager is not None:
        # An archive page's place in its list moves as stories arrive, which the page must not (ArchivePager).
        start = pager.first_index if isinstance(pager, Pager) else 0
        graph.append(
            {
                "@type": "ItemList",
                "itemListOrder": "https://schema.org/ItemListOrderDescending",
                "numberOfItems": len(pager.items),
                "itemListElement": [
                    {"@type": "ListItem", "position": start + i, "url": link(story_url(s)), "name": s.title}
                    for i, s in enumerate(pager.items, start=1)
                ],
            }
        )
    rows = page.context.get("rows")
    if rows is not None:
        make = topic_url if page.context["taxonomy"] == "topics" else provider_url
        graph.append(
            {
                "@type": "ItemList",
                "numberOfItems": len(rows),
                "itemListElement": [
                    {"@type": "ListItem", "position": i, "url": link(make(term)), "name": term.name}
                    for i, (term, _count) in enumerate(rows, start=1)
                ],
            }
        )
    trail = crumbs(page, settings)
    if len(trail) > 1:
        graph.append(
            {
                "@type": "BreadcrumbList",
                "itemListElement": [
                    {"@type": "ListItem", "position": i, "name": name, "item": link(url)}
                    for i, (name, url) in enumerate(trail, start=1)
                ],
            }
        )
    return [{"@context": "https://schema.org", **node} for node in graph]
