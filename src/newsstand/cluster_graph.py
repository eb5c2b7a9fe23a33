"""Candidate pairs: which items are worth comparing at all, without comparing all pairs.

Items are taken in time order and cut into blocks; each block is multiplied (sparse) only with the items
published up to `window` hours before it. A sparse product only visits pairs that share a term, and the
window bounds how many items a block meets, so the cost grows with the number of items times the
density of news per window, not with the square of the corpus. Each item keeps its `k` most similar
earlier items above `min_sim`; later items pick it in their turn, so every item sees both directions.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

BLOCK_ROWS = 2048  # rows per sparse product: big enough for BLAS-like speed, small enough for memory


def candidate_pairs(
    x: sp.csr_matrix,
    hours: np.ndarray,
    window: float,
    k: int,
    min_sim: float,
    topic_bits: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j, cosine) with i < j, |hours[i] - hours[j]| <= window, cosine >= min_sim, and topics
    that do not exclude each other (see `compatible`). `x` rows must be sorted by `hours`."""
    n = x.shape[0]
    xt = x.T.tocsr()  # term × item: slicing columns of x is slicing rows here
    out_i: list[np.ndarray] = []
    out_j: list[np.ndarray] = []
    out_s: list[np.ndarray] = []
    for b0 in range(0, n, BLOCK_ROWS):
        b1 = min(n, b0 + BLOCK_ROWS)
        lo = int(np.searchsorted(hours, hours[b0] - window, side="left"))
        prod = (x[b0:b1] @ xt[:, lo:b1]).tocoo()
        rows = prod.row.astype(np.int64) + b0
        cols = prod.col.astype(np.int64) + lo
        sims = prod.data
        keep = (cols < rows) & (sims >= min_sim) & (hours[rows] - hours[cols] <= window)
        keep[keep] = compatible(topic_bits[rows[keep]], topic_bits[cols[keep]])
        rows, cols, sims = rows[keep], cols[keep], sims[keep]
        if len(rows) == 0:
            continue
        # The k best per row: sort by (row, -sim, col) and keep each row's first k.
        order = np.lexsort((cols, -sims, rows))
        rows, cols, sims = rows[order], cols[order], sims[order]
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
        top = rank < k
        out_i.append(cols[top])
        out_j.append(rows[top])
        out_s.append(sims[top])
    if not out_i:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_s)


def topic_bits(topics: list[tuple[str, ...]]) -> np.ndarray:
    """Each item's topic set as a 64-bit mask (topics beyond 64 share bits: that only loosens the block)."""
    ids: dict[str, int] = {}
    for t in sorted({t for ts in topics for t in ts}):
        ids[t] = len(ids) % 64
    bits = np.zeros(len(topics), dtype=np.uint64)
    for i, ts in enumerate(topics):
        for t in ts:
            bits[i] |= np.uint64(1) << np.uint64(ids[t])
    return bits


def compatible(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two items may be one event unless both carry topics and share none: a story file's topics are an
    editor's filing, and different filings are strong evidence of different news. Items without topics
    (related items of a story file) are unconstrained."""
    return (a == 0) | (b == 0) | ((a & b) != 0)
