"""The stream: stories grown a day at a time, in time order, each day's reports joining the stories
still open or starting their own.

This is how news aggregators cluster (Miranda et al., "Multilingual Clustering of Streaming News", 2018):
reports arrive in time order and join the live story they match best. A story stops taking reports
`window_hours` after its last one. Each day's reports are grouped together with the open stories (kept as
they are, as starting clusters) by centroid linkage (cluster.agglomerate): the reports of one event that
came the same day find each other before they are compared with an older story that shares a place or a
thing, which a report-by-report stream cannot do (its first report would be glued to whatever was open);
and a report that matches two open stories may show that they are one event, which then merge into the
older one.

Every day's decision is logged (`Log`): the story each report joined and the merges. A run can resume at
any day: the stories open there are rebuilt from the last run's log (a story is its members: centroids are
summed from them in index order, so bit for bit), the stream goes on from there, and once past the reports
whose inputs changed it stops as soon as no story that differs from the last run's is open, taking the last
run's log for the rest (`run` with `Resume`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .agglomerate import Items, agglomerate
from .params import ClusterParams


@dataclass(frozen=True, slots=True)
class Reports:
    """What the stream reads of each report (a Coverage entry), indexed alike, in time order."""

    x: sp.csr_matrix  # unit term vectors (cluster.text.weigh)
    seconds: np.ndarray  # int64 Unix time
    topics: np.ndarray  # uint64 topic masks (0: none)
    outlets: sp.csr_matrix  # report × outlet one-hot (an entry with copies has several)
    # Candidate pairs (i < j), sorted by j: cosine, and the bonus of a related link.
    pi: np.ndarray
    pj: np.ndarray
    ps: np.ndarray
    pb: np.ndarray

    @property
    def hours(self) -> np.ndarray:
        return self.seconds / 3600.0

    def days(self) -> list[tuple[int, int]]:
        """The reports of each UTC day, as index ranges."""
        day = self.seconds // 86400
        cuts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]]) if len(day) else np.zeros(0, dtype=np.int64)
        bounds = np.r_[cuts, len(day)].tolist()
        return list(zip(bounds[:-1], bounds[1:], strict=True))


Merge = tuple[int, int]  # (survivor, absorbed): story labels, each the index of the story's first report


@dataclass(frozen=True, slots=True)
class Log:
    """Each report's decision: the story it joined on its day (as that story's label: the index of its
    first report; its own index when it started one); and the merges of open stories each day caused, kept
    at the day's first report."""

    joined: np.ndarray  # int64
    merges: tuple[tuple[Merge, ...], ...]

    def labels(self, upto: int | None = None) -> np.ndarray:
        """The story of each report before `upto` (all by default) once the merges logged before `upto`
        are done, as the index of the story's first report."""
        end = len(self.joined) if upto is None else upto
        parent: dict[int, int] = {}
        for step in self.merges[:end]:
            for keep, gone in step:
                parent[gone] = keep
        lut = np.arange(end, dtype=np.int64)
        for gone in parent:
            root = gone
            while root in parent:
                root = parent[root]
            lut[gone] = root
        return lut[self.joined[:end]] if end else self.joined[:0].copy()


@dataclass(frozen=True, slots=True)
class Resume:
    """The last run's log, in this run's indices, and where this run may differ from it.

    Reports before `start` (the first report of a day) are the last run's, with the same inputs and
    decisions; `old` is the last run's log for every report (joined -1: a report new in this run; a label
    the last run had and this run has not is a number below -1). From `settle` on, inputs are again the
    last run's; `gone` holds the (hour, last-run label) of reports the last run had and this one has not."""

    start: int
    settle: int
    old: Log
    gone: tuple[tuple[float, int], ...] = ()


