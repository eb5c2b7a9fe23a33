"""The search index in partitions: a change re-indexes the partitions it touches, and the result is the
index a build from scratch makes (the browser side is in test_search.py)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from newsstand import search
from newsstand.build import build
from newsstand.search import BUNDLE, LISTS, MANIFEST, bundle_path, indexed_digest, search_bundles

from .conftest import SEEDS, settings_for, story_file

# Stories of months the real seeds (January and February 2020) do not have, each its own event.
EXTRA = {
    "nov_0.txt": ("Kendal lighthouse repair kendal", "2019-11-04T09:00:00Z"),
    "nov_1.txt": ("Oban ferry timetable oban", "2019-11-12T10:00:00Z"),
    "nov_2.txt": ("Truro dock strike truro", "2019-11-20T11:00:00Z"),
    "mar_0.txt": ("Whitby tide gauge whitby", "2020-03-03T09:00:00Z"),
    "mar_1.txt": ("Leith marina expansion leith", "2020-03-14T10:00:00Z"),
}


def corpus(folder: Path) -> Path:
    shutil.copytree(SEEDS, folder)
    for i, (name, (title, when)) in enumerate(EXTRA.items()):
        (folder / name).write_text(story_file(title=title, url=f"https://port{i}.example/{i}", when=when), "utf-8")
    return folder


def tree(site: Path, under: str = BUNDLE) -> dict[str, tuple[bytes, int, int]]:
    """Every file below `under`, with its bytes, inode and mtime."""
    return {
        p.relative_to(site).as_posix(): (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted((site / under).rglob("*"))
        if p.is_file()
    }


def indexed_urls(bundle: Path) -> set[str]:
    """The URL of every page a bundle holds, read from its fragments (gzipped JSON after a signature)."""
    urls = set()
    for fragment in (bundle / "fragment").iterdir():
        data = gzip.decompress(fragment.read_bytes())
        urls.add(json.loads(data.removeprefix(b"pagefind_dcd"))["url"])
    return urls


def from_scratch(seeds: Path, out: Path) -> dict[str, bytes]:
    shutil.rmtree(out, ignore_errors=True)
    build(settings_for(seeds, out, use_cache=False))
    return {k: v[0] for k, v in tree(out).items()}


def parts_of(site: Path) -> list[str]:
    html = (site / "search" / "index.html").read_text("utf-8")
    return html.split('data-parts="')[1].split('"')[0].split()


def test_each_month_is_a_bundle_that_the_search_page_merges(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    site = tmp_path / "site"
    build(settings_for(seeds, site))
    months = ["2019-11", "2020-01", "2020-02", "2020-03"]
    assert parts_of(site) == [f"pagefind/parts/{m}/" for m in months]
    assert sorted(p.name for p in (site / "pagefind" / "parts").iterdir()) == months
    # The stories of a month are in its bundle, and only there; topics and outlets in the primary one.
    nov = indexed_urls(site / "pagefind" / "parts" / "2019-11")
    assert len(nov) == 3 and all(u.startswith("/stories/") for u in nov)
    lists = indexed_urls(site / "pagefind")
    assert "/topics/testing/" in lists and not any(u.startswith("/stories/") for u in lists)
    everywhere = [indexed_urls(site / "pagefind" / "parts" / m) for m in months]
    assert sum(map(len, everywhere)) == len(set().union(*everywhere))
    stories = json.loads((site / "stories.json").read_text("utf-8"))["stories"]
    assert set().union(*everywhere) == {"/" + s["url"] for s in stories}
    # A merged bundle holds its index alone: Pagefind's scripts and WebAssembly come from the primary one.
    assert not list((site / "pagefind" / "parts").rglob("*.js")) and (site / "pagefind" / "pagefind-ui.js").is_file()
    assert not list((site / "pagefind" / "parts").rglob("wasm.*"))
    # Same pages, same bytes: a second build from scratch gives the same index.
    assert from_scratch(seeds, tmp_path / "again") == {k: v[0] for k, v in tree(site).items()}


def test_one_edited_story_reindexes_its_month_and_the_lists_and_no_other(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    site = tmp_path / "site"
    settings = settings_for(seeds, site)
    build(settings)
    before = tree(site, "")
    seed = seeds / "mar_1.txt"
    seed.write_text(seed.read_text("utf-8") + "The marina's second basin opens in spring.\n", "utf-8")
    result = build(settings)
    after = tree(site, "")
    changed = {k for k in after if k.startswith(BUNDLE) and before.get(k, (None,))[0] != after[k][0]}
    assert any(k.startswith("pagefind/parts/2020-03/fragment/") for k in changed)
    assert all(k.startswith("pagefind/parts/2020-03/") or not k.startswith("pagefind/parts/") for k in changed)
    # The other months' files are the very files the last build wrote (linked, not written again).
    for month in ("2019-11", "2020-01", "2020-02"):
        files = [k for k in before if k.startswith(f"pagefind/parts/{month}/")]
        assert files and all(after[k] == before[k] for k in files), month
    # ... and the write report counts them unchanged: it wrote exactly the files that are new on disk.
    rewritten = {k for k in after if after[k][1:] != before.get(k, (None, None, None))[1:]}
    assert result.report is not None and result.report.written == len(rewritten)
    # The incremental index is the one a build from scratch makes of the same files.
    assert {k: v[0] for k, v in after.items() if k.startswith(BUNDLE)} == from_scratch(seeds, tmp_path / "full")


def test_a_deleted_story_leaves_its_months_index_and_a_new_month_joins_the_search(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    site = tmp_path / "site"
    settings = settings_for(seeds, site)
    build(settings)
    (seeds / "nov_1.txt").unlink()  # the other stories of November keep their pages as they were
    build(settings)
    nov = site / "pagefind" / "parts" / "2019-11"
    assert len(indexed_urls(nov)) == 2 and not any("oban" in u for u in indexed_urls(nov))
    assert "oban" not in (nov / MANIFEST).read_text("utf-8")
    assert {k: v[0] for k, v in tree(site).items()} == from_scratch(seeds, tmp_path / "full")
    # A story of a month the site did not have: a new bundle, which the search page merges.
    (seeds / "may_0.txt").write_text(
        story_file(
            title="Margate pier restoration margate", url="https://port9.example/9", when="2020-05-02T08:00:00Z"
        ),
        "utf-8",
    )
    build(settings)
    assert "pagefind/parts/2020-05/" in parts_of(site)
    assert len(indexed_urls(site / "pagefind" / "parts" / "2020-05")) == 1
    # The last story of a month deleted: its bundle goes, and the search page no longer merges it.
    (seeds / "may_0.txt").unlink()
    build(settings)
    assert "pagefind/parts/2020-05/" not in parts_of(site) and not (site / "pagefind" / "parts" / "2020-05").exists()
    assert {k: v[0] for k, v in tree(site).items()} == from_scratch(seeds, tmp_path / "full")


def unchanged_pages(site: Path, part: str) -> list[tuple[str, bytes | None]]:
    """The pages a partition's bundle in `site` indexed, each as unchanged (path, None)."""
    lines = (site / bundle_path(part) / MANIFEST).read_text("utf-8").splitlines()
    return [(line.split("\t")[0], None) for line in lines]


