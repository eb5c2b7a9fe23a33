"""The values that flow between the stages: frozen, hashable, and free of I/O.

Every stage after reading takes and returns these, so each can be tested alone
with hand-made values and nothing else.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from itertools import chain, islice, repeat
from operator import add, attrgetter
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


Obj = TypeVar("Obj")


def made(cls: type[Obj], *columns: Iterable[Any]) -> list[Obj]:
    """Objects of the slots dataclass `cls`, the i-th of each of `columns` (one per field, derived fields
    too, in `fields(cls)` order) as the i-th object's values: made without calling `__init__`, so only for
    values that objects of `cls` held, or that its `__post_init__` would derive alike.

    A frozen dataclass's `__init__` sets its fields one Python call at a time: 5 µs an Article, 2.5 s of
    every build at 100k stories for the merge record's articles alone. Here each field is set by its slot's
    own setter, mapped in C over the objects.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]  # a dataclass, as documented
    if len(columns) != len(names):
        raise TypeError(f"{cls.__name__} has {len(names)} fields, not {len(columns)}")
    values = [list(column) for column in columns]
    objects: list[Obj] = list(map(object.__new__, repeat(cls, len(values[0]) if values else 0)))
    for name, column in zip(names, values, strict=True):
        if len(column) != len(objects):
            raise ValueError(f"{cls.__name__}.{name}: {len(column)} values for {len(objects)} objects")
        deque(map(getattr(cls, name).__set__, objects, column), maxlen=0)
    return objects


def columns(cls: type, objects: Sequence[Any]) -> tuple[list[Any], ...]:
    """The field values of `objects` of the slots dataclass `cls`, a list per field (see `made`)."""
    return tuple(list(map(attrgetter(f.name), objects)) for f in fields(cls))


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


ArticleColumns = tuple[tuple[list[Any], ...], list[int], tuple[list[Any], ...]]


def article_columns(articles: Sequence[Article]) -> ArticleColumns:
    """`articles` as plain lists, which pickle and load several times faster than the objects do (see
    `made`); their images flattened likewise. `from_article_columns` makes them again."""
    images = list(map(attrgetter("images"), articles))
    return columns(Article, articles), list(map(len, images)), columns(Image, list(chain.from_iterable(images)))


def from_article_columns(saved: ArticleColumns) -> list[Article]:
    """The articles `article_columns` gave `saved` of."""
    values, counts, image_values = saved
    images = iter(made(Image, *image_values))
    none: tuple[Image, ...] = ()
    with_images = list(values)
    with_images[_IMAGES] = [tuple(islice(images, n)) if n else none for n in counts]
    return made(Article, *with_images)


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
        return tuple(dict.fromkeys(map(_PROVIDER, self.articles)))


def coverage_entries(articles: Sequence[Article], copies: Sequence[tuple[Article, ...]]) -> list[Coverage]:
    """`Coverage(article, its copies)` for each of `articles`, made as `made` makes objects (clustering makes
    an entry of every report of the archive, each build)."""
    return made(Coverage, articles, copies, map(add, zip(articles), copies))


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
    # A digest of its coverage (rank.coverage_digest), when ranking made it: a story made by hand has none.
    coverage: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        # Each walk over the articles mapped in C (every build makes every story: 470,000 articles at 100k).
        articles = tuple(chain.from_iterable(map(_ARTICLES, self.entries)))
        times = list(map(_PUBLISHED, articles))
        object.__setattr__(self, "articles", articles)
        object.__setattr__(self, "published", min(times))
        object.__setattr__(self, "updated", max(times))
        object.__setattr__(self, "providers", tuple(dict.fromkeys(map(_PROVIDER, articles))))
        counts = Counter(chain.from_iterable(map(_TOPICS, articles)))
        object.__setattr__(self, "topics", tuple(sorted(counts, key=lambda t: (-counts[t], t))))

    @property
    def lead(self) -> Article:
        return self.entries[0].article

    @property
    def title(self) -> str:
        return self.lead.title


_ARTICLES, _PUBLISHED, _PROVIDER, _TOPICS = map(attrgetter, ("articles", "published", "provider", "topics"))
_IMAGES = [f.name for f in fields(Article)].index("images")
