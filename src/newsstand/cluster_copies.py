"""Wire copies and syndicated duplicates: one report carried under several outlets or hosts.

"UPDATE 1-Facebook to pay ..." on one host and "Facebook to pay ..." on another are the same report, so
they become one Coverage entry listing every outlet, and clustering then treats the entry as one item
(a story of twenty identical wire copies is one report, not twenty votes). Copies must share the whole
headline (prefixes aside) and appear within the time window of one another: shared generic headlines
("What's News") published days apart stay apart.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from operator import attrgetter

from .cluster_text import headline, headlines
from .model import Article, Coverage

_NON_WORD = re.compile(r"[\W_]+")
_NON_WORD_LINES = re.compile(r"(?:[^\w\n]|_)+")  # the same, in text joined by newlines
MIN_HEADLINE_CHARS = 12  # "Update" or "Markets" alone is no evidence that two pages carry one report


def headline_key(title: str) -> str:
    return _NON_WORD.sub(" ", headline(title).casefold()).strip()


def headline_keys(titles: Sequence[str]) -> tuple[list[str], list[bool]]:
    """`headline_key` of each title, and whether it carried a wire prefix, in a few passes over them all."""
    heads = headlines(titles)
    prefixed = [h != t.strip() for h, t in zip(heads, titles, strict=True)]
    keys = [k.strip() for k in _NON_WORD_LINES.sub(" ", "\n".join(heads).casefold()).split("\n")] if heads else []
    return keys, prefixed


def originality(a: Article, prefixed: bool | None = None) -> tuple[object, ...]:
    """Sort key, best first: the original report (no wire prefix), an editor's pick, a story lead,
    higher quality, the earliest, then the key for a stable tie-break."""
    return (
        headline(a.title) != a.title.strip() if prefixed is None else prefixed,
        not a.pick,
        not a.lead,
        -(a.quality if a.quality is not None else -1),
        a.published,
        a.key,
    )


def coverages(articles: Sequence[Article], window: timedelta) -> list[Coverage]:
    """Group `articles` into Coverage entries; each article lands in exactly one. Sorted by article key."""
    keys, prefixed = headline_keys([a.title for a in articles])
    groups: dict[str, list[int]] = defaultdict(list)
    out: list[Coverage] = []
    for i, (a, key) in enumerate(zip(articles, keys, strict=True)):
        if len(key) < MIN_HEADLINE_CHARS:
            out.append(Coverage(a))
        else:
            groups[key].append(i)
    for members in groups.values():
        if len(members) == 1:
            out.append(Coverage(articles[members[0]]))
            continue
        members.sort(key=lambda i: (articles[i].published, articles[i].key))
        run: list[int] = [members[0]]
        for i in members[1:]:
            # A run continues while each copy follows the previous one within the window.
            if articles[i].published - articles[run[-1]].published <= window:
                run.append(i)
            else:
                out.append(_entry(articles, prefixed, run))
                run = [i]
        out.append(_entry(articles, prefixed, run))
    out.sort(key=attrgetter("article.key"))
    return out


def _entry(articles: Sequence[Article], prefixed: list[bool], run: list[int]) -> Coverage:
    if len(run) == 1:
        return Coverage(articles[run[0]])
    best, *rest = sorted(run, key=lambda i: originality(articles[i], prefixed[i]))
    return Coverage(articles[best], tuple(sorted((articles[i] for i in rest), key=lambda a: a.key)))
