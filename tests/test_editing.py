"""What an editor chooses, from newsstand.yaml: what the front page lists, how long the feeds are, and the
topics and outlets the site leaves out. Each is proved on a built site: its HTML, its feeds, its data."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import feedparser
import pytest

from newsstand.build import build
from newsstand.cli import main

from .conftest import BASE_URL, SEEDS, settings_for
from .htmlscan import scan
from .test_incremental import snapshot
from .test_preview import fresh_site


def home_pages(site: Path) -> list[Path]:
    """The front page's pages, in order."""
    more = (
        sorted((site / "page").glob("*/index.html"), key=lambda p: int(p.parent.name))
        if (site / "page").is_dir()
        else []
    )
    return [site / "index.html", *more]


def linked_stories(page: Path) -> list[str]:
    """The slugs of the stories a page links to, in the order it first links to them."""
    slugs: list[str] = []
    for tag, url, _ in scan(page).links:
        found = re.search(r"(?:^|/)stories/([^/]+)/", url)
        if tag == "a" and found and found[1] not in slugs:
            slugs.append(found[1])
    return slugs


def stories_data(site: Path) -> list[dict[str, Any]]:
    stories: list[dict[str, Any]] = json.loads((site / "stories.json").read_text(encoding="utf-8"))["stories"]
    return stories


def outlets(story: dict[str, Any]) -> set[str]:
    return {a["provider"]["domain"] for a in story["articles"]}


def feed_stories(feed: Path) -> list[str]:
    parsed = feedparser.parse(feed.read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    return [re.search(r"/stories/([^/]+)/$", e.link)[1] for e in parsed.entries]  # type: ignore[index]


def test_by_default_the_front_page_lists_every_story_and_a_feed_carries_fifty(based_site) -> None:
    site, _ = based_site
    ranked = [s["slug"] for s in stories_data(site)]
    assert 20 < len(ranked) < 50
    # Every story once: the top stories in rank order, then the rest grouped by the day they broke.
    listed = [slug for page in home_pages(site) for slug in linked_stories(page)]
    assert sorted(listed) == sorted(ranked) and listed[:3] == ranked[:3]
    assert sorted(feed_stories(site / "feed.xml")) == sorted(ranked)


def test_the_front_page_lists_as_many_stories_as_asked_of_those_enough_outlets_covered(tmp_path: Path) -> None:
    out = tmp_path / "site"
    settings = settings_for(SEEDS, out, search=False, base_url=BASE_URL, page_size=2)
    build(replace(settings, front_page_stories=3))
    ranked = stories_data(out)
    assert [slug for page in home_pages(out) for slug in linked_stories(page)] == [s["slug"] for s in ranked[:3]]
    assert len(home_pages(out)) == 2 and not (out / "page" / "3").exists()  # three stories, two a page
    assert sorted(feed_stories(out / "feed.xml")) == sorted(s["slug"] for s in ranked[:3])  # the front page's feed

    build(replace(settings, front_page_stories=3, front_page_min_outlets=2))
    covered = [s["slug"] for s in ranked if len(outlets(s)) >= 2]
    assert len(covered) > 3 and covered != [s["slug"] for s in ranked][: len(covered)]  # a choice to make
    assert [slug for page in home_pages(out) for slug in linked_stories(page)] == covered[:3]
    items = json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]
    assert sorted(re.search(r"/stories/([^/]+)/$", i["url"])[1] for i in items) == sorted(covered[:3])  # type: ignore[index]
    # The stories left off the front page keep their pages, and every one is on its outlets' pages.
    assert stories_data(out) == ranked
    for story in ranked:
        assert (out / "stories" / story["slug"] / "index.html").is_file()
    listed = {slug for page in (out / "providers").rglob("index.html") for slug in linked_stories(page)}
    assert listed == {s["slug"] for s in ranked}


