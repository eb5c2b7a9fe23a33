"""Group articles into stories: one story per news event, grown as a stream of reports.

The steps, each in its own module:
1. wire copies and syndicated duplicates collapse into one Coverage entry, a "report" (copies);
2. each report becomes a unit vector over its headline's terms (and, a little, its excerpt's, names
   more), each term weighted by its rarity among the reports near it in time (text);
3. each report's most alike earlier reports within the window come from sparse products, never from
   all pairs (candidates);
4. in time order, each report joins the open story it matches best, or starts one (stream).
Every knob is in params.ClusterParams. Measured on labelled headlines, on the seeds and at 100k stories
by bench/bench_cluster.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from itertools import chain, repeat
from operator import attrgetter

import numpy as np
import scipy.sparse as sp

from ..digest import content_digest
from ..model import Article, Coverage
from .candidates import candidate_pairs, topic_masks, unique_sorted
from .copies import copy_groups
from .params import DEFAULT, ClusterParams
from .stream import Reports, run
from .text import term_rows, weigh

Cluster = tuple[Coverage, ...]
Partition = tuple[tuple[tuple[str, ...], ...], ...]  # clusters → entries → article keys (the original first)

__all__ = ["DEFAULT", "Cluster", "ClusterParams", "Partition", "cluster", "cluster_input", "clusters_from",
           "partition"]


def reports(articles: Sequence[Article], params: ClusterParams = DEFAULT, jobs: int = 1) -> tuple[list[Coverage], Reports]:
    """The articles (sorted by key) as reports in time order, and what the stream reads of them."""
    arts = list(articles)
    groups = copy_groups(arts, timedelta(hours=params.window_hours))
    members, starts, firsts = groups.members, groups.starts, groups.firsts
    first_list = firsts.tolist()
    heads = [arts[i] for i in first_list]
    seconds = np.fromiter((int(a.published.timestamp()) for a in heads), dtype=np.int64, count=len(heads))
    hours = seconds / 3600.0
    x = weigh(term_rows([groups.headlines[i] for i in first_list], [a.excerpt for a in heads], stripped=True),
              seconds, params.df_hours)
    entries = groups.entries(arts)
    del groups
    topics = np.bitwise_or.reduceat(topic_masks([a.topics for a in arts])[members], starts[:-1])
    entry_of = np.empty(len(arts), dtype=np.int64)
    entry_of[members] = np.repeat(np.arange(len(heads), dtype=np.int64), np.diff(starts))
    ei, ej, es = candidate_pairs(x, hours, params.window_hours, params.neighbours, params.min_pair, topics, jobs)
    ri, rj = _related_pairs(arts, entry_of)
    close = hours[rj] - hours[ri] <= params.window_hours
    ri, rj = ri[close], rj[close]
    pi, pj = np.concatenate([ei, ri]), np.concatenate([ej, rj])
    ps = np.concatenate([es, np.zeros(len(ri), dtype=es.dtype)])
    pb = np.concatenate([np.zeros(len(ei)), np.full(len(ri), params.related_bonus)])
    order = np.lexsort((pi, pj))
    return entries, Reports(x, seconds, hours, topics, _outlets(entries), pi[order], pj[order], ps[order], pb[order])


def _outlets(entries: Sequence[Coverage]) -> sp.csr_matrix:
    """Entry × provider one-hot: the outlets carrying each entry."""
    ids: dict[str, int] = {}
    rows, cols = [], []
    for i, e in enumerate(entries):
        for provider in e.providers:
            rows.append(i)
            cols.append(ids.setdefault(provider, len(ids)))
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(entries), max(1, len(ids))))


def cluster(
    articles: Sequence[Article],
    *,
    params: ClusterParams = DEFAULT,
    jobs: int = 1,
) -> tuple[Cluster, ...]:
    """Partition `articles` into clusters; deterministic whatever the input order and the number of `jobs`
    (threads for the candidate search).

    Entries within a cluster are sorted by article key, clusters by their first entry's key.
    """
    if not articles:
        return ()
    arts = sorted(articles, key=attrgetter("key"))
    entries, r = reports(arts, params, jobs)
    return _clusters(entries, run(r, params).labels())


def _clusters(entries: Sequence[Coverage], labels: np.ndarray) -> tuple[Cluster, ...]:
    keys = np.array([e.article.key for e in entries], dtype=object)
    order = sorted(range(len(entries)), key=lambda i: (int(labels[i]), keys[i]))
    out: dict[int, list[Coverage]] = {}
    for i in order:
        out.setdefault(int(labels[i]), []).append(entries[i])
    return tuple(sorted((tuple(c) for c in out.values()), key=lambda c: c[0].article.key))


def cluster_input(articles: Sequence[Article]) -> str:
    """A digest of every field clustering reads (the same function of the same articles gives the same
    clusters): an edit that changes none of them, as a story file re-fetched with new heat or a new body,
    can reuse the last build's clusters instead of clustering again."""
    return content_digest([(a.key, a.title, a.excerpt, a.published, a.topics, a.related, a.pick, a.lead, a.quality,
                            a.provider) for a in sorted(articles, key=attrgetter("key"))])


def partition(clusters: Sequence[Cluster]) -> Partition:
    """The clusters as article keys: small to keep, and free of the articles' other fields."""
    return tuple(tuple(tuple(a.key for a in e.articles) for e in c) for c in clusters)


def clusters_from(keys: Partition, articles: Sequence[Article]) -> tuple[Cluster, ...] | None:
    """The clusters `keys` names, made of `articles`; None if they do not name exactly these articles."""
    by_key = {a.key: a for a in articles}
    try:
        out = tuple(tuple(Coverage(by_key[e[0]], tuple(map(by_key.__getitem__, e[1:]))) for e in c) for c in keys)
    except (KeyError, IndexError, TypeError):
        return None
    return out if sum(len(e) for c in keys for e in c) == len(by_key) else None


def _related_pairs(arts: Sequence[Article], entry_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry pairs (i < j, sorted) linked by a story file's `related` list (either direction), as candidate
    pairs; entry_of[k] is the entry of arts[k]."""
    where = dict(zip(map(attrgetter("key"), arts), range(len(arts)), strict=True))
    related = list(map(attrgetter("related"), arts))
    src = np.repeat(np.arange(len(arts), dtype=np.int64), np.fromiter(map(len, related), dtype=np.int64, count=len(arts)))
    dst = np.fromiter(map(where.get, chain.from_iterable(related), repeat(-1)), dtype=np.int64, count=len(src))
    found = dst >= 0
    i, j = entry_of[src[found]], entry_of[dst[found]]
    apart = i != j
    i, j = i[apart], j[apart]
    n = len(entry_of)
    codes = unique_sorted(np.minimum(i, j) * n + np.maximum(i, j))
    return codes // n, codes % n
