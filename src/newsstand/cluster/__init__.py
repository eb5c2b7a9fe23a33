"""Group articles into stories: one story per news event, grown as a stream of reports.

The steps, each in its own module:
1. wire copies and syndicated duplicates collapse into one Coverage entry, a "report" (copies);
2. each report becomes a unit vector over its headline's terms (and, a little, its excerpt's, names
   more), each term weighted by its rarity among the reports near it in time (text);
3. each report's most alike earlier reports within the window come from sparse products, never from
   all pairs (candidates);
4. in time order, each report joins the open story it matches best, or starts one (stream).
Every knob is in params.ClusterParams. Measured on labelled headlines, on the seeds and at 100k stories
by bench/bench_cluster.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import chain, repeat
from operator import attrgetter

import numpy as np
import scipy.sparse as sp

from ..digest import content_digest
from ..model import Article, Coverage
from .candidates import candidate_pairs, topic_masks, unique_sorted
from .copies import copy_groups
from .params import DEFAULT, ClusterParams
from .stream import Log, Reports, Resume, run
from .text import term_rows, weigh

Cluster = tuple[Coverage, ...]
Partition = tuple[tuple[tuple[str, ...], ...], ...]  # clusters → entries → article keys (the original first)

__all__ = ["DEFAULT", "Cluster", "ClusterParams", "Partition", "cluster", "cluster_input", "clusters_from", "partition"]


def reports(
    articles: Sequence[Article],
    params: ClusterParams = DEFAULT,
    jobs: int = 1,
) -> tuple[list[Coverage], Reports, list[bytes]]:
    """The articles (sorted by key) as reports in time order, what the stream reads of them, and a
    fingerprint of that for each report."""
    arts = list(articles)
    groups = copy_groups(arts, timedelta(hours=params.window_hours))
    members, starts, firsts = groups.members, groups.starts, groups.firsts
    first_list = firsts.tolist()
    heads = [arts[i] for i in first_list]
    seconds = np.fromiter((int(a.published.timestamp()) for a in heads), dtype=np.int64, count=len(heads))
    hours = seconds / 3600.0
    rows, term_hashes = term_rows([groups.headlines[i] for i in first_list], [a.excerpt for a in heads], stripped=True)
    x = weigh(rows, seconds, params.df_hours)
    del rows
    entries = groups.entries(arts)
    del groups
    topics = np.bitwise_or.reduceat(topic_masks([a.topics for a in arts])[members], starts[:-1])
    entry_of = np.empty(len(arts), dtype=np.int64)
    entry_of[members] = np.repeat(np.arange(len(heads), dtype=np.int64), np.diff(starts))
    ei, ej, es = candidate_pairs(x, hours, params.window_hours, params.neighbours, params.min_pair, topics, jobs)
    ri, rj = _related_pairs(arts, entry_of)
    close = hours[rj] - hours[ri] <= params.window_hours
    ri, rj = ri[close], rj[close]
    pi, pj = np.concatenate([ei, ri]), np.concatenate([ej, rj])
    ps = np.concatenate([es, np.zeros(len(ri), dtype=es.dtype)])
    pb = np.concatenate([np.zeros(len(ei)), np.full(len(ri), params.related_bonus)])
    order = np.lexsort((pi, pj))
    r = Reports(x, seconds, hours, topics, _outlets(entries), pi[order], pj[order], ps[order], pb[order])
    return entries, r, _fingerprints(entries, r, term_hashes)


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _fingerprints(entries: Sequence[Coverage], r: Reports, term_hashes: np.ndarray) -> list[bytes]:
    """For each report, a digest of everything a step reads of it: time, terms (by their text) and
    weights, topics, outlets, and its candidate pairs (partner by key, cosine, bonus). Two runs whose
    reports have equal fingerprints decide them alike (stream.Resume)."""
    keys = np.fromiter((_hash64(e.article.key) for e in entries), dtype=np.uint64, count=len(entries))
    cuts = np.searchsorted(r.pj, np.arange(len(entries) + 1)).tolist()
    ptr = r.x.indptr.tolist()
    terms, weights = term_hashes[r.x.indices], r.x.data
    partners = keys[r.pi]
    out = []
    for j, e in enumerate(entries):
        h = hashlib.blake2b(digest_size=16)
        h.update(f"{e.article.key}\x00{r.seconds[j]}\x00{r.topics[j]}\x00{sorted(e.providers)}".encode())
        a, b = ptr[j], ptr[j + 1]
        h.update(terms[a:b].tobytes())
        h.update(weights[a:b].tobytes())
        a, b = cuts[j], cuts[j + 1]
        h.update(partners[a:b].tobytes())
        h.update(r.ps[a:b].tobytes())
        h.update(r.pb[a:b].tobytes())
        out.append(h.digest())
    return out


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


def cluster(
    articles: Sequence[Article],
    *,
    params: ClusterParams = DEFAULT,
    jobs: int = 1,
) -> tuple[Cluster, ...]:
    """Partition `articles` into clusters; deterministic whatever the input order and the number of `jobs`
    (threads for the candidate search).

    Entries within a cluster are sorted by article key, clusters by their first entry's key.
    """
    if not articles:
        return ()
    return cluster_stream(articles, params=params, jobs=jobs)[0]


@dataclass(frozen=True, slots=True)
class StreamState:
    """What a run of the stream leaves for the next one to resume from, by article key (indices move when
    reports come and go): each report's key, day and fingerprint in time order, the story each joined,
    each story's last report (hours), and the merges by day."""

    params: ClusterParams
    keys: tuple[str, ...]
    days: tuple[int, ...]
    fingerprints: tuple[bytes, ...]
    joined: tuple[str, ...]
    last: Mapping[str, float]
    merges: Mapping[int, tuple[tuple[str, str], ...]]


