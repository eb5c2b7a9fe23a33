"""The stream resumes: clustering again from the last run's state gives exactly what clustering from
nothing gives, for random edits, additions and deletions in any order, and runs only the days they touch."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from newsstand.cluster import DEFAULT, cluster, cluster_stream, clusters_of
from newsstand.cluster.stream import day_threshold, steps
from newsstand.model import Article

ACTORS = ["Acme", "Globex", "Initech", "the city council", "Hooli", "the regulator", "Umbrella", "Stark"]
THINGS = ["face scanners", "drone patrols", "licence plate readers", "AI cameras", "voice prints", "smart doorbells"]
PLACES = ["Oslo", "Lima", "Leeds", "Quito", "Perth", "Turin", "Hanoi", "Dakar"]
VERBS = ["bans", "tests", "expands", "defends", "pauses", "approves"]
ANGLES = ["", " after trial", " amid backlash", " as critics warn", " under new rules"]
T0 = datetime(2021, 3, 1, tzinfo=UTC)


def corpus(seed: int, events: int = 60, days: int = 40) -> list[Article]:
    """Synthetic reports of `events` events over `days` days: each event 1-6 reports from different
    outlets over up to three days, worded in several ways; events share places and things."""
    rng = random.Random(seed)
    out = []
    for ev in range(events):
        actor, thing, place, verb = rng.choice(ACTORS), rng.choice(THINGS), rng.choice(PLACES), rng.choice(VERBS)
        start = T0 + timedelta(hours=rng.uniform(0, days * 24))
        for k in range(rng.randint(1, 6)):
            title = rng.choice(
                [
                    f"{actor} {verb} {thing} in {place}",
                    f"{place}: {actor} {verb} {thing}",
                    f"{thing.capitalize()} in {place}: {actor} {verb} them",
                ]
            ) + rng.choice(ANGLES)
            outlet = f"outlet{rng.randrange(12)}.example"
            key = f"https://{outlet}/{ev}/{k}"
            out.append(
                Article(
                    key=key,
                    url=key,
                    title=title,
                    provider=outlet,
                    topics=("Surveillance",),
                    published=start + timedelta(hours=rng.uniform(0, 72)),
                )
            )
    return out


def mutate(articles: list[Article], rng: random.Random, edits: int) -> list[Article]:
    """`edits` random edits (a headline reworded, moved in time), additions and deletions; shuffled."""
    arts = list(articles)
    for n in range(edits):
        what = rng.choice(["title", "time", "add", "delete"])
        i = rng.randrange(len(arts))
        if what == "title":
            arts[i] = replace(arts[i], title=f"{rng.choice(ACTORS)} {rng.choice(VERBS)} {arts[i].title}")
        elif what == "time":
            arts[i] = replace(arts[i], published=arts[i].published + timedelta(hours=rng.uniform(-30, 30)))
        elif what == "add":
            key = f"https://new{rng.randrange(10**6)}-{n}.example/a"
            arts.append(
                replace(
                    arts[i],
                    key=key,
                    url=key,
                    provider=key.split("/")[2],
                    published=arts[i].published + timedelta(hours=rng.uniform(-5, 40)),
                )
            )
        elif len(arts) > 2:
            del arts[i]
    rng.shuffle(arts)
    return arts


@pytest.mark.parametrize("seed", range(6))
def test_resuming_gives_what_clustering_from_nothing_gives(seed: int) -> None:
    rng = random.Random(seed)
    arts = corpus(seed)
    clusters, state, ran = cluster_stream(arts)
    assert clusters == cluster(list(reversed(arts)))
    total = len(steps(state_days(state), DEFAULT.hold_days))
    assert ran == total
    for _ in range(4):  # each run resumes from the one before
        arts = mutate(arts, rng, rng.choice([1, 1, 3]))
        resumed, new_state, ran = cluster_stream(arts, last=state)
        fresh, fresh_state, _ = cluster_stream(arts)
        assert resumed == fresh
        assert new_state == fresh_state  # and so is what the next run resumes from
        state = new_state


def state_days(state) -> object:  # type: ignore[no-untyped-def]
    import numpy as np

    return np.array(state.days, dtype=np.int64)


def test_one_edit_runs_only_the_days_around_it() -> None:
    arts = corpus(7, events=120, days=90)
    _, state, ran = cluster_stream(arts)
    total = ran
    latest = max(range(len(arts)), key=lambda i: arts[i].published)
    edited = list(arts)
    edited[latest] = replace(arts[latest], title=arts[latest].title + " near Narvik")
    resumed, _, ran = cluster_stream(edited, last=state)
    assert resumed == cluster(edited)
    assert 0 < ran <= 12 < total  # the newest report's days, not the archive's 90
    assert cluster_stream(arts, last=state)[2] == 0  # nothing changed: nothing run


def test_the_open_stories_summed_meaning_carried_from_step_to_step_is_the_one_summed_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each step starts from the open stories' embedding sums of the steps before, run on with the reports
    that joined since; they must be the bits a step summing every member again gets, or the blend's
    threshold could fall another way. Checked at every step of a run and of a resumed one."""
    from newsstand.cluster import semantic, stream

    real = semantic.for_step
    carried: list[int] = []

    def both(e, initial, p, known=(), known_sums=()):  # type: ignore[no-untyped-def]
        got, afresh = real(e, initial, p, known, known_sums), real(e, initial, p)
        assert np.array_equal(got.sums, afresh.sums) and np.array_equal(got.centre, afresh.centre)
        carried.append(len(known))
        return got

    monkeypatch.setattr(stream, "for_step", both)
    arts = corpus(11, events=120, days=30)
    _, state, _ = cluster_stream(arts)
    edited = mutate(arts, random.Random(11), 3)
    resumed, _, _ = cluster_stream(edited, last=state)
    monkeypatch.undo()
    assert resumed == cluster(edited)
    assert sum(carried) > 100  # most open stories' sums were carried, not summed again


