"""serve's BuildMemo: a rebuild that reuses the last build's reading and merging gives the very same site."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from newsstand import normalize, serve
from newsstand.build import BuildMemo, build
from newsstand.config import Settings
from newsstand.ingest import IngestMemo, ingest
from newsstand.read import seed_paths
from newsstand.serve import ServeState, rebuild

from .conftest import SEEDS, own_template, seed_cache_database, seed_cache_rows, settings_for, story_file

GENERATED = 12


def lead_url(i: int) -> str:
    return f"https://example{i % 3}.com/a/{i}"


def story(
    i: int, title: str | None = None, topics: tuple[str, ...] = ("Testing",), url: str | None = None, extra: str = ""
) -> str:
    """A generated seed whose related items are the leads of two other generated seeds: articles of several mentions."""
    related = "".join(
        f"  - title: 'Related to {j}'\n    webUrl: '{lead_url(j)}'\n    publishedDateTime: 2020-01-02T00:00:00Z\n"
        for j in ((i + 1) % GENERATED, (i + 5) % GENERATED)
    )
    text = story_file(
        title=title or f"Council {i} votes on budget item {i}",
        url=url or lead_url(i),
        when=f"2020-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
        extra=extra,
        related=related,
    )
    return text.replace("topics:\n  - Testing\n", "topics:\n" + "".join(f"  - {t!r}\n" for t in topics))


def make_seeds(folder: Path) -> Path:
    shutil.copytree(SEEDS, folder)
    for i in range(GENERATED):
        (folder / f"gen_{i:02d}.txt").write_text(story(i), encoding="utf-8")
    return folder


def site_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def seed_bytes(seeds: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(seeds.iterdir())}


def generated(seeds: Path) -> list[Path]:
    return sorted(seeds.glob("gen_*.txt"))


# Each edit changes the seed folder (or the settings) and returns the seed files it changed.
Edit = Callable[[Path, random.Random], set[Path]]


def retitle(seeds: Path, rng: random.Random) -> set[Path]:
    target = rng.choice(generated(seeds))
    target.write_text(story(int(target.stem[4:]), title=f"Retitled {rng.randrange(10**6)}"), encoding="utf-8")
    return {target}


def delete(seeds: Path, rng: random.Random) -> set[Path]:
    target = rng.choice(generated(seeds))
    target.unlink()
    return set()


def add_duplicate(seeds: Path, rng: random.Random) -> set[Path]:
    """A new file whose lead is an article another file already has: that article gains a mention."""
    n = rng.randrange(10**6)
    target = seeds / f"dup_{n}.txt"
    target.write_text(story(rng.randrange(GENERATED), title=f"Copy {n}", extra="quality: 90\n"), encoding="utf-8")
    return {target}


def respell_topics(seeds: Path, rng: random.Random) -> set[Path]:
    """Most generated files switch to the other spelling: the topic's display name flips corpus-wide."""
    files = generated(seeds)
    texts = [f.read_text(encoding="utf-8") for f in files]
    spelling = "TESTING" if sum("'Testing'" in t for t in texts) > sum("'TESTING'" in t for t in texts) else "Testing"
    for target in files:
        target.write_text(story(int(target.stem[4:]), topics=(spelling,)), encoding="utf-8")
    return set(files)


def collide_topic_slug(seeds: Path, rng: random.Random) -> set[Path]:
    """'(AI)' sorts before the real seeds' 'AI' and takes its slug: every AI article's topics change."""
    target = seeds / f"ai_{rng.randrange(10**6)}.txt"
    target.write_text(
        story(rng.randrange(GENERATED), url=f"https://example.org/ai/{target.stem}", topics=("(AI)",)), encoding="utf-8"
    )
    return {target}


def break_file(seeds: Path, rng: random.Random) -> set[Path]:
    target = rng.choice(generated(seeds))
    target.write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    return {target}


def touch(seeds: Path, rng: random.Random) -> set[Path]:
    """Rewritten with the same bytes: nothing to build (the seeds are known by their bytes), and the file
    is parsed again by the next build that has something to do."""
    target = rng.choice(sorted(seeds.iterdir()))
    target.write_bytes(target.read_bytes())
    return {target}


EDITS: tuple[Edit, ...] = (retitle, delete, add_duplicate, respell_topics, collide_topic_slug, break_file, touch)


