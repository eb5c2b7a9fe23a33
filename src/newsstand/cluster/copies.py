"""Wire copies and syndicated duplicates: one report carried under several outlets or hosts.

"UPDATE 1-Facebook to pay ..." on one host and "Facebook to pay ..." on another are the same report, so
they become one Coverage entry listing every outlet, and clustering then treats the entry as one item
(a story of twenty identical wire copies is one report, not twenty votes). Copies must share the whole
headline (prefixes aside) and appear within the time window of one another: shared generic headlines
("What's News") published days apart stay apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from operator import attrgetter, ne

import numpy as np

from ..model import Article, Coverage, coverage_entries
from .candidates import run_starts
from .text import char_classes, headline, headlines

_NON_WORD = re.compile(r"[\W_]+")
_WORD_OR_NEWLINE = re.compile(r"[^\W_]|\n")  # what stays of text joined by newlines; the rest is as _NON_WORD
_SPACES = re.compile("  +")
# Casefolded ASCII, as _WORD_OR_NEWLINE keeps it (every other byte a space).
_ASCII_KEY_BYTES = (
    bytes(ord(chr(c).casefold()) if _WORD_OR_NEWLINE.match(chr(c).casefold()) else 32 for c in range(128)) + b" " * 128
)
MIN_HEADLINE_CHARS = 12  # "Update" or "Markets" alone is no evidence that two pages carry one report


def headline_key(title: str) -> str:
    return _NON_WORD.sub(" ", headline(title).casefold()).strip()


def headline_keys(titles: Sequence[str]) -> tuple[list[str], list[bool], list[str]]:
    """`headline_key` of each title, whether it carried a wire prefix, and its `headline`, in a few passes
    over them all."""
    heads = headlines(titles)
    prefixed = list(map(ne, heads, map(str.strip, titles)))
    # Runs of non-word characters become one space: a translate and a collapse of repeated spaces (a regex
    # substitution per run took seconds on 470k titles).
    text = "\n".join(heads)
    if text.isascii():  # the same on bytes, in one 256-byte table: many times faster than str.translate
        raw = text.encode("ascii")
        del text  # one copy of the text at a time: 470k headlines are tens of megabytes
        chars = np.frombuffer(raw.translate(_ASCII_KEY_BYTES), dtype=np.uint8)
        del raw
        space = chars == 32
        space[1:] &= space[:-1]  # a space after a space: dropped, as _SPACES collapses them
        space[:1] = False
        text = chars[~space].tobytes().decode("ascii")
        del chars, space
    else:
        text = text.casefold()
        text = _SPACES.sub(" ", text.translate(char_classes(text, _WORD_OR_NEWLINE)))
    keys = [k.strip() for k in text.split("\n")] if heads else []
    return keys, prefixed, heads


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


@dataclass(frozen=True, slots=True)
class CopyGroups:
    """Articles (sorted by key, indexed alike) grouped into Coverage entries, as index arrays: entry e is
    articles[members[starts[e]:starts[e + 1]]], its original report first, then its copies by key; entries
    are in time order (their first article's published time, then key)."""

    members: np.ndarray  # int64 article indices, entry after entry
    starts: np.ndarray  # int64, one per entry and a final len(members)
    headlines: list[str]  # `headline` of every article's title
    keys: Sequence[str] = ()  # `headline_key` of every article's title: only articles of one key are copies

    @property
    def firsts(self) -> np.ndarray:
        return self.members[self.starts[:-1]]

    def originals_only(self) -> CopyGroups:
        """The groups without what only grouping reads: the copies' headlines and every article's key (a
        100k archive's are a hundred megabytes, held while its reports are made)."""
        heads = [""] * len(self.headlines)
        for i in self.firsts.tolist():
            heads[i] = self.headlines[i]
        return CopyGroups(self.members, self.starts, heads)

    def entries(self, articles: Sequence[Article]) -> list[Coverage]:
        m, s = self.members.tolist(), self.starts.tolist()
        copies: list[tuple[Article, ...]] = [()] * (len(s) - 1)
        for e in np.flatnonzero(np.diff(self.starts) > 1).tolist():  # most reports have no copies
            copies[e] = tuple(map(articles.__getitem__, m[s[e] + 1 : s[e + 1]]))
        return coverage_entries(list(map(articles.__getitem__, self.firsts.tolist())), copies)


def copy_groups(articles: Sequence[Article], window: timedelta) -> CopyGroups:
    """Group `articles` (sorted by key) into Coverage entries; each article lands in exactly one. Array
    work throughout: one pass of Python per article to read its fields, none to sort or compare."""
    n = len(articles)
    keys, prefixed, heads = headline_keys([a.title for a in articles])
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return CopyGroups(empty, np.zeros(1, dtype=np.int64), heads, keys)
    ids: dict[str, int] = {}
    gid = np.fromiter(
        (ids.setdefault(k, len(ids)) if len(k) >= MIN_HEADLINE_CHARS else -1 for k in keys), dtype=np.int64, count=n
    )
    short = gid < 0  # too short a headline to be evidence: an entry of its own
    gid[short] = len(ids) + np.arange(int(short.sum()))
    origin, one = articles[0].published, timedelta(microseconds=1)
    us = np.fromiter(((a.published - origin) // one for a in articles), dtype=np.int64, count=n)
    idx = np.arange(n, dtype=np.int64)
    # Copies of one headline in time order; a run continues while each follows the previous within the window.
    order = np.lexsort((idx, us, gid))
    g, u = gid[order], us[order]
    brk = np.r_[True, (g[1:] != g[:-1]) | ((u[1:] - u[:-1]) > window // one)]
    run = np.empty(n, dtype=np.int64)
    run[order] = np.cumsum(brk) - 1
    del order, g, u, brk, gid
    # Each run's original report: the best by `originality`.
    neg_quality = np.fromiter(
        (-(a.quality if a.quality is not None else -1) for a in articles), dtype=np.int64, count=n
    )
    no_pick = np.fromiter((not a.pick for a in articles), dtype=bool, count=n)
    no_lead = np.fromiter((not a.lead for a in articles), dtype=bool, count=n)
    best = np.lexsort((idx, us, neg_quality, no_lead, no_pick, np.array(prefixed, dtype=bool), run))
    first = run_starts(run[best])
    head_of_run = best[first]  # run r's original report (runs are numbered 0.. in `best` order)
    is_head = np.zeros(n, dtype=bool)
    is_head[head_of_run] = True
    # Entries in time order of their original report (key as tie-break).
    rank = np.empty(len(head_of_run), dtype=np.int64)
    rank[np.lexsort((head_of_run, us[head_of_run]))] = np.arange(len(head_of_run))
    members = np.lexsort((idx, ~is_head, rank[run]))
    starts = np.r_[np.flatnonzero(is_head[members]), n].astype(np.int64)
    return CopyGroups(members, starts, heads, keys)


def coverages(articles: Sequence[Article], window: timedelta) -> list[Coverage]:
    """Group `articles` into Coverage entries; each article lands in exactly one. Sorted by article key."""
    ordered = sorted(articles, key=attrgetter("key"))
    out = copy_groups(ordered, window).entries(ordered)
    out.sort(key=attrgetter("article.key"))
    return out
