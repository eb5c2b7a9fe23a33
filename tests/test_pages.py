import pytest

from newsstand.config import Settings
from newsstand.incremental import signatures
from newsstand.model import Corpus, Provider, Topic
from newsstand.pages import Page, paginate, plan
from newsstand.rank import rank
from newsstand.render import json_text, relative_url

from .factories import article, cluster


@pytest.mark.parametrize(
    ("src", "dst", "pretty", "expected"),
    [
        ("", "stories/a/", True, "stories/a/"),
        ("", "", True, "./"),
        ("", "", False, "index.html"),
        ("stories/a/", "", False, "../../index.html"),
        ("stories/a/", "topics/ai/", True, "../../topics/ai/"),
        ("topics/ai/page/2/", "static/style.css", True, "../../../../static/style.css"),
        ("404.html", "topics/", True, "topics/"),
        ("stories.json", "stories/a/", False, "stories/a/index.html"),
    ],
)
def test_relative_url(src: str, dst: str, pretty: bool, expected: str) -> None:
    assert relative_url(src, dst, pretty) == expected


def test_paginate_splits_and_names_pages() -> None:
    pagers = list(paginate(list(range(45)), 20, "topics/ai/"))
    assert [len(p.items) for p in pagers] == [20, 20, 5]
    assert pagers[0].url(1) == "topics/ai/" and pagers[1].url(2) == "topics/ai/page/2/"
    assert pagers[0].prev_url is None and pagers[2].next_url is None
    assert next(iter(paginate([], 20, ""))).items == ()


def test_plan_gives_each_page_one_path() -> None:
    arts = [article(f"a{i}", hours=i, provider=f"p{i % 3}.com", topics=("t",)) for i in range(45)]
    corpus = Corpus(tuple(arts), tuple(Provider(f"p{i}.com", f"P{i}", f"p{i}") for i in range(3)), (Topic("t", "T"),))
    stories = rank([cluster(a) for a in arts])
    pages, _site = plan(corpus, stories, Settings(page_size=20).site)
    paths = [p.path for p in pages]
    assert len(paths) == len(set(paths))
    assert {
        "index.html",
        "page/2/index.html",
        "page/3/index.html",
        "topics/t/page/2/index.html",
        "providers/p0/index.html",
        "stories.json",
        "404.html",
    } <= set(paths)
    kinds = {p.kind for p in pages}
    assert kinds == {"home", "story", "taxonomy", "term", "archive", "day", "data", "notfound", "search"}
    assert {"days/index.html", "days/2020-01-24/index.html", "days/2020-01-26/index.html"} <= set(paths)


@pytest.mark.parametrize(
    ("zone", "days"),
    [
        ("UTC", ["2020-01-25", "2020-01-24"]),
        ("Pacific/Auckland", ["2020-01-25", "2020-01-24"]),
        ("America/Los_Angeles", ["2020-01-24", "2020-01-23"]),
    ],
)
def test_day_pages_hold_the_stories_first_reported_that_day_in_the_site_zone(zone: str, days: list[str]) -> None:
    # 06:00 and 23:30 UTC on the 24th, then 01:00 UTC on the 25th, its follow-up two days on.
    arts = [article("a", -6), article("b", 11.5), article("c", 13), article("c2", 60, provider="b.com")]
    corpus = Corpus(tuple(arts), (Provider("a.com", "A", "a"), Provider("b.com", "B", "b")), ())
    stories = rank([cluster(arts[0]), cluster(arts[1]), (*cluster(arts[2]), *cluster(arts[3]))])
    pages, _ = plan(corpus, stories, Settings(timezone=zone))
    day_pages = {p.url: p for p in pages if p.kind == "day"}
    assert list(day_pages) == [f"days/{d}/" for d in days]  # newest first; no page for the follow-up's day
    shown = [s.lead.key.rsplit("/", 1)[1] for p in day_pages.values() for s in p.context["pager"].items]
    assert sorted(shown) == ["a", "b", "c"]  # each story on exactly one day
    (archive,) = [p for p in pages if p.kind == "archive"]
    assert [(str(d), n) for m in archive.context["months"] for d, n in m.days] == [
        (d, len(day_pages[f"days/{d}/"].context["pager"].items)) for d in sorted(days)
    ]
    newest, oldest = day_pages[f"days/{days[0]}/"], day_pages[f"days/{days[-1]}/"]
    assert newest.context["newer"] is None and oldest.context["older"] is None