def test_every_rebuild_with_the_memo_is_byte_identical_to_a_fresh_build(tmp_path: Path) -> None:
    seeds = make_seeds(tmp_path / "seeds")
    (seeds / "draft.txt").write_text(
        story(3, title="A draft", url="https://example.org/draft", extra="draft: true\n"), encoding="utf-8"
    )
    settings = settings_for(seeds, tmp_path / "memo" / "site", search=False)
    memo = BuildMemo()
    build(settings, memo=memo)
    rng = random.Random(4)
    steps: list[Edit | str] = [*EDITS, *EDITS, "drafts", "drafts"]
    rng.shuffle(steps)
    slug_changes = 0
    pending: set[Path] = set()  # touched with the same bytes since the last build that did anything
    for step, edit in enumerate(steps):
        assert memo.ingest is not None and memo.merge is not None
        results, articles, slugs = dict(memo.ingest.results), dict(memo.merge.articles), memo.merge.topic_slugs
        seeds_were, settings_were = seed_bytes(seeds), settings
        if edit == "drafts":
            settings = replace(settings, drafts=not settings.drafts)
            changed = set(seed_paths(seeds))  # other results for the same files: nothing can be reused
        else:
            assert callable(edit)
            changed = edit(seeds, rng)
        with_memo = build(settings, memo=memo)
        fresh_out = tmp_path / f"fresh{step}" / "site"
        fresh = build(replace(settings, out=fresh_out, use_cache=False))
        assert site_files(settings.out) == site_files(fresh_out), f"step {step}: {edit}"
        assert with_memo.problems == fresh.problems
        # Nothing to do exactly when every seed file holds the bytes it held and the settings are the same.
        same = seed_bytes(seeds) == seeds_were and settings == settings_were
        assert (with_memo.timings.get("unchanged") is not None) == same, step
        if same:
            pending |= changed
            continue
        changed |= {p for p in pending if p.exists()}
        pending = set()
        # Only what changed was parsed and merged again.
        assert {Path(p) for p, r in memo.ingest.results.items() if results.get(p) is not r} == changed, step
        touched = {str(p) for p in changed} | set(results) - set(memo.ingest.results)
        dirty = {m.key for p in touched for r in (results.get(p), memo.ingest.results.get(p)) if r for m in r.mentions}
        reused = {k for k, a in memo.merge.articles.items() if articles.get(k) is a}
        slug_changes += memo.merge.topic_slugs != slugs
        if memo.merge.topic_slugs == slugs:
            # Every article whose mentions did not move is the very object the last merge made (one merged
            # again to the same article stays that object too).
            assert set(memo.merge.articles) - dirty <= reused, step
        else:  # a topic's slug moved: every article was merged again
            assert not reused, step
    assert slug_changes  # the edits did move a topic's slug, so the corpus-wide case was checked too


def test_the_memo_skips_the_disk_cache_but_keeps_it_warm(tmp_path: Path) -> None:
    seeds = make_seeds(tmp_path / "seeds")
    cache = tmp_path / "cache"
    memo = IngestMemo()
    first = ingest(seed_paths(seeds), seeds, cache, memo=memo)
    rows = seed_cache_rows(cache)
    target = seeds / "gen_03.txt"
    target.write_text(story(3, title="Retitled"), encoding="utf-8")
    again = ingest(seed_paths(seeds), seeds, cache, memo=memo)
    assert (again.parsed, again.cached) == (1, len(first.results) - 1)
    # Only the edited file's row is written again.
    assert {p for p, row in seed_cache_rows(cache).items() if rows[p] != row} == {str(target)}
    # What serve saved is what a later CLI build finds.
    assert ingest(seed_paths(seeds), seeds, cache).parsed == 0
    # The memo's ingest does not read the cache at all: garbage there changes nothing.
    seed_cache_database(cache).write_bytes(b"garbage")
    target.write_text(story(3, title="Retitled again"), encoding="utf-8")
    third = ingest(seed_paths(seeds), seeds, cache, memo=memo)
    assert third.parsed == 1
    assert next(m.title for m in third.mentions if m.path == str(target)) == "Retitled again"
    # Another seed folder (or drafts setting) does not use the memo's results.
    other = shutil.copytree(seeds, tmp_path / "other")
    assert ingest(seed_paths(other), other, cache, memo=memo).parsed == len(first.results)
    assert ingest(seed_paths(other), other, cache, drafts=True, memo=memo).parsed == len(first.results)


@pytest.fixture
def project(tmp_path: Path) -> Settings:
    own_template(tmp_path / "templates")
    return settings_for(
        make_seeds(tmp_path / "seeds"), tmp_path / "site", templates=tmp_path / "templates", search=False
    )


def test_serve_keeps_the_memo_through_a_template_error(project: Settings) -> None:
    state, memo = ServeState(), BuildMemo()
    assert rebuild(project, state, None, None, memo)
    kept = memo.ingest.results if memo.ingest else {}
    page = project.templates / "base.html"
    good = page.read_text(encoding="utf-8")
    page.write_text(good + "{% if %}", encoding="utf-8")
    assert rebuild(project, state, None, None, memo)
    assert state.error and "template error" in state.error
    page.write_text(good, encoding="utf-8")
    (project.seeds / "gen_05.txt").write_text(story(5, title="After the fix"), encoding="utf-8")
    assert rebuild(project, state, None, None, memo)
    assert state.error is None and memo.ingest is not None
    assert sum(memo.ingest.results[p] is not r for p, r in kept.items()) == 1
    fresh = replace(project, out=project.out.parent / "fresh", use_cache=False)
    build(fresh)
    assert site_files(project.out) == site_files(fresh.out)


