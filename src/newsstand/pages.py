"""The site map: every page the site has, its URL, template and context. Pure: nothing is rendered here.

Hugo's vocabulary: `home` (the front page), `story` (a single page per story), `taxonomy`
(the list of all topics or providers), `term` (one topic or provider), each list split by a
paginator; `data` pages are other output formats (JSON) of the same stories.

Output formats: every page renders to `html`; the first page of the front page and of each
term also renders to an Atom feed (`feed.xml` beside its `index.html`), and the front page to a
JSON Feed (`feed.json`). Feeds need absolute URLs, so they exist only when a base URL is set.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from .config import SiteSettings
from .days import by_day, day_title, day_url, months, neighbours, story_day
from .model import Article, Corpus, Provider, Story, Topic
from .search import merged_bundles
from .summary import Summary, summarize

RELATED_SHOWN = 10  # related stories listed on a story's page, the most important first

# Output format → (file name beside the page's index.html, media type).
OUTPUT_FORMATS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "atom": ("feed.xml", "application/atom+xml"),
        "jsonfeed": ("feed.json", "application/feed+json"),
    }
)


@dataclass(frozen=True, slots=True)
class Pager:
    """One page of a paginated list."""

    number: int  # 1-based
    total: int
    items: tuple[Any, ...]
    base: str  # URL of the list's first page
    first_index: int  # position of items[0] in the whole list, 0-based

    def url(self, number: int) -> str:
        return self.base if number == 1 else f"{self.base}page/{number}/"

    @property
    def prev_url(self) -> str | None:
        return self.url(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url(self.number + 1) if self.number < self.total else None


@dataclass(frozen=True, slots=True)
class ArchivePager:
    """One page of a list's archive: every story of the list by its first report, newest first.

    Pages are cut from the oldest story, so a page keeps its stories, its number and its URL as newer
    stories arrive: page 1 holds the oldest `size`, the newest page from `size` to 2 × `size` − 1. A cron
    tick of new stories re-renders the newest page of each list it touches, where a list in rank order
    (or numbered from the newest) would shift every page of it. No page says how many there are, which
    would change them all whenever one is added."""

    number: int  # 1 is the oldest
    newest: bool  # no newer page
    items: tuple[Any, ...]  # newest first
    base: str  # URL of the list's first page

    total = None  # unknown to the page on purpose (see above): the pagination shows no "of N"

    def url(self, number: int) -> str:
        return f"{self.base}page/{number}/"

    @property
    def prev_url(self) -> str | None:
        return None if self.newest else self.url(self.number + 1)

    @property
    def next_url(self) -> str | None:
        return self.url(self.number - 1) if self.number > 1 else None


@dataclass(frozen=True, slots=True)
class Page:
    url: str  # relative to the site root: "" is the front page, directories end in "/"
    kind: str  # home | story | taxonomy | term | archive | day | search | redirect | data | notfound
    template: str
    title: str
    description: str
    context: Mapping[str, Any]
    outputs: tuple[str, ...] = ("html",)  # output formats this page renders to (see OUTPUT_FORMATS)
    updated: datetime | None = None  # newest story shown: the sitemap's lastmod
    feeds: tuple[tuple[str, str], ...] = ()  # (format, URL) of the feeds to advertise on this page

    @property
    def path(self) -> str:
        """The output file, relative to the site root."""
        return self.url + "index.html" if self.url == "" or self.url.endswith("/") else self.url

    def output_url(self, fmt: str) -> str:
        """URL of this page in output format `fmt`, relative to the site root."""
        return self.url if fmt == "html" else self.url + OUTPUT_FORMATS[fmt][0]


def output_paths(page: Page) -> tuple[str, ...]:
    """Every file one page renders to, in render order: its HTML (or data), then its other formats."""
    return (page.path, *(page.output_url(fmt) for fmt in page.outputs if fmt != "html"))


@dataclass(frozen=True, slots=True)
class Site:
    """What every page may look up: settings and the indexes of providers, topics and stories."""

    settings: SiteSettings  # what pages show: only this reaches a page's signature
    providers: Mapping[str, Provider]  # by domain
    topics: Mapping[str, Topic]  # by slug
    stories: Mapping[str, Story]  # by slug
    redirects: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({})
    )  # slug of a story merged into another → that one's slug


@dataclass(frozen=True, slots=True)
class Teaser:
    """A story as a story page links to it: its title and lead article, with the lead's outlet.

    All a story page gets of the stories it links to, so its signature holds all of it: an edit to a
    linked story's other coverage (a new article joining it, most often) leaves the page alone."""

    slug: str
    title: str
    lead: Article
    provider: Provider  # the lead's outlet, as the site names it