def test_other_settings_start_from_nothing() -> None:
    arts = corpus(3)
    _, state, _ = cluster_stream(arts)
    params = replace(DEFAULT, threshold=0.4)
    clusters, _, ran = cluster_stream(arts, params=params, last=state)
    assert clusters == cluster(arts, params=params) and ran == len(steps(state_days(state), params.hold_days))


def test_a_day_of_alike_reports_asks_a_higher_threshold() -> None:
    """The merge threshold of a day follows how alike its reports are to their best matches: loose real
    headlines keep the floor, templated copy (near-identical wording within an event) asks more."""
    pj = np.array([1, 1, 2, 3, 3, 4, 5, 6])  # held reports 1..6, their candidate pairs (sorted by report)
    loose = np.array([0.20, 0.31, 0.28, 0.15, 0.25, 0.60, 0.42, 0.33], dtype=np.float32)
    alike = np.array([0.90, 0.40, 0.95, 0.30, 0.88, 0.92, 0.91, 0.93], dtype=np.float32)
    assert day_threshold(DEFAULT, pj, loose) == DEFAULT.threshold
    high = day_threshold(DEFAULT, pj, alike)
    best = np.array([0.90, 0.95, 0.88, 0.92, 0.91, 0.93])
    assert high == pytest.approx(DEFAULT.relative_threshold * float(np.percentile(best, DEFAULT.relative_quantile)))
    assert high > 0.6
    assert day_threshold(replace(DEFAULT, relative_threshold=0.0), pj, alike) == DEFAULT.threshold
    assert day_threshold(DEFAULT, pj[:0], alike[:0]) == DEFAULT.threshold


def test_what_clustering_reads_is_digested_again_only_for_the_articles_that_changed() -> None:
    # cluster_input keeps each article's part of the digest from the last run while the article's digest is
    # the one that run saw: for random edits (read or not by clustering), additions and deletions, the
    # digest equals the one made from nothing, and it moves exactly when a field clustering reads moves.
    from newsstand.cluster import cluster_input
    from newsstand.digest import content_digest

    def signed(a: Article) -> Article:
        return replace(a, digest=content_digest(replace(a, digest="")))

    rng = random.Random(11)
    arts = [signed(a) for a in corpus(5)]
    _, state, _ = cluster_stream(arts)
    digest, reads = cluster_input(arts)
    for step in range(12):
        now = list(arts)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(now))
            # Every third step edits only: the same articles as the last run (cluster_input's usual case).
            kind = rng.choice(["title", "heat"] if step % 3 == 0 else ["title", "heat", "add", "delete"])
            if kind == "title":
                now[i] = signed(replace(now[i], title=now[i].title + " again"))
            elif kind == "heat":
                now[i] = signed(replace(now[i], heat=rng.randint(1, 99)))
            elif kind == "add":
                now.append(signed(replace(now[i], key=now[i].key + f"/{rng.random()}", url=now[i].url + "/x")))
            else:
                del now[i]
        rng.shuffle(now)
        got, got_reads = cluster_input(now, state, reads)
        fresh, fresh_reads = cluster_input(now)
        assert (got, got_reads) == (fresh, fresh_reads)
        read_by = {a.key: (a.title, a.published) for a in arts}
        moved = {a.key: (a.title, a.published) for a in now} != read_by
        assert (got != digest) == moved
        arts, digest, reads = now, got, got_reads
        _, state, _ = cluster_stream(arts, last=state)


def test_the_state_gives_back_the_clusters_of_its_run() -> None:
    # A build whose edits change nothing clustering reads takes its clusters from the last run's state.
    rng = random.Random(3)
    articles = corpus(3)
    clusters, state, _ = cluster_stream(articles)
    shuffled = rng.sample(articles, len(articles))
    assert clusters_of(state, shuffled) == clusters
    # New heat changes nothing clustering reads: the same clusters, of the new articles.
    hotter = [replace(a, heat=(a.heat or 0) + 1) for a in articles]
    again = clusters_of(state, hotter)
    assert again == cluster(hotter) and {a.heat for c in again for e in c for a in e.articles} != {None}
    # Other articles than the state's: nothing to give.
    assert clusters_of(state, articles[1:]) is None
    assert clusters_of(state, [*articles, replace(articles[0], key="https://other.example/1")]) is None
