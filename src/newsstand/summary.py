"""What a list of stories adds up to, for the header of a topic's or an outlet's page: how many stories
and articles, from when to when, and how many stories broke on each day between (a sparkline's data)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from itertools import repeat
from operator import attrgetter

from .days import story_day
from .model import Story

SPARK_WIDTH, SPARK_HEIGHT = 240, 40  # the sparkline's drawing, in its own units (the page scales it)
MAX_DAYS = 366  # a sparkline of a longer range shows its last year, where the reader's interest is


@dataclass(frozen=True, slots=True)
class Summary:
    stories: int
    articles: int
    first: datetime | None  # the earliest report
    last: datetime | None  # the latest report
    start: date | None  # the first day of `counts`
    counts: tuple[int, ...]  # stories per day, every day from `start` to the last story's, zeros included

    @property
    def per_day(self) -> tuple[tuple[date, int], ...]:
        """(day, stories that broke that day) for every day of `counts`: for the page that draws them. A
        year of dates for each of a large site's thousands of lists, made at every build, was a fifth of
        planning, for the few lists a build renders."""
        if self.start is None:
            return ()
        start = self.start.toordinal()
        return tuple((date.fromordinal(start + i), count) for i, count in enumerate(self.counts))


_SLUG, _ARTICLES = attrgetter("slug"), attrgetter("articles")
_PUBLISHED, _UPDATED = attrgetter("published"), attrgetter("updated")


def summarize(stories: Sequence[Story], zone: tzinfo, days: Mapping[str, date] | None = None) -> Summary:
    """`days`, if given, holds each story's day by slug (story_day): a site's term lists name each story
    several times, and a large site's hundreds of lists hold its stories half a million times."""
    if not stories:
        return Summary(0, 0, None, None, None, ())
    if days is None:
        days = {s.slug: story_day(s, zone) for s in stories}
    # Each pass a map in C: a large site's hundreds of lists hold its stories half a million times.
    counts = Counter(map(date.toordinal, map(days.__getitem__, map(_SLUG, stories))))
    last_day = max(counts)
    first_day = max(min(counts), last_day - (MAX_DAYS - 1))
    span = range(first_day, last_day + 1)
    return Summary(
        len(stories),
        sum(map(len, map(_ARTICLES, stories))),
        min(map(_PUBLISHED, stories)),
        max(map(_UPDATED, stories)),
        date.fromordinal(first_day),
        tuple(map(counts.get, span, repeat(0, len(span)))),
    )


@dataclass(frozen=True, slots=True)
class Sparkline:
    points: str  # "x,y x,y ..." for an SVG polyline in a SPARK_WIDTH × SPARK_HEIGHT box
    peak: int
    peak_day: date
    days: int
    width: int = SPARK_WIDTH
    height: int = SPARK_HEIGHT


def sparkline(per_day: Sequence[tuple[date, int]]) -> Sparkline | None:
    """The polyline of stories per day, scaled to the box (the top is the busiest day); None for fewer than
    two days, where a line says nothing."""
    if len(per_day) < 2:
        return None
    peak_day, peak = max(per_day, key=lambda dc: (dc[1], dc[0]))
    step = SPARK_WIDTH / (len(per_day) - 1)
    usable = SPARK_HEIGHT - 4  # 2 units clear at top and bottom so the stroke is not cut
    points = " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 2 - (count / peak * usable if peak else 0):.1f}"
        for i, (_, count) in enumerate(per_day)
    )
    return Sparkline(points, peak, peak_day, len(per_day))
