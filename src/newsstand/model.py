"""The values that flow between the stages: frozen, hashable, and free of I/O.

Every stage after reading takes and returns these, so each can be tested alone
with hand-made values and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def compact_pickle(cls: T) -> T:
    """Pickle a slots dataclass as its constructor and field values.

    The default for slots classes pickles a state dict per object, several times slower to
    write and read; the seed cache and the render workers move hundreds of thousands of them.
    """

    names = cls.__match_args__  # type: ignore[attr-defined]
    values = attrgetter(*names) if len(names) > 1 else lambda obj: (getattr(obj, names[0]),)  # C, not a loop

    def __reduce__(self: Any) -> tuple[Any, tuple[Any, ...]]:
        return (type(self), values(self))

    cls.__reduce__ = __reduce__  # type: ignore[method-assign,assignment]  # on purpose: see the docstring
    return cls


@compact_pickle
@dataclass(frozen=True, slots=True)
class Image:
    url: str  # absolute http(s) only: normalize drops anything else
    width: int | None = None
    height: int | None = None
    title: str = ""


@compact_pickle
@dataclass(frozen=True, slots=True)
class Provider:
    domain: str  # the key: one outlet may appear under several names
    name: str
    slug: str
    logo: Image | None = None
    names: tuple[str, ...] = ()  # every name the seeds give it, the most used first (`name` is the first)


@compact_pickle
@dataclass(frozen=True, slots=True)
class Topic:
    slug: str  # the key
    name: str


@compact_pickle
@dataclass(frozen=True, slots=True)
class Article:
    """One article, however many seed files mention it, keyed by its canonical URL."""

    key: str  # canonical URL: identity only, never shown
    url: str  # the link readers follow: the original (non-AMP) http(s) URL
    title: str
    published: datetime  # timezone-aware, UTC
    provider: str  # Provider.domain
    excerpt: str = ""
    topics: tuple[str, ...] = ()  # Topic.slug, in the order the seeds give them
    images: tuple[Image, ...] = ()
    quality: int | None = None
    heat: int | None = None
    pick: bool = False  # `published: true` in a story file: an editor's pick
    lead: bool = False  # the lead of at least one story file (not only ever a related item)
    body_html: str = ""  # sanitized HTML of the story file's Markdown body
    related: tuple[str, ...] = ()  # keys of the articles its story file lists as related
    sources: tuple[str, ...] = ()  # seed files that mention it, sorted
    alternates: tuple[str, ...] = ()  # AMP and CDN-AMP URLs of the same article
    # Of every field above but `sources` (which no page shows and clustering does not read: one more file
    # listing the article changes nothing), so that a page's signature need not pickle every article it
    # shows; empty for an article made by hand, which is then digested whole.
    digest: str = ""


@compact_pickle
@dataclass(frozen=True, slots=True)
class Corpus:
    """Everything the seeds say, de-duplicated: the input of clustering."""

    articles: tuple[Article, ...]  # sorted by key
    providers: tuple[Provider, ...]  # sorted by slug
    topics: tuple[Topic, ...]  # sorted by slug


@compact_pickle
@dataclass(frozen=True, slots=True)
class Coverage:
    """One entry under a story: an article and the wire copies of it carried by other outlets."""

    article: Article
    copies: tuple[Article, ...] = ()
    # The article, then its copies: made once, as a build asks for it millions of times (2.6 million at 100k
    # stories: ranking, naming, planning and signing every story walk them).
    articles: tuple[Article, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "articles", (self.article, *self.copies))

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a.provider for a in self.articles))


@compact_pickle
@dataclass(frozen=True, slots=True)
class Story:
    """A cluster of coverage of one event: the lead entry first, then the rest in time order."""

    slug: str
    entries: tuple[Coverage, ...]
    score: float = 0.0
    related: tuple[str, ...] = field(default=())  # slugs of stories the seeds' related lists link to
    # Derived once, because every list page, feed and signature asks again: every article, lead's first;
    # when the story broke (its earliest article) and its latest coverage; its outlets (domains), lead's
    # first, then in coverage order; its topics (slugs), the most used by its articles first.
    articles: tuple[Article, ...] = field(init=False, repr=False, compare=False)
    published: datetime = field(init=False, repr=False, compare=False)
    updated: datetime = field(init=False, repr=False, compare=False)
    providers: tuple[str, ...] = field(init=False, repr=False, compare=False)
    topics: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        articles = tuple(a for e in self.entries for a in e.articles)
        object.__setattr__(self, "articles", articles)
        object.__setattr__(self, "published", min(a.published for a in articles))
        object.__setattr__(self, "updated", max(a.published for a in articles))
        object.__setattr__(self, "providers", tuple(dict.fromkeys(a.provider for a in articles)))
        counts: dict[str, int] = {}
        for a in articles:
            for t in a.topics:
                counts[t] = counts.get(t, 0) + 1
        object.__setattr__(self, "topics", tuple(sorted(counts, key=lambda t: (-counts[t], t))))

    def ranked(self, score: float, related: tuple[str, ...]) -> Story:
        """This story with its rank's `score` and `related` stories. What `__post_init__` derives from the
        entries is copied, not worked out again: ranking makes each story before it knows every score, and a
        second walk over every article cost a second at 100k stories."""
        story = object.__new__(Story)
        for name in _STORY_FIELDS:
            object.__setattr__(story, name, getattr(self, name))
        object.__setattr__(story, "score", score)
        object.__setattr__(story, "related", related)
        return story

    @property
    def lead(self) -> Article:
        return self.entries[0].article

    @property
    def title(self) -> str:
        return self.lead.title


_STORY_FIELDS = tuple(f.name for f in fields(Story))
