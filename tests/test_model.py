"""Objects made from columns (model.made) are the objects their constructors make: equal, of the same type,
hashing alike, with every field, derived ones included."""

from __future__ import annotations

import pickle
from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsstand.model import (
    Article,
    Coverage,
    Image,
    article_columns,
    coverage_entries,
    from_article_columns,
    made,
)

from .factories import T0, article

text = st.text(max_size=12)
images = st.builds(Image, url=text, width=st.none() | st.integers(0, 5000), height=st.none(), title=text)
articles = st.lists(
    st.builds(
        Article,
        key=text,
        url=text,
        title=text,
        published=st.just(T0),
        provider=text,
        excerpt=text,
        topics=st.lists(text, max_size=3).map(tuple),
        images=st.lists(images, max_size=3).map(tuple),
        quality=st.none() | st.integers(-5, 100),
        heat=st.none() | st.integers(0, 10),
        pick=st.booleans(),
        lead=st.booleans(),
        body_html=text,
        related=st.lists(text, max_size=2).map(tuple),
        sources=st.lists(text, max_size=2).map(tuple),
        alternates=st.lists(text, max_size=2).map(tuple),
        digest=text,
    ),
    max_size=20,
)


def same(made_one: object, built: object) -> None:
    assert type(made_one) is type(built)
    for f in fields(built):  # type: ignore[arg-type]
        assert getattr(made_one, f.name) == getattr(built, f.name), f.name
    assert made_one == built and hash(made_one) == hash(built)


@given(articles)
def test_articles_come_back_from_their_columns_as_they_were(given_articles: list[Article]) -> None:
    # Through pickle, as the merge record keeps them.
    saved = pickle.loads(pickle.dumps(article_columns(given_articles)))
    back = from_article_columns(saved)
    assert len(back) == len(given_articles)
    for one, built in zip(back, given_articles, strict=True):
        same(one, built)
        for image, original in zip(one.images, built.images, strict=True):
            same(image, original)


def test_coverage_entries_derive_what_the_constructor_derives() -> None:
    a, b, c, d = (article(k, hours=i) for i, k in enumerate("abcd"))
    entries = coverage_entries([a, b], [(), (c, d)])
    for one, built in zip(entries, [Coverage(a), Coverage(b, (c, d))], strict=True):
        same(one, built)
        assert one.articles == built.articles and one.providers == built.providers
    assert coverage_entries([], []) == []


def test_columns_that_do_not_fit_the_class_are_refused() -> None:
    with pytest.raises(TypeError):
        made(Image, ["https://a.com/1.jpg"])  # one column of four
    with pytest.raises(ValueError, match="height"):
        made(Image, ["u1", "u2"], [1, 2], [3], ["t1", "t2"])  # a column short
