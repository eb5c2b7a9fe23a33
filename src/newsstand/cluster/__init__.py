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
from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import chain, compress, pairwise, repeat
from operator import attrgetter, lt, ne
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp

from ..digest import content_digest
from ..model import Article, Coverage
from . import semantic
from .agglomerate import ranges
from .candidates import candidate_pairs, run_starts, topic_masks, unique_sorted
from .copies import CopyGroups, copy_groups, headline_keys
from .params import DEFAULT, ClusterParams
from .splice import Made, Memo, splice
from .stream import Log, Reports, Resume, run
from .text import rare_title_words, term_rows, weigh

Cluster = tuple[Coverage, ...]

FINGERPRINT = 16  # bytes of each report's fingerprint (_fingerprints)
_BLOCK = 1 << 14  # reports `_fingerprints` digests at a time

__all__ = ["DEFAULT", "Cluster", "ClusterParams", "cluster", "cluster_input", "clusters_of"]


def reports(
    articles: Sequence[Article],
    params: ClusterParams = DEFAULT,
    jobs: int = 1,
) -> tuple[list[Coverage], Reports, list[bytes]]:
    """The articles (sorted by key) as reports in time order, what the stream reads of them, and a
    fingerprint of that for each report."""
    arts = list(articles)
    made = _made(arts, copy_groups(arts, timedelta(hours=params.window_hours)), params, jobs)
    return made.groups().entries(arts), made.reports, made.fingerprints


def _made(
    arts: Sequence[Article],
    groups: CopyGroups,
    params: ClusterParams,
    jobs: int,
    known: Mapping[str, np.ndarray] = MappingProxyType({}),
) -> Made:
    """The reports of `arts` (sorted by key) grouped into `groups`, with what splicing them needs; `known`
    holds the headline embeddings of reports made before, by their original's key (the embedding is a
    function of the headline alone: a report made again around an edit need not be embedded again)."""
    members, starts, firsts = groups.members, groups.starts, groups.firsts
    first_list = firsts.tolist()
    heads = [arts[i] for i in first_list]
    seconds = np.fromiter((int(a.published.timestamp()) for a in heads), dtype=np.int64, count=len(heads))
    hours = seconds / 3600.0
    rows, term_hashes, named = term_rows(
        [groups.headlines[i] for i in first_list], [a.excerpt for a in heads], stripped=True
    )
    x = weigh(rows, seconds, params.df_hours)
    rare = rare_title_words(rows, named, seconds, params.df_hours, params.rare_df) if params.rare_bonus else None
    del rows
    entries = groups.entries(arts)
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
    del ei, ej, es, ri, rj  # each array of pairs once at a time: at 100k stories, two million pairs
    if rare is not None and len(pi):
        # Two reports whose headlines share a name that hardly any other report around carries.
        shared = np.asarray(rare[pi].multiply(rare[pj]).sum(axis=1)).ravel() > 0
        pb = pb + params.rare_bonus * shared
    del rare
    order = np.lexsort((pi, pj))
    pi, pj, ps, pb = pi[order], pj[order], ps[order], pb[order]
    del order
    outlets, names = _outlets(entries)
    emb = semantic.rows([groups.headlines[i] for i in first_list], params, [known.get(a.key) for a in heads])
    r = Reports(x, seconds, hours, topics, outlets, pi, pj, ps, pb, emb)
    prints = _fingerprints(entries, r, term_hashes)
    del entries
    m, s = members.tolist(), starts.tolist()
    keys = tuple(tuple(arts[i].key for i in m[a:b]) for a, b in pairwise(s))
    return Made(keys, r, prints, term_hashes, names, entry_of, firsts)


def _memo(arts: Sequence[Article], digests: Sequence[str], params: ClusterParams, jobs: int) -> Memo:
    """Every report made from nothing, as a memo to splice the next run's from."""
    groups = copy_groups(arts, timedelta(hours=params.window_hours))
    hashes = np.fromiter(map(_hash64, groups.keys), dtype=np.uint64, count=len(arts))
    groups = groups.originals_only()
    made = _made(arts, groups, params, jobs)
    return Memo(tuple(map(_KEY, arts)), tuple(digests), hashes, made.entry_of, made, len(made.entries))


