"""The geometry of a story's timeline: one mark per article on a time axis, a row per outlet.

Pure data, drawn by the template as an inline SVG (no script, no library). Horizontal positions are
percentages of the drawing's width, so the SVG stretches to any screen while its text and marks keep
their size; vertical positions are pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from .model import Article, Story

ROW = 30  # px per outlet: its name above, its marks on a line below
LABEL_Y = 13  # the name's baseline within its row
LINE_Y = 23  # the marks' centre within its row
AXIS = 34  # px below the rows for the time axis
EDGE = 3.0  # % of the width kept clear at each end, so the end marks are whole
RADIUS, LEAD_RADIUS = 5, 7
MAX_TICKS = 5  # fits a phone's width
_STEPS = (
    [timedelta(minutes=m) for m in (15, 30)]
    + [timedelta(hours=h) for h in (1, 2, 3, 6, 12)]
    + [timedelta(days=d) for d in (1, 2, 7, 14, 28, 56, 112, 364)]
)


@dataclass(frozen=True, slots=True)
class Row:
    domain: str
    name: str
    label_y: int
    line_y: int


@dataclass(frozen=True, slots=True)
class Mark:
    article: Article
    x: float  # % of the width
    y: int
    lead: bool  # the story's lead article
    first: bool  # the earliest article
    r: int  # radius, px: the lead's mark is larger


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str
    anchor: str  # start | middle | end: so the end labels stay inside the drawing


@dataclass(frozen=True, slots=True)
class Timeline:
    rows: tuple[Row, ...]
    marks: tuple[Mark, ...]
    ticks: tuple[Tick, ...]
    height: int
    axis_y: int
    start: datetime
    end: datetime


def _position(moment: datetime, start: datetime, span: timedelta) -> float:
    return round(EDGE + (moment - start) / span * (100 - 2 * EDGE), 2)


def _ticks(start: datetime, end: datetime, zone: tzinfo) -> list[tuple[datetime, str]]:
    """Round times between `start` and `end`, at most MAX_TICKS of them, labelled in the site's zone."""
    span = end - start
    step = next((s for s in _STEPS if span / s <= MAX_TICKS - 1), _STEPS[-1])
    local = start.astimezone(zone)
    if step < timedelta(days=1):
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        first = midnight + step * -(-(local - midnight) // step)  # the first multiple of step at or after start
    else:
        first = (
            (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            if local.time() != local.time().min
            else local
        )
    out: list[tuple[datetime, str]] = []
    moment, last_day = first, None
    while moment <= end.astimezone(zone) and len(out) < MAX_TICKS:
        # Wall-clock steps: a day step is a calendar day even across a change of clocks.
        if step < timedelta(days=1):
            label = f"{moment:%H:%M}" if moment.date() == last_day else f"{moment.day} {moment:%b} {moment:%H:%M}"
        else:
            label = f"{moment.day} {moment:%b}" + (f" {moment:%Y}" if step >= timedelta(days=28) else "")
        out.append((moment, label))
        last_day = moment.date()
        moment = (moment.replace(tzinfo=None) + step).replace(tzinfo=zone)
    return out


def timeline(story: Story, zone: tzinfo, name_of: Callable[[str], str]) -> Timeline:
    """The timeline of `story`; `name_of` gives an outlet's name from its domain."""
    articles = sorted(story.articles, key=lambda a: (a.published, a.key))
    start, end = articles[0].published, articles[-1].published
    if end - start < timedelta(hours=1):  # one moment, or nearly: an hour either side, so the marks sit mid-way
        start, end = start - timedelta(minutes=30), end + timedelta(minutes=30)
    span = end - start
    domains = list(dict.fromkeys(a.provider for a in articles))  # in the order they first reported
    rows = tuple(Row(d, name_of(d), i * ROW + LABEL_Y, i * ROW + LINE_Y) for i, d in enumerate(domains))
    line_of = {r.domain: r.line_y for r in rows}
    first = articles[0]
    marks = tuple(
        Mark(
            a,
            _position(a.published, start, span),
            line_of[a.provider],
            a.key == story.lead.key,
            a.key == first.key,
            LEAD_RADIUS if a.key == story.lead.key else RADIUS,
        )
        for a in articles
    )
    ticks = []
    for moment, label in _ticks(start, end, zone):
        x = _position(moment.astimezone(start.tzinfo), start, span)
        ticks.append(Tick(x, label, "start" if x < 15 else "end" if x > 85 else "middle"))
    axis_y = len(rows) * ROW + 6
    return Timeline(rows, marks, tuple(ticks), axis_y + AXIS, axis_y, start, end)
