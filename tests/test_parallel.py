"""Work spread over forked processes gives what the same work gives in one process."""

import os
from pathlib import Path

import pytest

from newsstand import incremental, parallel
from newsstand.config import Settings
from newsstand.incremental import signatures
from newsstand.model import Corpus, Provider, Topic
from newsstand.pages import plan
from newsstand.rank import rank

from .factories import article, cluster

forks = pytest.mark.skipif(not parallel.CAN_FORK, reason="no fork on this system: everything runs in one process")


@pytest.mark.parametrize("count", [0, 1, 2, 7, 100])
@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_split_map_gives_the_results_in_order(count: int, jobs: int) -> None:
    items = [f"item {i}" for i in range(count)]
    assert parallel.split_map(str.upper, items, jobs, least=1) == [s.upper() for s in items]


@forks
def test_split_map_runs_in_other_processes_only_when_each_has_enough() -> None:
    here = os.getpid()
    spread = parallel.split_map(lambda _: os.getpid(), range(10), 2, least=5)
    assert spread[:5] == [here] * 5 and len(set(spread[5:])) == 1 and spread[5] != here
    assert set(parallel.split_map(lambda _: os.getpid(), range(10), 2, least=6)) == {here}


def test_work_in_the_background_writes_its_file(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    pending = parallel.in_background(lambda: out.write_text(str(os.getpid())))
    assert pending.wait() and pending.wait()  # waiting twice is waiting once
    assert (int(out.read_text()) != os.getpid()) == parallel.CAN_FORK


@forks
def test_work_that_fails_in_the_background_says_so(capfd: pytest.CaptureFixture[str]) -> None:
    def fail() -> None:
        raise ValueError("no room for the cache")

    assert not parallel.in_background(fail).wait()
    assert "ValueError: no room for the cache" in capfd.readouterr().err


def test_signatures_over_several_processes_are_those_of_one(monkeypatch: pytest.MonkeyPatch) -> None:
    arts = [
        article(f"a{i}", hours=i * 7, provider=f"p{i % 3}.com", topics=(f"t{i % 4}",), heat=i % 5) for i in range(60)
    ]
    corpus = Corpus(
        tuple(sorted(arts, key=lambda a: a.key)),
        tuple(Provider(f"p{i}.com", f"P{i}", f"p{i}") for i in range(3)),
        tuple(Topic(f"t{i}", f"T{i}") for i in range(4)),
    )
    stories = rank([cluster(*arts[i : i + 3]) for i in range(0, 60, 3)])
    pages, site = plan(corpus, stories, Settings(page_size=5).site)
    one = signatures(pages, site, stories, "inputs", jobs=1)
    monkeypatch.setattr(incremental, "SIGN_FROM", 2)
    several = signatures(pages, site, stories, "inputs", jobs=3)
    assert several == one and len(set(one.pages)) == len(pages) > 30


def test_workers_fork_only_as_many_as_the_memory_has_room_for() -> None:
    gib = 1 << 30
    assert parallel.workers_that_fit(1, size=2 * gib, room=3 * gib) == 1
    assert parallel.workers_that_fit(3, size=2 * gib, room=5 * gib) == 2
    assert parallel.workers_that_fit(1, size=2 * gib, room=gib) == 0
    assert parallel.workers_that_fit(0, size=gib, room=8 * gib) == 0
    # Where the system does not say, every worker asked for.
    assert parallel.workers_that_fit(2, size=None, room=gib) == 2
    assert parallel.workers_that_fit(2, size=gib, room=None) == 2
    # Read from this system: never more than asked; on Linux, this process's size and some room are known.
    assert 0 <= parallel.with_room(4) <= 4
    if Path("/proc/meminfo").exists():
        assert parallel._resident() and parallel._room()


@forks
def test_a_build_without_room_for_a_worker_renders_in_one_process_the_same_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsstand import render
    from newsstand.build import build

    from .conftest import SEEDS, settings_for
    from .test_memo import site_files

    monkeypatch.setattr(render, "PARALLEL_FROM", 1)  # the seeds' 109 pages would not fork workers otherwise
    forked = settings_for(SEEDS, tmp_path / "forked" / "site", search=False, jobs=2)
    build(forked)

    class NoPool:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("a worker was forked without the memory for it")

    monkeypatch.setattr(parallel, "_room", lambda: 1 << 20)  # a megabyte left: no room for a copy of the build
    monkeypatch.setattr(render, "ProcessPoolExecutor", NoPool)
    alone = settings_for(SEEDS, tmp_path / "alone" / "site", search=False, jobs=2)
    build(alone)
    assert site_files(alone.out) == site_files(forked.out)