def _headline_hashes(arts: Sequence[Article]) -> np.ndarray:
    """The hash of each article's headline key: the articles that may be copies of one another share it."""
    keys = headline_keys([a.title for a in arts])[0]
    return np.fromiter(map(_hash64, keys), dtype=np.uint64, count=len(arts))


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _fingerprints(entries: Sequence[Coverage], r: Reports, term_hashes: np.ndarray) -> np.ndarray:
    """For each report, a digest of everything a step reads of it: time, terms (by their text) and
    weights, topics, outlets, and its candidate pairs (partner by key, cosine, bonus). Two runs whose
    reports have equal fingerprints decide them alike (stream.Resume)."""
    keys = np.fromiter((_hash64(e.article.key) for e in entries), dtype=np.uint64, count=len(entries))
    out = np.zeros((len(entries), FINGERPRINT), dtype=np.uint8)
    digest = hashlib.blake2b
    # A block of reports at a time: their terms and partners gathered whole for the archive were 100 MB.
    for j0 in range(0, len(entries), _BLOCK):
        j1 = min(j0 + _BLOCK, len(entries))
        cuts = np.searchsorted(r.pj, np.arange(j0, j1 + 1))
        p0, p1 = int(cuts[0]), int(cuts[-1])
        ptr = r.x.indptr[j0 : j1 + 1].astype(np.int64)
        x0, x1 = int(ptr[0]), int(ptr[-1])
        # Each report's numbers laid out one after the other, field after field, in 4-byte words, so that
        # one call digests them: (values, each report's first value among them) per field. The headline
        # embedding, a row of its own already, is digested from where it is.
        fields = [
            (term_hashes[r.x.indices[x0:x1]], ptr - x0),
            (r.x.data[x0:x1], ptr - x0),
            (keys[r.pi[p0:p1]], cuts - p0),
            (r.ps[p0:p1], cuts - p0),
            (r.pb[p0:p1], cuts - p0),
        ]
        words = [np.ascontiguousarray(values).view(np.uint32) for values, _ in fields]
        base = np.cumsum([0] + [len(w) for w in words[:-1]])
        per = [values.itemsize // 4 for values, _ in fields]
        starts = np.stack([base[f] + first[:-1] * per[f] for f, (_, first) in enumerate(fields)], 1)
        lengths = np.stack([np.diff(first) * per[f] for f, (_, first) in enumerate(fields)], 1)
        laid = memoryview(np.concatenate(words)[ranges(starts.ravel(), lengths.ravel())].view(np.uint8))
        ends = np.concatenate([[0], 4 * lengths.sum(axis=1).cumsum()]).tolist()
        meaning, row = None, 0
        if r.emb is not None:
            meaning, row = memoryview(np.ascontiguousarray(r.emb[j0:j1]).view(np.uint8).ravel()), r.emb[0].nbytes
        terms, partners = np.diff(ptr).tolist(), np.diff(cuts).tolist()
        seconds, topics = r.seconds[j0:j1].tolist(), r.topics[j0:j1].tolist()
        digests = []
        for k, e in enumerate(entries[j0:j1]):
            # The counts make the layout unambiguous.
            head = f"{e.article.key}\x00{seconds[k]}\x00{topics[k]}\x00{sorted(e.providers)}"
            h = digest(f"{head}\x00{terms[k]}\x00{partners[k]}".encode(), digest_size=FINGERPRINT)
            h.update(laid[ends[k] : ends[k + 1]])
            if meaning is not None:
                h.update(meaning[k * row : (k + 1) * row])
            digests.append(h.digest())
        out[j0:j1] = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(j1 - j0, FINGERPRINT)
    return out


def _outlets(entries: Sequence[Coverage]) -> tuple[sp.csr_matrix, tuple[str, ...]]:
    """Entry × provider one-hot: the outlets carrying each entry; and the provider of each column. Columns
    in the order of the providers' names, the same in any corpus (see splice)."""
    providers = [e.providers for e in entries]
    names = tuple(sorted({p for ps in providers for p in ps}))
    ids = dict(zip(names, range(len(names)), strict=True))
    rows = np.repeat(np.arange(len(entries), dtype=np.int64), [len(ps) for ps in providers])
    cols = np.fromiter((ids[p] for ps in providers for p in ps), dtype=np.int64, count=len(rows))
    data = np.ones(len(rows), dtype=np.float32)
    m = sp.csr_matrix((data, (rows, cols)), shape=(len(entries), max(1, len(ids))))
    m.sort_indices()
    return m, names


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


@dataclass(frozen=True, slots=True, eq=False)
class StreamState:
    """What a run of the stream leaves for the next one to resume from: each report's key (its original's),
    day and fingerprint, in time order; the story each joined and the merges by day, stories named by the
    index of their first report; and each story's last report (hours, by that index; NaN for a report
    that names no story). The next run finds its reports in these by the splice's renumbering, or by key."""

    params: ClusterParams
    keys: tuple[str, ...]
    days: np.ndarray  # int64
    fingerprints: np.ndarray  # uint8, a row of FINGERPRINT bytes per report
    joined: np.ndarray  # int64
    last: np.ndarray  # float64
    merges: Mapping[int, tuple[tuple[int, int], ...]]
    memo: Memo | None = None  # the reports, to splice the next run's from

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamState):
            return NotImplemented
        return (
            self.params == other.params
            and self.keys == other.keys
            and all(
                np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
                for x, y in (
                    (self.days, other.days),
                    (self.fingerprints, other.fingerprints),
                    (self.joined, other.joined),
                    (self.last, other.last),
                )
            )
            and dict(self.merges) == dict(other.merges)
            and self.memo == other.memo
        )

    __hash__ = None  # type: ignore[assignment]