def test_feed_size_is_the_number_of_entries_in_every_feed(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(settings_for(SEEDS, out, search=False, base_url=BASE_URL, feed_size=2))
    ranked = stories_data(out)
    newest = sorted(ranked, key=lambda s: (max(a["published"] for a in s["articles"]), s["slug"]), reverse=True)
    assert feed_stories(out / "feed.xml") == [s["slug"] for s in newest[:2]]
    assert len(json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]) == 2
    sizes = {p.parent.name: len(feed_stories(p)) for p in out.glob("providers/*/feed.xml")}
    listed = {p.parent.name: len(linked_stories(p)) for p in out.glob("providers/*/index.html")}
    assert sizes == {name: min(2, n) for name, n in listed.items()} and max(listed.values()) > 2


def seed(title: str, url: str, outlet: tuple[str, str], topics: tuple[str, ...], when: str, related: str = "") -> str:
    text = (
        f"---\ntitle: {title!r}\npublishedDateTime: {when}\nwebUrl: {url!r}\n"
        f"provider: {{name: {outlet[0]!r}, domain: {outlet[1]!r}}}\ntopics: {list(topics)!r}\n"
    )
    return text + (f"related:\n{related}" if related else "") + "---\n"


HARBOUR = ("Harbour Post", "harbour.example")
TABLOID = ("Tabloid Daily", "tabloid.example")
SPORTS = ("Sports Wire", "sports.example")
GOSSIP = ("Gossip Weekly", "gossip.example")
FERRY_COPY = "https://tabloid.example/ferry-terminal-approved"


def editorial_seeds(folder: Path) -> Path:
    """Four outlets' stories, under Local, Sport and Celebrity; the Harbour Post's ferry story also covered by the tabloid."""
    folder.mkdir()
    files = {
        "ferry": seed(
            "Harbour council approves new ferry terminal",
            "https://harbour.example/ferry-terminal",
            HARBOUR,
            ("Local",),
            "2024-05-14T09:00:00Z",
            related=(
                "  - title: 'Ferry terminal approved by harbour council'\n"
                f"    webUrl: {FERRY_COPY!r}\n"
                "    publishedDateTime: 2024-05-14T10:00:00Z\n"
                "    provider: {name: Tabloid Daily, domain: tabloid.example}\n"
            ),
        ),
        "library": seed(
            "Library reopens after a year of refurbishment",
            "https://harbour.example/library",
            HARBOUR,
            ("Local",),
            "2024-05-13T09:00:00Z",
        ),
        "pier": seed(
            "Exclusive: a famous face seen on the pier",
            "https://tabloid.example/pier",
            TABLOID,
            ("Celebrity",),
            "2024-05-14T08:00:00Z",
        ),
        "cup": seed(
            "Rovers win the cup final in extra time",
            "https://sports.example/cup-final",
            SPORTS,
            ("Sport", "Local"),
            "2024-05-12T20:00:00Z",
        ),
        "column": seed(
            "Who wore what at the harbour gala",
            "https://gossip.example/gala",
            GOSSIP,
            ("Local",),
            "2024-05-12T09:00:00Z",
        ),
    }
    for name, text in files.items():
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
    return folder


def article_urls(site: Path) -> set[str]:
    return {a["url"] for s in stories_data(site) for a in s["articles"]}