def test_only_a_partition_with_a_changed_or_lost_page_is_indexed_again(tmp_path: Path) -> None:
    """search_bundles over a real last site: a partition all of whose pages are unchanged comes out as the
    last build's files (None: linked); one with a changed page, or one that lost a page, as new bytes."""
    seeds = corpus(tmp_path / "seeds")
    site = tmp_path / "site"
    build(settings_for(seeds, site))

    months = ("2019-11", "2020-01", "2020-02", "2020-03")
    unchanged = {LISTS: unchanged_pages(site, LISTS), **{m: unchanged_pages(site, m) for m in months}}
    out = dict(search_bundles(unchanged, "en", site, jobs=2))
    assert out and all(data is None for data in out.values())
    assert set(out) == set(tree(site))
    edited = dict(unchanged)
    (path, _), *rest = edited["2020-01"]
    edited["2020-01"] = [(path, (site / path).read_bytes().replace(b"</main>", b"<p>Zanzibar</p></main>")), *rest]
    edited["2019-11"] = unchanged["2019-11"][1:]  # a story gone, the others as they were
    out = dict(search_bundles(edited, "en", site, jobs=2))
    for part in (*months, LISTS):
        inside = bundle_path(part)
        files = [v for k, v in out.items() if k.startswith(inside) and (part != LISTS or "/parts/" not in k)]
        fresh = part in ("2019-11", "2020-01")
        assert files and all((v is not None) == fresh for v in files), part
    listed = out["pagefind/parts/2019-11/" + MANIFEST]
    assert listed is not None and [line.split("\t")[0] for line in listed.decode().splitlines()] == [
        p for p, _ in unchanged["2019-11"][1:]
    ]


