"""Clusters → ranked Stories: the lead of each, the order of its coverage, its score and slug.

Scores use only the input (recency is measured from the newest article, not from the
clock), so the same seeds always give the same order.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, repeat
from operator import attrgetter
from types import MappingProxyType

from .cluster import Cluster
from .digest import content_digest
from .identity import identify, members
from .model import Article, Coverage, Story, compact_pickle, made

PICK_BONUS = 100.0  # an editor's pick outranks any score the other signals can reach
RECENCY_HALF_LIFE_HOURS = 36.0
_PROVIDER, _PICK = attrgetter("provider"), attrgetter("pick")
_COMMENTARY = ("opinion", "editorial", "analysis", "explainer", "political cartoon", "letter", "review")


def is_commentary(article: Article) -> bool:
    """Opinion and analysis pieces: good reading, but not the report a story should lead with."""
    head = article.title.casefold()
    return head.startswith(_COMMENTARY) or "[poll]" in head


def article_weight(article: Article) -> float:
    """How good a lead `article` would be: editor's pick, quality, heat, original reporting."""
    weight = float(article.quality or 0)
    if article.heat and article.heat > 0:
        weight += 0.5 * article.heat
    if article.lead:
        weight += 10.0  # an editor filed it as a story of its own, not only as related reading
    if is_commentary(article):
        weight -= 50.0
    if article.pick:
        weight += 1000.0
    return weight


def _entry_weight(entry: Coverage) -> float:
    # Coverage carried by several outlets is the one the wire and the press agree on.
    return article_weight(entry.article) + 5.0 * len(entry.copies)


def lead_first(cluster: Cluster) -> tuple[Coverage, ...]:
    """A cluster's entries in the order its story shows them: the best lead first, the rest by time."""
    lead = max(cluster, key=lambda e: (_entry_weight(e), -e.article.published.timestamp(), e.article.key))
    rest = sorted((e for e in cluster if e is not lead), key=lambda e: (e.article.published, e.article.key))
    return (lead, *rest)


def importance(articles: Sequence[Article]) -> float:
    """What a story weighs whatever the date (`articles`: all of its own): quality and heat, picks, breadth
    of coverage."""
    providers = set(map(_PROVIDER, articles))
    quality = max((a.quality or 0) for a in articles) / 100.0
    heat = max((a.heat or 0) for a in articles)
    score = quality + math.log1p(max(heat, 0)) / 5.0 + math.log2(1 + len(providers))
    if any(map(_PICK, articles)):
        score += PICK_BONUS
    return score


def story_score(weight: float, latest: datetime, newest: datetime) -> float:
    """The front-page order: importance (`weight`), then recency (of the story's `latest` report, against
    the `newest` of all)."""
    age_hours = max(0.0, (newest - latest).total_seconds() / 3600.0)
    score = weight + 2.0 * 0.5 ** (age_hours / RECENCY_HALF_LIFE_HOURS)
    return round(float(score), 4)  # float: a float power is typed Any (it could be complex)


@compact_pickle
@dataclass(frozen=True, slots=True)
class Ranking:
    """What ranking works out of a story's coverage alone (see `ranked`)."""

    order: tuple[int, ...]  # the cluster's entries as its story shows them (lead_first), by their index in it
    weight: float  # importance
    published: datetime
    updated: datetime
    providers: tuple[str, ...]
    topics: tuple[str, ...]
    # The keys its articles list as related, once each, in the order its coverage lists them (lead first,
    # then by time), but its own: at 10k stories 57,000 keys, 33,000 once each.
    related: tuple[str, ...]

    @classmethod
    def of(cls, cluster: Cluster) -> Ranking:
        """What `ranked` keeps of a cluster's story, derived as the story derives it."""
        shown = lead_first(cluster)
        at = {id(e): i for i, e in enumerate(cluster)}
        story = Story("", shown)
        order = tuple(at[id(e)] for e in shown)
        own = set(map(_KEY, story.articles))
        related = tuple(k for k in dict.fromkeys(chain.from_iterable(map(_RELATED, story.articles))) if k not in own)
        weight = importance(story.articles)
        return cls(order, weight, story.published, story.updated, story.providers, story.topics, related)