def story_url(story: Story | Teaser) -> str:
    return f"stories/{story.slug}/"


def topic_url(topic: Topic) -> str:
    return f"topics/{topic.slug}/"


def provider_url(provider: Provider) -> str:
    return f"providers/{provider.slug}/"


def story_topics(story: Story) -> tuple[str, ...]:
    """Topic slugs of a story, the most used by its articles first (for templates: see model.Story)."""
    return story.topics


def story_providers(story: Story) -> tuple[str, ...]:
    """Provider domains of a story, lead's first, then in coverage order (for templates: see model.Story)."""
    return story.providers


def more_coverage(story: Story) -> tuple[Article, ...]:
    """One article per provider other than the lead's: the front page's "More:" line."""
    seen = {story.lead.provider}
    out = []
    for entry in story.entries[1:]:
        for article in entry.articles:
            if article.provider not in seen:
                seen.add(article.provider)
                out.append(article)
    return tuple(out)


def listed(page: Page) -> Iterator[Story]:
    """The stories a page lists, as cards or as its feeds' entries."""
    pager = page.context.get("pager")
    if pager is not None:
        yield from pager.items
    yield from page.context.get("feed", ())


def paginate(items: Sequence[Any], size: int, base: str) -> Iterator[Pager]:
    total = max(1, math.ceil(len(items) / size))
    for number in range(1, total + 1):
        start = (number - 1) * size
        yield Pager(number, total, tuple(items[start : start + size]), base, start)


def archive(by_time: Sequence[Story], size: int, base: str) -> tuple[ArchivePager, ...]:
    """The archive pages of a list of stories in time order (`by_time`: by first report, then slug), oldest
    first (see ArchivePager); none for a list its first page holds whole."""
    if len(by_time) <= size:
        return ()
    count = len(by_time) // size
    return tuple(
        ArchivePager(
            number,
            number == count,
            tuple(reversed(by_time[(number - 1) * size : number * size if number < count else None])),
            base,
        )
        for number in range(1, count + 1)
    )


# Sort keys made in C: a large site's term lists hold its stories half a million times, and the stories
# are sorted by time for the archives, by update for each list's feed.
_BY_TIME = attrgetter("published", "slug")
_BY_UPDATE = attrgetter("updated", "slug")
_UPDATED = attrgetter("updated")


def newest(stories: Sequence[Story]) -> datetime | None:
    return max(map(_UPDATED, stories), default=None)


def feed_stories(stories: Sequence[Story], size: int) -> tuple[Story, ...]:
    """A feed's `size` entries: the most recently updated stories first (slugs break ties)."""
    return tuple(heapq.nlargest(size, stories, key=_BY_UPDATE))


def front_page(stories: Sequence[Story], settings: SiteSettings) -> tuple[Story, ...]:
    """The stories the front page lists (and its feeds carry), in rank order: those covered by enough
    outlets, and the first so many of them."""
    covered = (s for s in stories if len(story_providers(s)) >= settings.front_page_min_outlets)
    return tuple(covered)[: settings.front_page_stories or None]


def _list_pages(
    kind: str,
    template: str,
    base: str,
    title: str,
    description: str,
    stories: Sequence[Story],
    size: int,
    extra: Mapping[str, Any],
    formats: tuple[str, ...] = (),
    feed_size: int = 0,
) -> Iterator[Page]:
    """The pages of a list in rank order (the front page, a day): short lists, bounded by
    `front_page_stories` or by one day's news, so that a story moving up re-renders few pages."""
    feeds = tuple((fmt, base + OUTPUT_FORMATS[fmt][0]) for fmt in formats)
    for pager in paginate(stories, size, base):
        suffix = f" (page {pager.number} of {pager.total})" if pager.number > 1 else ""
        first = pager.number == 1
        context = {"pager": pager, **extra}
        if first and formats:
            context["feed"] = feed_stories(stories, feed_size)
        yield Page(
            pager.url(pager.number),
            kind,
            template,
            title + suffix,
            description,
            MappingProxyType(context),
            outputs=("html", *formats) if first else ("html",),
            updated=newest(pager.items),
            feeds=feeds,
        )


