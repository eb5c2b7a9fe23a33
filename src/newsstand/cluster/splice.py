"""The reports of an edited archive, spliced from the last run's: only the reports near the change are made
again.

Every input of a report's row (cluster.stream.Reports) reaches a bounded time around it: its weights the
reports within `df_hours` either side (text.weigh); its candidate pairs the reports up to `window_hours`
before it, each judged by the terms that are specific around its own time, within `window_hours` either
side (candidates.specific). So a row at time t reads only the reports in [t - L, t + F], with
F = max(window, df) and L = max(2 window, window + df), and a change to the reports in [c0, c1] moves only
the rows in [c0 - F, c1 + L]. Copies (copies.copy_groups) are the one input without that bound (a headline
repeated every few days is one chain), but they only ever group articles of one headline key: the groups of
the changed articles' keys are made again over every article carrying those keys.

So after an edit: the rows of that middle come from the reports of a slice of the archive, wide enough that
each of them sees all it reads; the rows before and after are the last run's, the pairs renumbered. Both
sides are checked on a band just outside the middle, where they must agree (a row there is out of the
change's reach and inside the slice's); if they do not, the caller makes every report again.

Sums run in column order, and columns are in the order of their terms' hashes (text.term_rows), outlets in
the order of their names: a slice and the whole archive store each row alike, and the spliced reports are
the very arrays the whole archive gives (tests/test_splice.py).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import timedelta
from itertools import pairwise

import numpy as np
import scipy.sparse as sp

from ..model import Article
from .copies import CopyGroups, copy_groups
from .params import ClusterParams
from .stream import Reports
from .text import headlines

SLACK = 3600  # seconds added to each reach: hours are floats, and a comparison at a boundary may round
BAND = 86400  # seconds of rows on each side of the middle that the slice and the last run must agree on

Keys = tuple[str, ...]  # an entry's article keys, its original first


@dataclass(frozen=True, slots=True)
class Made:
    """Reports, with what is needed to splice them: each entry's article keys, the term hash of each column
    of `reports.x` (ascending), the provider of each column of `reports.outlets` (sorted), the entry of
    each article and each entry's original (an article index), in the order of the articles they were made
    from (sorted by key)."""

    entries: tuple[Keys, ...]
    reports: Reports
    fingerprints: np.ndarray  # uint8, a row of bytes per report
    terms: np.ndarray
    outlets: tuple[str, ...]
    entry_of: np.ndarray
    originals: np.ndarray

    def groups(self) -> CopyGroups:
        """The entries as index arrays (each entry's original first, then its copies by key)."""
        n = len(self.entry_of)
        idx = np.arange(n, dtype=np.int64)
        copy = np.ones(n, dtype=bool)
        copy[self.originals] = False
        members = np.lexsort((idx, copy, self.entry_of))
        starts = np.r_[0, np.cumsum(np.bincount(self.entry_of, minlength=len(self.originals)))].astype(np.int64)
        return CopyGroups(members, starts, [])


@dataclass(frozen=True, slots=True, eq=False)
class Memo:
    """What the last run's reports were made of, kept with the stream's state: every article's key,
    digest, headline key (as a hash) and entry, by key; the reports. `remade` is how many reports that run
    made (all of them, or the slice's), for the record: it is not compared; nor is `prev`, the report each
    of these was in the memo this one was spliced from (-1: a new one), which only that run reads."""

    keys: tuple[str, ...]
    digests: tuple[str, ...]
    headlines: np.ndarray  # uint64
    entry_of: np.ndarray  # int64
    made: Made
    remade: int
    prev: np.ndarray | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Memo):
            return NotImplemented
        a, b = self.made, other.made
        return (
            self.keys == other.keys
            and self.digests == other.digests
            and _same(self.headlines, other.headlines)
            and _same(self.entry_of, other.entry_of)
            and _same(a.originals, b.originals)
            and a.entries == b.entries
            and _same(a.fingerprints, b.fingerprints)
            and _same(a.terms, b.terms)
            and a.outlets == b.outlets
            and same_reports(a.reports, b.reports)
        )

    __hash__ = None  # type: ignore[assignment]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))


