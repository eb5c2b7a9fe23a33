"""Candidate pairs: which items are worth comparing at all, without comparing all pairs.

Items are taken in time order and cut into blocks; each block is multiplied (sparse) only with the items
published up to `window` hours before it, and only over *specific* terms: a term carried by more than
MAX_DENSITY items around an item's time ("London", "facial", excerpt boilerplate) is no evidence there (a
common term of weight still chains each item to the few items carrying it just before, for bursts of one
big event). So the work per item is bounded by the density cap, not by the density of news per window,
and the cost grows linearly with the number of items. The shortlist from the specific terms is then ranked
by the whole cosine; each item keeps its `k` most similar earlier items above `min_sim`; later items pick
it in their turn, so every item sees both directions.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

BLOCK_ROWS = 2048  # rows per sparse product: big enough for BLAS-like speed, small enough for memory
MAX_DENSITY = 60  # a term on more items than this within the window either side is no candidate evidence
LINKS = 3  # ... but still links an item to this many items carrying it just before (see `specific`)
LINK_WEIGHT = 0.1  # ... if it weighs at least this much in the item's unit vector
SHORTLIST = 3  # candidates per item ranked by their whole cosine, as a multiple of the k kept


def candidate_pairs(
    x: sp.csr_matrix,
    hours: np.ndarray,
    window: float,
    k: int,
    min_sim: float,
    topic_bits: np.ndarray,
    jobs: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j, cosine) with i < j, |hours[i] - hours[j]| <= window, cosine >= min_sim, topics that do
    not exclude each other (see `compatible`), and at least one *specific* term in common (see `specific`).
    `x` rows must be sorted by `hours`. Each later item keeps its `k` most similar earlier items."""
    n = x.shape[0]
    xs, link_codes = specific(x, hours, window, MAX_DENSITY, LINKS, LINK_WEIGHT)
    link_starts = np.searchsorted(link_codes, np.arange(0, n + BLOCK_ROWS, BLOCK_ROWS) * n)

    def block(b0: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b1 = min(n, b0 + BLOCK_ROWS)
        # An hour to spare: a row at the window's edge must not depend on where the blocks start (splice).
        lo = int(np.searchsorted(hours, hours[b0] - window - 1.0, side="left"))
        # The window's rows, turned term × item (slicing rows and turning them costs the window, slicing the
        # columns of a term × item matrix costs all of it).
        prod = (xs[b0:b1] @ xs[lo:b1].T.tocsr()).tocoo()
        rows = prod.row.astype(np.int64) + b0
        cols = prod.col.astype(np.int64) + lo
        keep = (cols < rows) & (hours[rows] - hours[cols] <= window)
        keep[keep] = compatible(topic_bits[rows[keep]], topic_bits[cols[keep]])
        rows, cols, part = rows[keep], cols[keep], prod.data[keep]
        del prod, keep
        # Shortlist by the specific terms' share of the cosine, then rank the shortlist by the whole cosine.
        rows, cols, _ = _top_per_row(rows, cols, part, SHORTLIST * k)
        l0, l1 = link_starts[b0 // BLOCK_ROWS], link_starts[b0 // BLOCK_ROWS + 1]
        if l1 > l0:
            codes = unique_sorted(np.concatenate([rows * n + cols, link_codes[l0:l1]]))
            rows, cols = codes // n, codes % n
        sims = row_dots(x, rows, cols)
        ok = sims >= min_sim
        rows, cols, sims = _top_per_row(rows[ok], cols[ok], sims[ok], k)
        return cols, rows, sims

    starts = range(0, n, BLOCK_ROWS)
    # Blocks are independent, and their work is in numpy and scipy's sparse routines, which let go of the
    # interpreter lock: threads share the inputs without copying them to another process.
    if jobs > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            found = list(pool.map(block, starts))
    else:
        found = [block(b0) for b0 in starts]
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    return (
        np.concatenate([f[0] for f in found]),
        np.concatenate([f[1] for f in found]),
        np.concatenate([f[2] for f in found]),
    )


def _top_per_row(
    rows: np.ndarray, cols: np.ndarray, sims: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's k best (highest sim, ties: smaller col), sorted by (row, -sim, col); (row, col) distinct."""
    if len(rows) == 0:
        return rows, cols, sims
    r0, c0 = int(rows.min()), int(cols.min())
    rbits, cbits = (int(rows.max()) - r0).bit_length(), (int(cols.max()) - c0).bit_length()
    if sims.dtype == np.float32 and rbits + 31 + cbits <= 63 and (sims.view(np.int32) >= 0).all():
        # One integer sort of (row, -sim, col) packed in 63 bits (a non-negative float's bits order like the
        # float): several times faster than lexsort, and the key gives back all three.
        key = np.sort(
            (rows - r0) << (31 + cbits) | (0x7FFFFFFF - sims.view(np.int32).astype(np.int64)) << cbits | (cols - c0)
        )
        rows = (key >> (31 + cbits)) + r0
        sims = (0x7FFFFFFF - ((key >> cbits) & 0x7FFFFFFF)).astype(np.int32).view(np.float32)
        cols = (key & ((1 << cbits) - 1)) + c0
    else:
        order = np.lexsort((cols, -sims, rows))
        rows, cols, sims = rows[order], cols[order], sims[order]
    starts = run_starts(rows).nonzero()[0]
    rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    top = rank < k
    return rows[top], cols[top], sims[top]


def row_dots(x: sp.csr_matrix, i: np.ndarray, j: np.ndarray, chunk: int = 1 << 18) -> np.ndarray:
    """x[i] · x[j] for each pair, in chunks (only the pairs asked for are touched)."""
    out = np.empty(len(i), dtype=np.float32)
    for c0 in range(0, len(i), chunk):
        a, b = x[i[c0 : c0 + chunk]], x[j[c0 : c0 + chunk]]
        out[c0 : c0 + chunk] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    return out


def cluster_members(lab: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The members of the clusters ids (sorted, distinct; lab[i] the cluster of item i), cluster after
    cluster and each in index order, and how many each cluster has."""
    pos = np.full(len(lab), -1, dtype=np.int64)
    pos[ids] = np.arange(len(ids))
    at = pos[lab]
    members = (at >= 0).nonzero()[0]
    at = at[members]
    return members[sorted_order(at)], np.bincount(at, minlength=len(ids))


def members_matrix(lab: np.ndarray, ids: np.ndarray) -> sp.csr_matrix:
    """Cluster × item ones: row k holds the members of cluster ids[k] (ids sorted, distinct; lab[i] the
    cluster of item i), in index order, so a product with it sums each cluster's rows in that order."""
    members, counts = cluster_members(lab, ids)
    indptr = np.concatenate(([0], counts.cumsum()))
    return sp.csr_matrix((np.ones(len(members), dtype=np.float32), members, indptr), shape=(len(ids), len(lab)))


def sorted_order(keys: np.ndarray) -> np.ndarray:
    """argsort of non-negative integer keys, ties by position. When keys and positions fit in 63 bits
    together it is one sort of the keys packed with their positions: several times faster than argsort."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    shift = max(1, (len(keys) - 1).bit_length())
    if int(keys.max()).bit_length() + shift > 63:
        return np.argsort(keys, kind="stable")
    packed = np.left_shift(keys, shift, dtype=np.int64)
    for a in range(0, len(keys), 1 << 20):  # positions a piece at a time: no second array as long as the keys
        packed[a : a + (1 << 20)] |= np.arange(a, min(len(keys), a + (1 << 20)), dtype=np.int64)
    packed.sort()
    packed &= (1 << shift) - 1
    return packed


def run_starts(a: np.ndarray) -> np.ndarray:
    """Whether each element of `a` starts a run of equal values (`np.r_[True, a[1:] != a[:-1]]` for a
    non-empty `a`, at a fraction of the cost: clustering asks tens of thousands of times a build)."""
    out = np.empty(len(a), dtype=bool)
    if len(a):
        out[0] = True
        np.not_equal(a[1:], a[:-1], out=out[1:])
    return out


def unique_sorted(keys: np.ndarray) -> np.ndarray:
    """np.unique of integers, by sorting (numpy's hash table is tens of times slower on large int64 keys)."""
    s = np.sort(keys)
    return s[run_starts(s)]


def unique_inverse(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(codes, return_inverse=True) for non-negative integers, by sorting the codes packed with
    their positions (numpy's argsort is several times slower)."""
    shift = max(1, (len(codes) - 1).bit_length()) if len(codes) else 1
    if len(codes) == 0 or int(codes.max()).bit_length() + shift > 63:
        found, inverse = np.unique(codes, return_inverse=True)
        return found, inverse.ravel()
    key = np.sort(codes << shift | np.arange(len(codes)))
    order, sorted_codes = key & ((1 << shift) - 1), key >> shift
    first = run_starts(sorted_codes)
    inverse = np.empty(len(codes), dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return sorted_codes[first], inverse


def specific(
    x: sp.csr_matrix,
    hours: np.ndarray,
    window: float,
    max_density: int,
    links: int,
    link_weight: float,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """`x` without the entries of terms that are common around the item's time: a term carried by more
    than `max_density` other items within `window` hours either side ("London", "facial", an excerpt's
    boilerplate) says little about which event an item reports, and comparing every pair that shares one
    is what makes the cost grow with the square of the news density. The kept entries are the candidate
    evidence; the similarity of a candidate pair is still computed on all of its terms.

    A burst of coverage of one big event makes its own names common ("Flappy Bird" on a hundred items in
    three days), so a common term that weighs at least `link_weight` in an item still links the item to the
    `links` items carrying it just before (pairs (earlier, later), as sorted codes later * len(x) + earlier):
    a chain through the burst, at a cost bounded by `links` per entry rather than by the density."""
    xt = x.T.tocsr()
    xt.sort_indices()
    # Whole seconds (hours are whole seconds / 3600): an item exactly `window` away counts the same in any
    # corpus, whatever the term's column and the corpus's span (floats rounded by their magnitude).
    seconds = np.rint(hours * 3600.0).astype(np.int64)
    span = int(window * 3600)
    base = int(seconds.min()) - span - 1 if len(seconds) else 0
    stride = int(seconds.max()) - base + span + 1 if len(seconds) else 1
    dense = np.zeros(xt.nnz, dtype=bool)
    n = max(1, x.shape[0])
    linked: list[np.ndarray] = []
    # Term by term, in the term's own entries (the stride keeps terms apart, so this is the search over all
    # of them, in a fraction of the time and memory); a term on at most max_density + 1 items is never dense.
    for t in (np.diff(xt.indptr) > max_density + 1).nonzero()[0].tolist():
        a, b = int(xt.indptr[t]), int(xt.indptr[t + 1])
        items = xt.indices[a:b]
        key = t * stride + (seconds[items] - base)
        lo = np.searchsorted(key, key - span, side="left")
        common = np.searchsorted(key, key + span, side="right") - lo - 1 > max_density
        dense[a:b] = common
        pos = (common & (xt.data[a:b] >= link_weight)).nonzero()[0]
        for d in range(1, links + 1):
            p = pos[pos - d >= lo[pos]]  # an earlier occurrence of the same term within the window
            linked.append(items[p].astype(np.int64) * n + items[p - d])
    codes = np.concatenate(linked) if linked else np.zeros(0, dtype=np.int64)
    del linked
    codes.sort()
    xt.data[dense] = 0
    xt.eliminate_zeros()
    return xt.T.tocsr(), codes


def topic_masks(topics: Sequence[tuple[str, ...]]) -> np.ndarray:
    """Each topic tuple as a 64-bit mask, computed once per distinct tuple; OR them (np.bitwise_or.reduceat)
    for the topics of several articles together."""
    distinct = set(topics)
    # A topic's bit comes from its name alone, so it is the same in any corpus (the stream's resume
    # compares runs); topics beyond 64 share bits, which only loosens the block.
    ids = {t: zlib.crc32(t.encode()) % 64 for ts in distinct for t in ts}
    mask = {ts: sum({1 << ids[t] for t in ts}) for ts in distinct}
    return np.fromiter(map(mask.__getitem__, topics), dtype=np.uint64, count=len(topics))


def compatible(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two items may be one event unless both carry topics and share none: a story file's topics are an
    editor's filing, and different filings are strong evidence of different news. Items without topics
    (related items of a story file) are unconstrained."""
    return (a == 0) | (b == 0) | ((a & b) != 0)
