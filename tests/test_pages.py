import pytest

from newsstand.config import Settings
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
        "topics/t/page/3/index.html",
        "providers/p0/index.html",
        "stories.json",
        "404.html",
    } <= set(paths)
    kinds = {p.kind for p in pages}
    assert kinds == {"home", "story", "taxonomy", "term", "data", "notfound", "search"}


def test_page_path() -> None:
    assert Page("", "home", "", "", "", {}).path == "index.html"
    assert Page("stories/a/", "story", "", "", "", {}).path == "stories/a/index.html"
    assert Page("stories.json", "data", "", "", "", {}).path == "stories.json"


def test_json_text_cannot_close_a_script() -> None:
    text = json_text({"t": "</script><!-- & >"})
    assert "<" not in text and ">" not in text and "&" not in text
