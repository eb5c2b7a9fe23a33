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
from operator import attrgetter

import numpy as np
import scipy.sparse as sp

from .cluster_copies import coverages
from .cluster_graph import candidate_pairs, topic_bits
from .cluster_merge import Items, agglomerate
from .cluster_text import tfidf
from .model import Article, Coverage

Cluster = tuple[Coverage, ...]

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
) -> tuple[Cluster, ...]:
    """Partition `articles` into clusters; deterministic whatever the input order.

    Entries within a cluster are sorted by article key, clusters by their first entry's key.
    """
    if not articles:
        return ()
    entries = coverages(sorted(articles, key=attrgetter("key")), timedelta(hours=window_hours))
    # Time order (key as tie-break) makes the sliding window a contiguous slice of rows.
    entries.sort(key=lambda c: (c.article.published, c.article.key))
    heads = [c.article for c in entries]
    epoch = min(a.published for a in heads)
    hours = (np.array([a.published.timestamp() for a in heads]) - epoch.timestamp()) / 3600.0
    x = tfidf([a.title for a in heads], [a.excerpt for a in heads])
    topics = topic_bits([tuple(t for c in (e.article, *e.copies) for t in c.topics) for e in entries])
    ei, ej, es = candidate_pairs(x, hours, window_hours, NEIGHBOURS, MIN_SIM, topics)
    ri, rj = _related_pairs(entries)
    ei, ej = np.concatenate([ei, ri]), np.concatenate([ej, rj])
    es = np.concatenate([es, np.zeros(len(ri), dtype=es.dtype)])
    bonus = np.concatenate([np.zeros(len(ei) - len(ri)), np.full(len(ri), RELATED_BONUS)])
    labels = agglomerate(
        Items(x, hours, topics, _outlets(entries) if OUTLET_PENALTY else sp.csr_matrix((len(entries), 1)), OUTLET_PENALTY), ei, ej, es, bonus, threshold=threshold, max_span=2 * window_hours,
        attach_below=ATTACH_BELOW, attach_threshold=ATTACH_THRESHOLD,
    )
    groups: dict[int, list[Coverage]] = {}
    for entry, label in zip(entries, labels.tolist(), strict=True):
        groups.setdefault(label, []).append(entry)
    out = [tuple(sorted(g, key=lambda c: c.article.key)) for g in groups.values()]
    out.sort(key=lambda c: c[0].article.key)
    return tuple(out)


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


def _related_pairs(entries: Sequence[Coverage]) -> tuple[np.ndarray, np.ndarray]:
    """Entry pairs linked by a story file's `related` list (either direction), as candidate pairs."""
    where = {a.key: i for i, e in enumerate(entries) for a in (e.article, *e.copies)}
    pairs = {
        (min(i, j), max(i, j))
        for i, e in enumerate(entries)
        for a in (e.article, *e.copies)
        for k in a.related
        if (j := where.get(k, i)) != i
    }
    ordered = sorted(pairs)
    return (
        np.array([p for p, _ in ordered], dtype=np.int64),
        np.array([q for _, q in ordered], dtype=np.int64),
    )