def _term_pages(
    base: str,
    title: str,
    description: str,
    stories: Sequence[Story],
    by_time: Sequence[Story],
    size: int,
    extra: Mapping[str, Any],
    formats: tuple[str, ...],
    feed_size: int,
    summary: Summary,
) -> Iterator[Page]:
    """A topic's or an outlet's pages: the first shows its best-ranked stories (`stories` are in rank
    order), with its facts and feeds; the archive pages (ArchivePager) every story by date (`by_time`: the
    same stories in time order), where new stories leave the older pages alone."""
    pages = archive(by_time, size, base)
    feeds = tuple((fmt, base + OUTPUT_FORMATS[fmt][0]) for fmt in formats)
    top = Pager(1, 1, tuple(stories[:size]), base, 0)
    context: dict[str, Any] = {"pager": top, **extra, "summary": summary}
    if pages:
        context["archive"] = pages[-1].url(pages[-1].number)
    if formats:
        context["feed"] = feed_stories(stories, feed_size)
    yield Page(
        base,
        "term",
        "term.html",
        title,
        description,
        MappingProxyType(context),
        outputs=("html", *formats),
        updated=newest(top.items),
        feeds=feeds,
    )
    for pager in pages:
        yield Page(
            pager.url(pager.number),
            "term",
            "term.html",
            f"{title}, archive page {pager.number}",
            description,
            MappingProxyType({"pager": pager, **extra}),
            updated=newest(pager.items),
            feeds=feeds,
        )


def story_data(story: Story, site: Site) -> dict[str, Any]:
    """One story of `stories.json` (every story as data, in rank order, lead article first)."""
    return {
        "slug": story.slug,
        "url": story_url(story),
        "title": story.title,
        "score": story.score,
        "articles": [
            {
                "url": a.url,
                "title": a.title,
                "provider": {"name": site.providers[a.provider].name, "domain": a.provider},
                "published": a.published.isoformat().replace("+00:00", "Z"),
                "topics": [site.topics[t].name for t in a.topics],
            }
            for a in story.articles
        ],
    }


def story_page(
    story: Story, site: Site, feeds: tuple[tuple[str, str], ...], teasers: dict[str, Teaser] | None = None
) -> Page:
    """A story's own page: all its coverage, and the stories it links to as teasers (`teasers` keeps those
    made so far, by slug: a story is linked to from a dozen others)."""
    teasers = {} if teasers is None else teasers
    related = []
    for slug in story.related[:RELATED_SHOWN]:
        teaser = teasers.get(slug)
        if teaser is None:
            r = site.stories[slug]
            teaser = teasers[slug] = Teaser(r.slug, r.title, r.lead, site.providers[r.lead.provider])
        related.append(teaser)
    return Page(
        story_url(story),
        "story",
        "story.html",
        story.title,
        story.lead.excerpt or f"{story.title} — coverage from {len(story_providers(story))} sources.",
        MappingProxyType({"story": story, "related": tuple(related)}),
        updated=story.updated,
        feeds=feeds,
    )


def _term_lists(
    stories: Iterable[Story], topics: Iterable[str], providers: Iterable[str]
) -> tuple[dict[str, list[Story]], dict[str, list[Story]]]:
    """The stories of each topic (by slug) and of each outlet (by domain), in the order of `stories`."""
    by_topic: dict[str, list[Story]] = {t: [] for t in topics}
    by_provider: dict[str, list[Story]] = {p: [] for p in providers}
    for story in stories:
        for t in story_topics(story):
            by_topic[t].append(story)
        for p in story_providers(story):
            by_provider[p].append(story)
    return by_topic, by_provider