def test_excluded_topics_and_outlets_get_no_pages_and_their_articles_are_in_no_story(tmp_path: Path) -> None:
    seeds = editorial_seeds(tmp_path / "seeds")
    config = tmp_path / "newsstand.yaml"
    base = f"seeds: {seeds}\nsearch: false\nbase_url: {BASE_URL}\n"
    config.write_text(base + "out: all\n", encoding="utf-8")
    assert main(["build", "--config", str(config)]) == 0
    everything = article_urls(tmp_path / "all")
    assert {p.name for p in (tmp_path / "all" / "topics").iterdir()} == {"celebrity", "local", "sport", "index.html"}
    assert FERRY_COPY in everything
    # By slug and by name, by name and by domain (www. or not): in any case.
    config.write_text(
        base + "out: site\nexclude_topics: [SPORT, celebrity]\nexclude_outlets: [tabloid daily, WWW.Gossip.Example]\n",
        encoding="utf-8",
    )
    assert main(["build", "--config", str(config)]) == 0
    site = tmp_path / "site"
    kept = article_urls(site)
    assert kept == {"https://harbour.example/ferry-terminal", "https://harbour.example/library"}
    assert kept == {u for u in everything if u.split("/")[2] == "harbour.example"}
    assert {p.name for p in (site / "topics").iterdir()} == {"local", "index.html"}
    assert {p.name for p in (site / "providers").iterdir()} == {"harbour-post", "index.html"}
    # Nothing on any page, in any feed or in the sitemap leads to them.
    gone = ("tabloid", "gossip", "sports", "celebrity", "topics/sport/")
    for page in site.rglob("*"):
        if page.suffix in (".html", ".xml", ".json"):
            text = page.read_text(encoding="utf-8").casefold()
            assert not any(word in text for word in gone), (page, [w for w in gone if w in text])
    assert sorted(feed_stories(site / "topics" / "local" / "feed.xml")) == sorted(linked_stories(site / "index.html"))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("exclude_topics: [Sport, {a: 1}]", "newsstand.yaml:1:25: exclude_topics[1]: expected a name, got {'a': 1}"),
        (
            "exclude_outlets: 12",
            "newsstand.yaml:1:1: exclude_outlets: expected a list of outlet names or domains, got 12",
        ),
        ("front_page_stories: -1", "newsstand.yaml:1:1: front_page_stories: expected a whole number from 0 to 100000"),
        (
            "front_page_min_outlets: 0",
            "newsstand.yaml:1:1: front_page_min_outlets: expected a whole number from 1 to 100",
        ),
        ("feed_size: 0", "newsstand.yaml:1:1: feed_size: expected a whole number from 1 to 1000, got 0"),
    ],
)
def test_the_editor_options_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "newsstand.yaml").write_text(line + "\n", encoding="utf-8")
    assert main(["build"]) == 1
    assert capsys.readouterr().err.startswith(message)


def test_an_exclusion_renders_again_only_the_pages_that_showed_what_it_leaves_out(tmp_path: Path) -> None:
    seeds = editorial_seeds(tmp_path / "seeds")
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url=BASE_URL)
    build(settings)
    before = snapshot(settings.out)
    excluded = replace(settings, exclude_outlets=("Gossip Weekly",))
    result = build(excluded)
    after = snapshot(settings.out)
    library = next(p for p in before if p.startswith("stories/library-") and p.endswith("/index.html"))
    assert after[library] == before[library]  # not rendered again: the same file
    assert result.rendered < result.pages
    assert not any("gossip" in p for p in after)
    # And the site is the one a build from nothing gives.
    assert {p: v[0] for p, v in after.items()} == fresh_site(excluded, tmp_path)


def test_an_edit_that_files_an_article_under_an_excluded_topic_is_left_to_the_build(tmp_path: Path) -> None:
    # serve shows an edit at once from the last build's stories (preview.py); an article that the edit
    # moves under an excluded topic is no longer in any, which only the build can show.
    from newsstand.build import BuildMemo, show_edit

    from .test_memo import lead_url, make_seeds, site_files
    from .test_memo import story as story_text

    seeds = make_seeds(tmp_path / "seeds")
    (seeds / "hidden.txt").write_text(
        story_text(40, topics=("Hidden",), url="https://example9.com/h"), encoding="utf-8"
    )
    settings = settings_for(seeds, tmp_path / "site", search=False, base_url=BASE_URL, exclude_topics=("hidden",))
    memo = BuildMemo()
    build(settings, memo=memo)
    assert lead_url(5) in article_urls(settings.out) and "https://example9.com/h" not in article_urls(settings.out)
    target = seeds / "gen_05.txt"
    target.write_text(story_text(5, topics=("Testing", "Hidden")), encoding="utf-8")
    assert show_edit(settings, memo, [str(target)]) == ()
    build(settings, memo=memo)
    assert lead_url(5) not in article_urls(settings.out)
    assert site_files(settings.out) == fresh_site(settings, tmp_path)