def test_page_path() -> None:
    assert Page("", "home", "", "", "", {}).path == "index.html"
    assert Page("stories/a/", "story", "", "", "", {}).path == "stories/a/index.html"
    assert Page("stories.json", "data", "", "", "", {}).path == "stories.json"


def test_json_text_cannot_close_a_script() -> None:
    text = json_text({"t": "</script><!-- & >"})
    assert "<" not in text and ">" not in text and "&" not in text


def test_a_lists_facts_are_on_its_first_page_alone() -> None:
    """A term's summary (counts, dates, sparkline) changes with any of its stories: only its first page
    carries it, so a story that grows does not make every later page of the list render again."""
    arts = [article(f"a{i}", hours=i * 30, provider="p0.com", topics=("t",)) for i in range(45)]
    corpus = Corpus(tuple(arts), (Provider("p0.com", "P0", "p0"),), (Topic("t", "T"),))
    pages, _site = plan(corpus, rank([cluster(a) for a in arts]), Settings(page_size=20).site)
    for base in ("topics/t/", "providers/p0/"):
        lists = [p for p in pages if p.kind == "term" and p.url.startswith(base)]
        assert len(lists) == 3
        [first] = [p for p in lists if p.url == base]
        later = [p for p in lists if p.url != base]
        assert first.context["summary"].stories == 45
        assert all("summary" not in p.context for p in later)


def _term_lists(count: int, size: int = 10) -> dict[str, tuple[Page, str]]:
    """The pages of one topic's list of `count` stories a day apart (the newest the most important), with
    their signatures, by URL."""
    arts = [article(f"a{i}", hours=i * 24, topics=("t",), heat=i) for i in range(count)]
    corpus = Corpus(tuple(arts), (Provider("a.com", "A", "a"),), (Topic("t", "T"),))
    stories = rank([cluster(a) for a in arts])
    pages, site = plan(corpus, stories, Settings(page_size=size).site)
    lists = [p for p in pages if p.url.startswith("topics/t/")]
    return {p.url: (p, sig) for p, sig in zip(lists, signatures(lists, site, stories).pages, strict=True)}


def test_a_lists_archive_holds_every_story_once_by_date_cut_from_the_oldest() -> None:
    lists = _term_lists(37)
    first = lists.pop("topics/t/")[0]
    assert [s.lead.key for s in first.context["pager"].items] == [f"https://a.com/a{i}" for i in range(36, 26, -1)]
    assert first.context["archive"] == "topics/t/page/3/"
    pagers = [lists[f"topics/t/page/{n}/"][0].context["pager"] for n in (1, 2, 3)]
    assert sorted(lists) == ["topics/t/page/1/", "topics/t/page/2/", "topics/t/page/3/"]
    shown = [s.lead.key for pager in reversed(pagers) for s in pager.items]
    assert shown == [f"https://a.com/a{i}" for i in range(36, -1, -1)]  # newest first, each story once
    assert [len(p.items) for p in pagers] == [10, 10, 17]  # the newest page holds the rest
    assert [(p.prev_url, p.next_url) for p in pagers] == [
        ("topics/t/page/2/", None),
        ("topics/t/page/3/", "topics/t/page/1/"),
        (None, "topics/t/page/2/"),
    ]


@pytest.mark.parametrize(("before", "after"), [(37, 39), (37, 40), (25, 70)])
def test_new_stories_leave_a_lists_older_archive_pages_alone(before: int, after: int) -> None:
    """A cron tick adds the newest stories: the first page (the best ranked) and the newest archive page
    change, and a page made full, once; every older page keeps its stories, its URL and its bytes."""
    old, new = _term_lists(before), _term_lists(after)
    full_before = before // 10 - 1  # archive pages below the newest, full, which no new story may touch
    for n in range(1, full_before + 1):
        url = f"topics/t/page/{n}/"
        assert old[url][1] == new[url][1], url
    assert old["topics/t/"][1] != new["topics/t/"][1]
    assert len(new) == 1 + after // 10