def same_reports(a: Reports, b: Reports) -> bool:
    """Whether two Reports are the same arrays, of the same types (a sparse matrix: the same storage)."""
    for f in fields(Reports):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if x is None or y is None:
            if x is not y:
                return False
        elif sp.issparse(x):
            if not (sp.issparse(y) and x.shape == y.shape and x.format == y.format == "csr"):
                return False
            if not all(_same(getattr(x, g), getattr(y, g)) for g in ("indptr", "indices", "data")):
                return False
        elif not (isinstance(y, np.ndarray) and _same(x, y)):
            return False
    return True


def reaches(p: ClusterParams) -> tuple[int, int]:
    """(F, L) in seconds: a row at time t reads the reports in [t - L, t + F]."""
    w, d = p.window_hours * 3600, p.df_hours * 3600
    return math.ceil(max(w, d)) + SLACK, math.ceil(max(2 * w, w + d)) + SLACK


def splice(
    memo: Memo,
    arts: Sequence[Article],
    keys: tuple[str, ...],
    digests: Sequence[str],
    headline_hashes: Callable[[Sequence[Article]], np.ndarray],
    p: ClusterParams,
    make: Callable[[list[Article], CopyGroups, Mapping[str, np.ndarray]], Made],
) -> Memo | None:
    """The reports of `arts` (sorted by key; `keys` and `digests` theirs), spliced from the last run's `memo`, as the
    memo this run leaves; None if the last run's rows do not agree with the slice's (make them all again).
    `make` makes the reports of some articles grouped into entries (given the headline embeddings of the
    reports the last run made and this one keeps, by key), `headline_hashes` their headline keys' hashes."""
    n_old = len(memo.keys)
    if keys == memo.keys:
        old_of = np.arange(n_old, dtype=np.int64)
        changed = [i for i, (d, e) in enumerate(zip(digests, memo.digests, strict=True)) if d != e]
        gone = np.zeros(0, dtype=np.int64)
    else:
        at = dict(zip(memo.keys, range(n_old), strict=True))
        old_of = np.fromiter((at.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
        was = old_of.tolist()
        changed = [i for i, (o, d) in enumerate(zip(was, digests, strict=True)) if o < 0 or memo.digests[o] != d]
        kept = np.zeros(n_old, dtype=bool)
        kept[old_of[old_of >= 0]] = True
        gone = np.flatnonzero(~kept)
    if not changed and not len(gone):
        same = np.arange(len(memo.made.entries), dtype=np.int64)
        return Memo(keys, tuple(digests), memo.headlines, memo.entry_of, memo.made, 0, same)
    heads = np.zeros(len(keys), dtype=np.uint64)
    known = old_of >= 0
    heads[known] = memo.headlines[old_of[known]]
    heads[changed] = headline_hashes([arts[i] for i in changed])
    old_changed = np.concatenate([old_of[changed], gone])
    old_changed = old_changed[old_changed >= 0]
    # Copies group articles of one headline key only: the groups of the changed articles' keys, old and new.
    affected = np.union1d(memo.headlines[old_changed], heads[changed])
    # By sorting: numpy 2.0's lookup table for integers overflows on 64-bit hashes (OverflowError).
    mine = np.flatnonzero(np.isin(heads, affected, kind="sort"))
    window = timedelta(hours=p.window_hours)
    sub = [arts[i] for i in mine.tolist()]
    g = copy_groups(sub, window)
    m, s = g.members.tolist(), g.starts.tolist()
    new_groups = [tuple(sub[i].key for i in m[lo:hi]) for lo, hi in pairwise(s)]
    old_groups = np.unique(memo.entry_of[np.flatnonzero(np.isin(memo.headlines, affected, kind="sort"))]).tolist()
    touched = {keys[i] for i in changed} | {memo.keys[i] for i in gone.tolist()}
    was_set = {memo.made.entries[e] for e in old_groups}
    now_set = set(new_groups)
    old_out = [
        e for e in old_groups if memo.made.entries[e] not in now_set or not touched.isdisjoint(memo.made.entries[e])
    ]
    new_in = [t for t in new_groups if t not in was_set or not touched.isdisjoint(t)]
    seconds = memo.made.reports.seconds
    times = [int(seconds[e]) for e in old_out] + [_seconds(arts[bisect_left(keys, t[0])]) for t in new_in]
    if not times:
        return None
    f, reach = reaches(p)
    c0, c1 = min(times), max(times)
    m0, m1 = c0 - f, c1 + reach  # the middle: the rows the change may move
    v0, v1 = m0 - BAND, m1 + BAND
    s0, s1 = v0 - reach, v1 + f  # the slice: every report a row of the middle or a band reads
    o_s0, o_v0, a = np.searchsorted(seconds, [s0, v0, m0], side="left").tolist()
    b, o_v1, o_s1 = np.searchsorted(seconds, [m1, v1, s1], side="right").tolist()
    out = set(old_out)
    entries = [memo.made.entries[e] for e in range(o_s0, o_s1) if e not in out] + new_in
    index = {t[0]: bisect_left(keys, t[0]) for t in entries}
    entries.sort(key=lambda t: (arts[index[t[0]]].published, t[0]))
    members = sorted({bisect_left(keys, k) for t in entries for k in t})
    local = {keys[i]: j for j, i in enumerate(members)}
    slice_arts = [arts[i] for i in members]
    sizes = np.fromiter(map(len, entries), dtype=np.int64, count=len(entries))
    groups = CopyGroups(
        np.fromiter((local[k] for t in entries for k in t), dtype=np.int64, count=int(sizes.sum())),
        np.r_[0, np.cumsum(sizes)].astype(np.int64),
        headlines([x.title for x in slice_arts]),
    )
    emb = memo.made.reports.emb
    kept = [] if emb is None else [e for e in range(o_s0, o_s1) if e not in out]
    made = make(slice_arts, groups, {memo.made.entries[e][0]: emb[e] for e in kept} if emb is not None else {})
    got = made.reports.seconds
    ma = int(np.searchsorted(got, m0, side="left"))
    mb = int(np.searchsorted(got, m1, side="right"))
    sv0, sv1 = ma - (a - o_v0), mb + (o_v1 - b)
    old = memo.made
    # The slice and the last run agree outside the middle (the same entries), and on the bands their rows.
    if (
        made.entries[:ma] != old.entries[o_s0:a]
        or made.entries[mb:] != old.entries[b:o_s1]
        or not np.array_equal(made.fingerprints[sv0:ma], old.fingerprints[o_v0:a])
        or not np.array_equal(made.fingerprints[mb:sv1], old.fingerprints[b:o_v1])
        or not _ascending(made.terms)
        or not _ascending(old.terms)
    ):
        return None
    n_mid = mb - ma
    r, o = made.reports, old.reports
    x, terms = _rows([(o.x, old.terms, 0, a), (r.x, made.terms, ma, mb), (o.x, old.terms, b, len(seconds))])
    names = np.array(old.outlets, dtype=str), np.array(made.outlets, dtype=str)
    outlets, outlet_names = _rows(
        [(o.outlets, names[0], 0, a), (r.outlets, names[1], ma, mb), (o.outlets, names[0], b, len(seconds))]
    )
    # Pairs: the last run's before the middle as they are; the slice's of the middle and the last run's after
    # it renumbered (a partner of a row after the middle is out of the change's reach: it is still there).
    pa, pb_ = np.searchsorted(o.pj, [a, b]).tolist()
    qa, qb = np.searchsorted(r.pj, [ma, mb]).tolist()
    shift = a + n_mid - b
    mid_of = {t[0]: a + k for k, t in enumerate(made.entries[ma:mb])}
    remap = np.arange(len(seconds), dtype=np.int64)
    remap[b:] += shift
    inside = np.unique(o.pi[pb_:][(o.pi[pb_:] >= a) & (o.pi[pb_:] < b)]).tolist()
    moved = [mid_of.get(old.entries[i][0], -1) for i in inside]
    if -1 in moved:
        return None
    remap[inside] = moved
    s_remap = np.arange(len(got), dtype=np.int64) + (a - ma)
    reports = Reports(
        x,
        np.concatenate([o.seconds[:a], r.seconds[ma:mb], o.seconds[b:]]),
        np.concatenate([o.hours[:a], r.hours[ma:mb], o.hours[b:]]),
        np.concatenate([o.topics[:a], r.topics[ma:mb], o.topics[b:]]),
        outlets,
        np.concatenate([o.pi[:pa], s_remap[r.pi[qa:qb]], remap[o.pi[pb_:]]]),
        np.concatenate([o.pj[:pa], s_remap[r.pj[qa:qb]], o.pj[pb_:] + shift]),
        np.concatenate([o.ps[:pa], r.ps[qa:qb], o.ps[pb_:]]),
        np.concatenate([o.pb[:pa], r.pb[qa:qb], o.pb[pb_:]]),
        None if o.emb is None or r.emb is None else np.concatenate([o.emb[:a], r.emb[ma:mb], o.emb[b:]]),
    )
    # Each article's entry: the last run's, moved past the middle; the slice's for the middle's articles.
    entry_of = np.full(len(keys), -1, dtype=np.int64)
    last_entry = memo.entry_of[old_of[known]]
    entry_of[known] = np.where(last_entry >= b, last_entry + shift, np.where(last_entry >= a, -1, last_entry))
    theirs = made.entry_of
    middle = (theirs >= ma) & (theirs < mb)
    entry_of[np.asarray(members, dtype=np.int64)[middle]] = theirs[middle] + (a - ma)
    if (entry_of < 0).any():
        return None
    # Each entry's original: outside the middle the last run's, renumbered as the articles now are.
    new_of = np.full(n_old, -1, dtype=np.int64)
    new_of[old_of[known]] = np.flatnonzero(known)
    originals = np.concatenate(
        [
            new_of[old.originals[:a]],
            np.asarray(members, dtype=np.int64)[made.originals[ma:mb]],
            new_of[old.originals[b:]],
        ]
    )
    if (originals < 0).any():
        return None
    # The report each report was in the last run: the same index before the middle, shifted after it.
    before = {t[0]: i for i, t in enumerate(old.entries[a:b], a)}
    prev = np.concatenate(
        [
            np.arange(a, dtype=np.int64),
            np.fromiter((before.get(t[0], -1) for t in made.entries[ma:mb]), dtype=np.int64, count=n_mid),
            np.arange(b, len(seconds), dtype=np.int64),
        ]
    )
    spliced = Made(
        (*old.entries[:a], *made.entries[ma:mb], *old.entries[b:]),
        reports,
        np.concatenate([old.fingerprints[:a], made.fingerprints[ma:mb], old.fingerprints[b:]]),
        terms,
        tuple(outlet_names.tolist()),
        entry_of,
        originals,
    )
    return Memo(keys, tuple(digests), heads, entry_of, spliced, len(got), prev)


def _seconds(a: Article) -> int:
    return int(a.published.timestamp())


def _ascending(a: np.ndarray) -> bool:
    """Strictly: two terms of one hash cannot be told apart across a splice."""
    return bool((a[1:] > a[:-1]).all())


def _rows(parts: Sequence[tuple[sp.csr_matrix, np.ndarray, int, int]]) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rows lo..hi of each matrix, one under the other, their columns labelled (each matrix's labels
    sorted): the columns of the result are the labels its rows use, sorted, and with them its labels."""
    used = []
    for m, labels, lo, hi in parts:
        cols = m.indices[m.indptr[lo] : m.indptr[hi]]
        used.append(labels[np.bincount(cols, minlength=len(labels))[: len(labels)] > 0])
    union = np.unique(np.concatenate(used)) if used else np.zeros(0)
    data, indices, counts = [], [], []
    for m, labels, lo, hi in parts:
        at = np.searchsorted(union, labels).astype(np.int32) if len(labels) else np.zeros(0, dtype=np.int32)
        a, b = m.indptr[lo], m.indptr[hi]
        data.append(m.data[a:b])
        indices.append(at[m.indices[a:b]])
        counts.append(np.diff(m.indptr[lo : hi + 1]))
    indptr = np.r_[0, np.cumsum(np.concatenate(counts))]
    shape = (len(indptr) - 1, max(1, len(union)))
    out = sp.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr), shape=shape)
    return out, union
