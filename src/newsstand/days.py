"""Stories by the day they broke: the day archives, the day headings of the front page, month groups.

A story belongs to the day of its first report in the site's time zone (`Settings.timezone`), so it has
one day for good: later coverage does not move it. "Today" and "Yesterday" are said relative to a
reference the caller passes, never to the clock: the front page uses the newest report the site holds,
so the same seeds give the same bytes whenever they are built (a site rebuilt as reports arrive has its
newest report within the hour, so its "Today" is the reader's; the reader's own clock corrects the
headings of an older build in the browser, see static/site.js).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from .model import Story


@dataclass(frozen=True, slots=True)
class DayGroup:
    day: date
    label: str  # "Today", "Yesterday" or the date written out
    stories: tuple[Story, ...]


def local_day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def utc_month(moment: datetime) -> str:
    """The month of `moment` in UTC, as "2020-06": how the merge record and the search index file things by
    month, so that the time zone setting moves none."""
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-{utc.month:02d}"  # strftime took five times as long, twice a story a build


def story_day(story: Story, zone: tzinfo) -> date:
    """The day a story broke: its first report's, in the site's time zone."""
    return local_day(story.published, zone)


def day_url(day: date) -> str:
    return f"days/{day.isoformat()}/"


def day_title(day: date) -> str:
    """'Friday 24 January 2020': no leading zero, in any locale (strftime's %-d is not portable)."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def day_label(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return day_title(day)


def by_day(stories: Iterable[Story], zone: tzinfo) -> tuple[tuple[date, tuple[Story, ...]], ...]:
    """Each day that has stories, newest first, with its stories in the order given (rank order)."""
    days: dict[date, list[Story]] = {}
    for story in stories:
        days.setdefault(story_day(story, zone), []).append(story)
    return tuple((day, tuple(days[day])) for day in sorted(days, reverse=True))


def group_by_day(stories: Sequence[Story], zone: tzinfo, reference: datetime | None) -> tuple[DayGroup, ...]:
    """The stories of one list under day headings, newest day first, labelled relative to `reference`."""
    today = local_day(reference, zone) if reference is not None else None
    return tuple(
        DayGroup(day, day_label(day, today) if today is not None else day_title(day), group)
        for day, group in by_day(stories, zone)
    )


def neighbours(days: Sequence[date]) -> dict[date, tuple[date | None, date | None]]:
    """For each of `days` (newest first): (the next newer day, the next older day) that has stories."""
    return {
        day: (days[i - 1] if i > 0 else None, days[i + 1] if i + 1 < len(days) else None) for i, day in enumerate(days)
    }


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int
    label: str  # "January 2020"
    days: tuple[tuple[date, int], ...]  # each day with stories, oldest first, and how many


def months(counts: Iterable[tuple[date, int]]) -> tuple[Month, ...]:
    """Days with their story counts grouped by month, newest month first, days in calendar order."""
    grouped: dict[tuple[int, int], list[tuple[date, int]]] = {}
    for day, count in counts:
        grouped.setdefault((day.year, day.month), []).append((day, count))
    return tuple(
        Month(y, m, f"{date(y, m, 1):%B} {y}", tuple(sorted(grouped[(y, m)]))) for y, m in sorted(grouped, reverse=True)
    )
