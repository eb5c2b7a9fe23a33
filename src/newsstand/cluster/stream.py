"""The stream: stories grown a day at a time, in time order, from the reports of the last few days and the
stories still open.

This is how news aggregators cluster (Miranda et al., "Multilingual Clustering of Streaming News", 2018):
reports arrive in time order and join the live story they match best, or start one. A story stops taking
reports `window_hours` after its last one, and no story spans more than `max_span_hours`.

Each step is one UTC day s. The reports of days s - hold_days .. s ("held": not decided yet) are grouped
afresh by centroid linkage (cluster.agglomerate), together with the open stories, which start as they
are and may merge. Then the reports of day s - hold_days are decided: they join their stories for good.
Holding a report a few days is what an editor does with the first report of an event: alone, it looks
like the older story that shares its place or its "thing" (a one-report-at-a-time stream glued the two,
B-cubed precision 0.78 on the synthetic 10k corpus); two days later its own follow-ups are there, and the
reports of one event find each other first (0.95 with two days held).

Every decision is logged (`Log`): the story each report joined when decided, and the merges of open
stories each step made. Step s reads only the reports of days up to s and the open stories, so a run can
resume from the last run's log (`run(..., resume=...)`): from the first day whose reports differ, until
every report that differs is decided and every story that differs is closed; from there on the last
run's decisions stand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .agglomerate import Items, agglomerate
from .candidates import run_starts, unique_inverse
from .params import ClusterParams
from .semantic import for_step

DAY = 86400


@dataclass(frozen=True, slots=True)
class Reports:
    """What the stream reads of each report (a Coverage entry), indexed alike, in time order."""

    x: sp.csr_matrix  # unit term vectors (cluster.text.weigh), columns by their terms' hashes
    seconds: np.ndarray  # int64 Unix time
    hours: np.ndarray  # the same in float64 hours
    topics: np.ndarray  # uint64 topic masks (0: none)
    outlets: sp.csr_matrix  # report × outlet one-hot (an entry with copies has several)
    # Candidate pairs (i < j), sorted by j then i: cosine, and the bonus of a related link.
    pi: np.ndarray
    pj: np.ndarray
    ps: np.ndarray
    pb: np.ndarray
    emb: np.ndarray | None = None  # float16 headline embeddings (cluster.semantic.rows); None: the signal is off

    @property
    def days(self) -> np.ndarray:
        return self.seconds // DAY


Merge = tuple[int, int]  # (survivor, absorbed): story labels, each the index of the story's first report


@dataclass(frozen=True, slots=True)
class Log:
    """Each report's decision: the story it joined (as that story's label, the index of its first report;
    its own index when it started one); and the merges of open stories, by the day of the step."""

    joined: np.ndarray  # int64
    merges: Mapping[int, tuple[Merge, ...]]

    def labels(self) -> np.ndarray:
        """The story of each report once every merge is done, as the index of the story's first report."""
        return _labels(self.joined, (m for _, m in sorted(self.merges.items())))


def _labels(joined: np.ndarray, merges: Iterable[tuple[Merge, ...]]) -> np.ndarray:
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


@dataclass(frozen=True, slots=True)
class Resume:
    """The last run, in this run's indices: `old` its log (a label the last run had and this run has not
    is a number below -1; a report new in this run joined -1), `last` the time of each of its stories'
    last report (hours, by label), `changed` whether each report of this run differs from the last run's
    (new, or with other inputs), and `gone` the labels and days of the last run's reports this run has not."""

    old: Log
    last: Mapping[int, float]
    changed: np.ndarray  # bool
    gone: tuple[tuple[int, int], ...] = ()  # (label in the last run, day)


@dataclass(slots=True)
class _Open:
    """The stories still taking reports: each one's decided reports (ascending) and its last report's time;
    and, for the headline meaning, the sum of a story's embeddings over its first so many members, carried
    from step to step (see `meaning_sums`)."""

    members: dict[int, np.ndarray] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)
    sums: dict[int, tuple[int, np.ndarray]] = field(default_factory=dict)

    def close_before(self, hour: float) -> None:
        for c in [c for c, t in self.last.items() if t < hour]:
            del self.last[c], self.members[c]
            self.sums.pop(c, None)

    def clear(self) -> None:
        self.members.clear()
        self.last.clear()
        self.sums.clear()

    def merge(self, keep: int, gone: int) -> None:
        """Story `gone` joins `keep`: their members interleave, so neither sum runs on in member order."""
        self.members[keep] = np.concatenate([self.members[keep], self.members.pop(gone)])
        self.last[keep] = max(self.last[keep], self.last.pop(gone))
        self.sums.pop(keep, None)
        self.sums.pop(gone, None)

    def meaning_sums(self, emb: np.ndarray, labels: list[int]) -> tuple[list[int], list[np.ndarray]]:
        """The summed embeddings (float64) of the stories `labels` known from earlier steps, brought up to
        their members now, and which stories those are (by position in `labels`). A story's sum at a step is
        its members' rows added one after the other in index order (semantic.for_step); decided reports
        only ever join after a story's members, so the sum of the step before runs on with them, to the
        same bits. Recomputed every step, these sums were a tenth of clustering 100k stories."""
        at, rows = [], []
        for k, c in enumerate(labels):
            got = self.sums.get(c)
            if got is None:
                continue
            count, total = got
            members = self.members[c]
            if count < len(members):
                total = np.add.reduce(np.vstack([total, emb[members[count:]].astype(np.float64)]), axis=0) + 0.0
                self.sums[c] = (len(members), total)
            at.append(k)
            rows.append(total)
        return at, rows

    def remember_sums(self, labels: list[int], carried: list[int], sums: np.ndarray, rows: list[int]) -> None:
        """Keep the summed embeddings of the stories `labels` not `carried` (by position), which this step
        made: story labels[k]'s is sums[rows[k]], taken before the step's merges add to it."""
        known = set(carried)
        for k, c in enumerate(labels):
            if k not in known:
                self.sums[c] = (len(self.members[c]), sums[rows[k]].copy())


