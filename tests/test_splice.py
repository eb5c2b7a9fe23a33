"""The reports of an edited archive, spliced from the last run's (cluster.splice), are the very arrays that
making every report from nothing gives, and so are the clusters and the state the next run resumes from:
for random edits, additions and deletions, several at once, at the archive's start and end, for copies
chained across the archive and for related links; and when the last run's rows do not agree with the
slice's, every report is made again."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from newsstand.cluster import StreamState, cluster, cluster_stream, reports
from newsstand.cluster.splice import same_reports
from newsstand.model import Article

from .test_stream import ACTORS, VERBS, corpus


def check(arts: list[Article], last: StreamState) -> StreamState:
    """Cluster `arts` from `last`; assert it equals clustering from nothing, reports and all."""
    clusters, state, _ = cluster_stream(arts, last=last)
    entries, fresh, prints = reports(sorted(arts, key=lambda a: a.key))
    assert state.memo is not None
    assert same_reports(state.memo.made.reports, fresh)
    assert np.array_equal(state.memo.made.fingerprints, prints)
    assert state.memo.made.entries == tuple(tuple(a.key for a in e.articles) for e in entries)
    assert clusters == cluster(arts)
    assert state == cluster_stream(list(reversed(arts)))[1]  # what the next run resumes from, too
    return state


def edit(arts: list[Article], rng: random.Random, where: str, edits: int) -> list[Article]:
    """`edits` random edits of the articles at the archive's start, end or anywhere: a headline reworded,
    a report moved in time, its topics changed, an article added or deleted."""
    arts = sorted(arts, key=lambda a: a.published)
    n = len(arts)
    for k in range(edits):
        i = {"start": rng.randrange(min(5, n)), "end": n - 1 - rng.randrange(min(5, n))}.get(where, rng.randrange(n))
        what = rng.choice(["title", "time", "topics", "add", "delete"])
        a = arts[i]
        if what == "title":
            arts[i] = replace(a, title=f"{rng.choice(ACTORS)} {rng.choice(VERBS)} {a.title}")
        elif what == "time":
            arts[i] = replace(a, published=a.published + timedelta(hours=rng.uniform(-30, 30)))
        elif what == "topics":
            arts[i] = replace(a, topics=("Privacy",))
        elif what == "add":
            key = f"https://added{rng.randrange(10**6)}-{k}.example/a"
            arts.append(replace(a, key=key, url=key, published=a.published + timedelta(hours=rng.uniform(-5, 40))))
        elif n > 2:
            del arts[i]
        n = len(arts)
    rng.shuffle(arts)
    return arts


@pytest.mark.parametrize("where", ["anywhere", "start", "end"])
@pytest.mark.parametrize("seed", range(3))
def test_spliced_reports_are_those_made_from_nothing(seed: int, where: str) -> None:
    rng = random.Random(seed)
    arts = corpus(seed, events=200, days=150)
    _, state, _ = cluster_stream(arts)
    total = len(state.keys)
    for _ in range(3):  # each run splices from the one before
        edits = rng.choice([1, 1, 2, 4])
        arts = edit(arts, rng, where, edits)
        state = check(arts, state)
        assert state.memo is not None and state.memo.remade > 0
        if edits == 1 or where != "anywhere":  # edits close together: a slice, not the archive
            assert state.memo.remade < total / 2


def test_edits_far_apart_at_once() -> None:
    arts = sorted(corpus(11, events=200, days=150), key=lambda a: a.published)
    _, state, _ = cluster_stream(arts)
    arts[3] = replace(arts[3], title=arts[3].title + " near Narvik")
    arts[-3] = replace(arts[-3], title=arts[-3].title + " in Bergen")
    del arts[len(arts) // 2]
    check(arts, state)


def test_new_files_after_the_newest() -> None:
    """A cron tick: new reports dated after the newest, some of them copies of its headlines."""
    arts = corpus(5, events=200, days=150)
    _, state, _ = cluster_stream(arts)
    newest = max(a.published for a in arts)
    rng = random.Random(5)
    added = []
    for k in range(50):
        a = rng.choice(arts)
        key = f"https://tick.example/{k}"
        added.append(replace(a, key=key, url=key, published=newest + timedelta(minutes=10 + 20 * k)))
    state = check([*arts, *added], state)
    assert state.memo is not None and state.memo.remade < len(state.keys) / 4


def test_copies_chained_across_the_archive() -> None:
    """One headline repeated every three days for months is one chain of copies: an edit in its middle
    splits it, wherever the rest of the chain lies."""
    arts = corpus(2, events=150, days=120)
    start = min(a.published for a in arts)
    chain = [
        Article(
            key=f"https://digest{k % 3}.example/{k}",
            url=f"https://digest{k % 3}.example/{k}",
            title="The weekly surveillance digest",
            provider=f"digest{k % 3}.example",
            topics=("Surveillance",),
            published=start + timedelta(days=3 * k, hours=1),
        )
        for k in range(40)
    ]
    arts = [*arts, *chain]
    _, state, _ = cluster_stream(arts)
    assert any(len(t) > 30 for t in state.memo.made.entries) if state.memo else False
    middle = chain[20]
    edited = [replace(a, title="Surveillance digest: a special") if a.key == middle.key else a for a in arts]
    state = check(edited, state)
    check([a for a in edited if a.key != chain[5].key], state)  # and a deletion near one end


def test_related_links_edited() -> None:
    arts = sorted(corpus(4, events=200, days=150), key=lambda a: a.published)
    _, state, _ = cluster_stream(arts)
    i = len(arts) // 2
    arts[i] = replace(arts[i], related=(arts[i - 1].key, arts[i + 2].key))
    state = check(arts, state)
    arts[i] = replace(arts[i], related=())
    check(arts, state)


def test_nothing_changed_makes_nothing_again() -> None:
    arts = corpus(6, events=100, days=60)
    _, state, _ = cluster_stream(arts)
    clusters, again, ran = cluster_stream(list(reversed(arts)), last=state)
    assert clusters == cluster(arts) and ran == 0
    assert again.memo is not None and again.memo.remade == 0 and again == state


def test_rows_that_disagree_make_every_report_again() -> None:
    """A last state whose rows do not agree with the slice's (here: fingerprints tampered with) is not
    spliced from: every report is made again, and the result is still clustering from nothing's."""
    arts = sorted(corpus(8, events=200, days=150), key=lambda a: a.published)
    _, state, _ = cluster_stream(arts)
    assert state.memo is not None
    made = state.memo.made
    bad = replace(state, memo=replace(state.memo, made=replace(made, fingerprints=np.full_like(made.fingerprints, 63))))
    arts[len(arts) // 2] = replace(arts[len(arts) // 2], title="Hooli bans voice prints in Narvik")
    again = check(arts, bad)
    assert again.memo is not None and again.memo.remade == len(again.keys)


def test_a_report_s_fingerprint_moves_with_each_thing_a_step_reads_of_it_and_no_other_s() -> None:
    """The fingerprint decides which reports a resumed run takes as they were: a change to any number a
    step reads of one report (a term, its weight, a partner, a pair's cosine or bonus, the headline
    meaning, the time, the topics) moves that report's fingerprint and leaves every other one's."""
    from newsstand.cluster import _fingerprints

    arts = sorted(corpus(5), key=lambda a: a.key)
    entries, r, prints = reports(arts)
    memo = cluster_stream(arts)[1].memo
    assert memo is not None
    terms = memo.made.terms
    assert np.array_equal(_fingerprints(entries, r, terms), prints)  # a pure function of its inputs
    k = int(r.pj[len(r.pj) // 2])  # a report with a partner
    row = slice(int(r.x.indptr[k]), int(r.x.indptr[k + 1]))
    pair = int(np.searchsorted(r.pj, k))

    def moved(**changes: object) -> set[int]:
        changed = replace(r, **changes)  # type: ignore[arg-type]
        after = _fingerprints(entries, changed, terms)
        return set(np.flatnonzero((after != prints).any(axis=1)).tolist())

    data = r.x.data.copy()
    data[row.start] = np.nextafter(data[row.start], np.float32(2))
    x = r.x.copy()
    x.data = data
    assert moved(x=x) == {k}
    indices = r.x.indices.copy()
    indices[row.start] = (indices[row.start] + 1) % len(terms)
    x = r.x.copy()
    x.indices = indices
    assert moved(x=x) == {k}
    for name, bump in (("ps", lambda v: np.nextafter(v, np.float32(2))), ("pb", lambda v: v + 0.01)):
        values = getattr(r, name).copy()
        values[pair] = bump(values[pair])
        assert moved(**{name: values}) == {k}
    partner = r.pi.copy()
    partner[pair] = (partner[pair] + 1) % k if k > 1 else partner[pair]
    if k > 1 and partner[pair] != r.pi[pair]:
        assert moved(pi=partner) == {k}
    assert r.emb is not None
    emb = r.emb.copy()
    emb[k, 3] = np.nextafter(emb[k, 3], np.float16(2))
    assert moved(emb=emb) == {k}
    seconds = r.seconds.copy()
    seconds[k] += 1
    assert moved(seconds=seconds) == {k}
    topics = r.topics.copy()
    topics[k] ^= np.uint64(1)
    assert moved(topics=topics) == {k}
