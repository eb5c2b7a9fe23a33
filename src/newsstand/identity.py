"""Story identity: each story keeps the slug (and so the URL) it was first published under.

A story's slug is made from its first report's title when the story first appears, and kept in the
build's state (`Register`) from then on: it stays when reports join, when its lead changes, when a
headline is edited. The clusters of a new build inherit the slugs of the last build's stories:

- a story's slug goes to the cluster now holding its first report (if that report is gone, to the
  cluster holding most of its reports): when a story splits, the part with its first report keeps it;
- when several stories land in one cluster, the one first reported keeps its slug, and the others
  become redirects to it (`Register.moved`), so their URLs keep working;
- a redirected slug comes back to life if a cluster again holds the first report it was made for;
- every other cluster is a new story, with a new slug unlike any live or redirected one.

Pure: the register in, the register out; build.py loads and saves it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING

from .model import Article
from .slugs import assign_slugs

if TYPE_CHECKING:
    from .cluster import Cluster
First = tuple[float, str]  # a story's first report, as (Unix time, article key): older sorts first


@dataclass(frozen=True, slots=True)
class Known:
    """What the register keeps of a story: its first report and the articles it held."""

    first: First
    keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class Register:
    stories: Mapping[str, Known] = field(default_factory=lambda: MappingProxyType({}))  # by slug
    # slug of a story merged into another → (the slug it redirects to, its own first report)
    moved: Mapping[str, tuple[str, First]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def redirects(self) -> dict[str, str]:
        """Slug of each merged-away story → slug of the story it is now part of."""
        return {slug: target for slug, (target, _) in self.moved.items()}


_EARLIEST = attrgetter("published", "key")  # a story's first report is its earliest article, by key among equals


def _first(article: Article) -> First:
    return (article.published.timestamp(), article.key)


def _follow(moved: Mapping[str, tuple[str, First]], slug: str, target: str) -> str:
    """Where a redirect from `slug` to `target` ends, through the redirects of `moved`."""
    seen = {slug}
    while target in moved and target not in seen:
        seen.add(target)
        target = moved[target][0]
    return target


@dataclass(frozen=True, slots=True)
class Members:
    """What naming and ranking read of the clusters, from one walk over every article (each walk costs half
    a second at 100k stories, most of it fetching the articles from memory): each article's cluster, by
    the article's key; each cluster's first report and the keys of its articles."""

    where: dict[str, int]
    firsts: list[Article]
    keys: list[frozenset[str]]


def members(clusters: Sequence[Cluster]) -> Members:
    """The clusters' `Members`, from one walk over their articles."""
    where: dict[str, int] = {}
    firsts, keys = [], []
    for i, cluster in enumerate(clusters):
        articles = [a for e in cluster for a in e.articles]
        firsts.append(min(articles, key=_EARLIEST))
        mine = [a.key for a in articles]
        keys.append(frozenset(mine))
        where.update(zip(mine, repeat(i)))
    return Members(where, firsts, keys)


def identify(
    clusters: Sequence[Cluster], last: Register = Register(), held: Members | None = None
) -> tuple[tuple[str, ...], Register]:
    """The slug of each cluster, and the register this build leaves (its stories and redirects); `held` is
    `members(clusters)`, if made already."""
    held = members(clusters) if held is None else held
    where, firsts = held.where, held.firsts
    claims: dict[int, list[tuple[bool, First, str]]] = {}
    for slug, known in last.stories.items():
        home = where.get(known.first[1])
        if home is None:  # its first report is gone: it lives on where most of its reports went
            votes = Counter(where[k] for k in known.keys if k in where)
            if not votes:
                continue
            home = min(votes, key=lambda i: (-votes[i], i))
        # A story whose first report is in the cluster goes before one that only sent reports there.
        claims.setdefault(home, []).append((known.first[1] not in where, known.first, slug))
    for slug, (_, first) in last.moved.items():  # a merged-away story whose first report stands alone again
        home = where.get(first[1])
        if home is not None and home not in claims and _first(firsts[home]) == first:
            claims[home] = [(False, first, slug)]
    slugs: list[str | None] = [None] * len(clusters)
    moved: dict[str, tuple[str, First]] = {}
    for home, wanting in claims.items():
        (_, _, keep), *others = sorted(wanting)
        slugs[home] = keep
        moved.update((slug, (keep, first)) for _, first, slug in others)
    taken = {s for s in slugs if s is not None}
    # Redirects made before stay while they lead somewhere (through any later merge of their target).
    for slug, (target, first) in last.moved.items():
        if slug not in taken and slug not in moved and _follow(moved, slug, target) in taken:
            moved[slug] = (target, first)
    for slug, (target, first) in list(moved.items()):
        moved[slug] = (_follow(moved, slug, target), first)
    fresh = sorted((i for i, s in enumerate(slugs) if s is None), key=lambda i: _first(firsts[i]))
    made = assign_slugs(((firsts[i].key, firsts[i].title) for i in fresh), fallback="story", taken=taken | set(moved))
    out = tuple(s if s is not None else made[firsts[i].key] for i, s in enumerate(slugs))
    stories = {slug: Known(_first(f), keys) for slug, f, keys in zip(out, firsts, held.keys, strict=True)}
    return out, Register(MappingProxyType(dict(sorted(stories.items()))), MappingProxyType(dict(sorted(moved.items()))))
