"""Story cards and feed entries kept from one build to the next (fragments.py): taken from the store when the
story is as it was, made again when it is not, and never able to make a site other than a full build's."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from newsstand import cachefile, render
from newsstand.build import build

from .conftest import settings_for, story_file
from .test_incremental import corpus
from .test_memo import site_files

BASE = "https://example.org/"
KEPT = "Cardiff lighthouse repair cardiff"  # a story the changes below leave as it is
EDITED = "Falmouth pier restoration falmouth"


def database(cache: Path) -> Path:
    (found,) = cache.glob("fragments-*.sqlite")
    return found


def pieces(cache: Path) -> dict[tuple[str, str], str]:
    """Every piece the store holds, by (kind, key)."""
    with sqlite3.connect(database(cache)) as db:
        rows = db.execute("SELECT kind, key, sum, data FROM pieces").fetchall()
    return {(kind, key): cachefile.unpack(digest, data) for kind, key, digest, data in rows}


def mark(cache: Path, title: str, kind: str) -> str:
    """Put a mark into the stored piece of the story titled `title`, as a valid row: a page can only show
    it if the build took the piece from the store. Returns the marked title."""
    marked = title.replace(" ", " X", 1)
    ((key, text),) = [(k, t) for (kd, k), t in pieces(cache).items() if kd == kind and title in t]
    with sqlite3.connect(database(cache)) as db:
        db.execute(
            "UPDATE pieces SET sum = ?, data = ? WHERE kind = ? AND key = ?",
            (*cachefile.pack(text.replace(title, marked)), kind, key),
        )
    return marked


def full_build(seeds: Path, out: Path) -> dict[str, bytes]:
    build(settings_for(seeds, out, search=False, base_url=BASE, use_cache=False))
    return site_files(out)


def test_cards_and_entries_of_unchanged_stories_come_from_the_store(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url=BASE)
    build(settings)
    site = tmp_path / "site"
    stored = pieces(settings.cache)
    # Every story is on lists (its day's, its topics'): each has its card.
    stories = json.loads((site / "stories.json").read_bytes())["stories"]
    assert sum(1 for kind, _ in stored if kind == "card") == len(stories)
    assert any(KEPT in t for (kind, _), t in stored.items() if kind == "card")
    assert any(KEPT in t for (kind, _), t in stored.items() if kind == "entry")
    card = mark(settings.cache, KEPT, "card")
    entry = mark(settings.cache, KEPT, "entry")

    # An edit of another story on the same lists: they are rendered again, with the kept story's pieces.
    seed = seeds / "gen_005.txt"
    seed.write_text(seed.read_text().replace("Falmouth pier", "Falmouth rejects pier"))
    build(settings)
    topic = (site / "topics/testing/index.html").read_text()
    feed = (site / "topics/testing/feed.xml").read_text()
    assert "Falmouth rejects pier" in topic and card in topic
    assert "Falmouth rejects pier" in feed and entry in feed
    # Nothing else differs from a full build: the edited story's pieces were made again.
    full = full_build(seeds, tmp_path / "full")
    ours = site_files(site)
    assert ours.keys() == full.keys()
    differ = {path for path in full if ours[path] != full[path]}
    assert differ and all(card.encode() in ours[p] or entry.encode() in ours[p] for p in differ)
    assert all(p.endswith((".html", ".xml")) for p in differ)
    # The edited story's old pieces are gone from the store, its new ones are in.
    now = pieces(settings.cache)
    assert not any(EDITED in t for t in now.values())
    assert any("Falmouth rejects pier" in t for (kind, _), t in now.items() if kind == "card")


def test_a_story_that_changed_never_shows_its_stored_pieces(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url=BASE)
    build(settings)
    card = mark(settings.cache, KEPT, "card")
    entry = mark(settings.cache, KEPT, "entry")
    # The kept story itself gains a report from another outlet: its key moves, its pieces are made anew.
    (seeds / "more.txt").write_text(
        story_file(title="Cardiff lighthouse repair begins", url="https://other.example/c", when="2020-01-03T05:00:00Z")
    )
    build(settings)
    ours = site_files(tmp_path / "site")
    assert not any(card.encode() in data or entry.encode() in data for data in ours.values())
    assert ours == full_build(seeds, tmp_path / "full")


def test_a_damaged_store_costs_time_not_the_site(tmp_path: Path) -> None:
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url=BASE)
    build(settings)
    database(settings.cache).write_bytes(b"not a database at all" * 100)
    for path in database(settings.cache).parent.glob("fragments-*.sqlite-*"):
        path.unlink()
    seed = seeds / "gen_005.txt"
    seed.write_text(seed.read_text().replace("Falmouth pier", "Falmouth rejects pier"))
    build(settings)
    assert site_files(tmp_path / "site") == full_build(seeds, tmp_path / "full")
    # And made again, with the pieces this build rendered.
    assert any(KEPT in t for (kind, _), t in pieces(settings.cache).items() if kind == "card")


def test_the_pieces_forked_renderers_make_are_kept_and_give_the_same_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past render.PARALLEL_FROM pages, forked workers render a share of the pages: the cards and entries
    # they make come back with their pages, to be kept by this process.
    monkeypatch.setattr(render, "PARALLEL_FROM", 1)
    seeds = corpus(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url=BASE, jobs=3)
    build(settings)
    stories = json.loads((tmp_path / "site" / "stories.json").read_bytes())["stories"]
    stored = pieces(settings.cache)
    assert sum(1 for kind, _ in stored if kind == "card") == len(stories)
    assert site_files(tmp_path / "site") == full_build(seeds, tmp_path / "full")
    # And an edit rendered by the workers, with the pieces they and this process kept, is a full build's.
    mark(settings.cache, KEPT, "card")
    seed = seeds / "gen_005.txt"
    seed.write_text(seed.read_text().replace("Falmouth pier", "Falmouth rejects pier"))
    build(settings)
    topic = (tmp_path / "site" / "topics/testing/index.html").read_text()
    assert "Falmouth rejects pier" in topic and KEPT.replace(" ", " X", 1) in topic
