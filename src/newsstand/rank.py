"""Clusters → ranked Stories: the lead of each, the order of its coverage, its score and slug.

Scores use only the input (recency is measured from the newest article, not from the
clock), so the same seeds always give the same order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from operator import attrgetter

from .cluster import Cluster
from .identity import identify, members
from .model import Article, Coverage, Story

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


def rank(
    clusters: Sequence[Cluster], slugs: Sequence[str] | None = None, where: Mapping[str, int] | None = None
) -> tuple[Story, ...]:
    """Stories in front-page order, each with its lead first; `slugs` names each cluster's story
    (identity.identify; by default, as a site's first build names them); `where` is each article's cluster
    by its key (`identity.members(clusters).where`), if made already."""
    if not clusters:
        return ()
    if where is None or slugs is None:
        held = members(clusters)
        where = held.where
        slugs = identify(clusters, held=held)[0] if slugs is None else slugs
    story_slugs = list(slugs)
    # Each story made once, in the clusters' order, and all it needs before the order read from it: a walk
    # over every article costs half a second at 100k stories, most of it fetching them from memory, and a
    # story's own are at hand right after it is made.
    made, weight, related = [], [], []
    for cluster, slug in zip(clusters, story_slugs, strict=True):
        story = Story(slug=slug, entries=lead_first(cluster))
        made.append(story)
        weight.append(importance(story.articles))
        linked = dict.fromkeys(story_slugs[where[k]] for a in story.articles for k in a.related if k in where)
        linked.pop(slug, None)
        # In the order the story's own coverage lists them (lead first, then by time), not by rank or by
        # importance: both move as other stories gain reports, and every old page relating to those would
        # change, and be rendered and indexed again, at each cron tick.
        related.append(tuple(linked))
    newest = max(s.updated for s in made)
    scores = [story_score(w, s.updated, newest) for w, s in zip(weight, made, strict=True)]
    order = sorted(range(len(made)), key=lambda i: (-scores[i], story_slugs[i]))
    return tuple(made[i].ranked(scores[i], related[i]) for i in order)
