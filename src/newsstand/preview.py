"""An edited story file shown at once: its story's page and the front page, as the last build made them, with the edit in.

`serve` writes these pages the moment a story file changes, then builds the whole site as usual. The
build is exact — an edited headline can move a story into another cluster, re-rank the front page,
rename a topic — and takes seconds at 10,000 stories; this takes milliseconds, so the editor sees the edit
where they look (the story's own page, its card and feed entry on the front page, each in its last place)
before the rest of the site catches up. Whatever the last build's stories cannot tell is left to the
build: a file with problems, a new file, an article added or dropped, a topic or outlet the site does not
have yet.
"""

from __future__ import annotations

from collections import ChainMap, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from .ingest import FileResult
from .model import Article, Coverage, Story
from .normalize import Mention, MergeMemo, merge_article
from .pages import Page, Site, listed, newest, story_page
from .rank import lead_first


@dataclass(frozen=True, slots=True)
class Shown:
    """What the last build showed: its pages, its site indexes, and where each story and article is."""

    site: Site
    pages: tuple[Page, ...]
    story_of: Mapping[str, str]  # article key → slug of the story it is in
    showing: Mapping[str, tuple[int, ...]]  # story slug → the pages a preview shows it on (indexes into `pages`)


class StoryOf(Mapping[str, str]):
    """Article key → the slug of the story it is in, read through what naming the stories made: each
    article's cluster (identity.Members.where) and each cluster's slug. A dict of it took half a second a
    build at 100k stories, for the few keys an edit looks up."""

    def __init__(self, where: Mapping[str, int], slugs: Sequence[str]) -> None:
        self._where, self._slugs = where, slugs

    def __getitem__(self, key: str) -> str:
        return self._slugs[self._where[key]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


def shown(pages: Sequence[Page], site: Site, story_of: Mapping[str, str]) -> Shown:
    """What the pages of `site` show; `story_of`: the slug of each article's story (StoryOf)."""
    showing: dict[str, set[int]] = defaultdict(set)
    for i, page in enumerate(pages):
        # Its own page and the front page's, where an editor looks. Not the lists of its topics and outlets
        # nor the pages of stories that link to it: a big story is on seventy lists and linked from a
        # hundred pages, a quarter of a second to render; the build follows within seconds.
        if page.kind == "story":
            showing[page.context["story"].slug].add(i)
        elif page.kind == "home":
            for story in listed(page):
                showing[story.slug].add(i)
    return Shown(
        site,
        tuple(pages),
        story_of,
        MappingProxyType({slug: tuple(sorted(at)) for slug, at in showing.items()}),
    )


def preview(
    last: Shown, merged: MergeMemo, before: Mapping[str, FileResult], edited: Sequence[FileResult]
) -> tuple[tuple[Page, ...], tuple[str, ...]] | None:
    """The pages that show the stories the `edited` files (read again) change, made as the last build made
    them but with the edit in, and the slugs of those stories; None when the edit is more than the last
    build's stories can show. `merged` and `before` are what that build merged and read: each edited
    file's mentions replace its old ones among its articles' mentions."""
    changed: dict[str, Article] = {}
    for result in edited:
        old = before.get(result.path)
        if old is None or result.problems or not result.mentions:
            return None
        if {m.key for m in old.mentions} != {m.key for m in result.mentions}:
            return None  # an article added or dropped: clusters, lists and links all move
        for key in dict.fromkeys(m.key for m in result.mentions):
            group = merged.mentions_of(key)
            if group is None or key not in last.story_of:
                return None
            new = [m for m in result.mentions if m.key == key]
            if any(t.casefold() not in merged.topic_slugs for m in new for t in m.topics):
                return None
            # In the order merge sees them (files in path order, each file in its own order): the order
            # breaks ties between equally rich mentions.
            mentions: list[Mention] = sorted(
                [*(m for m in group if m.path != result.path), *new], key=lambda m: m.path.split("/")
            )
            article = merge_article(mentions, merged.topic_slugs)
            # An outlet or topic the site does not show: new, or left out by the editor (exclude.py).
            if article.provider not in last.site.providers or any(t not in last.site.topics for t in article.topics):
                return None
            if article != merged.articles.get(key):
                changed[key] = article
    stories: dict[str, Story] = {}
    for slug in dict.fromkeys(last.story_of[key] for key in changed):
        story = last.site.stories[slug]
        entries = tuple(
            Coverage(changed.get(e.article.key, e.article), tuple(changed.get(c.key, c) for c in e.copies))
            for e in story.entries
        )
        stories[slug] = Story(slug, lead_first(entries), story.score, story.related)
    # Pages planned against the site as it would be, so that a teaser of an edited story shows the edit too.
    site = replace(last.site, stories=MappingProxyType(ChainMap(stories, last.site.stories)))  # type: ignore[arg-type]  # only read
    at = sorted({i for slug in stories for i in last.showing.get(slug, ())})
    return tuple(_again(last.pages[i], stories, site) for i in at), tuple(stories)


def _again(page: Page, stories: Mapping[str, Story], site: Site) -> Page:
    """`page` planned again with the edited `stories` in place of the old ones."""
    if page.kind == "story":
        own = page.context["story"]
        return story_page(stories.get(own.slug, own), site, page.feeds)
    context = dict(page.context)
    pager = context["pager"]
    items = tuple(stories.get(s.slug, s) for s in pager.items)
    context["pager"] = replace(pager, items=items)
    if "feed" in context:
        context["feed"] = tuple(stories.get(s.slug, s) for s in context["feed"])
    return replace(page, context=MappingProxyType(context), updated=newest(items))
