"""Agglomeration: grow stories by merging the clusters whose centroids are most alike.

Centroid linkage (cosine of the sums of the members' unit vectors) avoids chaining: A~B and B~C do not
glue A to C unless the story as a whole resembles C. The greedy "merge the best pair, repeat" order is
run in parallel rounds: every cluster finds its best candidate, and reciprocal best pairs merge (the
classic reciprocal-nearest-neighbour scheme, exact for reducible linkages and close for this one). Candidates are the
pairs of clusters joined by at least one candidate pair of items, so nothing is compared all-to-all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .cluster_graph import compatible
from .cluster_text import normalize_rows

UNSHARED = 0.6  # two clusters each with more than this share of their centroid's weight on terms the other
UNSHARED_SIZE = 5  # lacks, both of at least this many items, do not merge (see _centroid_dots)
ATTACH_RATIO = 5  # ... if at most a fifth of its size: two events of like size are two stories, not a fragment


@dataclass(frozen=True, slots=True)
class Items:
    """What agglomeration needs to know about the items, all indexed alike (rows sorted by time)."""

    x: sp.csr_matrix  # unit TF-IDF rows
    hours: np.ndarray  # float64 publication time
    topics: np.ndarray  # uint64 topic masks (0: none)
    outlets: sp.csr_matrix  # item × provider one-hot (an entry with copies has several)
    outlet_penalty: float  # subtracted when two clusters already carry the same outlet


def _per_cluster(m: sp.csr_matrix, lab: np.ndarray, p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix]:
    """The rows of `m` summed per cluster, for only the clusters named in p and q, and where each
    cluster id's sum sits (pos[id])."""
    involved = np.unique(np.concatenate([p, q]))
    pos = np.full(len(lab), -1, dtype=np.int64)
    pos[involved] = np.arange(len(involved))
    members = np.flatnonzero(pos[lab] >= 0)
    assign = sp.csr_matrix(
        (np.ones(len(members), dtype=np.float32), (pos[lab[members]], members)), shape=(len(involved), len(lab))
    )
    return pos, (assign @ m).tocsr()