def test_the_indexed_digest_sees_what_pagefind_reads_and_only_that() -> None:
    page = (
        b'<html><head><title>T</title><script type="application/ld+json">{"items": 5}</script></head><body>'
        b"<main data-pagefind-body><h1>Harbour</h1>"
        b'<p title="a data-pagefind-ignore b">Lede data-pagefind-ignore</p>'
        b"<section data-pagefind-ignore><ul><li><section>Related one</section></li></ul></section>"
        b'<svg data-pagefind-ignore="all"><text>Timeline</text></svg><p>Tail</p></main></body></html>'
    )
    same = indexed_digest(page)
    # What is ignored may change (nested elements of the same name included) ...
    assert indexed_digest(page.replace(b"Related one", b"Related two")) == same
    assert indexed_digest(page.replace(b"<text>Timeline", b"<text>Other")) == same
    assert indexed_digest(page.replace(b'"items": 5', b'"items": 6')) == same  # a script's text is never read
    # ... anything else may not: after an ignored element, or where the words only look like the attribute.
    for before, after in ((b"Tail", b"Tale"), (b"Lede", b"Lead"), (b'"a data', b'"c data'), (b"<h1>H", b"<h1>W")):
        assert indexed_digest(page.replace(before, after)) != same, after
    # An ignored element that holds a filter or metadata is still read by Pagefind: it counts.
    tagged = page.replace(b"<li><section>", b"<li data-pagefind-filter='topic'><section>")
    assert indexed_digest(tagged.replace(b"Related one", b"Related two")) != indexed_digest(tagged)
    # One whose end cannot be found counts whole.
    open_ended = page.replace(b"</ul></section>", b"</ul>")
    assert indexed_digest(open_ended.replace(b"Related one", b"Related two")) != indexed_digest(open_ended)


def test_an_old_page_that_changes_only_where_search_ignores_keeps_its_months_index(tmp_path: Path) -> None:
    """A story's related stories show other stories' headlines, which move as those grow: the old story's
    page changes, but not what search reads of it, and its month is not indexed again."""
    seeds = corpus(tmp_path / "seeds")
    related = "  - title: 'Leith marina'\n    webUrl: 'https://port4.example/4'\n    publishedDateTime: 2020-03-14T10:00:00Z\n"
    kendal, when = EXTRA["nov_0.txt"]
    (seeds / "nov_0.txt").write_text(
        story_file(title=kendal, url="https://port0.example/0", when=when, related=related)
    )
    site = tmp_path / "site"
    settings = settings_for(seeds, site)
    build(settings)
    stories = json.loads((site / "stories.json").read_text("utf-8"))["stories"]
    page = site / next(s["url"] for s in stories if s["title"] == kendal) / "index.html"
    assert b"Leith marina expansion leith" in page.read_bytes()
    before = tree(site, "")
    seed = seeds / "mar_1.txt"
    seed.write_text(seed.read_text("utf-8").replace("Leith marina expansion leith", "Leith marina expansion opens"))
    build(settings)
    after = tree(site, "")
    assert b"Leith marina expansion opens" in page.read_bytes()  # the old page did change
    november = [k for k in before if k.startswith("pagefind/parts/2019-11/")]
    assert november and all(after[k] == before[k] for k in november)  # its month's index: the same files
    assert any(after[k][0] != before.get(k, (None,))[0] for k in after if k.startswith("pagefind/parts/2020-03/"))
    assert {k: v[0] for k, v in after.items() if k.startswith(BUNDLE)} == from_scratch(seeds, tmp_path / "full")


