"""A build from the last build's record (incremental.MergeCache) reads only the seed files that changed and
merges only the articles they name, and gives the very site a build from nothing gives."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsstand.build import build
from newsstand.incremental import MergeCache, SeedRecord
from newsstand.model import Article
from newsstand.normalize import MergeState, Tally
from newsstand.problems import Problem

from .conftest import settings_for
from .test_memo import EDITS, Edit, make_seeds, seed_bytes, site_files, story


@pytest.mark.parametrize("fold", [0, MergeCache.FOLD, 10**9], ids=["never-folded", "folded-as-built", "always-folded"])
def test_every_build_from_the_record_is_byte_identical_to_a_fresh_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fold: int
) -> None:
    # The changed articles' table is folded into the months when it grows (MergeCache.FOLD): every build
    # folds, none does, or as shipped; each must give the fresh build's site.
    monkeypatch.setattr(MergeCache, "FOLD", fold)
    seeds = make_seeds(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "cached" / "site", search=False)
    build(settings)
    rng = random.Random(8)
    steps: list[Edit | str] = [*EDITS, *EDITS, *EDITS, "drafts", "drafts", "rename"]
    rng.shuffle(steps)
    record = MergeCache(settings.cache, seeds, False)
    pending: set[Path] = set()  # touched with the same bytes since the last build that did anything
    for step, edit in enumerate(steps):
        seeds_were, drafts_were = seed_bytes(seeds), settings.drafts
        if edit == "drafts":
            settings = replace(settings, drafts=not settings.drafts)
            changed: set[Path] = set()
        elif edit == "rename":
            target = sorted(seeds.glob("gen_*.txt"))[0]
            changed = {target.rename(seeds / f"moved_{step}.txt")}
        else:
            assert callable(edit)
            changed = edit(seeds, rng)
        result = build(settings)
        fresh_out = tmp_path / f"fresh{step}" / "site"
        fresh = build(replace(settings, out=fresh_out, use_cache=False))
        assert site_files(settings.out) == site_files(fresh_out), f"step {step}: {edit}"
        assert result.problems == fresh.problems and result.articles == fresh.articles, step
        if seed_bytes(seeds) == seeds_were and settings.drafts == drafts_were:
            pending |= changed
            continue
        changed |= {p for p in pending if p.exists()}
        pending = set()
        # Only what changed was parsed (drafts on or off: every file reads otherwise).
        expected = result.files_read if settings.drafts != drafts_were else len(changed)
        assert result.parsed == expected, (step, edit, result.parsed)
    assert record.load() is not None


def test_a_build_killed_before_its_record_was_written_is_followed_by_a_right_one(tmp_path: Path) -> None:
    # The seed cache is written before the record of what the build read: a build killed between the two
    # leaves a record older than the cache. The next build must see it and merge everything again.
    seeds = make_seeds(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False)
    build(settings)
    record = MergeCache(settings.cache, seeds, False).path
    kept = tmp_path / "record"
    shutil.copyfile(record, kept)
    target = sorted(seeds.glob("gen_*.txt"))[3]
    # Each edit moves the story to another URL: a stale record would keep the article of the first.
    target.write_text(story(3, title="Council 3 rejects the budget", url="https://example.org/b"), encoding="utf-8")
    build(settings)
    shutil.copyfile(kept, record)  # the record as the killed build left it: the last one
    target.write_text(story(3, title="Council 3 rejects it again", url="https://example.org/c"), encoding="utf-8")
    result = build(settings)
    fresh = tmp_path / "fresh"
    build(replace(settings, out=fresh, use_cache=False))
    assert site_files(settings.out) == site_files(fresh)
    assert result.parsed == 1  # the record did not match the cache: all was merged again, from the cache
    # And the record is right again: the next edit reads one file.
    target.write_text(story(3, title="Council 3 passes the budget"), encoding="utf-8")
    assert build(settings).parsed == 1


@pytest.mark.parametrize("fold", [0, MergeCache.FOLD, 10**9], ids=["never-folded", "folded-as-built", "always-folded"])
def test_the_record_loads_what_each_build_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fold: int) -> None:
    # Articles edited, moved to another month, deleted, added back; files changed, gone, with problems: each
    # build's record, loaded by the next, is the state and the files that build saved.
    monkeypatch.setattr(MergeCache, "FOLD", fold)
    rng = random.Random(fold)
    seeds = tmp_path / "seeds"

    def article(key: str) -> Article:
        when = datetime(2020, rng.randrange(1, 13), rng.randrange(1, 29), rng.randrange(24), tzinfo=UTC)
        return Article(key, key, f"Title {rng.randrange(10**6)}", when, "example.com", digest=str(rng.random()))

    articles = {f"https://example.com/{i}": article(f"https://example.com/{i}") for i in range(300)}
    files: dict[str, SeedRecord] = {f"{i}.txt": ((i, i, i, i), f"sha{i}", ()) for i in range(60)}
    tally = Tally.of([])
    MergeCache(tmp_path / "cache", seeds, False).save(MergeState(dict(sorted(articles.items())), tally), files, None)
    for step in range(25):
        record = MergeCache(tmp_path / "cache", seeds, False)
        loaded = record.load()
        assert loaded is not None, step
        before, read = loaded
        assert before.articles == articles and list(before.articles) == sorted(articles), step
        assert read == files and before.tally == tally, step
        changed = set(rng.sample(sorted(articles), 12)) | {f"https://example.com/new/{step}/{i}" for i in range(3)}
        for key in changed:
            if key in articles and rng.random() < 0.3:
                del articles[key]
            else:
                articles[key] = article(key)  # a new title, and most often another month
        for path in rng.sample(sorted(files), 5):
            del files[path]
        for i in range(5):
            problems = (Problem(f"n{step}-{i}.txt", 1, 2, "a problem"),) if i % 2 else ()
            files[f"n{step}-{i}.txt"] = ((step, i, 0, 0), f"sha{step}-{i}", problems)
        for path in rng.sample(sorted(files), 5):
            stamp, sha, problems = files[path]
            files[path] = ((stamp[0] + 1, *stamp[1:]), sha + "x", problems)
        state = MergeState(dict(sorted(articles.items())), tally, frozenset(changed))
        record.save(state, dict(files), before)
    loaded = MergeCache(tmp_path / "cache", seeds, False).load()
    assert loaded is not None and loaded[0].articles == articles and loaded[1] == files


def test_a_record_saved_by_another_build_meanwhile_is_written_whole(tmp_path: Path) -> None:
    # Two builds of one seed folder (to two sites) load the same record (of 500 articles: neither folds its
    # one change into the months); the one that saves second made its change against a record that is no
    # longer there, so it writes all of its own.
    seeds, cache = tmp_path / "seeds", tmp_path / "cache"
    when = datetime(2020, 1, 1, tzinfo=UTC)
    articles = {
        f"https://example.com/{i}": Article(f"https://example.com/{i}", "u", f"T {i}", when, "e") for i in range(500)
    }
    files: dict[str, SeedRecord] = {"a.txt": ((1, 1, 1, 1), "a", ())}
    MergeCache(cache, seeds, False).save(MergeState(dict(articles), Tally.of([])), files, None)
    first, second = MergeCache(cache, seeds, False), MergeCache(cache, seeds, False)
    first_loaded, second_loaded = first.load(), second.load()
    assert first_loaded is not None and second_loaded is not None
    moved = replace(articles["https://example.com/1"], published=datetime(2020, 3, 1, tzinfo=UTC))
    first_state = {**articles, moved.key: moved}
    first.save(MergeState(first_state, Tally.of([]), frozenset({moved.key})), files, first_loaded[0])
    gone = "https://example.com/2"
    second_state = {k: a for k, a in articles.items() if k != gone}
    second_files: dict[str, SeedRecord] = {"b.txt": ((2, 2, 2, 2), "b", ())}
    second.save(MergeState(second_state, Tally.of([]), frozenset({gone})), second_files, second_loaded[0])
    loaded = MergeCache(cache, seeds, False).load()
    assert loaded is not None and loaded[0].articles == second_state and loaded[1] == second_files
    # A record emptied by other code meanwhile (another fingerprint) is written whole too.
    third = MergeCache(cache, seeds, False)
    third_loaded = third.load()
    assert third_loaded is not None
    other = MergeCache(cache, seeds, False)
    other.db.key = "other code"
    assert other.load() is None
    third.save(MergeState(first_state, Tally.of([]), frozenset({moved.key, gone})), files, third_loaded[0])
    loaded = MergeCache(cache, seeds, False).load()
    assert loaded is not None and loaded[0].articles == first_state and loaded[1] == files