def _centroid_dots(x: sp.csr_matrix, lab: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """cos(centroid p, centroid q) for each pair of cluster ids, computing only the clusters involved."""
    pos, sums = _per_cluster(x, lab, p, q)
    cent = normalize_rows(sums)
    a, b = cent[pos[p]], cent[pos[q]]
    dots = np.asarray(a.multiply(b).sum(axis=1), dtype=np.float64).ravel()
    # Two sizeable clusters that each carry much the other lacks are two events sharing a theme ("licence
    # plate readers" reported by Baidu in Moscow and by Facebook in London), however alike that theme makes
    # their centroids: a term consistent across a cluster weighs a lot in its centroid, so `unshared` (the
    # squared weight of a centroid on terms absent from the other) measures what one event says that the
    # other never does. A fragment of a story says little the story lacks, so it still joins.
    size = np.bincount(lab, minlength=len(lab))
    check = np.flatnonzero((dots > 0) & (size[p] >= UNSHARED_SIZE) & (size[q] >= UNSHARED_SIZE))
    if len(check):
        a, b = a[check], b[check]
        ia, ib = a.copy(), b.copy()
        ia.data[:] = 1
        ib.data[:] = 1
        ua = 1.0 - np.asarray(a.multiply(a).multiply(ib).sum(axis=1)).ravel()
        ub = 1.0 - np.asarray(b.multiply(b).multiply(ia).sum(axis=1)).ravel()
        dots[check[np.minimum(ua, ub) > UNSHARED]] = -1.0
    return dots


def _shared_outlets(outlets: sp.csr_matrix, lab: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Whether clusters p and q already carry coverage from one outlet: one outlet rarely covers one
    event twice, so that is evidence of two events."""
    pos, per = _per_cluster(outlets, lab, p, q)
    return np.asarray(per[pos[p]].multiply(per[pos[q]]).sum(axis=1)).ravel() > 0


def _collapse(n: int, p: np.ndarray, q: np.ndarray, es: np.ndarray, bonus: np.ndarray) -> tuple[np.ndarray, ...]:
    """Unique cluster pairs (p < q, sorted) from item or cluster pairs, with the best item cosine and bonus."""
    lo, hi = np.minimum(p, q), np.maximum(p, q)
    keys, group = np.unique(lo * n + hi, return_inverse=True)
    group = group.ravel()
    best_es = np.zeros(len(keys), dtype=np.float32)
    np.maximum.at(best_es, group, es)
    best_bonus = np.zeros(len(keys))
    np.maximum.at(best_bonus, group, bonus)  # a pair is related-linked if any of its item pairs is
    return keys // n, keys % n, best_es, best_bonus


def _scores(
    items: Items, lab: np.ndarray, p: np.ndarray, q: np.ndarray, es: np.ndarray, bonus: np.ndarray,
    tmin: np.ndarray, tmax: np.ndarray, tbits: np.ndarray, max_span: float, size: np.ndarray,
) -> np.ndarray:
    """Merge score of each cluster pair (p, q): centroid cosine plus bonus, -inf when not allowed."""
    score = es.astype(np.float64)
    # Two single items: their centroid cosine is the item cosine the candidate search already computed.
    grown = (size[p] > 1) | (size[q] > 1)
    if grown.any():
        score[grown] = _centroid_dots(items.x, lab, p[grown], q[grown])
    score += bonus
    if items.outlet_penalty:
        score -= items.outlet_penalty * _shared_outlets(items.outlets, lab, p, q)
    span = np.maximum(tmax[p], tmax[q]) - np.minimum(tmin[p], tmin[q])
    allowed = (span <= max_span) & compatible(tbits[p], tbits[q])
    score[~allowed] = -np.inf
    return score


def agglomerate(
    items: Items, ei: np.ndarray, ej: np.ndarray, es: np.ndarray, bonus: np.ndarray, threshold: float,
    max_span: float,
    attach_below: int, attach_threshold: float, max_rounds: int = 100,
) -> np.ndarray:
    """Cluster label of each item (the smallest item index of its cluster).

    The candidate graph is kept at the level of clusters (a cluster goes by its label), and a round
    recomputes the scores of the pairs touching a cluster that changed in the round before; the others
    keep theirs."""
    n = items.x.shape[0]
    ids = np.arange(n, dtype=np.int64)
    lab = ids.copy()
    size = np.ones(n, dtype=np.int64)
    tmin, tmax, tbits = items.hours.copy(), items.hours.copy(), items.topics.copy()
    p, q, es, bonus = _collapse(n, ei, ej, es, bonus)
    score = np.full(len(p), np.nan)
    for _ in range(max_rounds):
        stale = np.isnan(score)
        if stale.any():
            score[stale] = _scores(items, lab, p[stale], q[stale], es[stale], bonus[stale], tmin, tmax, tbits,
                                   max_span, size)
        ok = score >= threshold
        if not ok.any():
            break
        target = _merge_targets(_best(n, p[ok], q[ok], score[ok]))
        moved = np.flatnonzero(target != ids)
        if len(moved) == 0:
            break
        lab = target[lab]
        size = np.bincount(lab, minlength=n)
        # Fold each merged cluster's time span and topics into the id it now goes by.
        into = target[moved]
        np.minimum.at(tmin, into, tmin[moved])
        np.maximum.at(tmax, into, tmax[moved])
        np.bitwise_or.at(tbits, into, tbits[moved])
        changed = np.zeros(n, dtype=bool)
        changed[into] = True
        p, q = target[p], target[q]
        dirty = changed[p] | changed[q]
        clean = ~dirty & (p != q)
        d = dirty & (p != q)
        dp, dq, des, dbonus = _collapse(n, p[d], q[d], es[d], bonus[d])
        p, q = np.concatenate([p[clean], dp]), np.concatenate([q[clean], dq])
        es, bonus = np.concatenate([es[clean], des]), np.concatenate([bonus[clean], dbonus])
        score = np.concatenate([score[clean], np.full(len(dp), np.nan)])
    stale = np.isnan(score)
    if stale.any():
        score[stale] = _scores(items, lab, p[stale], q[stale], es[stale], bonus[stale], tmin, tmax, tbits,
                               max_span, size)
    return _attach(lab, p, q, score, size, attach_below, attach_threshold)


def _best(n: int, p: np.ndarray, q: np.ndarray, score: np.ndarray) -> np.ndarray:
    """best[c]: the candidate with the highest score for cluster c (ties: the smaller id), or -1."""
    return _best_directed(n, np.concatenate([p, q]), np.concatenate([q, p]), np.concatenate([score, score]))


def _best_directed(n: int, src: np.ndarray, dst: np.ndarray, s: np.ndarray) -> np.ndarray:
    """best[c]: the dst with the highest score among the pairs from src c (ties: the smaller id), or -1."""
    top = np.full(n, -np.inf)
    np.maximum.at(top, src, s)
    hit = s == top[src]
    best = np.full(n, n, dtype=np.int64)
    np.minimum.at(best, src[hit], dst[hit])
    best[best == n] = -1
    return best


def _merge_targets(best: np.ndarray) -> np.ndarray:
    """Where each cluster goes this round: reciprocal best pairs merge into the smaller id.

    (Letting unpicked clusters join their best in the same round saves rounds but cost 5 points of
    B-cubed precision on the UCI sample: several joiners judged against a centroid that moves.)"""
    ids = np.arange(len(best))
    has = best >= 0
    mutual = has & (best[np.where(has, best, 0)] == ids)
    target = ids.copy()
    absorbed = mutual & (best < ids)
    target[absorbed] = best[absorbed]
    return target


def _attach(
    lab: np.ndarray, p: np.ndarray, q: np.ndarray, score: np.ndarray, size: np.ndarray, attach_below: int,
    attach_threshold: float,
) -> np.ndarray:
    """Fragments (clusters under `attach_below` items) join the most similar established story if
    close enough: a lone headline worded unlike the rest should not found a story of its own."""
    n = len(lab)
    small_p, small_q = size[p] < attach_below, size[q] < attach_below
    src = np.concatenate([p[small_p & ~small_q], q[small_q & ~small_p]])
    dst = np.concatenate([q[small_p & ~small_q], p[small_q & ~small_p]])
    s = np.concatenate([score[small_p & ~small_q], score[small_q & ~small_p]])
    ok = s >= attach_threshold
    ok &= size[src] * ATTACH_RATIO <= size[dst]
    src, dst, s = src[ok], dst[ok], s[ok]
    if len(src) == 0:
        return lab
    best = _best_directed(n, src, dst, s)
    target = np.arange(n)
    has = best >= 0
    target[has] = best[has]
    return target[lab]