def cluster_stream(
    articles: Sequence[Article],
    *,
    params: ClusterParams = DEFAULT,
    jobs: int = 1,
    last: StreamState | None = None,
) -> tuple[tuple[Cluster, ...], StreamState, int]:
    """`cluster`, resuming from the `last` run's state where it can; also the state this run leaves, and
    how many day steps it ran. The clusters are those `cluster` gives: a run decides alike whatever it
    resumes from. The reports are the last run's but near what changed (splice), and the stream runs again
    from the first day whose reports differ (stream.run)."""
    arts, keys = by_key(articles)
    if not arts:
        nothing = np.zeros(0, dtype=np.int64)
        empty = np.zeros((0, FINGERPRINT), dtype=np.uint8)
        return (), StreamState(params, (), nothing, empty, nothing, np.zeros(0), {}), 0
    # Article.digest changes with all an article is made from; one made by hand has none.
    digests = [d or content_digest(_read(a)) for d, a in zip(map(attrgetter("digest"), arts), arts, strict=True)]
    memo = None
    if last is not None and last.memo is not None and last.params == params:
        memo = splice(
            last.memo, arts, keys, digests, _headline_hashes, params, lambda a, g, k: _made(a, g, params, jobs, k)
        )
    if memo is None:
        memo = _memo(arts, digests, params, jobs)
    made = memo.made
    r = made.reports
    prints = made.fingerprints  # the memo's own array: the state pickles it once
    firsts = tuple(t[0] for t in made.entries)
    resume = None
    if last is not None:
        prev = memo.prev if memo.prev is not None and last.memo is not None else _prev(last.keys, firsts)
        resume = _resume(last, params, prev, prints)
    log, ran = run(r, params, resume)
    ends = np.full(len(firsts), np.nan)
    np.fmax.at(ends, log.joined, r.hours)
    for day in sorted(log.merges):
        for keep, gone in log.merges[day]:
            ends[keep] = max(ends[keep], ends[gone])
    # No articles in the state (it is pickled into the cache), nor the renumbering, which only this run reads.
    state = StreamState(params, firsts, r.days, prints, log.joined, ends, dict(log.merges), replace(memo, prev=None))
    return _made_clusters(made, arts, log), state, ran


def by_key(articles: Sequence[Article]) -> tuple[Sequence[Article], tuple[str, ...]]:
    """`articles` in key order, and their keys. A corpus comes in key order already: checking that costs
    about half of sorting it again (at 100k stories, 0.11 s against 0.16-0.21), and a build asks twice."""
    keys = tuple(map(_KEY, articles))
    if all(map(lt, keys, keys[1:])):
        return articles, keys
    arts = sorted(articles, key=_KEY)
    return arts, tuple(map(_KEY, arts))


_KEY = attrgetter("key")


def _prev(keys: Sequence[str], firsts: Sequence[str]) -> np.ndarray:
    """The index of each report (by its original's key) among the last run's `keys`; -1: a new one."""
    at = {k: i for i, k in enumerate(keys)}
    return np.fromiter((at.get(k, -1) for k in firsts), dtype=np.int64, count=len(firsts))


def _resume(last: StreamState, params: ClusterParams, prev: np.ndarray, prints: np.ndarray) -> Resume | None:
    """The last run's state in this run's indices (`prev`: each report's index in the last run, -1 for a
    new one), or None if it cannot be resumed from."""
    n_old = len(last.keys)
    if last.params != params or not n_old == len(last.days) == len(last.fingerprints) == len(last.joined):
        return None
    mine = np.flatnonzero(prev >= 0)
    now = np.full(n_old, -1, dtype=np.int64)
    now[prev[mine]] = mine
    # A story the last run had and this run has not goes by a number below -1 (stream.Resume).
    label = np.where(now >= 0, now, -2 - np.arange(n_old, dtype=np.int64))
    joined = np.full(len(prev), -1, dtype=np.int64)
    joined[mine] = label[last.joined[prev[mine]]]
    changed = np.ones(len(prev), dtype=bool)
    changed[mine] = (prints[mine] != last.fingerprints[prev[mine]]).any(axis=1)
    lost = np.flatnonzero(now < 0)
    gone = tuple(zip(label[last.joined[lost]].tolist(), last.days[lost].tolist(), strict=True))
    told = np.flatnonzero(~np.isnan(last.last))
    ends = dict(zip(label[told].tolist(), last.last[told].tolist(), strict=True))
    lut = label.tolist()
    merges = {d: tuple((lut[a], lut[b]) for a, b in m) for d, m in last.merges.items()}
    return Resume(Log(joined, merges), ends, changed, gone)