def test_a_new_story_in_known_topics_and_outlets_leaves_the_lists_index_alone(tmp_path: Path) -> None:
    """A topic's or outlet's page shows counts, dates and a chart that move with every new story; search
    reads its name and what it is about, so a cron tick's new stories do not index the lists again."""
    seeds = corpus(tmp_path / "seeds")
    site = tmp_path / "site"
    settings = settings_for(seeds, site)
    build(settings)
    topic = (site / "topics" / "testing" / "index.html").read_bytes()
    before = tree(site, "")
    (seeds / "mar_2.txt").write_text(
        story_file(
            title="Scarborough harbour wall scarborough", url="https://port7.example/7", when="2020-03-20T08:00:00Z"
        )
    )
    build(settings)
    after = tree(site, "")
    assert (site / "topics" / "testing" / "index.html").read_bytes() != topic  # its counts moved
    primary = [k for k in before if k.startswith(f"{BUNDLE}/") and not k.startswith(f"{BUNDLE}/parts/")]
    assert primary and all(after[k] == before[k] for k in primary)
    assert any(after[k][0] != before.get(k, (None,))[0] for k in after if k.startswith("pagefind/parts/2020-03/"))
    assert {k: v[0] for k, v in after.items() if k.startswith(BUNDLE)} == from_scratch(seeds, tmp_path / "full")


def test_a_month_with_many_stories_is_indexed_in_quarters_and_an_edit_reindexes_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At 100k stories a month holds a thousand story pages: past MONTH_STORIES it is indexed in four parts.
    monkeypatch.setattr(search, "MONTH_STORIES", 2)
    seeds = corpus(tmp_path / "seeds")
    (seeds / "nov_3.txt").write_text(
        story_file(
            title="Margate pier restoration margate", url="https://port7.example/7", when="2019-11-28T10:00:00Z"
        ),
        "utf-8",
    )
    site = tmp_path / "site"
    settings = settings_for(seeds, site)
    build(settings)
    stories = json.loads((site / "stories.json").read_text("utf-8"))["stories"]
    first = {s["url"]: min(a["published"] for a in s["articles"]) for s in stories}  # UTC, ISO
    per_month = Counter(when[:7] for when in first.values())
    split = {m for m, n in per_month.items() if n > 2}
    assert "2019-11" in split and "2020-03" not in split  # four stories in November, two in March
    parts = parts_of(site)
    assert "pagefind/parts/2020-03/" in parts and "pagefind/parts/2019-11/" not in parts
    # November's stories fell on the 4th, 12th, 20th and 28th: one in each quarter.
    assert [p for p in parts if p.startswith("pagefind/parts/2019-11")] == [
        f"pagefind/parts/2019-11-{q}/" for q in (1, 2, 3, 4)
    ]
    assert sorted(p.name for p in (site / "pagefind" / "parts").iterdir()) == sorted(
        p.removeprefix("pagefind/parts/").rstrip("/") for p in parts
    )
    # Every story is in exactly one bundle, and the search page merges them all.
    found = [indexed_urls(site / p) for p in parts]
    assert sum(map(len, found)) == len(stories) and set().union(*found) == {"/" + s["url"] for s in stories}
    assert indexed_urls(site / "pagefind" / "parts" / "2019-11-2") == {
        "/" + url for url, when in first.items() if when.startswith("2019-11-12")
    }

    # An edited story re-indexes its quarter, and no other bundle of its month.
    before = tree(site)
    seed = seeds / "nov_2.txt"
    seed.write_text(seed.read_text("utf-8") + "The strike ends after a week.\n", "utf-8")
    build(settings)
    after = tree(site)
    moved = {k for k in {*before, *after} if before.get(k) != after.get(k)}
    assert {k.split("/")[2] for k in moved if k.startswith("pagefind/parts/")} == {"2019-11-3"}
    assert {k: v[0] for k, v in after.items()} == from_scratch(seeds, tmp_path / "full")


