"""Incremental builds: a change re-renders exactly what depends on it, and the result is what a full build gives."""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from newsstand.build import BuildResult, build
from newsstand.config import Settings

from .conftest import SEEDS, THEME, own_template, settings_for, story_file
from .test_memo import EDITS, Edit, make_seeds, site_files

NAMES = [
    "Aberdeen",
    "Bristol",
    "Cardiff",
    "Dover",
    "Exeter",
    "Falmouth",
    "Glasgow",
    "Hull",
    "Ipswich",
    "Jarrow",
    "Kendal",
    "Leith",
    "Margate",
    "Newport",
    "Oban",
    "Plymouth",
    "Ramsgate",
    "Swansea",
    "Truro",
    "Whitby",
]
DEEDS = [
    "harbour dredging",
    "ferry timetable",
    "lighthouse repair",
    "fishing quota",
    "marina expansion",
    "pier restoration",
    "tide gauge",
    "lifeboat station",
    "dock strike",
    "cruise terminal",
]


def corpus(folder: Path) -> Path:
    """The real seeds and 20 unrelated stories, each its own event."""
    shutil.copytree(SEEDS, folder)
    for i, name in enumerate(NAMES):
        (folder / f"gen_{i:03d}.txt").write_text(
            story_file(
                title=f"{name} {DEEDS[i % 10]} {name.lower()}",
                url=f"https://port{i % 4}.example/{i}",
                when=f"2020-01-{1 + i:02d}T{i % 24:02d}:00:00Z",
            ),
            encoding="utf-8",
        )
    return folder