def run(r: Reports, p: ClusterParams, resume: Resume | None = None) -> tuple[Log, int]:
    """The stream over `r`: its log, and how many reports it decided (the rest came from `resume`)."""
    n = r.x.shape[0]
    hours = r.hours
    window = p.window_hours
    joined = np.full(n, -1, dtype=np.int64)
    merges: list[tuple[Merge, ...]] = [()] * n
    members: dict[int, np.ndarray] = {}  # open story → its reports, ascending
    last: dict[int, float] = {}  # open story → the time of its last report
    dirty: dict[int, float] = {}  # labels of stories that may differ from the last run's → the last time they did
    start = 0
    if resume is not None:
        start = resume.start
        joined[:start] = resume.old.joined[:start]
        merges[:start] = resume.old.merges[:start]
        _reopen(Log(joined, tuple(merges)), start, hours, window, members, last)
        for h, c in resume.gone:
            dirty[c] = max(dirty.get(c, -math.inf), h)
    for a, b in r.days():
        if b <= start:
            continue
        h0 = float(hours[a])
        for c in [c for c, t in last.items() if t < h0 - window]:  # closed: takes no more reports
            del last[c], members[c]
        if resume is not None and a >= resume.settle:
            for c in [c for c, t in dirty.items() if t < h0 - window and c not in last]:
                del dirty[c]
            if not dirty:  # every open story is the last run's, and so is every report from here on
                joined[a:] = resume.old.joined[a:]
                merges[a:] = resume.old.merges[a:]
                return Log(joined, tuple(merges)), a - start
        _day(r, p, a, b, joined, merges, members, last)
        if resume is not None:
            same = a >= resume.settle and merges[a] == resume.old.merges[a] and np.array_equal(
                joined[a:b], resume.old.joined[a:b])
            if not same:
                involved = {*joined[a:b].tolist(), *resume.old.joined[a:b].tolist(),
                            *(c for m in (*merges[a], *resume.old.merges[a]) for c in m)}
                for c in involved - {-1}:
                    dirty[c] = max(dirty.get(c, -math.inf), float(hours[b - 1]))
    return Log(joined, tuple(merges)), n - start


def _day(
    r: Reports, p: ClusterParams, a: int, b: int, joined: np.ndarray, merges: list[tuple[Merge, ...]],
    members: dict[int, np.ndarray], last: dict[int, float],
) -> None:
    """Group the reports a..b-1 (one day) with the open stories, which may merge; log and keep the result."""
    open_labels = sorted(members)
    sub = np.concatenate([*(members[c] for c in open_labels), np.arange(a, b, dtype=np.int64)])
    sub.sort()
    initial = np.arange(len(sub), dtype=np.int64)
    for c in open_labels:
        initial[np.searchsorted(sub, members[c])] = np.searchsorted(sub, c)
    lo, hi = np.searchsorted(r.pj, [a, b])
    pi, pj = r.pi[lo:hi], r.pj[lo:hi]
    at = np.searchsorted(sub, pi)
    ok = (at < len(sub)) & (sub[np.minimum(at, len(sub) - 1)] == pi)
    items = Items(r.x[sub], r.hours[sub], r.topics[sub], r.outlets[sub], p.same_outlet_penalty)
    out = agglomerate(items, at[ok], np.searchsorted(sub, pj[ok]), r.ps[lo:hi][ok], r.pb[lo:hi][ok],
                      threshold=p.threshold, max_span=p.max_span_hours, attach_below=p.attach_below,
                      attach_threshold=p.attach_threshold, initial=initial)
    first = np.full(len(sub), len(sub), dtype=np.int64)
    np.minimum.at(first, out, np.arange(len(sub)))
    label = sub[first[out]]  # each story goes by its first report
    day = np.searchsorted(sub, np.arange(a, b))
    joined[a:b] = label[day]
    step: list[Merge] = []
    for c in open_labels:
        into = int(label[np.searchsorted(sub, c)])
        if into != c:
            step.append((into, c))
    merges[a] = tuple(step)
    for keep, gone in step:
        members[keep] = np.concatenate([members[keep], members.pop(gone)])
        last[keep] = max(last[keep], last.pop(gone))
    for i, c in zip(range(a, b), joined[a:b].tolist(), strict=True):
        members.setdefault(c, np.zeros(0, dtype=np.int64))
        last[c] = max(last.get(c, -math.inf), float(r.hours[i]))
    grown = {int(c) for c in joined[a:b].tolist()} | {k for k, _ in step}
    for c in grown:
        members[c] = np.sort(np.concatenate([members[c], np.arange(a, b)[joined[a:b] == c]]))


def _reopen(log: Log, start: int, hours: np.ndarray, window: float, members: dict[int, np.ndarray],
            last: dict[int, float]) -> None:
    """The stories open at `start`, with their members, from the log of the reports before it."""
    if start == 0:
        return
    labels = log.labels(start)
    lo = int(np.searchsorted(hours[:start], float(hours[start]) - window if start < len(hours) else math.inf))
    for c in np.unique(labels[lo:start]).tolist():
        m = np.flatnonzero(labels == c)
        members[c] = m
        last[c] = float(hours[m[-1]])
