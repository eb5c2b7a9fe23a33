"""Agglomeration: grow stories by merging the clusters whose centroids are most alike.

Centroid linkage (cosine of the sums of the members' unit vectors) avoids chaining: A~B and B~C do not
glue A to C unless the story as a whole resembles C. The greedy "merge the best pair, repeat" order is
run in parallel rounds: every cluster finds its best candidate, and reciprocal best pairs merge (the
classic reciprocal-nearest-neighbour scheme, exact for reducible linkages and close for this one). Candidates are the
pairs of clusters joined by at least one candidate pair of items, so nothing is compared all-to-all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .candidates import compatible, members_matrix, run_starts, sorted_order, unique_sorted
from .semantic import Semantic

UNSHARED = 0.6  # two clusters each with more than this share of their centroid's weight on terms the other
UNSHARED_SIZE = 10  # lacks, both of at least this many items, do not merge (see _centroid_dots); 5 before: see
# ClusterParams (a story of 5-9 headlines still says little its larger partner lacks; UCI F1 0.840 -> 0.844)
ATTACH_RATIO = 5  # ... if at most a fifth of its size: two events of like size are two stories, not a fragment
TABLE_CELLS = 1 << 21  # cells (rows × terms) of the lookup table of `_shared_terms`: 8 MB of int32, stays in cache
CHUNK_ENTRIES = 1 << 18  # entries `_shared_terms` looks up (and lays out) at a time: bounds its temporaries
MIN_TABLE_ROWS = 64  # ... with a dense table only if it holds this many rows of the vocabulary
_BATCH = 1 << 16  # members (or rows) `_Centroids` sums (or moves) at a time: bounds its temporary arrays


@dataclass(frozen=True, slots=True)
class Items:
    """What agglomeration needs to know about the items, all indexed alike (rows sorted by time)."""

    x: sp.csr_matrix  # unit TF-IDF rows
    hours: np.ndarray  # float64 publication time
    topics: np.ndarray  # uint64 topic masks (0: none)
    outlets: sp.csr_matrix  # item × provider one-hot (an entry with copies has several)
    outlet_penalty: float  # subtracted when two clusters already carry the same outlet
    # Subtracted per day that two clusters' mean report times lie apart beyond the grace (ClusterParams).
    time_penalty: float = 0.0
    time_grace_hours: float = 0.0
    semantic: Semantic | None = None  # the items' headline embeddings, blended into the score


def _per_cluster(m: sp.csr_matrix, lab: np.ndarray, ids: np.ndarray) -> sp.csr_matrix:
    """The rows of `m` summed per cluster, for the clusters `ids` (sorted, distinct), row k for ids[k].
    A sparse product with the member lists (members in index order), so float32 and in that order."""
    assign = members_matrix(lab, ids)
    return (assign @ m).tocsr()


class _Centroids:
    """Each cluster's unit centroid, computed when first compared and kept until the cluster grows: a big
    story meets new partners round after round, but changes only in the rounds it merges.

    Rows sit in flat arrays (a row per cluster id: start, length), appended to as clusters change; when the
    arrays are full, the rows still current move to the front."""

    def __init__(self, x: sp.csr_matrix) -> None:
        n = x.shape[0]
        self.x = x
        self.start = np.zeros(n, dtype=np.int64)
        self.length = np.zeros(n, dtype=np.int64)
        self.ready = np.zeros(n, dtype=bool)
        self.indices = np.zeros(max(1, x.nnz), dtype=x.indices.dtype)
        self.data = np.zeros(max(1, x.nnz), dtype=np.float32)
        self.used = 0

    def changed(self, ids: np.ndarray) -> None:
        self.ready[ids] = False

    def need(self, lab: np.ndarray, size: np.ndarray, p: np.ndarray, q: np.ndarray) -> None:
        """Compute the centroids of the clusters in p and q that are not ready, a batch of members at a time
        (at once, the temporaries of a round's hundreds of thousands of new centroids took 150 MB)."""
        missing = np.zeros(len(lab), dtype=bool)
        missing[p] = True
        missing[q] = True
        missing &= ~self.ready
        ids = missing.nonzero()[0]
        members = size[ids].cumsum()
        lo = 0
        while lo < len(ids):
            hi = max(lo + 1, int(np.searchsorted(members, members[lo] - size[ids[lo]] + _BATCH, side="right")))
            self._add(lab, size, ids[lo:hi])
            lo = hi

    def _add(self, lab: np.ndarray, size: np.ndarray, ids: np.ndarray) -> None:
        # A single item's sum is its row, as the product below lays it out (in reverse): no product needed.
        alone, grown = ids[size[ids] == 1], ids[size[ids] > 1]
        sums = _per_cluster(self.x, lab, grown)
        row_start = self.x.indptr[alone].astype(np.int64)
        alone_len = self.x.indptr[alone + 1] - row_start
        backwards = ranges(row_start, alone_len)
        backwards = np.repeat(row_start + row_start + alone_len - 1, alone_len) - backwards
        grown_len = np.diff(sums.indptr).astype(np.int64)
        more = len(sums.data) + len(backwards)
        self._room(more)
        self.start[grown] = self.used + sums.indptr[:-1]
        self.start[alone] = self.used + len(sums.data) + alone_len.cumsum() - alone_len
        self.length[grown] = grown_len
        self.length[alone] = alone_len
        self.ready[ids] = True
        end = self.used + more
        self.indices[self.used : end] = np.concatenate([sums.indices, self.x.indices[backwards]])
        self.data[self.used : end] = _unit_rows(
            np.concatenate([sums.data, self.x.data[backwards]]), np.concatenate([grown_len, alone_len])
        )
        self.used = end

    def _room(self, more: int) -> None:
        """Make room for `more` entries at the end: move the live rows to the front (in place, a batch at a
        time), and grow the arrays only if that is not enough."""
        if self.used + more <= len(self.data):
            return
        keep = self.ready.nonzero()[0]
        keep = keep[sorted_order(self.start[keep])]  # moving rows forward in order never overwrites a later one
        new_start = self.length[keep].cumsum() - self.length[keep]
        live = int(new_start[-1] + self.length[keep[-1]]) if len(keep) else 0
        if live + more > len(self.data):
            size = (live + more) * 3 // 2
            self.indices = np.concatenate([self.indices, np.zeros(size - len(self.data), dtype=self.indices.dtype)])
            self.data = np.concatenate([self.data, np.zeros(size - len(self.data), dtype=np.float32)])
        for a in range(0, len(keep), _BATCH):
            rows = keep[a : a + _BATCH]
            entries = ranges(self.start[rows], self.length[rows])
            at = int(new_start[a])
            self.indices[at : at + len(entries)] = self.indices[entries]
            self.data[at : at + len(entries)] = self.data[entries]
        self.start[keep] = new_start
        self.used = live


def _unit_rows(data: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The rows (`data`, row after row) scaled to unit length, exactly as text.normalize_rows does
    it for rows with unsorted indices (scipy then sums the squares in the reverse of each row's order)."""
    end = length.cumsum()
    backwards = data[np.repeat(end + end - length - 1, length) - np.arange(len(data))]
    squares = backwards * backwards
    norms = np.zeros(len(length), dtype=np.float32)
    full = length.nonzero()[0]
    if len(full):
        norms[full] = np.add.reduceat(squares, (end - length)[full])
    scale = 1.0 / np.maximum(np.sqrt(norms.astype(np.float64)), 1e-12)
    return (data * np.repeat(scale, length)).astype(np.float32)


def _centroid_dots(cent: _Centroids, lab: np.ndarray, p: np.ndarray, q: np.ndarray, size: np.ndarray) -> np.ndarray:
    """cos(centroid p, centroid q) for each pair of cluster ids."""
    cent.need(lab, size, p, q)
    # Two sizeable clusters that each carry much the other lacks are two events sharing a theme ("licence
    # plate readers" reported by Baidu in Moscow and by Facebook in London), however alike that theme makes
    # their centroids: a term consistent across a cluster weighs a lot in its centroid, so `unshared` (the
    # squared weight of a centroid on terms absent from the other) measures what one event says that the
    # other never does. A fragment of a story says little the story lacks, so it still joins.
    sizeable = (size[p] >= UNSHARED_SIZE) & (size[q] >= UNSHARED_SIZE)
    dot, shared_p, shared_q = _overlap(cent, p, q, sizeable)
    dots = dot.astype(np.float64)
    check = ((dots > 0) & sizeable).nonzero()[0]
    if len(check):
        # Rows are unit vectors: the weight a centroid puts on terms the other lacks is 1 - its shared weight.
        ua, ub = 1.0 - shared_p[check], 1.0 - shared_q[check]
        dots[check[np.minimum(ua, ub) > UNSHARED]] = -1.0
    return dots


def _overlap(
    cent: _Centroids, p: np.ndarray, q: np.ndarray, sizeable: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pair of clusters (p[k], q[k]): the dot product of their centroids and, where `sizeable[k]`,
    each centroid's squared weight on the terms of the other (float32, 0 where not computed).

    The sums run in the order and precision of scipy's elementwise products of the rows, which this
    replaces (float32, pairwise; over the shared terms, the dot in the reverse of p's stored order, each
    squared weight in its own row's stored order), so that a pair at the threshold is judged as before."""
    dot = np.zeros(len(p), dtype=np.float32)
    shared_p = np.zeros(len(p), dtype=np.float32)
    shared_q = np.zeros(len(p), dtype=np.float32)
    data = cent.data
    p_shorter = cent.length[p] <= cent.length[q]
    for probe_is_p in (True, False):
        pick = (p_shorter == probe_is_p).nonzero()[0]
        probe, partner = (p[pick], q[pick]) if probe_is_p else (q[pick], p[pick])
        for ks, pair, e_probe, e_partner in _shared_terms(cent, probe, partner):
            at = pick[ks]
            counts = np.bincount(pair, minlength=len(ks))
            probe_val, partner_val = data[e_probe], data[e_partner]
            # The shared terms come in the probe row's order; the partner row's order is a sort away.
            reorder = _RowOrder(cent, partner[ks], pair, e_partner)
            products = probe_val * partner_val
            dot[at] = _sums(products if probe_is_p else reorder(products), counts, backwards=True)
            if sizeable[at].any():
                probe_sq, partner_sq = probe_val * probe_val, reorder(partner_val * partner_val)
                shared_p[at] = _sums(probe_sq if probe_is_p else partner_sq, counts)
                shared_q[at] = _sums(partner_sq if probe_is_p else probe_sq, counts)
    shared_p[~sizeable] = 0
    shared_q[~sizeable] = 0
    return dot, shared_p, shared_q


def _sums(values: np.ndarray, counts: np.ndarray, backwards: bool = False) -> np.ndarray:
    """Sums of consecutive runs of `values`, counts[k] of them for run k (0 for none), as np.add.reduceat
    adds them (float32, pairwise); `backwards`: each run summed from its end."""
    out = np.zeros(len(counts), dtype=values.dtype)
    ends = counts.cumsum()
    full = counts.nonzero()[0]
    if len(full) == 0:
        return out
    if backwards:
        # Reversing the values reverses each run, and the order of the runs.
        out[full[::-1]] = np.add.reduceat(values[::-1].copy(), (ends[-1] - ends[full])[::-1])
    else:
        out[full] = np.add.reduceat(values, (ends - counts)[full])
    return out


class _RowOrder:
    """Reorders values given one per entry (entry[k] in row rows[pair[k]], ascending `pair`) by pair, then
    by place in the row: a counting sort over a slot for each entry of each pair's row, unless the rows are
    too long for the entries (then a sort). The order is worked out once, for as many values as needed."""

    def __init__(self, cent: _Centroids, rows: np.ndarray, pair: np.ndarray, entry: np.ndarray) -> None:
        length = cent.length[rows]
        offset = length.cumsum() - length - cent.start[rows]  # each pair's own slots, as many as its row
        self.slot = offset[pair] + entry
        self.slots = int(length.sum())
        self.order: np.ndarray | None = None
        self.taken: np.ndarray | None = None

    def __call__(self, values: np.ndarray) -> np.ndarray:
        if self.order is None and self.taken is None:
            if self.slots > 4 * len(values) + 4096:
                self.order = sorted_order(self.slot)
            else:
                taken = np.zeros(self.slots, dtype=bool)
                taken[self.slot] = True
                self.taken = taken.nonzero()[0]
        if self.order is not None:
            return values[self.order]
        spread = np.empty(self.slots, dtype=values.dtype)
        spread[self.slot] = values
        return spread[self.taken]


def _shared_terms(
    cent: _Centroids, probe: np.ndarray, partner: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The terms that the centroids of clusters probe[k] and partner[k] share, a chunk of pairs at a time:
    (ks, pair, e_probe, e_partner), ks the chunk's pair indices and, for each shared term, its pair (a
    position in ks) and its entries in the two rows (indices into cent.data); by pair in ks order, then in
    the probe row's order.

    Merging two sparse rows costs the length of both, and a long row (a big story's centroid) meets many
    short ones: instead the probe rows (the shorter) are looked up in the partner rows of the chunk, each
    distinct partner laid out once: in a dense table (row in chunk, term) -> entry while that table stays
    small for many rows, else (a vocabulary of hundreds of thousands of terms) as sorted (row, term) keys.
    So the cost follows the shorter rows."""
    n_pairs = len(probe)
    if n_pairs == 0:
        return
    start, length, indices = cent.start, cent.length, cent.indices
    width = max(1, cent.x.shape[1])
    order = sorted_order(partner)
    partner = partner[order]
    new_row = run_starts(partner)
    local = new_row.cumsum() - 1  # the pair's partner row among the distinct ones
    probe_len = length[probe[order]]
    probe_end = probe_len.cumsum()
    # Rows a chunk lays out: as many as fit the table, or (sorted keys) as many entries as are looked up.
    dense = TABLE_CELLS // width >= MIN_TABLE_ROWS
    table = np.zeros(min(TABLE_CELLS // width, int(local[-1]) + 1) * width if dense else 0, dtype=np.int32)
    row_limit = np.searchsorted(local, local + TABLE_CELLS // width) if dense else None
    partner_end = np.cumsum(np.where(new_row, length[partner], 0))
    lo = 0
    while lo < n_pairs:
        if row_limit is not None:
            hi = int(row_limit[lo])
        else:
            hi = int(np.searchsorted(partner_end, partner_end[lo] + CHUNK_ENTRIES, side="right"))
        hi = max(
            lo + 1,
            min(hi, int(np.searchsorted(probe_end, probe_end[lo] - probe_len[lo] + CHUNK_ENTRIES, side="right"))),
        )
        ks = order[lo:hi]
        first = new_row[lo:hi].copy()
        first[0] = True
        rows = partner[lo:hi][first]
        row_len = length[rows]
        entries = ranges(start[rows], row_len)
        cells = np.repeat(np.arange(0, len(rows) * width, width, dtype=np.int64), row_len) + indices[entries]
        lens = probe_len[lo:hi]
        probes = ranges(start[probe[ks]], lens)
        pair = np.repeat(np.arange(hi - lo), lens)
        wanted = np.repeat((local[lo:hi] - local[lo]) * width, lens) + indices[probes]
        if dense:
            table[cells] = np.arange(1, len(cells) + 1, dtype=np.int32)
            hit = table[wanted]
            table[cells] = 0
            found = hit.nonzero()[0]
            at = hit[found] - 1
        else:
            by_cell = sorted_order(cells)
            cells = cells[by_cell]
            at = np.minimum(np.searchsorted(cells, wanted), len(cells) - 1)
            found = (cells[at] == wanted).nonzero()[0]
            at = by_cell[at[found]]
        yield ks, pair[found], probes[found], entries[at]
        lo = hi


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenated ranges [starts[k], starts[k] + lengths[k]), int64."""
    ends = lengths.cumsum()
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(starts - ends + lengths, lengths) + np.arange(total, dtype=np.int64)


def _shared_outlets(outlets: sp.csr_matrix, lab: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Whether clusters p and q already carry coverage from one outlet: one outlet rarely covers one
    event twice, so that is evidence of two events."""
    ids = unique_sorted(np.concatenate([p, q]))
    per = _per_cluster(outlets, lab, ids)
    return np.asarray(per[np.searchsorted(ids, p)].multiply(per[np.searchsorted(ids, q)]).sum(axis=1)).ravel() > 0


def _collapse(n: int, p: np.ndarray, q: np.ndarray, es: np.ndarray, bonus: np.ndarray) -> tuple[np.ndarray, ...]:
    """Unique cluster pairs (p < q, sorted) from item or cluster pairs, with the best item cosine and bonus
    (a pair is related-linked if any of its item pairs is)."""
    codes = np.minimum(p, q) * n
    codes += np.maximum(p, q)
    order = sorted_order(codes)
    codes = codes[order]
    first = run_starts(codes)
    codes = codes[first]
    es, bonus = es[order], bonus[order]
    del order
    best_es = np.maximum(es[first], 0).astype(np.float32)
    best_bonus = np.maximum(bonus[first], 0).astype(np.float64)
    # Most pairs come once: each pair's first value, then the repeats folded in (reduceat would pay a call
    # per pair).
    again = (~first).nonzero()[0]
    if len(again):
        group = (first.cumsum() - 1)[again]
        np.maximum.at(best_es, group, es[again])
        np.maximum.at(best_bonus, group, bonus[again])
    lo = codes // n
    codes -= lo * n
    return lo, codes, best_es, best_bonus


def _scores(
    items: Items,
    cent: _Centroids,
    lab: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    es: np.ndarray,
    bonus: np.ndarray,
    tmin: np.ndarray,
    tmax: np.ndarray,
    tsum: np.ndarray,
    tbits: np.ndarray,
    max_span: float,
    size: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Merge score of each cluster pair (p, q): centroid cosine plus bonus, -inf when not allowed; and
    whether the pair spans too long a time (it stays so: clusters only grow)."""
    far = np.maximum(tmax[p], tmax[q]) - np.minimum(tmin[p], tmin[q]) > max_span
    allowed = ~far & compatible(tbits[p], tbits[q])
    score = es.astype(np.float64)
    # Two single items: their centroid cosine is the item cosine the candidate search already computed. Most
    # pairs of grown clusters are no longer allowed (span, topics): their centroids are never compared.
    grown = ((size[p] > 1) | (size[q] > 1)) & allowed
    if grown.any():
        score[grown] = _centroid_dots(cent, lab, p[grown], q[grown], size)
    if items.semantic is not None:
        score[allowed] = items.semantic.blend(score[allowed], lab, p[allowed], q[allowed])
    score += bonus
    if items.time_penalty:
        gap = np.abs(tsum[p] / size[p] - tsum[q] / size[q]) - items.time_grace_hours
        score -= items.time_penalty / 24.0 * np.maximum(gap, 0.0)
    if items.outlet_penalty:
        score -= items.outlet_penalty * _shared_outlets(items.outlets, lab, p, q)
    score[~allowed] = -np.inf
    return score, far


def agglomerate(
    items: Items,
    ei: np.ndarray,
    ej: np.ndarray,
    es: np.ndarray,
    bonus: np.ndarray,
    threshold: float,
    max_span: float,
    attach_below: int,
    attach_threshold: float,
    attach_hours: float = np.inf,
    max_rounds: int = 100,
    initial: np.ndarray | None = None,
) -> np.ndarray:
    """Cluster label of each item (the smallest item index of its cluster).

    The candidate graph is kept at the level of clusters (a cluster goes by its label), and a round
    recomputes the scores of the pairs touching a cluster that changed in the round before (they come
    last, from `fresh` on); the others keep theirs."""
    n = items.x.shape[0]
    ids = np.arange(n, dtype=np.int64)
    lab = ids.copy()
    size = np.ones(n, dtype=np.int64)
    tmin, tmax, tbits = items.hours.copy(), items.hours.copy(), items.topics.copy()
    tsum = items.hours.copy()
    if initial is not None:  # clusters to start from, each labelled by its smallest item index
        lab = initial.astype(np.int64, copy=True)
        size = np.bincount(lab, minlength=n)
        tsum = np.bincount(lab, weights=items.hours, minlength=n)
        np.minimum.at(tmin, lab, items.hours)
        np.maximum.at(tmax, lab, items.hours)
        np.bitwise_or.at(tbits, lab, items.topics)
        ei, ej = lab[ei], lab[ej]
        apart = ei != ej
        ei, ej, es, bonus = ei[apart], ej[apart], es[apart], bonus[apart]
    cent = _Centroids(items.x)
    p, q, es, bonus = _collapse(n, ei, ej, es, bonus)
    score, far = np.empty(len(p)), np.zeros(len(p), dtype=bool)
    fresh = 0
    for _ in range(max_rounds + 1):
        score[fresh:], far[fresh:] = _scores(
            items, cent, lab, p[fresh:], q[fresh:], es[fresh:], bonus[fresh:], tmin, tmax, tsum, tbits, max_span, size
        )
        ok = (score >= threshold).nonzero()[0]
        if len(ok) == 0 or _ == max_rounds:
            break
        target = _merge_targets(_best(n, p[ok], q[ok], score[ok]))
        moved = (target != ids).nonzero()[0]
        if len(moved) == 0:
            break
        into = target[moved]
        if items.semantic is not None:
            items.semantic.merged(moved, into, size)
        lab = target[lab]
        size = np.bincount(lab, minlength=n)
        # Fold each merged cluster's time span and topics into the id it now goes by.
        np.minimum.at(tmin, into, tmin[moved])
        np.maximum.at(tmax, into, tmax[moved])
        np.add.at(tsum, into, tsum[moved])
        np.bitwise_or.at(tbits, into, tbits[moved])
        cent.changed(moved)
        cent.changed(into)
        changed = np.zeros(n, dtype=bool)
        changed[into] = True
        p, q = target[p], target[q]
        # A pair spanning too long a time never merges: it is dropped for good.
        live = (p != q) & ~far
        dirty = changed[p] | changed[q]
        clean = (live & ~dirty).nonzero()[0]
        d = (live & dirty).nonzero()[0]
        dp, dq, des, dbonus = _collapse(n, p[d], q[d], es[d], bonus[d])
        p, q = np.concatenate([p[clean], dp]), np.concatenate([q[clean], dq])
        es, bonus = np.concatenate([es[clean], des]), np.concatenate([bonus[clean], dbonus])
        score, far = (
            np.concatenate([score[clean], np.empty(len(dp))]),
            np.concatenate([far[clean], np.zeros(len(dp), dtype=bool)]),
        )
        fresh = len(clean)
    return _attach(lab, p, q, score, size, attach_below, attach_threshold, tsum / np.maximum(size, 1), attach_hours)


def _best(n: int, p: np.ndarray, q: np.ndarray, score: np.ndarray) -> np.ndarray:
    """best[c]: the candidate with the highest score for cluster c (ties: the smaller id), or -1."""
    top = np.full(n, -np.inf)
    np.maximum.at(top, p, score)
    np.maximum.at(top, q, score)
    best = np.full(n, n, dtype=np.int64)
    hit = (score == top[p]).nonzero()[0]
    np.minimum.at(best, p[hit], q[hit])
    hit = (score == top[q]).nonzero()[0]
    np.minimum.at(best, q[hit], p[hit])
    best[best == n] = -1
    return best


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
    lab: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    score: np.ndarray,
    size: np.ndarray,
    attach_below: int,
    attach_threshold: float,
    mean_hours: np.ndarray,
    attach_hours: float,
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
    ok &= np.abs(mean_hours[src] - mean_hours[dst]) <= attach_hours
    src, dst, s = src[ok], dst[ok], s[ok]
    if len(src) == 0:
        return lab
    best = _best_directed(n, src, dst, s)
    target = np.arange(n)
    has = best >= 0
    target[has] = best[has]
    return target[lab]