def steps(days: np.ndarray, hold: int) -> list[int]:
    """The days a step runs on: every day with reports and the `hold` days after it."""
    have = np.unique(days)
    return np.unique((have[:, None] + np.arange(hold + 1)).ravel()).tolist() if len(have) else []


def run(r: Reports, p: ClusterParams, resume: Resume | None = None) -> tuple[Log, int]:
    """The stream over `r`: its log, and how many steps it ran (the others' decisions came from `resume`)."""
    n = r.x.shape[0]
    days = r.days
    joined = np.full(n, -1, dtype=np.int64)
    merges: dict[int, tuple[Merge, ...]] = {}
    live = _Open()
    plan = steps(days, p.hold_days)
    ran = 0
    first = 0
    if resume is not None:
        changed_days = {*days[resume.changed].tolist(), *(day for _, day in resume.gone)}
        if not changed_days:
            return resume.old, 0
        start = min(changed_days)
        first = int(np.searchsorted(plan, start))
        # Everything decided before the first step that differs stands as the last run decided it.
        decided = int(np.searchsorted(days, start - p.hold_days))
        joined[:decided] = resume.old.joined[:decided]
        merges.update((d, m) for d, m in resume.old.merges.items() if d < start)
        _reopen(r, p, joined, merges, decided, start, live)
        ahead = sorted(changed_days)  # the days whose reports differ, from the first
        dirty: dict[int, float] = {}  # stories that may differ from the last run's → their last report's time
        gone: dict[int, set[int]] = {}  # day → the last run's stories that had a report of it this run has not
        for c, day in resume.gone:
            gone.setdefault(day, set()).add(c)
    k = first
    while k < len(plan):
        s = plan[k]
        lo, b = np.searchsorted(days, [s - p.hold_days, s + 1]).tolist()
        upto = int(np.searchsorted(days, s - p.hold_days + 1))
        h0 = (s - p.hold_days) * 24.0
        if resume is not None:
            while ahead and ahead[0] < s - p.hold_days:
                ahead.pop(0)
            for c in [c for c, t in dirty.items() if t < h0 - p.window_hours]:
                del dirty[c]
            if not dirty and not (ahead and ahead[0] <= s):
                # Every open story and every report up to the next that differs is the last run's: so are
                # the steps until then, which read nothing else.
                until = ahead[0] if ahead else math.inf
                end = int(np.searchsorted(days, until - p.hold_days)) if ahead else len(days)
                joined[lo:end] = resume.old.joined[lo:end]
                merges.update((d, m) for d, m in resume.old.merges.items() if s <= d < until)
                if not ahead:
                    return Log(joined, merges), ran
                live.clear()
                _reopen(r, p, joined, merges, end, int(until), live)
                k = int(np.searchsorted(plan, until))
                continue
        _step(r, p, s, lo, upto, b, live, joined, merges)
        ran += 1
        if resume is not None:
            old_step = resume.old.merges.get(s, ())
            now = merges.get(s, ())
            differ = {
                c
                for a, o in zip(joined[lo:upto].tolist(), resume.old.joined[lo:upto].tolist(), strict=True)
                if a != o
                for c in (a, o)
            }
            differ |= {c for m in set(now) ^ set(old_step) for c in m}
            differ |= set(joined[lo:upto][resume.changed[lo:upto]].tolist()) | gone.get(s - p.hold_days, set())
            differ |= {keep for keep, gone in (*now, *old_step) if gone in dirty}
            for c in differ - {-1}:
                dirty[c] = max(dirty.get(c, -math.inf), resume.last.get(c, -math.inf))
            for c in dirty:
                if c in live.last:
                    dirty[c] = max(dirty[c], live.last[c])
        k += 1
    return Log(joined, merges), ran