def test_serve_rebuilds_when_an_input_changed_and_only_then(project: Settings) -> None:
    state, memo = ServeState(), BuildMemo()
    assert rebuild(project, state, None, None, memo)
    assert not rebuild(project, state, None, None, memo)  # a repeated event: nothing built, nothing reloaded
    target = project.seeds / "gen_02.txt"
    was = target.read_bytes()
    target.write_text(story(2, title="Edited"), encoding="utf-8")
    assert rebuild(project, state, None, None, memo)
    target.write_bytes(target.read_bytes())  # the same bytes again
    assert not rebuild(project, state, None, None, memo)
    target.write_bytes(was)  # the edit undone
    assert rebuild(project, state, None, None, memo)
    # A template error, then the template as it was: the inputs are the last good build's again, and the
    # error goes (the browser reloads to the site).
    page = project.templates / "base.html"
    good = page.read_text(encoding="utf-8")
    page.write_text(good + "{% if %}", encoding="utf-8")
    assert rebuild(project, state, None, None, memo) and state.error
    page.write_text(good, encoding="utf-8")
    assert rebuild(project, state, None, None, memo) and state.error is None
    assert not rebuild(project, state, None, None, memo)
    # Without the cache, the build keeps no record of the last one: the inputs' fingerprint tells.
    bare, state = replace(project, use_cache=False), ServeState()
    assert rebuild(bare, state, None, None, BuildMemo())
    assert not rebuild(bare, state, None, None, BuildMemo())
    target.write_text(story(2, title="Edited again"), encoding="utf-8")
    assert rebuild(bare, state, None, None, BuildMemo())
    fresh = replace(project, out=project.out.parent / "fresh", use_cache=False)
    build(fresh)
    assert site_files(project.out) == site_files(fresh.out)


def test_a_build_after_serve_s_rebuilds_merges_only_what_changed_since(
    project: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # serve keeps the merge record in step with its memo, so the cron job's build that follows finds it
    # whole and merges the one file edited since, not the archive.
    state, memo = ServeState(), BuildMemo()
    assert rebuild(project, state, None, None, memo)
    for n, i in enumerate((3, 4, 3)):
        (project.seeds / f"gen_{i:02d}.txt").write_text(story(i, title=f"Served {i}, edit {n}"), encoding="utf-8")
        assert rebuild(project, state, None, None, memo)
    (project.seeds / "gen_05.txt").write_text(story(5, title="Then by the cron job"), encoding="utf-8")
    merged_everything: list[int] = []
    merge_all = normalize.merge_all
    monkeypatch.setattr(normalize, "merge_all", lambda m: merged_everything.append(1) or merge_all(m))
    result = build(project)
    assert result.parsed == 1 and not merged_everything
    fresh = replace(project, out=project.out.parent / "fresh", use_cache=False)
    build(fresh)
    assert site_files(project.out) == site_files(fresh.out)


def test_serve_drops_the_memo_when_a_build_crashes(project: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def crashing(settings: Settings, memo: BuildMemo | None = None) -> None:
        build(settings, memo=memo)
        raise RuntimeError("a bug")

    state, memo = ServeState(), BuildMemo()
    monkeypatch.setattr(serve, "build", crashing)
    assert rebuild(project, state, None, None, memo)
    assert state.error == "RuntimeError: a bug"
    assert memo == BuildMemo()


def test_warming_the_memo_after_a_build_with_nothing_to_do_makes_the_next_build_the_same(tmp_path: Path) -> None:
    # serve's first build of an up-to-date site reads nothing; `warm` reads and merges ahead of the first edit.
    from newsstand.build import warm

    seeds = make_seeds(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False)
    build(settings)
    memo = BuildMemo()
    assert build(settings, memo=memo).timings.get("unchanged") is not None and memo.merge is None
    warm(settings, memo)
    assert memo.ingest is not None and memo.merge is not None and len(memo.merge.articles) > GENERATED
    articles = dict(memo.merge.articles)
    edited = sorted(seeds.glob("gen*"))[3]
    edited.write_text(edited.read_text().replace("title: '", "title: 'Late: ", 1))
    build(settings, memo=memo)
    fresh = tmp_path / "fresh"
    build(settings_for(seeds, fresh, search=False, use_cache=False))
    assert site_files(tmp_path / "site") == site_files(fresh)
    # Only the edited file's articles were merged again; the others are the warmed objects.
    assert (
        sum(memo.merge.articles[k] is a for k, a in articles.items() if k in memo.merge.articles) >= len(articles) - 8
    )
