"""Story identity: a story keeps its URL as it grows, splits and merges; a merged-away story's URL redirects."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from newsstand.build import build
from newsstand.identity import Register, identify
from tests.conftest import BASE_URL, settings_for, story_file
from tests.factories import article, cluster


def test_a_first_build_names_stories_after_their_first_reports() -> None:
    a, b = article("a", 0, title="Floods hit Lima"), article("b", 1, title="Storm in Oslo")
    slugs, register = identify([cluster(a), cluster(b)])
    assert slugs == ("floods-hit-lima", "storm-in-oslo")
    assert set(register.stories) == set(slugs) and not register.moved


def test_a_story_keeps_its_slug_when_its_headline_changes_and_reports_join() -> None:
    a = article("a", 0, title="Floods hit Lima")
    _, last = identify([cluster(a)])
    edited = article("a", 0, title="Floods hit Lima, thousands flee")
    later = article("c", 5, title="Lima counts the cost of the floods")
    earlier = article("z", -3, title="Rain warning for Lima")  # an earlier report joining later
    slugs, _ = identify([cluster(earlier, edited, later)], last)
    assert slugs == ("floods-hit-lima",)


def test_merged_stories_keep_the_first_reported_ones_slug_and_redirect_the_other() -> None:
    a, b = article("a", 0, title="Floods hit Lima"), article("b", 4, title="Lima under water")
    _, last = identify([cluster(a), cluster(b)])
    slugs, register = identify([cluster(a, b)], last)
    assert slugs == ("floods-hit-lima",)
    assert register.moved["lima-under-water"][0] == "floods-hit-lima"
    assert set(register.stories) == {"floods-hit-lima"}


def test_a_split_story_keeps_its_slug_for_the_part_with_its_first_report() -> None:
    a, b = article("a", 0, title="Floods hit Lima"), article("b", 4, title="Oslo storm")
    _, last = identify([cluster(a, b)])
    slugs, register = identify([cluster(b), cluster(a)], last)
    assert slugs == ("oslo-storm", "floods-hit-lima")
    assert not register.moved


def test_a_new_story_never_takes_a_slug_that_redirects() -> None:
    a, b = article("a", 0, title="Floods hit Lima"), article("b", 4, title="Lima under water")
    _, last = identify([cluster(a), cluster(b)])
    _, merged = identify([cluster(a, b)], last)
    c = article("c", 30, title="Lima under water")  # another story whose title makes the same slug
    slugs, _ = identify([cluster(a, b), cluster(c)], merged)
    assert slugs[0] == "floods-hit-lima" and slugs[1].startswith("lima-under-water-")


def test_a_redirect_follows_later_merges_and_revives_when_its_story_stands_alone_again() -> None:
    a, b, c = (
        article("a", 0, title="Floods hit Lima"),
        article("b", 4, title="Lima under water"),
        article("c", -10, title="Rain warning for Peru"),
    )
    _, r1 = identify([cluster(a), cluster(b), cluster(c)])
    _, r2 = identify([cluster(a, b), cluster(c)], r1)  # b → a
    slugs, r3 = identify([cluster(c, a, b)], r2)  # a → c (the older first report), so b → c too
    assert slugs == ("rain-warning-for-peru",)
    assert {k: v[0] for k, v in r3.moved.items()} == {
        "floods-hit-lima": "rain-warning-for-peru",
        "lima-under-water": "rain-warning-for-peru",
    }
    slugs, r4 = identify([cluster(c), cluster(a), cluster(b)], r3)
    assert slugs == ("rain-warning-for-peru", "floods-hit-lima", "lima-under-water")
    assert not r4.moved


def test_a_story_whose_first_report_is_deleted_lives_on_where_its_reports_went() -> None:
    a, b, c = article("a", 0, title="Floods hit Lima"), article("b", 4, title="Lima floods"), article("c", 6)
    _, last = identify([cluster(a, b, c)])
    slugs, _ = identify([cluster(b, c)], last)
    assert slugs == ("floods-hit-lima",)
    assert identify([cluster(b, c)], Register())[0] == ("lima-floods",)


class _Meta(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refresh = self.canonical = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and a.get("http-equiv") == "refresh":
            self.refresh = a.get("content") or ""
        if tag == "link" and a.get("rel") == "canonical":
            self.canonical = a.get("href") or ""


def _story_dirs(site: Path) -> set[str]:
    return {p.name for p in (site / "stories").iterdir()}


def test_a_merge_in_the_build_redirects_the_merged_story_and_a_headline_edit_keeps_urls(seed_dir, tmp_path) -> None:
    one = story_file("Acme unveils the Zephyr drone in Oslo", "https://a.example/1", "2020-03-01T10:00:00Z")
    other = story_file("Lima council votes on the city budget", "https://b.example/2", "2020-03-01T12:00:00Z")
    seeds = seed_dir(one__md=one, two__md=other)
    out = tmp_path / "site"
    settings = settings_for(seeds, out, base_url=BASE_URL, search=False)
    build(settings)
    assert _story_dirs(out) == {"acme-unveils-the-zephyr-drone-in-oslo", "lima-council-votes-on-the-city-budget"}

    # The second report turns out to be about the first one's event: one story, under the first's URL.
    (seeds / "two.md").write_text(
        story_file("Acme's Zephyr drone unveiled in Oslo", "https://b.example/2", "2020-03-01T12:00:00Z"),
        encoding="utf-8",
    )
    result = build(settings)
    assert result.stories == 1
    moved = out / "stories" / "lima-council-votes-on-the-city-budget" / "index.html"
    meta = _Meta()
    meta.feed(moved.read_text(encoding="utf-8"))
    target = f"{BASE_URL}stories/acme-unveils-the-zephyr-drone-in-oslo/"
    assert meta.canonical == target
    found = re.fullmatch(r"0; url=(\S+)", meta.refresh)
    assert found, meta.refresh
    followed = (moved.parent / found.group(1) / "index.html").resolve()
    assert followed == (out / "stories" / "acme-unveils-the-zephyr-drone-in-oslo" / "index.html").resolve()
    assert "Zephyr drone unveiled" in followed.read_text(encoding="utf-8")
    rules = [line.split() for line in (out / "_redirects").read_text().splitlines() if not line.startswith("#")]
    assert rules == [
        [
            "/news/stories/lima-council-votes-on-the-city-budget/",
            "/news/stories/acme-unveils-the-zephyr-drone-in-oslo/",
            "301",
        ]
    ]
    sitemap = (out / "sitemap.xml").read_text()
    assert "lima-council" not in sitemap and "acme-unveils" in sitemap

    # An edited headline moves no URL, and the redirect stays.
    (seeds / "one.md").write_text(
        story_file("Acme shows off its Zephyr drone in Oslo", "https://a.example/1", "2020-03-01T10:00:00Z"),
        encoding="utf-8",
    )
    build(settings)
    assert _story_dirs(out) == {"acme-unveils-the-zephyr-drone-in-oslo", "lima-council-votes-on-the-city-budget"}
    assert "Acme shows off" in (out / "stories" / "acme-unveils-the-zephyr-drone-in-oslo" / "index.html").read_text()


def test_the_register_is_written_only_when_a_build_changes_it(seed_dir, tmp_path) -> None:
    # At 100k stories it holds 470,000 article keys: a second to write, for an edited headline that moves nothing.
    one = story_file("Acme unveils the Zephyr drone in Oslo", "https://a.example/1", "2020-03-01T10:00:00Z")
    seeds = seed_dir(one__md=one)
    out = tmp_path / "site"
    settings = settings_for(seeds, out, base_url=BASE_URL, search=False)
    build(settings)
    (register,) = settings.cache.glob("stories-*")
    written = register.stat()
    (seeds / "one.md").write_text(one.replace("unveils", "shows off"), encoding="utf-8")
    build(settings)
    assert "shows off" in (out / "stories" / "acme-unveils-the-zephyr-drone-in-oslo" / "index.html").read_text()
    now = register.stat()
    assert (now.st_ino, now.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    # A new story is in the next build's register; deleted, the register is written again (its stories
    # named afresh, from their first reports' titles), though no story moved.
    (seeds / "two.md").write_text(
        story_file("Lima council votes on the city budget", "https://b.example/2", "2020-03-02T12:00:00Z"),
        encoding="utf-8",
    )
    build(settings)
    assert register.stat().st_mtime_ns != written.st_mtime_ns
    register.unlink()
    (seeds / "two.md").write_text(
        story_file("Lima council votes on its city budget", "https://b.example/2", "2020-03-02T12:00:00Z"),
        encoding="utf-8",
    )
    build(settings)
    assert register.exists()
    assert _story_dirs(out) == {"acme-shows-off-the-zephyr-drone-in-oslo", "lima-council-votes-on-its-city-budget"}