def _made_clusters(made: Made, arts: Sequence[Article], log: Log) -> tuple[Cluster, ...]:
    """The clusters of a run: its reports `made` of `arts` (sorted by key), by the stories of its `log`."""
    return _clusters(made.groups().entries(arts), log.labels(), made.originals)


def _clusters(entries: Sequence[Coverage], labels: np.ndarray, originals: np.ndarray) -> tuple[Cluster, ...]:
    """The entries by story (`labels`), each story's by key, the stories by their first entry's key;
    `originals` is each entry's article's index among the articles sorted by key, so its key's rank."""
    order = np.lexsort((originals, labels))
    cuts = run_starts(labels[order]).nonzero()[0].tolist()
    ranked = order.tolist()
    out = [tuple(map(entries.__getitem__, ranked[a:b])) for a, b in pairwise([*cuts, len(ranked)])]
    firsts = originals[order[cuts]] if cuts else originals[:0]
    return tuple(out[i] for i in np.argsort(firsts, kind="stable").tolist())


READ_DIGEST = 16  # bytes of each article's part of cluster_input


def cluster_input(
    articles: Sequence[Article], last: StreamState | None = None, reads: bytes = b""
) -> tuple[str, bytes]:
    """A digest of every field clustering reads (the same function of the same articles gives the same
    clusters): an edit that changes none of them, as a story file re-fetched with new heat or a new body,
    can reuse the last build's clusters instead of clustering again. Also each article's part of it, in key
    order, for the next build: given the `last` state and the `reads` that went with it, an article whose
    digest is the one that run saw keeps its part, and only the articles that changed are read again (each
    read is a pickle of the article's text: 3 s at 100k stories, every build)."""
    arts, keys = by_key(articles)
    memo = last.memo if last is not None else None
    parts: list[bytes | None] = []  # each article's part kept from the last run, if it may be
    if memo is not None and len(reads) == READ_DIGEST * len(memo.keys):
        now = list(map(attrgetter("digest"), arts))
        if keys == memo.keys:
            # The usual build: the same articles, a few edited; the digests compared a whole list at a time.
            # (The memo's digests are never empty, so an article made by hand never matches.)
            joined = bytearray(reads)
            for i in compress(range(len(arts)), map(ne, now, memo.digests)):
                joined[READ_DIGEST * i : READ_DIGEST * (i + 1)] = _part(arts[i])
            return hashlib.blake2b(joined, digest_size=16).hexdigest(), bytes(joined)
        index = {k: j for j, k in enumerate(memo.keys)}
        for key, digest in zip(keys, now, strict=True):
            j = index.get(key, -1)
            kept = j >= 0 and digest and memo.digests[j] == digest
            parts.append(reads[READ_DIGEST * j : READ_DIGEST * (j + 1)] if kept else None)
    else:
        parts = [None] * len(arts)
    joined_parts = b"".join(part if part is not None else _part(a) for part, a in zip(parts, arts, strict=True))
    return hashlib.blake2b(joined_parts, digest_size=16).hexdigest(), joined_parts


def _part(a: Article) -> bytes:
    """An article's part of cluster_input."""
    return bytes.fromhex(content_digest(_read(a)))[:READ_DIGEST]


def _read(a: Article) -> tuple[object, ...]:
    """What clustering reads of an article."""
    return (a.key, a.title, a.excerpt, a.published, a.topics, a.related, a.pick, a.lead, a.quality, a.provider)


def clusters_of(state: StreamState, articles: Sequence[Article]) -> tuple[Cluster, ...] | None:
    """The clusters of the run that left `state`, made of `articles` (the articles it clustered, as far as
    clustering reads them: see cluster_input); None if the state does not hold these articles."""
    memo = state.memo
    arts, keys = by_key(articles)
    if memo is None or keys != memo.keys:
        return None
    return _made_clusters(memo.made, arts, Log(state.joined, state.merges))


def _related_pairs(arts: Sequence[Article], entry_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entry pairs (i < j, sorted) linked by a story file's `related` list (either direction), as candidate
    pairs; entry_of[k] is the entry of arts[k]."""
    where = dict(zip(map(_KEY, arts), range(len(arts)), strict=True))
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
