"""An edited story file shown at once: the pages of its stories as the last build showed them, with the edit in.

`serve` writes these pages the moment a story file changes, then builds the whole site as usual. The
build is exact — an edited headline can move a story into another cluster, re-rank the front page,
rename a topic — and takes seconds at 10,000 stories; this takes milliseconds, so the editor sees the edit
on the story's page before the rest of the site catches up (as Hugo's server renders the open page first).
Whatever the last build's stories cannot tell is left to the build: a file with problems, a new file, an
article added or dropped, a topic or outlet the site does not have yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from .ingest import FileResult
from .model import Article, Coverage, Story
from .normalize import Mention, MergeMemo, merge_article
from .pages import Page, Site, story_page
from .rank import lead_first


@dataclass(frozen=True, slots=True)
class Shown:
    """What the last build showed: its site indexes, its story pages, and the story of every article."""

    site: Site
    pages: Mapping[str, Page]  # story pages by story slug
    story_of: Mapping[str, str]  # article key → slug of the story it is in


def shown(pages: Sequence[Page], site: Site) -> Shown:
    story_pages = {p.context["story"].slug: p for p in pages if p.kind == "story"}
    story_of = {a.key: slug for slug, p in story_pages.items() for a in p.context["story"].articles}
    return Shown(site, MappingProxyType(story_pages), MappingProxyType(story_of))


def preview(last: Shown, merged: MergeMemo, before: Mapping[str, FileResult],
            edited: Sequence[FileResult]) -> tuple[Page, ...] | None:
    """The story pages the `edited` files (read again) change, made as the last build made them; None when
    the edit is more than the last build's stories can show. `merged` and `before` are what that build
    merged and read: each edited file's mentions replace its old ones among its articles' mentions."""
    changed: dict[str, Article] = {}
    for result in edited:
        old = before.get(result.path)
        if old is None or result.problems or not result.mentions:
            return None
        if {m.key for m in old.mentions} != {m.key for m in result.mentions}:
            return None  # an article added or dropped: clusters, lists and links all move
        for key in dict.fromkeys(m.key for m in result.mentions):
            group = merged.groups.get(key)
            if group is None or key not in last.story_of:
                return None
            new = [m for m in result.mentions if m.key == key]
            # In the order merge sees them (files in path order, each file in its own order): the order
            # breaks ties between equally rich mentions.
            mentions: list[Mention] = sorted([*(m for m in group if m.path != result.path), *new],
                                             key=lambda m: m.path)
            if any(t.casefold() not in merged.topic_slugs for m in new for t in m.topics):
                return None
            article = merge_article(mentions, merged.topic_slugs)
            if article.provider not in last.site.providers:
                return None
            if article != merged.articles.get(key):
                changed[key] = article
    pages = []
    for slug in dict.fromkeys(last.story_of[key] for key in changed):
        page = last.pages[slug]
        story: Story = page.context["story"]
        entries = tuple(Coverage(changed.get(e.article.key, e.article), tuple(changed.get(c.key, c) for c in e.copies))
                        for e in story.entries)
        story = Story(story.slug, lead_first(entries), story.score, story.related)
        pages.append(story_page(story, last.site, page.feeds))
    return tuple(pages)
