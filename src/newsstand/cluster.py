"""Group articles into stories: one cluster per news event.

The steps, each in its own module:
1. wire copies and syndicated duplicates collapse into one Coverage entry (cluster_copies);
2. each entry becomes a TF-IDF vector over its headline (and, a little, its excerpt) (cluster_text);
3. candidate pairs come from sparse products over a sliding time window, never all pairs (cluster_graph);
4. centroid-linkage agglomeration over those candidates, with the weak signals an editor uses: a
   story file's `related` links nudge, filing under different topics blocks, and a story's span in time
   is bounded (cluster_merge).
Measured on labelled headlines and at 100k stories by bench/bench_cluster.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from itertools import chain, repeat
from operator import attrgetter

import numpy as np
import scipy.sparse as sp

from .cluster_copies import copy_groups
from .cluster_graph import candidate_pairs, topic_masks, unique_sorted
from .cluster_merge import Items, agglomerate
from .cluster_text import tfidf
from .digest import content_digest
from .model import Article, Coverage

Cluster = tuple[Coverage, ...]
Partition = tuple[tuple[tuple[str, ...], ...], ...]  # clusters → entries → article keys (the original first)

WINDOW_HOURS = 72.0  # coverage of one event comes within about three days of its first report
THRESHOLD = 0.26  # centroid cosine at which two groups of coverage are one event (tuned on the UCI sample)
ATTACH_BELOW = 10  # clusters smaller than this may join an established story ...
ATTACH_THRESHOLD = 0.17  # ... at this lower similarity
NEIGHBOURS = 8  # candidate partners each item keeps among earlier items
MIN_SIM = 0.08  # item pairs less alike than this are not even candidates
OUTLET_PENALTY = 0.0  # wired but off: at 0.04-0.1 it fixes the seeds' NYT Clearview case but costs 2-5 points of UCI recall
RELATED_BONUS = 0.02  # a story file listing the other article: weak evidence (it mixes in other news); at 0.05 it pulled the seeds' New Jersey/Clearview report into the London story


def cluster(
    articles: Sequence[Article],
    *,
    window_hours: float = WINDOW_HOURS,
    threshold: float = THRESHOLD,
    jobs: int = 1,
) -> tuple[Cluster, ...]:
    """Partition `articles` into clusters; deterministic whatever the input order and the number of `jobs`
    (threads for the candidate search).

    Entries within a cluster are sorted by article key, clusters by their first entry's key.
    """
    if not articles:
        return ()
    arts = sorted(articles, key=attrgetter("key"))
    groups = copy_groups(arts, timedelta(hours=window_hours))
    # Entries come in time order (key as tie-break): the sliding window is a contiguous slice of rows.
    members, starts, firsts = groups.members, groups.starts, groups.firsts
    first_list = firsts.tolist()
    heads = [arts[i] for i in first_list]
    epoch = heads[0].published
    hours = (np.array([a.published.timestamp() for a in heads]) - epoch.timestamp()) / 3600.0
    x = tfidf([groups.headlines[i] for i in first_list], [a.excerpt for a in heads], stripped=True)
    entries = groups.entries(arts)
    del groups  # its headlines (every article's) are tens of megabytes that agglomeration's peak need not carry
    topics = np.bitwise_or.reduceat(topic_masks([a.topics for a in arts])[members], starts[:-1])
    entry_of = np.empty(len(arts), dtype=np.int64)
    entry_of[members] = np.repeat(np.arange(len(heads), dtype=np.int64), np.diff(starts))
    ei, ej, es = candidate_pairs(x, hours, window_hours, NEIGHBOURS, MIN_SIM, topics, jobs)
    ri, rj = _related_pairs(arts, entry_of)
    ei, ej = np.concatenate([ei, ri]), np.concatenate([ej, rj])
    es = np.concatenate([es, np.zeros(len(ri), dtype=es.dtype)])
    bonus = np.concatenate([np.zeros(len(ei) - len(ri)), np.full(len(ri), RELATED_BONUS)])
    labels = agglomerate(
        Items(x, hours, topics, _outlets(entries) if OUTLET_PENALTY else sp.csr_matrix((len(entries), 1)), OUTLET_PENALTY), ei, ej, es, bonus, threshold=threshold, max_span=2 * window_hours,
        attach_below=ATTACH_BELOW, attach_threshold=ATTACH_THRESHOLD,
    )
    # Entries within a cluster by key (their first article's index: `arts` is sorted by key), clusters by
    # their first entry.
    order = np.lexsort((firsts, labels))
    cuts = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1]])
    bounds = np.r_[cuts, len(order)].tolist()
    ranked = np.argsort(firsts[order[cuts]], kind="stable").tolist()
    at = order.tolist()
    return tuple(tuple(entries[k] for k in at[bounds[c]:bounds[c + 1]]) for c in ranked)


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
