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

from .cluster_text import headline
from .model import Article, Coverage

_NON_WORD = re.compile(r"[\W_]+")
MIN_HEADLINE_CHARS = 12  # "Update" or "Markets" alone is no evidence that two pages carry one report


def headline_key(title: str) -> str:
    return _NON_WORD.sub(" ", headline(title).casefold()).strip()


def originality(a: Article) -> tuple[object, ...]:
    """Sort key, best first: the original report (no wire prefix), an editor's pick, a story lead,
    higher quality, the earliest, then the key for a stable tie-break."""
    return (
        headline(a.title) != a.title.strip(),
        not a.pick,
        not a.lead,
        -(a.quality if a.quality is not None else -1),
        a.published,
        a.key,
    )


def coverages(articles: Sequence[Article], window: timedelta) -> list[Coverage]:
    """Group `articles` into Coverage entries; each article lands in exactly one. Sorted by article key."""
    groups: dict[str, list[Article]] = defaultdict(list)
    out: list[Coverage] = []
    for a in articles:
        key = headline_key(a.title)
        if len(key) < MIN_HEADLINE_CHARS:
            out.append(Coverage(a))
        else:
            groups[key].append(a)
    for members in groups.values():
        members.sort(key=lambda a: (a.published, a.key))
        run: list[Article] = [members[0]]
        for a in members[1:]:
            # A run continues while each copy follows the previous one within the window.
            if a.published - run[-1].published <= window:
                run.append(a)
            else:
                out.append(_entry(run))
                run = [a]
        out.append(_entry(run))
    out.sort(key=lambda c: c.article.key)
    return out


def _entry(run: list[Article]) -> Coverage:
    best, *rest = sorted(run, key=originality)
    return Coverage(best, tuple(sorted(rest, key=lambda a: a.key)))
