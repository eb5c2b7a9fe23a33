"""The stream: stories grown a day at a time, in time order, from the reports of the last few days and the
stories still open.

This is how news aggregators cluster (Miranda et al., "Multilingual Clustering of Streaming News", 2018):
reports arrive in time order and join the live story they match best, or start one. A story stops taking
reports `window_hours` after its last one, and no story spans more than `max_span_hours`.

Each step is one UTC day. The reports of that day and of the `hold_days` before it ("held": not decided
yet) are grouped afresh by centroid linkage (cluster.agglomerate), together with the open stories, which
start as they are and may merge. Then the reports of the oldest held day are decided: they join their
stories for good. Holding a report a few days is what an editor does with the first report of an event:
alone, it looks like the older story that shares its place or its "thing" (a one-report-at-a-time stream
glued the two, B-cubed precision 0.78 on the synthetic 10k corpus); two days later its own follow-ups are
there, and the reports of one event find each other first (0.95 with two days held).

Every decision is logged (`Log`), keyed by report index: the story each report joined when decided, and
the merges of open stories each step made, at the step's first new report. Whatever decides report i's
story is inside the window before it and `hold_days` after it, so a run can resume from the last one's
log (`stream.resume`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse as sp

from .agglomerate import Items, agglomerate
from .params import ClusterParams


@dataclass(frozen=True, slots=True)
class Reports:
    """What the stream reads of each report (a Coverage entry), indexed alike, in time order."""

    x: sp.csr_matrix  # unit term vectors (cluster.text.weigh), columns in the order of the terms' text
    seconds: np.ndarray  # int64 Unix time
    hours: np.ndarray  # the same in float64 hours
    topics: np.ndarray  # uint64 topic masks (0: none)
    outlets: sp.csr_matrix  # report × outlet one-hot (an entry with copies has several)
    # Candidate pairs (i < j), sorted by j then i: cosine, and the bonus of a related link.
    pi: np.ndarray
    pj: np.ndarray
    ps: np.ndarray
    pb: np.ndarray

    def days(self) -> list[tuple[int, int]]:
        """The reports of each UTC day that has any, as index ranges."""
        day = self.seconds // 86400
        cuts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]]) if len(day) else np.zeros(0, dtype=np.int64)
        bounds = np.r_[cuts, len(day)].tolist()
        return list(pairwise(bounds))


Merge = tuple[int, int]  # (survivor, absorbed): story labels, each the index of the story's first report


@dataclass(frozen=True, slots=True)
class Log:
    """Each report's decision: the story it joined (as that story's label, the index of its first report;
    its own index when it started one); and the merges of open stories, kept at the first report of the
    step's day."""

    joined: np.ndarray  # int64
    merges: tuple[tuple[Merge, ...], ...]

    def labels(self) -> np.ndarray:
        """The story of each report once every merge is done, as the index of the story's first report."""
        return _labels(self.joined, self.merges)


def _labels(joined: np.ndarray, merges: Sequence[tuple[Merge, ...]]) -> np.ndarray:
    parent: dict[int, int] = {}
    for step in merges:
        for keep, gone in step:
            parent[gone] = keep
    lut = np.arange(len(joined), dtype=np.int64)
    for gone in parent:
        root = gone
        while root in parent:
            root = parent[root]
        lut[gone] = root
    return lut[joined] if len(joined) else joined.copy()


@dataclass(slots=True)
class _Open:
    """The stories still taking reports: each one's decided reports (ascending) and its last report's time."""

    members: dict[int, np.ndarray]
    last: dict[int, float]

    def close_before(self, hour: float) -> None:
        for c in [c for c, t in self.last.items() if t < hour]:
            del self.last[c], self.members[c]


def run(r: Reports, p: ClusterParams) -> Log:
    """The stream over `r`, from its first report."""
    n = r.x.shape[0]
    joined = np.full(n, -1, dtype=np.int64)
    merges: list[tuple[Merge, ...]] = [()] * n
    days = r.days()
    live = _Open({}, {})
    for k in range(len(days)):
        _step(r, p, days, k, live, joined, merges)
    return Log(joined, tuple(merges))


def _step(
    r: Reports, p: ClusterParams, days: Sequence[tuple[int, int]], k: int, live: _Open, joined: np.ndarray,
    merges: list[tuple[Merge, ...]],
) -> None:
    """Day k: group the held reports (days k - hold_days .. k) afresh with the open stories, which may
    merge; then decide the oldest held day's reports (every held report, on the last day)."""
    lo, b = days[max(0, k - p.hold_days)][0], days[k][1]
    live.close_before(float(r.hours[lo]) - p.window_hours)
    upto = b if k == len(days) - 1 else days[k - p.hold_days][1] if k >= p.hold_days else lo
    open_labels = sorted(live.members)
    sub = np.concatenate([*(live.members[c] for c in open_labels), np.arange(lo, b, dtype=np.int64)])
    sub.sort()
    initial = np.arange(len(sub), dtype=np.int64)
    for c in open_labels:
        initial[np.searchsorted(sub, live.members[c])] = np.searchsorted(sub, c)
    plo, phi = np.searchsorted(r.pj, [lo, b])
    pi = r.pi[plo:phi]
    at = np.searchsorted(sub, pi)
    ok = (at < len(sub)) & (sub[np.minimum(at, len(sub) - 1)] == pi)
    x = r.x[sub]
    # The step's own terms alone, in the same order: small lookup tables, and the same sums.
    terms, cols = np.unique(x.indices, return_inverse=True)
    x = sp.csr_matrix((x.data, cols.astype(np.int32).ravel(), x.indptr), shape=(len(sub), max(1, len(terms))))
    items = Items(x, r.hours[sub], r.topics[sub], r.outlets[sub], p.same_outlet_penalty)
    out = agglomerate(items, at[ok], np.searchsorted(sub, r.pj[plo:phi][ok]), r.ps[plo:phi][ok],
                      r.pb[plo:phi][ok], threshold=p.threshold, max_span=p.max_span_hours,
                      attach_below=p.attach_below, attach_threshold=p.attach_threshold, initial=initial)
    # A story goes by its first decided report; held reports are never a label, as they may yet move.
    decided = np.flatnonzero(sub < upto)
    first = np.full(len(sub), len(sub), dtype=np.int64)
    np.minimum.at(first, out[decided], decided)
    step = tuple((int(sub[first[out[i]]]), c) for c, i in zip(open_labels, np.searchsorted(sub, open_labels).tolist(),
                                                                  strict=True) if sub[first[out[i]]] != c)
    merges[days[k][0]] = step
    for keep, gone in step:
        live.members[keep] = np.concatenate([live.members[keep], live.members.pop(gone)])
        live.last[keep] = max(live.last[keep], live.last.pop(gone))
    if upto > lo:
        new = np.arange(lo, upto)
        joined[lo:upto] = sub[first[out[np.searchsorted(sub, new)]]]
        for c in {*joined[lo:upto].tolist(), *(keep for keep, _ in step)}:
            mine = new[joined[lo:upto] == c]
            live.members[c] = np.sort(np.concatenate([live.members.get(c, mine[:0]), mine]))
            live.last[c] = max(live.last.get(c, -math.inf), float(r.hours[live.members[c][-1]]))