def snapshot(site: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        p.relative_to(site).as_posix(): (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def test_nothing_changed_rewrites_nothing(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False)
    build(settings)
    before = snapshot(tmp_path / "site")
    result = build(settings)
    assert result.report is not None and result.report.written == 0 and result.report.removed == 0
    assert snapshot(tmp_path / "site") == before  # same bytes, same inodes, same mtimes


def test_one_changed_seed_rerenders_what_depends_on_it_and_matches_a_full_build(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url="https://example.org/")
    build(settings)
    before = snapshot(tmp_path / "site")
    seed = seeds / "gen_005.txt"
    seed.write_text(seed.read_text().replace("Falmouth pier", "Falmouth rejects pier"))
    result = build(settings)
    after = snapshot(tmp_path / "site")

    # The incremental result is byte for byte what a build from nothing gives.
    full = tmp_path / "full"
    build(settings_for(seeds, full, search=False, base_url="https://example.org/", use_cache=False))
    assert {k: v[0] for k, v in after.items()} == {
        p.relative_to(full).as_posix(): p.read_bytes() for p in sorted(full.rglob("*")) if p.is_file()
    }

    changed = {k for k in after if k not in before or after[k][0] != before[k][0]}
    rewritten = {k for k in after if k not in before or after[k][1:] != before[k][1:]}
    assert changed == rewritten  # every file whose bytes changed was written, and no other

    data = json.loads(after["stories.json"][0])
    (story,) = [s for s in data["stories"] if any("Falmouth rejects" in a["title"] for a in s["articles"])]
    slug = story["slug"]
    # What must change: the story's page, the lists and feeds it is on, the data. Not the sitemap: the
    # story keeps its URL when its headline is edited, and its last coverage is as old as it was.
    assert "sitemap.xml" not in changed and slug in before["stories.json"][0].decode()
    for must in (
        f"stories/{slug}/index.html",
        "stories.json",
        "feed.xml",
        "topics/testing/index.html",
        "topics/testing/feed.xml",
    ):
        assert must in changed, must
    # What must not: story pages of other stories, the lists it is not on.
    untouched_stories = [k for k in after if k.startswith("stories/") and slug not in k]
    assert untouched_stories and not set(untouched_stories) & changed
    assert "topics/ai/index.html" not in changed and "providers/engadget/index.html" not in changed
    # Its day's archive lists it, and changes; the index of days (counts only) and the other days do not.
    assert "days/2020-01-06/index.html" in changed and "days/index.html" not in changed
    assert "days/2020-01-07/index.html" in after and "days/2020-01-07/index.html" not in changed
    assert b"days/2020-01-06/" in after["sitemap.xml"][0]
    assert result.report is not None and result.report.written == len(changed)
    # Rendered were the pages that show the story, not every page: a build after a cold one compares
    # signatures of freshly parsed seeds with those of cached ones, and they must agree on equal content.
    assert 0 < result.rendered <= len(changed), (result.rendered, len(changed))


def _rebuild_matches_a_full_build(
    tmp_path: Path, seeds: Path, settings: Settings, before: dict[str, tuple[bytes, int, int]]
) -> tuple[BuildResult, set[str]]:
    """Build again; check the result is what a build from nothing gives; return (result, changed files)."""
    result = build(settings)
    after = snapshot(tmp_path / "site")
    full = tmp_path / "full"
    shutil.rmtree(full, ignore_errors=True)
    build(settings_for(seeds, full, search=False, base_url="https://example.org/", use_cache=False))
    assert {k: v[0] for k, v in after.items()} == {
        p.relative_to(full).as_posix(): p.read_bytes() for p in sorted(full.rglob("*")) if p.is_file()
    }
    changed = {k for k in after if k not in before or after[k][0] != before[k][0]}
    rewritten = {k for k in after if k not in before or after[k][1:] != before[k][1:]}
    assert changed == rewritten
    return result, changed


def test_a_story_from_a_new_outlet_on_a_new_topic_rerenders_only_the_pages_that_show_it(tmp_path: Path) -> None:
    # Outlets and topics are site-wide indexes: a new one must not re-render the pages of every other story.
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url="https://example.org/")
    build(settings)
    before = snapshot(tmp_path / "site")
    (seeds / "new.txt").write_text(
        "---\ntitle: Harbour Gazette opens a tide museum in Wick\npublishedDateTime: 2020-02-03T09:00:00Z\n"
        "webUrl: https://harbourgazette.example/museum\nprovider:\n  name: Harbour Gazette\n"
        "  domain: harbourgazette.example\ntopics:\n  - Harbours\n---\n",
        encoding="utf-8",
    )
    result, changed = _rebuild_matches_a_full_build(tmp_path, seeds, settings, before)
    assert "providers/harbour-gazette/index.html" in changed and "topics/harbours/index.html" in changed
    assert "topics/index.html" in changed and "providers/index.html" in changed
    stories = [k for k in changed if k.startswith("stories/")]
    assert len(stories) == 1 and "tide-museum" in stories[0], stories
    assert 0 < result.rendered <= len(changed), (result.rendered, len(changed))


def test_an_edit_clustering_does_not_read_reuses_the_clusters_and_still_reorders_the_front_page(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url="https://example.org/")
    assert build(settings).clustered
    before = snapshot(tmp_path / "site")
    order = [s["slug"] for s in json.loads(before["stories.json"][0])["stories"]]
    # The last story on the front page turns hot: it moves up, its clusters cannot move.
    last = order[-1]
    (seed,) = [p for p in seeds.glob("gen_*.txt") if last.split("-")[0] in p.read_text().lower()]
    seed.write_text(seed.read_text().replace("topics:", "heat: 100000\ntopics:"))
    result, changed = _rebuild_matches_a_full_build(tmp_path, seeds, settings, before)
    assert not result.clustered
    now = [s["slug"] for s in json.loads((tmp_path / "site" / "stories.json").read_bytes())["stories"]]
    assert sorted(now) == sorted(order) and now.index(last) < len(order) // 2
    assert "index.html" in changed
    # A title edit changes what clustering reads: it clusters again.
    seed.write_text(seed.read_text().replace("title: '", "title: 'Now: "))
    assert build(settings).clustered


def test_an_outlet_renamed_by_its_files_rerenders_every_page_that_names_it(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url="https://example.org/")
    build(settings)
    before = snapshot(tmp_path / "site")
    # Most of the generated files now call example.com "Example Daily": the name the site shows for it,
    # also on the pages of the five stories whose files did not change.
    for path in sorted(seeds.glob("gen_*.txt"))[:15]:
        path.write_text(path.read_text().replace("name: Example\n", "name: Example Daily\n"))
    _, changed = _rebuild_matches_a_full_build(tmp_path, seeds, settings, before)
    naming = [k for k, v in snapshot(tmp_path / "site").items() if k.endswith(".html") and b"Example Daily" in v[0]]
    assert len(naming) > 20 and set(naming) <= changed


def test_a_template_change_rerenders_every_page(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    base = own_template(tmp_path / "templates")
    settings = settings_for(seeds, tmp_path / "site", search=False)
    build(settings)
    base.write_text(base.read_text().replace("<footer", "<!-- edited --><footer"))
    result = build(settings)
    html = [p for p in (tmp_path / "site").rglob("*.html")]
    assert result.report is not None and result.report.written >= len(html)
    assert all("<!-- edited -->" in p.read_text() for p in html)


def test_how_the_site_is_built_renders_no_page_again_and_what_it_shows_renders_every_page(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url="https://example.org/", jobs=1)
    first = build(settings)
    assert first.rendered == first.pages
    # Build-only settings (workers, strictness, drafts absent) are not in any page's signature.
    again = build(replace(settings, jobs=2, strict=True))
    assert again.rendered == 0
    # A setting every page shows re-renders every page, and each shows it.
    retitled = build(replace(settings, title="Harbour News"))
    assert retitled.rendered == retitled.pages
    html = list((tmp_path / "site").rglob("*.html"))
    assert html and all("Harbour News" in p.read_text() for p in html)


def test_a_hand_edited_output_file_is_rendered_again(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False)
    build(settings)
    index = tmp_path / "site" / "index.html"
    good = index.read_bytes()
    index.write_bytes(b"vandalised")
    build(settings)
    assert index.read_bytes() == good


def test_a_build_with_nothing_to_do_still_sees_any_change_to_the_site(tmp_path: Path) -> None:
    # The quick check stats the files and folders it wrote instead of listing every folder: a file added,
    # removed or edited by hand anywhere in the site must still send the build the long way, which repairs it.
    seeds = corpus(tmp_path / "seeds")
    site = tmp_path / "site"
    settings = settings_for(seeds, site, search=False)
    build(settings)
    good = snapshot(site)
    story = next(p for p in sorted(site.glob("stories/*/index.html")))
    for damage in (
        lambda: (story.parent / "stray.html").write_text("stray"),
        lambda: (site / "topics" / "new-folder").mkdir(),
        lambda: story.unlink(),
        lambda: story.write_bytes(story.read_bytes().replace(b"<main", b"<main data-x")),
        lambda: (story.parent / "index.html").rename(story.parent / "moved.html"),
    ):
        damage()
        assert build(settings).timings.get("unchanged") is None  # the long way
        assert {k: v[0] for k, v in snapshot(site).items()} == {k: v[0] for k, v in good.items()}
        assert build(settings).timings.get("unchanged") is not None  # and then nothing to do again


def test_a_story_page_depends_on_what_it_shows_of_the_stories_it_links_to() -> None:
    # Story A's files list X's lead as related; A's page shows X's title and lead, nothing else of X.
    from dataclasses import replace as changed

    from newsstand.incremental import signatures
    from newsstand.model import Corpus, Coverage, Provider
    from newsstand.pages import plan
    from newsstand.rank import rank

    from .factories import article

    x1 = article("x1", hours=2, title="Ferry strike ends in Dover", quality=90)
    x2 = article("x2", hours=1, title="Dover ferry strike talks resume")  # the first report: it names the story
    a1 = article("a1", hours=5, title="Port of Calais reopens", related=(x1.key,))

    def sigs(*arts: Any) -> dict[str, str]:
        by_key = {a.key.rsplit("/", 1)[1]: a for a in arts}
        stories = rank([(Coverage(by_key["a1"]),), (Coverage(by_key["x1"]), Coverage(by_key["x2"]))])
        corpus = Corpus(tuple(sorted(arts, key=lambda a: a.key)), (Provider("a.com", "A", "a"),), ())
        pages, site = plan(corpus, stories, Settings().site)
        return {p.path: s for p, s in zip(pages, signatures(pages, site, stories, "inputs").pages, strict=True)}

    before = sigs(x1, x2, a1)
    (a_page,) = [p for p in before if "calais" in p]
    assert a_page.startswith("stories/")
    (x_page,) = [p for p in before if "dover" in p]
    # Other coverage of X changes: X's page and the lists change, A's page does not.
    after = sigs(x1, changed(x2, excerpt="Talks resumed at dawn."), a1)
    assert after[x_page] != before[x_page] and after["index.html"] != before["index.html"]
    assert after[a_page] == before[a_page]
    # X's lead changes: A's page shows it, so it changes too.
    assert sigs(changed(x1, title="Ferry strike ends"), x2, a1)[a_page] != before[a_page]


def test_seed_files_rewritten_with_the_same_bytes_leave_nothing_to_do(tmp_path: Path) -> None:
    # A checkout, a copy or a fetch that writes what was there already: seeds are known by their bytes.
    seeds = corpus(tmp_path / "seeds")
    site = tmp_path / "site"
    settings = settings_for(seeds, site, search=False, base_url="https://example.org/")
    build(settings)
    good = snapshot(site)
    for path in sorted(seeds.iterdir()):
        path.write_bytes(path.read_bytes())
    result = build(settings)
    assert result.timings.get("unchanged") is not None and result.rendered == 0
    assert snapshot(site) == good  # same bytes, same inodes, same mtimes
    assert build(settings).timings.get("unchanged") is not None
    # Other bytes of the same size, under the same mtime, are an edit all the same.
    seed = seeds / "gen_003.txt"
    text, st = seed.read_text(), seed.stat()
    seed.write_text(text.replace("Dover", "Doves"))
    os.utime(seed, ns=(st.st_atime_ns, st.st_mtime_ns))
    result, changed = _rebuild_matches_a_full_build(tmp_path, seeds, settings, good)
    assert result.timings.get("unchanged") is None and result.rendered > 0
    assert any(b"Doves" in (site / path).read_bytes() for path in changed if path.endswith(".html"))


def _full_build(seeds: Path, out: Path) -> dict[str, bytes]:
    build(settings_for(seeds, out, search=False, use_cache=False))
    return site_files(out)


def test_stories_json_copies_the_stories_that_did_not_move_from_the_live_file(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False)
    build(settings)
    data = tmp_path / "site" / "stories.json"
    text = data.read_bytes()
    # Mark the text of one story that the change below leaves alone, same size and same mtime: the next
    # build can only show the mark if it copied that story's bytes from the live file.
    newest = max(json.loads(text)["stories"], key=lambda s: max(a["published"] for a in s["articles"]))
    kept = newest  # its score moves most when a newer report comes in
    was = json.dumps(kept["title"], ensure_ascii=False).encode()
    marked = was[:-2] + (b"X" if was[-2:-1] != b"X" else b"Y") + b'"'
    assert was in text and len(marked) == len(was)
    st = data.stat()
    os.unlink(data)  # the spare site shares the file's inode: write a new one, as a hand edit would
    data.write_bytes(text.replace(was, marked))
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))
    # A cron tick: a report newer than all the others moves every story's score (recency is measured
    # from the newest report), and the copied texts get their new scores.
    (seeds / "tick.txt").write_text(
        story_file(title="Oban ferry timetable cut", url="https://port9.example/x", when="2021-01-01T10:00:00Z")
    )
    build(settings)
    copied = data.read_bytes()
    assert marked in copied and b"Oban ferry timetable cut" in copied
    full = _full_build(seeds, tmp_path / "full")["stories.json"]
    assert copied.replace(marked, was) == full
    scores = [s["score"] for s in json.loads(full)["stories"] if s["slug"] == kept["slug"]]
    assert scores != [kept["score"]]  # the copied story's score did move

    # Any other change to the live file, and nothing is copied: the build gives what a full one gives.
    data.write_bytes(copied + b" ")
    seed = seeds / "gen_005.txt"
    seed.write_text(seed.read_text().replace("Falmouth pier", "Falmouth rejects pier"))
    build(settings)
    assert data.read_bytes() == _full_build(seeds, tmp_path / "full2")["stories.json"]