def _step(
    r: Reports,
    p: ClusterParams,
    s: int,
    lo: int,
    upto: int,
    b: int,
    live: _Open,
    joined: np.ndarray,
    merges: dict[int, tuple[Merge, ...]],
) -> None:
    """Day s: group the held reports lo..b-1 afresh with the open stories, which may merge; then decide the
    reports lo..upto-1 (the oldest held day)."""
    live.close_before((s - p.hold_days) * 24.0 - p.window_hours)
    if b == lo:
        return
    open_labels = sorted(live.members)
    members = [live.members[c] for c in open_labels]
    in_stories = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)
    sub = np.concatenate([in_stories, np.arange(lo, b, dtype=np.int64)])
    sub.sort()
    initial = np.arange(len(sub), dtype=np.int64)
    # Each open story's members start labelled by the story (its first report), all stories at once.
    initial[np.searchsorted(sub, in_stories)] = np.repeat(np.searchsorted(sub, open_labels), list(map(len, members)))
    plo, phi = np.searchsorted(r.pj, [lo, b])
    pi = r.pi[plo:phi]
    at = np.searchsorted(sub, pi)
    ok = (at < len(sub)) & (sub[np.minimum(at, len(sub) - 1)] == pi)
    x = r.x[sub]
    # The step's own terms alone, in the same order: small lookup tables, and the same sums.
    terms, cols = unique_inverse(x.indices.astype(np.int64))
    x = sp.csr_matrix((x.data, cols.astype(np.int32).ravel(), x.indptr), shape=(len(sub), max(1, len(terms))))
    meaning = None
    if r.emb is not None:
        local = np.searchsorted(sub, open_labels).tolist()
        carried, sums = live.meaning_sums(r.emb, open_labels)
        meaning = for_step(r.emb[sub], initial, p, [local[k] for k in carried], sums)
        live.remember_sums(open_labels, carried, meaning.sums, local)
    items = Items(
        x,
        r.hours[sub],
        r.topics[sub],
        r.outlets[sub],
        p.same_outlet_penalty,
        p.time_penalty,
        p.time_grace_hours,
        meaning,
    )
    out = agglomerate(
        items,
        at[ok],
        np.searchsorted(sub, r.pj[plo:phi][ok]),
        r.ps[plo:phi][ok],
        r.pb[plo:phi][ok],
        threshold=day_threshold(p, r.pj[plo:phi], r.ps[plo:phi]),
        max_span=p.max_span_hours,
        attach_below=p.attach_below,
        attach_threshold=p.attach_threshold,
        attach_hours=p.attach_hours,
        initial=initial,
    )
    # A story goes by its first decided report; held reports are never a label, as they may yet move.
    decided = (sub < upto).nonzero()[0]
    first = np.full(len(sub), len(sub), dtype=np.int64)
    np.minimum.at(first, out[decided], decided)
    labels = np.asarray(open_labels, dtype=np.int64)
    lead = sub[first[out[np.searchsorted(sub, labels)]]]  # the story each open one is part of now
    gone = (lead != labels).nonzero()[0]
    step = tuple(zip(lead[gone].tolist(), labels[gone].tolist(), strict=True))
    if step:
        merges[s] = step
    for keep, absorbed in step:
        live.merge(keep, absorbed)
    if upto > lo:
        new = np.arange(lo, upto)
        joined[lo:upto] = sub[first[out[np.searchsorted(sub, new)]]]
        # The day's decided reports by the story they joined (in index order within each).
        order = np.argsort(joined[lo:upto], kind="stable")
        stories = joined[lo:upto][order]
        cuts = run_starts(stories).nonzero()[0].tolist()
        joining = dict(zip(stories[cuts].tolist(), np.split(new[order], cuts[1:]), strict=True))
        for keep, _ in step:
            joining.setdefault(keep, new[:0])
        for c, mine in joining.items():
            live.members[c] = np.sort(np.concatenate([live.members.get(c, mine[:0]), mine]))
            live.last[c] = max(live.last.get(c, -math.inf), float(r.hours[live.members[c][-1]]))


def day_threshold(p: ClusterParams, pj: np.ndarray, ps: np.ndarray) -> float:
    """The merge threshold of a step, from the candidate pairs of its held reports (pj sorted): how alike
    each held report is to its best earlier candidate sets the scale (see ClusterParams.relative_threshold)."""
    if not p.relative_threshold or len(pj) == 0:
        return p.threshold
    cuts = run_starts(pj).nonzero()[0]
    best = np.maximum.reduceat(ps.astype(np.float64), cuts)
    return max(p.threshold, p.relative_threshold * float(np.percentile(best, p.relative_quantile)))


def _reopen(
    r: Reports,
    p: ClusterParams,
    joined: np.ndarray,
    merges: Mapping[int, tuple[Merge, ...]],
    decided: int,
    start: int,
    live: _Open,
) -> None:
    """The stories open at the start of step `start`, from the decisions of the reports before `decided`."""
    if decided == 0:
        return
    labels = _labels(joined[:decided], (m for _, m in sorted(merges.items())))
    since = (start - p.hold_days) * 24.0 - p.window_hours
    order = np.argsort(labels, kind="stable")
    cuts = run_starts(labels[order]).nonzero()[0]
    for a, b in zip(cuts.tolist(), [*cuts[1:].tolist(), decided], strict=True):
        members = order[a:b]  # ascending: a stable sort of ascending indices
        t = float(r.hours[members[-1]])
        if t >= since:
            c = int(labels[members[0]])
            live.members[c] = members.astype(np.int64)
            live.last[c] = t
