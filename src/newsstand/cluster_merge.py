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


@dataclass(frozen=True, slots=True)
class Items:
    """What agglomeration needs to know about the items, all indexed alike (rows sorted by time)."""

    x: sp.csr_matrix  # unit TF-IDF rows
    hours: np.ndarray  # float64 publication time
    topics: np.ndarray  # uint64 topic masks (0: none)
    outlets: sp.csr_matrix  # item × provider one-hot (an entry with copies has several)
    outlet_penalty: float  # subtracted when two clusters already carry the same outlet


def _centroid_dots(x: sp.csr_matrix, lab: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """cos(centroid p, centroid q) for each pair of cluster ids, computing only the clusters involved."""
    involved = np.unique(np.concatenate([p, q]))
    pos = np.full(len(lab), -1, dtype=np.int64)
    pos[involved] = np.arange(len(involved))
    members = np.flatnonzero(pos[lab] >= 0)
    assign = sp.csr_matrix(
        (np.ones(len(members), dtype=np.float32), (pos[lab[members]], members)), shape=(len(involved), len(lab))
    )
    cent = normalize_rows(assign @ x)
    return np.asarray(cent[pos[p]].multiply(cent[pos[q]]).sum(axis=1), dtype=np.float64).ravel()


def _shared_outlets(outlets: sp.csr_matrix, lab: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Whether clusters p and q already carry coverage from one outlet: one outlet rarely covers one
    event twice, so that is evidence of two events."""
    involved = np.unique(np.concatenate([p, q]))
    pos = np.full(len(lab), -1, dtype=np.int64)
    pos[involved] = np.arange(len(involved))
    members = np.flatnonzero(pos[lab] >= 0)
    assign = sp.csr_matrix(
        (np.ones(len(members), dtype=np.float32), (pos[lab[members]], members)), shape=(len(involved), len(lab))
    )
    per = (assign @ outlets).tocsr()
    return np.asarray(per[pos[p]].multiply(per[pos[q]]).sum(axis=1)).ravel() > 0


def _pair_scores(
    items: Items, lab: np.ndarray, ei: np.ndarray, ej: np.ndarray, es: np.ndarray, bonus: np.ndarray,
    tmin: np.ndarray, tmax: np.ndarray, tbits: np.ndarray, max_span: float, size: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique cluster pairs (p < q) joined by an item pair, with their merge scores (-inf: not allowed)."""
    n = len(lab)
    p, q = lab[ei], lab[ej]
    lo, hi = np.minimum(p, q), np.maximum(p, q)
    keys, group = np.unique(lo * n + hi, return_inverse=True)
    p, q = keys // n, keys % n
    # A pair is related-linked if any of its item pairs is: take the max bonus over the group.
    pair_bonus = np.zeros(len(keys))
    np.maximum.at(pair_bonus, group, bonus)
    score = np.zeros(len(keys))
    single = (size[p] == 1) & (size[q] == 1)
    # Two single items: their centroid cosine is the item cosine the candidate search already computed.
    np.maximum.at(score, group, es)
    if (~single).any():
        score[~single] = _centroid_dots(items.x, lab, p[~single], q[~single])
    score += pair_bonus
    if items.outlet_penalty:
        score -= items.outlet_penalty * _shared_outlets(items.outlets, lab, p, q)
    span = np.maximum(tmax[p], tmax[q]) - np.minimum(tmin[p], tmin[q])
    allowed = (span <= max_span) & compatible(tbits[p], tbits[q])
    score[~allowed] = -np.inf
    return p, q, score


def agglomerate(
    items: Items, ei: np.ndarray, ej: np.ndarray, es: np.ndarray, bonus: np.ndarray, threshold: float,
    max_span: float,
    attach_below: int, attach_threshold: float, max_rounds: int = 200,
) -> np.ndarray:
    """Cluster label of each item (the smallest item index of its cluster)."""
    n = items.x.shape[0]
    lab = np.arange(n, dtype=np.int64)
    size = np.ones(n, dtype=np.int64)
    tmin, tmax, tbits = items.hours.copy(), items.hours.copy(), items.topics.copy()
    for _ in range(max_rounds):
        cross = lab[ei] != lab[ej]
        ei, ej, es, bonus = ei[cross], ej[cross], es[cross], bonus[cross]  # pairs inside one cluster are done with
        if len(ei) == 0:
            break
        p, q, score = _pair_scores(items, lab, ei, ej, es, bonus, tmin, tmax, tbits, max_span, size)
        ok = score >= threshold
        p, q, score = p[ok], q[ok], score[ok]
        if len(p) == 0:
            break
        best = _best(n, p, q, score)
        target = _merge_targets(best)
        if not (target != np.arange(n)).any():
            break
        lab = target[lab]
        size = np.bincount(lab, minlength=n)
        # Fold each merged cluster's time span and topics into the id it now goes by.
        np.minimum.at(tmin, target, tmin.copy())
        np.maximum.at(tmax, target, tmax.copy())
        np.bitwise_or.at(tbits, target, tbits.copy())
    return _attach(items, lab, ei, ej, es, bonus, tmin, tmax, tbits, max_span, attach_below, attach_threshold)


def _best(n: int, p: np.ndarray, q: np.ndarray, score: np.ndarray) -> np.ndarray:
    """best[c]: the candidate with the highest score for cluster c (ties: the smaller id), or -1."""
    src, dst, s = np.concatenate([p, q]), np.concatenate([q, p]), np.concatenate([score, score])
    order = np.lexsort((dst, -s, src))
    src, dst = src[order], dst[order]
    first = np.r_[True, src[1:] != src[:-1]]
    best = np.full(n, -1, dtype=np.int64)
    best[src[first]] = dst[first]
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
    items: Items, lab: np.ndarray, ei: np.ndarray, ej: np.ndarray, es: np.ndarray, bonus: np.ndarray,
    tmin: np.ndarray, tmax: np.ndarray, tbits: np.ndarray, max_span: float, attach_below: int,
    attach_threshold: float,
) -> np.ndarray:
    """Fragments (clusters under `attach_below` items) join the most similar established story if
    close enough: a lone headline worded unlike the rest should not found a story of its own."""
    n = len(lab)
    size = np.bincount(lab, minlength=n)
    cross = lab[ei] != lab[ej]
    if not cross.any():
        return lab
    p, q, score = _pair_scores(
        items, lab, ei[cross], ej[cross], es[cross], bonus[cross], tmin, tmax, tbits, max_span, size)
    small_p, small_q = size[p] < attach_below, size[q] < attach_below
    src = np.concatenate([p[small_p & ~small_q], q[small_q & ~small_p]])
    dst = np.concatenate([q[small_p & ~small_q], p[small_q & ~small_p]])
    s = np.concatenate([score[small_p & ~small_q], score[small_q & ~small_p]])
    ok = s >= attach_threshold
    src, dst, s = src[ok], dst[ok], s[ok]
    if len(src) == 0:
        return lab
    order = np.lexsort((dst, -s, src))
    src, dst = src[order], dst[order]
    first = np.r_[True, src[1:] != src[:-1]]
    target = np.arange(n)
    target[src[first]] = dst[first]
    return target[lab]