def test_stories_json_after_edits_additions_and_deletions_is_a_full_builds(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False)
    build(settings)
    gen = sorted(seeds.glob("gen_*.txt"))
    edits = [
        lambda: gen[3].write_text(gen[3].read_text().replace("Dover", "Dover council")),
        lambda: gen[7].unlink(),
        lambda: (seeds / "new.txt").write_text(
            story_file(title="Oban ferry timetable cut", url="https://port9.example/x", when="2020-01-21T10:00:00Z")
        ),
        lambda: gen[0].write_text(gen[0].read_text().replace("2020-01-01T00", "2020-01-25T00")),
    ]
    for step, edit in enumerate(edits):
        edit()
        build(settings)
        full = _full_build(seeds, tmp_path / f"full{step}")
        assert (tmp_path / "site" / "stories.json").read_bytes() == full["stories.json"], step


def test_compiled_templates_are_kept_and_a_damaged_one_is_compiled_again(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False)
    build(settings)
    folder = settings.cache / "templates"
    compiled = {p: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert len(compiled) >= 3  # the base, the pages' templates, the macros
    good = site_files(tmp_path / "site")

    # Another site from the same cache renders every page with the templates as compiled: none again.
    build(replace(settings, out=tmp_path / "again"))
    assert {p: p.stat().st_mtime_ns for p in folder.iterdir()} == compiled
    assert site_files(tmp_path / "again") == good

    # Damaged files, and a file of another version of the code: compiled again, the same pages.
    for p in compiled:
        p.write_bytes(p.read_bytes()[:20])
    (folder / "stale.0123456789abcdef.cache").write_bytes(b"junk")
    build(replace(settings, out=tmp_path / "third"))
    assert site_files(tmp_path / "third") == good
    assert set(folder.iterdir()) == set(compiled) and all(p.stat().st_size > 20 for p in compiled)


@pytest.mark.parametrize("seed", [12, 13])
def test_random_edits_settings_and_theme_changes_give_a_fresh_builds_bytes(tmp_path: Path, seed: int) -> None:
    """A cache kept through seed edits, every kind of setting and the site's own templates and stylesheet
    changing gives, build after build, the bytes a build from nothing gives."""
    seeds = make_seeds(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url="https://example.org/news/")
    templates, static = tmp_path / "templates", tmp_path / "static"

    # Every step changes the files or the settings, and gives the settings of the next build.
    Step = Callable[[Settings, random.Random], Settings]

    def on_files(edit: Edit) -> Step:
        def step(s: Settings, rng: random.Random) -> Settings:
            edit(s.seeds, rng)
            return s

        return step

    def restyle(s: Settings, rng: random.Random) -> Settings:
        static.mkdir(exist_ok=True)
        css = static / "style.css"
        text = css.read_text(encoding="utf-8") if css.exists() else (THEME / "static" / "style.css").read_text()
        css.write_text(text + f"\n.x{rng.randrange(10**6)} {{ color: red }}\n", encoding="utf-8")
        return s

    def retemplate(s: Settings, rng: random.Random) -> Settings:
        name = rng.choice(["base.html", "story.html", "home.html", "term.html"])
        page = templates / name if (templates / name).exists() else own_template(templates, name)
        mark = "{% block main %}"
        text = page.read_text(encoding="utf-8")
        assert mark in text
        page.write_text(text.replace(mark, f"{mark}<!-- {rng.randrange(10**6)} -->", 1), encoding="utf-8")
        return s

    shown: list[Step] = [
        lambda s, rng: replace(s, title=f"Harbour News {rng.randrange(100)}"),
        lambda s, rng: replace(s, page_size=rng.choice([2, 3, 20])),
        lambda s, rng: replace(s, timezone=rng.choice(["UTC", "Europe/London", "Asia/Tokyo"])),
        lambda s, rng: replace(s, show_images=not s.show_images),
        lambda s, rng: replace(s, base_url=rng.choice(["", "https://example.org/news/", "https://news.example/"])),
        lambda s, rng: replace(s, front_page_stories=rng.choice([0, 3, 60]), feed_size=rng.choice([2, 50])),
        lambda s, rng: replace(s, cluster_threshold=rng.choice([0.2, 0.3, 0.45])),
        lambda s, rng: replace(s, exclude_topics=rng.choice([(), ("Testing",)])),
        lambda s, rng: replace(s, jobs=rng.choice([1, 2])),  # how it is built: no page moves
    ]
    rng = random.Random(seed)
    steps: list[Step] = [*map(on_files, EDITS), *shown, restyle, retemplate, restyle, retemplate]
    rng.shuffle(steps)
    build(settings)
    for step, change in enumerate(steps):
        settings = change(settings, rng)
        result = build(settings)
        fresh_out = tmp_path / f"fresh{step}" / "site"
        # Without the caches, but with the story register: a story's URL is what the site published before.
        fresh = build(replace(settings, out=fresh_out, use_cache=False))
        assert site_files(settings.out) == site_files(fresh_out), f"step {step}"
        assert result.problems == fresh.problems and result.stories == fresh.stories, step