def test_pagefinds_scratch_folder_is_in_memory_only_with_room_and_unless_tmpdir_says_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def scratch() -> str | None:
        search._scratch.cache_clear()
        try:
            return search._scratch()
        finally:
            search._scratch.cache_clear()

    monkeypatch.delenv("TMPDIR", raising=False)
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        room = os.statvfs(shm)
        monkeypatch.setattr(search, "SCRATCH_FREE", room.f_bavail * room.f_frsize // 2)
        assert scratch() == "/dev/shm"
    monkeypatch.setattr(search, "SCRATCH_FREE", 1 << 62)  # more than any machine has free
    assert scratch() is None
    monkeypatch.setattr(search, "SCRATCH_FREE", 0)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert scratch() is None


def test_scratch_folders_of_builds_killed_while_pagefind_ran_are_removed_and_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A build killed mid-index cannot remove its folder; in /dev/shm it would hold its pages in memory until
    # the machine restarts. The next index removes it, and leaves a running build's and anything else alone.
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    dead = int(gone.stdout)
    scratch = tmp_path / "scratch"
    stale = scratch / f"{search.SCRATCH_PREFIX}{dead}-x1" / "site" / "stories"
    live = scratch / f"{search.SCRATCH_PREFIX}{os.getpid()}-x2" / "site"
    other = scratch / "newsstand-search-notours" / "site"
    for folder in (stale, live, other):
        folder.mkdir(parents=True)
    (stale / "page.html").write_bytes(b"<html>" * 1000)
    monkeypatch.setattr(search, "_scratch", lambda: str(scratch))
    search._sweep.cache_clear()
    page = b'<html lang="en"><body><main data-pagefind-body><h1>Narvik airport scans</h1></main></body></html>'
    bundle = dict(search.search_files([("a/index.html", page)]))
    assert f"{BUNDLE}/pagefind-entry.json" in bundle
    assert sorted(p.name for p in scratch.iterdir()) == sorted([live.parent.name, other.parent.name])
    search._sweep.cache_clear()


def test_the_lists_handed_in_once_rendered_give_the_bundles_of_all_pages_at_once(tmp_path: Path) -> None:
    """A build indexes the months while the lists render, and the lists once they are: the bundles are those
    of every partition handed in at once, changed lists and months included; and lists that never come
    (their rendering failed) end the search with that error rather than leaving it waiting."""
    seeds = corpus(tmp_path / "seeds")
    site = tmp_path / "site"
    build(settings_for(seeds, site))

    def edit(files: list[tuple[str, bytes | None]]) -> list[tuple[str, bytes | None]]:
        (path, _), *rest = files
        return [(path, (site / path).read_bytes().replace(b"</main>", b"<p>Zanzibar</p></main>")), *rest]

    months = {m: unchanged_pages(site, m) for m in ("2019-11", "2020-01", "2020-02", "2020-03")}
    months["2020-02"] = edit(months["2020-02"])
    for lists in (unchanged_pages(site, LISTS), edit(unchanged_pages(site, LISTS))):
        at_once = dict(search_bundles({LISTS: lists, **months}, "en", site, jobs=2))
        handed = list(search_bundles(months, "en", site, jobs=2, lists=lambda lists=lists: lists))
        assert dict(handed) == at_once and len(handed) == len(at_once)
        assert any(v is not None for k, v in at_once.items() if k.startswith("pagefind/parts/2020-02/"))

    def failed() -> list[tuple[str, bytes | None]]:
        raise RuntimeError("the lists were not rendered")

    with pytest.raises(RuntimeError, match="not rendered"):
        list(search_bundles(months, "en", site, jobs=2, lists=failed))


def test_a_list_page_that_fails_to_render_fails_the_build_without_leaving_the_search_waiting(tmp_path: Path) -> None:
    """The months' bundles are being made when the lists render: a list page that fails must end the build
    with its error (the search is told the lists never came; waiting for them, the process would never
    exit), and the last site stays as it was."""
    seeds = corpus(tmp_path / "seeds")
    site = tmp_path / "site"
    build(settings_for(seeds, site))
    before = tree(site, ".")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "term.html").write_text(
        '{% extends "base.html" %}{% block main %}{{ 1 // 0 }}{% endblock %}', "utf-8"
    )
    (seeds / "nov_0.txt").write_text(story_file(title="Kendal lighthouse reopens kendal", when="2019-11-04T09:00:00Z"))
    # The command line in the site's folder: the same seeds, site, templates and cache as settings_for.
    done = subprocess.run(
        [sys.executable, "-m", "newsstand", "build", "--seeds", "seeds", "--out", "site"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "division" in done.stdout + done.stderr
    assert {k: v[0] for k, v in tree(site, ".").items()} == {k: v[0] for k, v in before.items()}