def plan(
    corpus: Corpus,
    stories: Sequence[Story],
    settings: SiteSettings,
    redirects: Mapping[str, str] = MappingProxyType({}),
) -> tuple[tuple[Page, ...], Site]:
    """Every page of the site, in a stable order; `redirects` (identity.Register.redirects) are the slugs of
    stories merged into others, each with the slug of the story it is now part of."""
    providers = {p.domain: p for p in corpus.providers}
    topics = {t.slug: t for t in corpus.topics}
    by_topic, by_provider = _term_lists(stories, topics, providers)  # already in rank order, so each list is too
    # The same lists in time order, for the archives: the stories sorted once, not every list on its own
    # (a large site's lists hold its stories half a million times).
    topic_times, provider_times = _term_lists(sorted(stories, key=_BY_TIME), topics, providers)
    site = Site(
        settings,
        MappingProxyType(providers),
        MappingProxyType(topics),
        MappingProxyType({s.slug: s for s in stories}),
        MappingProxyType(dict(redirects)),
    )
    size = settings.page_size
    day_of = {s.slug: story_day(s, settings.zone) for s in stories}
    # Feeds need absolute URLs: without a base URL there are none (README, "Feeds and sitemap").
    home_formats: tuple[str, ...] = ("atom", "jsonfeed") if settings.base_url else ()
    term_formats: tuple[str, ...] = ("atom",) if settings.base_url else ()
    site_feed = (("atom", "feed.xml"),) if settings.base_url else ()
    # The data is made as it is written (render.Renderer.data), not held for the whole build: at 100k
    # stories it is every article again. Stories stand for their content in the signature; the
    # scores, which the data shows and a story's digest leaves out, are in the context for that.
    pages: list[Page] = [
        Page(
            "stories.json",
            "data",
            "",
            "",
            "",
            MappingProxyType({"stories": tuple(stories), "scores": tuple(s.score for s in stories)}),
        )
    ]
    # The front page says "Today" of the day of the newest report, not of the clock: same seeds, same bytes.
    front, feed_size = front_page(stories, settings), settings.feed_size
    pages += _list_pages(
        "home",
        "home.html",
        "",
        settings.title,
        settings.description,
        front,
        size,
        {"reference": newest(stories)},
        home_formats,
        feed_size,
    )
    teasers: dict[str, Teaser] = {}
    pages += (story_page(story, site, site_feed, teasers) for story in stories)
    topic_rows = tuple((t, len(by_topic[t.slug])) for t in sorted(topics.values(), key=lambda t: t.name.casefold()))
    pages.append(
        Page(
            "topics/",
            "taxonomy",
            "taxonomy.html",
            "Topics",
            f"Every topic on {settings.title}.",
            MappingProxyType({"taxonomy": "topics", "rows": topic_rows}),
            updated=newest(stories),
            feeds=site_feed,
        )
    )
    for topic in sorted(topics.values(), key=lambda t: t.slug):
        pages += _term_pages(
            topic_url(topic),
            topic.name,
            f"Stories about {topic.name} on {settings.title}.",
            by_topic[topic.slug],
            topic_times[topic.slug],
            size,
            {"taxonomy": "topics", "term": topic},
            term_formats,
            feed_size,
            summarize(by_topic[topic.slug], settings.zone, day_of),
        )
    provider_rows = tuple(
        (p, len(by_provider[p.domain])) for p in sorted(providers.values(), key=lambda p: (p.name.casefold(), p.slug))
    )
    pages.append(
        Page(
            "providers/",
            "taxonomy",
            "taxonomy.html",
            "Sources",
            f"Every news source on {settings.title}.",
            MappingProxyType({"taxonomy": "providers", "rows": provider_rows}),
            updated=newest(stories),
            feeds=site_feed,
        )
    )
    for provider in sorted(providers.values(), key=lambda p: p.slug):
        pages += _term_pages(
            provider_url(provider),
            provider.name,
            f"Stories covered by {provider.name} on {settings.title}.",
            by_provider[provider.domain],
            provider_times[provider.domain],
            size,
            {"taxonomy": "providers", "term": provider},
            term_formats,
            feed_size,
            summarize(by_provider[provider.domain], settings.zone, day_of),
        )
    # Day archives: the stories whose first report fell on each day, and an index of the days by month.
    days = by_day(stories, settings.zone)
    pages.append(
        Page(
            "days/",
            "archive",
            "days.html",
            "Days",
            f"Every day of {settings.title}, by month.",
            MappingProxyType({"months": months((day, len(group)) for day, group in days)}),
            updated=newest(stories),
            feeds=site_feed,
        )
    )
    around = neighbours([day for day, _ in days])
    for day, group in days:
        newer, older = around[day]
        pages += _list_pages(
            "day",
            "day.html",
            day_url(day),
            day_title(day),
            f"Stories first reported on {day_title(day)}, on {settings.title}.",
            group,
            size,
            {"day": day, "newer": newer, "older": older},
        )
    # A merged-away story's URL leads to the story it joined: for hosts without `_redirects`, a page.
    pages += (
        Page(
            f"stories/{old}/",
            "redirect",
            "redirect.html",
            site.stories[new].title,
            "This story has moved.",
            MappingProxyType({"target": f"stories/{new}/"}),
        )
        for old, new in sorted(redirects.items())
    )
    pages.append(
        Page(
            "search/",
            "search",
            "search.html",
            "Search",
            f"Search the stories, topics and sources of {settings.title}.",
            # The month partitions of the index, which the search page merges into the primary one (search.py).
            MappingProxyType({"parts": merged_bundles(s.published for s in stories) if settings.search else ()}),
            feeds=site_feed,
        )
    )
    pages.append(
        Page("404.html", "notfound", "404.html", "Page not found", "This page does not exist.", MappingProxyType({}))
    )
    return tuple(pages), site