def cluster_stream(
    articles: Sequence[Article],
    *,
    params: ClusterParams = DEFAULT,
    jobs: int = 1,
    last: StreamState | None = None,
) -> tuple[tuple[Cluster, ...], StreamState, int]:
    """`cluster`, resuming from the `last` run's state where it can; also the state this run leaves, and
    how many day steps it ran. The clusters are those `cluster` gives: a run decides alike whatever it
    resumes from."""
    arts = sorted(articles, key=attrgetter("key"))
    entries, r, prints = reports(arts, params, jobs) if arts else ([], None, [])
    keys = [e.article.key for e in entries]
    if r is None:
        return (), StreamState(params, (), (), (), (), {}, {}), 0
    resume = _resume(last, params, keys, prints, r) if last is not None else None
    log, ran = run(r, params, resume)
    labels = log.labels()
    joined_keys = [keys[c] for c in log.joined.tolist()]
    ends: dict[str, float] = {}
    for i, c in enumerate(log.joined.tolist()):
        ends[keys[c]] = float(r.hours[i])
    for day in sorted(log.merges):
        for keep, gone in log.merges[day]:
            ends[keys[keep]] = max(ends[keys[keep]], ends[keys[gone]])
    # Plain dicts: the state is pickled into the cache.
    state = StreamState(
        params,
        tuple(keys),
        tuple(r.days.tolist()),
        tuple(prints),
        tuple(joined_keys),
        ends,
        {d: tuple((keys[a], keys[b]) for a, b in m) for d, m in log.merges.items()},
    )
    return _clusters(entries, labels), state, ran


def _resume(
    last: StreamState, params: ClusterParams, keys: Sequence[str], prints: Sequence[bytes], r: Reports
) -> Resume | None:
    """The last run's state in this run's indices, or None if it cannot be resumed from."""
    if last.params != params or not len(last.keys) == len(last.days) == len(last.fingerprints) == len(last.joined):
        return None
    at = {k: i for i, k in enumerate(keys)}
    unknown = iter(range(-2, -2 - len(last.keys) - 1, -1))
    label = {k: at[k] if k in at else next(unknown) for k in dict.fromkeys(last.joined)}
    for m in last.merges.values():
        for a, b in m:
            for k in (a, b):
                if k not in label:
                    label[k] = at[k] if k in at else next(unknown)
    joined = np.full(len(keys), -1, dtype=np.int64)
    changed = np.ones(len(keys), dtype=bool)
    gone = []
    for k, day, fp, c in zip(last.keys, last.days, last.fingerprints, last.joined, strict=True):
        i = at.get(k)
        if i is None:
            gone.append((label[c], day))
            continue
        joined[i] = label[c]
        changed[i] = prints[i] != fp
    ends = {label[k]: t for k, t in last.last.items() if k in label}
    merges = {d: tuple((label[a], label[b]) for a, b in m) for d, m in last.merges.items()}
    return Resume(Log(joined, merges), ends, changed, tuple(gone))


def _clusters(entries: Sequence[Coverage], labels: np.ndarray) -> tuple[Cluster, ...]:
    keys = np.array([e.article.key for e in entries], dtype=object)
    order = sorted(range(len(entries)), key=lambda i: (int(labels[i]), keys[i]))
    out: dict[int, list[Coverage]] = {}
    for i in order:
        out.setdefault(int(labels[i]), []).append(entries[i])
    return tuple(sorted((tuple(c) for c in out.values()), key=lambda c: c[0].article.key))


def cluster_input(articles: Sequence[Article]) -> str:
    """A digest of every field clustering reads (the same function of the same articles gives the same
    clusters): an edit that changes none of them, as a story file re-fetched with new heat or a new body,
    can reuse the last build's clusters instead of clustering again."""
    return content_digest(
        [
            (a.key, a.title, a.excerpt, a.published, a.topics, a.related, a.pick, a.lead, a.quality, a.provider)
            for a in sorted(articles, key=attrgetter("key"))
        ]
    )


def partition(clusters: Sequence[Cluster]) -> Partition:
    """The clusters as article keys: small to keep, and free of the articles' other fields."""
    return tuple(tuple(tuple(a.key for a in e.articles) for e in c) for c in clusters)


def clusters_from(keys: Partition, articles: Sequence[Article]) -> tuple[Cluster, ...] | None:
    """The clusters `keys` names, made of `articles`; None if they do not name exactly these articles."""
    by_key = {a.key: a for a in articles}
    try:
        out = tuple(tuple(Coverage(by_key[e[0]], tuple(map(by_key.__getitem__, e[1:]))) for e in c) for c in keys)
    except (KeyError, IndexError, TypeError):
        return None
    return out if sum(len(e) for c in keys for e in c) == len(by_key) else None


def _related_pairs(arts: Sequence[Article], entry_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry pairs (i < j, sorted) linked by a story file's `related` list (either direction), as candidate
    pairs; entry_of[k] is the entry of arts[k]."""
    where = dict(zip(map(attrgetter("key"), arts), range(len(arts)), strict=True))
    related = list(map(attrgetter("related"), arts))
    src = np.repeat(
        np.arange(len(arts), dtype=np.int64), np.fromiter(map(len, related), dtype=np.int64, count=len(arts))
    )
    dst = np.fromiter(map(where.get, chain.from_iterable(related), repeat(-1)), dtype=np.int64, count=len(src))
    found = dst >= 0
    i, j = entry_of[src[found]], entry_of[dst[found]]
    apart = i != j
    i, j = i[apart], j[apart]
    n = len(entry_of)
    codes = unique_sorted(np.minimum(i, j) * n + np.maximum(i, j))
    return codes // n, codes % n