def coverage_digest(cluster: Cluster) -> str:
    """A digest of all a cluster's articles are (their digests), entry by entry."""
    if all(map(_DIGEST, chain.from_iterable(map(_ARTICLES, cluster)))):
        entries = ["\x1f".join(map(_DIGEST, e.articles)) for e in cluster]
    else:  # articles made by hand have no digest of their own
        entries = ["\x1f".join(a.digest or content_digest(a) for a in e.articles) for e in cluster]
    return hashlib.sha256("\x1e".join(entries).encode()).hexdigest()


def rank(
    clusters: Sequence[Cluster], slugs: Sequence[str] | None = None, where: Mapping[str, int] | None = None
) -> tuple[Story, ...]:
    """Stories in front-page order, each with its lead first; `slugs` names each cluster's story
    (identity.identify; by default, as a site's first build names them); `where` is each article's cluster
    by its key (`identity.members(clusters).where`), if made already."""
    return ranked(clusters, slugs, where)[0]


def ranked(
    clusters: Sequence[Cluster],
    slugs: Sequence[str] | None = None,
    where: Mapping[str, int] | None = None,
    known: Mapping[str, Ranking] = MappingProxyType({}),
) -> tuple[tuple[Story, ...], dict[str, Ranking]]:
    """`rank`, from what the last build worked out of each story's coverage (`known`, by `coverage_digest`),
    and the same for the next build: a cron tick or an edit leaves all but a few stories' coverage as it was,
    and choosing every lead and deriving every story again was half of ranking 100k stories."""
    if not clusters:
        return (), {}
    if where is None or slugs is None:
        held = members(clusters)
        where = held.where
        slugs = identify(clusters, held=held)[0] if slugs is None else slugs
    story_slugs = list(slugs)
    keys = list(map(coverage_digest, clusters))
    rows = [known.get(key) or Ranking.of(cluster) for key, cluster in zip(keys, clusters, strict=True)]
    entries = [tuple(map(c.__getitem__, r.order)) for c, r in zip(clusters, rows, strict=True)]
    articles = [tuple(chain.from_iterable(map(_ARTICLES, shown))) for shown in entries]
    related = []
    found = where.get
    for slug, row in zip(story_slugs, rows, strict=True):
        # Mapped in C: the related keys of every story of the archive, 330,000 at 100k stories.
        at = filter(_KNOWN, map(found, row.related, repeat(-1)))
        linked = dict.fromkeys(map(story_slugs.__getitem__, at))
        linked.pop(slug, None)  # none of its own keys is in row.related: only a mistake could bring it
        # In the order the story's own coverage lists them (lead first, then by time), not by rank or by
        # importance: both move as other stories gain reports, and every old page relating to those would
        # change, and be rendered and indexed again, at each cron tick.
        related.append(tuple(linked))
    newest = max(r.updated for r in rows)
    scores = [story_score(r.weight, r.updated, newest) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: (-scores[i], story_slugs[i]))
    # Made as the constructor would make them, with what each row holds (model.made).
    pick = [rows[i] for i in order]
    stories = made(
        Story,
        [story_slugs[i] for i in order],
        [entries[i] for i in order],
        [scores[i] for i in order],
        [related[i] for i in order],
        [articles[i] for i in order],
        [r.published for r in pick],
        [r.updated for r in pick],
        [r.providers for r in pick],
        [r.topics for r in pick],
        [keys[i] for i in order],
    )
    return tuple(stories), dict(zip(keys, rows, strict=True))


_ARTICLES, _DIGEST, _RELATED, _KEY = (
    attrgetter("articles"),
    attrgetter("digest"),
    attrgetter("related"),
    attrgetter("key"),
)
_KNOWN = (-1).__ne__  # a related key of an article in a cluster (`where` has no -1)
