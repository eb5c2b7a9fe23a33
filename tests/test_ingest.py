"""The seed cache and the process pool: faster, never different."""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from newsstand import render
from newsstand.build import build
from newsstand.ingest import SeedCache, ingest
from newsstand.normalize import merge, normalize
from newsstand.read import read_seeds, seed_paths

from .conftest import SEEDS, seed_cache_database, seed_cache_rows, settings_for, story_file


def many_seeds(folder: Path, n: int) -> Path:
    """The real seeds plus `n` small generated ones, enough to use the process pool."""
    shutil.copytree(SEEDS, folder)
    for i in range(n):
        (folder / f"gen_{i:04d}.txt").write_text(
            story_file(
                title=f"Council {i % 37} votes on budget item {i}",
                url=f"https://example{i % 9}.com/a/{i}",
                when=f"2020-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
            ),
            encoding="utf-8",
        )
    return folder


def test_a_second_ingest_parses_nothing_and_gives_the_same_result(tmp_path: Path) -> None:
    seeds = many_seeds(tmp_path / "seeds", 20)
    paths = seed_paths(seeds)
    first = ingest(paths, seeds, tmp_path / "cache")
    again = ingest(paths, seeds, tmp_path / "cache")
    assert (first.parsed, first.cached) == (25, 0)
    assert (again.parsed, again.cached) == (0, 25)
    assert first.results == again.results


def test_the_cache_gives_what_parsing_gives(tmp_path: Path) -> None:
    records, _ = read_seeds(seed_paths(SEEDS))
    corpus, _ = normalize(records)
    ingested = ingest(seed_paths(SEEDS), SEEDS, tmp_path / "cache")
    assert merge(ingested.mentions) == corpus


def test_an_edited_file_is_parsed_again(tmp_path: Path) -> None:
    seeds = many_seeds(tmp_path / "seeds", 3)
    ingest(seed_paths(seeds), seeds, tmp_path / "cache")
    target = seeds / "gen_0001.txt"
    stat = target.stat()
    target.write_text(target.read_text().replace("Council 1 votes", "Council 1 rejects"))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime: the edit must still be seen
    again = ingest(seed_paths(seeds), seeds, tmp_path / "cache")
    assert again.parsed == 1
    titles = [m.title for m in again.mentions]
    assert any("rejects" in t for t in titles) and not any("Council 1 votes" in t for t in titles)


def test_a_corrupt_or_foreign_cache_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    seeds = many_seeds(tmp_path / "seeds", 3)
    cache = tmp_path / "cache"
    good = ingest(seed_paths(seeds), seeds, cache)
    assert len(seed_cache_rows(cache)) == len(good.results) == 8
    # One changed letter in one row's pickle, which still unpickles (a headline that reads otherwise): only
    # that file is parsed again, as its checksum no longer holds.
    with closing(sqlite3.connect(seed_cache_database(cache))) as db, db:
        path, data = db.execute("SELECT path, data FROM results WHERE path LIKE '%gen_0001.txt'").fetchone()
        assert b"Council" in data
        db.execute("UPDATE results SET data = ? WHERE path = ?", (data.replace(b"Council", b"Cauncil", 1), path))
    again = ingest(seed_paths(seeds), seeds, cache)
    assert again.parsed == 1 and again.results == good.results
    # A row whose pickle and checksum agree but that holds another file's result is not trusted either.
    with closing(sqlite3.connect(seed_cache_database(cache))) as db, db:
        (one, *_), (_, other_sum, other_data) = db.execute("SELECT path, sum, data FROM results ORDER BY path LIMIT 2")
        db.execute("UPDATE results SET sum = ?, data = ? WHERE path = ?", (other_sum, other_data, one))
    again = ingest(seed_paths(seeds), seeds, cache)
    assert again.parsed == 1 and again.results == good.results
    # Garbage where the database was (a disk error, a half-copied folder): made again from nothing.
    seed_cache_database(cache).write_bytes(b"garbage" * 1000)
    assert ingest(seed_paths(seeds), seeds, cache).parsed == 8
    assert ingest(seed_paths(seeds), seeds, cache).parsed == 0
    # A database cut short.
    database = seed_cache_database(cache)
    database.write_bytes(database.read_bytes()[:3000])
    again = ingest(seed_paths(seeds), seeds, cache)
    assert again.parsed == 8 and again.results == good.results
    # A cache written by other code (another fingerprint) is not used either.
    cache_obj = SeedCache(cache, seeds, drafts=False)
    cache_obj.db.key = "other code"
    cache_obj.save_changes(good.results, ())
    assert ingest(seed_paths(seeds), seeds, cache).parsed == 8


def test_a_tick_writes_only_the_rows_of_the_new_files(tmp_path: Path) -> None:
    seeds = many_seeds(tmp_path / "seeds", 300)
    cache = tmp_path / "cache"
    ingest(seed_paths(seeds), seeds, cache, jobs=2)
    before = seed_cache_rows(cache)
    for i in range(5):
        (seeds / f"new_{i}.txt").write_text(story_file(title=f"New {i}", url=f"https://new.example/{i}"), "utf-8")
    (seeds / "gen_0007.txt").unlink()
    paths = seed_paths(seeds)
    again = ingest(paths, seeds, cache, jobs=2)
    assert again.parsed == 5
    after = seed_cache_rows(cache)
    assert set(after) == {str(p) for p in paths}
    # Every other row is the very row it was.
    assert {p: s for p, s in after.items() if p in before} == {p: s for p, s in before.items() if p in after}
    assert ingest(paths, seeds, cache, jobs=2).results == ingest(paths, seeds, None, jobs=1).results


def test_output_is_byte_identical_whatever_the_workers_cache_or_file_order(tmp_path: Path) -> None:
    seeds = many_seeds(tmp_path / "seeds", 240)
    outputs = []
    for i, changes in enumerate(({"jobs": 1, "use_cache": False}, {"jobs": 2}, {"jobs": 2})):
        out = tmp_path / f"site{i}"
        build(settings_for(seeds, out, **changes))
        outputs.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    # The same files under other names, so the file order changes.
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    for p in sorted(seeds.iterdir()):
        shutil.copy(p, renamed / f"z{abs(hash(p.name)) % 10**8:08d}_{p.name}")
    out = tmp_path / "site-renamed"
    build(settings_for(renamed, out, jobs=2))
    renamed_out = {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert outputs[0] == outputs[1] == outputs[2]
    assert set(renamed_out) == set(outputs[0])
    assert renamed_out[Path("stories.json")] == outputs[0][Path("stories.json")]


def test_the_workers_rows_read_back_as_what_parsing_gives(tmp_path: Path) -> None:
    seeds = many_seeds(tmp_path / "seeds", 400)
    paths = seed_paths(seeds)
    cache = tmp_path / "cache"
    reference = ingest(paths, seeds, None, jobs=1).results
    first = ingest(paths, seeds, cache, jobs=2)  # cold: the workers make the rows, the parent writes them
    assert first.parsed == len(paths) and first.results == reference
    assert len(seed_cache_rows(cache)) == len(paths)
    again = ingest(paths, seeds, cache, jobs=2)
    assert (again.parsed, again.results) == (0, reference)
    # Edit most files but not all: the workers parse the edited ones, the others come from the cache.
    for path in paths[::2] + paths[1::4]:
        path.write_text(path.read_text().replace("votes on", "debates"))
    edited = ingest(paths, seeds, cache, jobs=2)
    assert 200 < edited.parsed < len(paths) and edited.results == ingest(paths, seeds, None, jobs=1).results
    last = ingest(paths, seeds, cache, jobs=2)
    assert (last.parsed, last.results) == (0, edited.results)


def test_pages_rendered_over_worker_processes_are_those_rendered_in_one(tmp_path: Path, monkeypatch) -> None:
    # Real sites at 10k stories render over the pool; a small one does not unless told to, in small chunks
    # so that more are waiting than the writer lets run ahead.
    monkeypatch.setattr(render, "PARALLEL_FROM", 1)
    monkeypatch.setattr(render, "CHUNK", 3)
    seeds = many_seeds(tmp_path / "seeds", 60)
    sites = []
    for jobs in (1, 2, 3):  # this process alone; and with one worker, or two, taking chunks in turn
        out = tmp_path / f"site{jobs}"
        result = build(settings_for(seeds, out, jobs=jobs, use_cache=False, base_url="https://example.org/"))
        assert result.pages > 3 * 2 * 2
        sites.append({p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert sites[0] == sites[1] == sites[2]
