"""The reader's views of stories, made in Python for the theme to draw: days, coverage groups, countries,
the timeline's geometry, sparklines and which images may be shown."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import pytest

from newsstand.countries import countries, country_of, generic_count
from newsstand.coverage import coverage_groups, opinion_label
from newsstand.days import day_label, day_title, group_by_day, months, neighbours, story_day
from newsstand.images import shown_image
from newsstand.model import Coverage, Image, Story
from newsstand.summary import sparkline, summarize
from newsstand.timeline import LEAD_RADIUS, timeline

from .factories import T0, article


def story(*arts, slug: str = "s") -> Story:
    return Story(slug, tuple(Coverage(a) for a in arts))


@pytest.mark.parametrize(
    ("title", "label"),
    [
        ("Editorial: Facial-recognition software takes personal invasion into a new dimension", "Editorial"),
        ("Political Cartoon: Facial recognition doesn’t fly", "Cartoon"),
        ("Opinion | The police should not use face scans", "Opinion"),
        ("ANALYSIS - What the ban means", "Analysis"),
        ("Why the ban matters (analysis)", "Analysis"),
        ("Facial recognition is a trap - opinion", "Opinion"),
        ("Analysis shows cameras misidentify people", None),  # a word in a headline, not a label
        ("London police begin using live facial recognition", None),
        ("Opinionated robots are here", None),
    ],
)
def test_opinion_label_only_where_the_title_says_so(title: str, label: str | None) -> None:
    assert opinion_label(title) == label


def test_coverage_groups_first_report_follow_ups_opinion() -> None:
    first = article("first", hours=0, provider="a.com")
    lead = article("lead", hours=3, provider="b.com", pick=True)
    view = article("view", hours=1, provider="c.com", title="Opinion: not like this")
    later = article("later", hours=5, provider="d.com")
    s = Story("s", (Coverage(lead), Coverage(first), Coverage(view), Coverage(later)))
    groups = {g.key: [e.article.key.rsplit("/", 1)[1] for e in g.entries] for g in coverage_groups(s)}
    assert groups == {"first": ["first"], "follow-ups": ["lead", "later"], "opinion": ["view"]}
    only_opinion = story(article("x", title="Editorial: no"))
    assert [g.key for g in coverage_groups(only_opinion)] == ["opinion"]


def test_countries_from_domains() -> None:
    assert country_of("independent.co.uk") == "United Kingdom"
    assert country_of("bangkokpost.com") is None and country_of("theverge.io") is None
    domains = ["independent.co.uk", "sky.com", "heraldscotland.com", "dailyrecord.co.uk", "spiegel.de", "sky.com"]
    assert countries(domains) == (("United Kingdom", 2), ("Germany", 1))
    assert generic_count(domains) == 2


def test_days_in_the_site_zone_and_labels_relative_to_the_reference() -> None:
    zone = ZoneInfo("America/New_York")
    late = story(article("late", hours=11), slug="late")  # 23:00 UTC on the 24th: 18:00 in New York
    night = story(article("night", hours=14), slug="night")  # 02:00 UTC on the 25th: 21:00 on the 24th there
    old = story(article("old", hours=-72), slug="old")
    assert story_day(night, zone) == date(2020, 1, 24) and story_day(night, UTC) == date(2020, 1, 25)
    groups = group_by_day([night, old, late], zone, reference=T0 + timedelta(hours=14))
    assert [(g.day, g.label, [s.slug for s in g.stories]) for g in groups] == [
        (date(2020, 1, 24), "Today", ["night", "late"]),
        (date(2020, 1, 21), "Tuesday 21 January 2020", ["old"]),
    ]
    assert day_label(date(2020, 1, 23), date(2020, 1, 24)) == "Yesterday"
    assert day_title(date(2020, 2, 3)) == "Monday 3 February 2020"
    assert neighbours([date(2020, 1, 3), date(2020, 1, 2)]) == {
        date(2020, 1, 3): (None, date(2020, 1, 2)),
        date(2020, 1, 2): (date(2020, 1, 3), None),
    }
    ms = months([(date(2020, 1, 31), 2), (date(2020, 2, 1), 1), (date(2020, 1, 2), 4)])
    assert [(m.label, m.days) for m in ms] == [
        ("February 2020", ((date(2020, 2, 1), 1),)),
        ("January 2020", ((date(2020, 1, 2), 4), (date(2020, 1, 31), 2))),
    ]


def test_timeline_has_one_mark_per_article_a_row_per_outlet_and_the_lead_larger() -> None:
    lead = article("lead", hours=2, provider="b.com", quality=99)
    copy = article("copy", hours=2.5, provider="c.com")
    arts = [article("a", hours=0, provider="a.com"), lead, article("a2", hours=10, provider="a.com")]
    s = Story("s", (Coverage(lead, (copy,)), Coverage(arts[0]), Coverage(arts[2])))
    tl = timeline(s, UTC, lambda d: d.upper())
    assert len(tl.marks) == 4 and [r.name for r in tl.rows] == ["A.COM", "B.COM", "C.COM"]
    xs = [m.x for m in tl.marks]
    assert xs == sorted(xs) and xs[0] == 3.0 and xs[-1] == 97.0  # in time order, the ends kept clear
    (big,) = [m for m in tl.marks if m.lead]
    assert big.article.key == lead.key and big.r == LEAD_RADIUS and tl.marks[0].first
    rows = {r.domain: r.line_y for r in tl.rows}
    assert all(m.y == rows[m.article.provider] for m in tl.marks)
    assert tl.height > tl.axis_y > max(rows.values())
    assert 2 <= len(tl.ticks) <= 5 and all(3 <= t.x <= 97 for t in tl.ticks)
    assert tl.ticks[0].label == "24 Jan 12:00"  # the day on the first tick, then times
    one = timeline(story(article("x")), UTC, str)
    assert one.marks[0].x == 50.0  # a single moment sits mid-way


def test_summary_and_sparkline() -> None:
    stories = [
        story(article("a", hours=0), slug="a"),
        story(article("b", hours=1), article("c", hours=80), slug="b"),
        story(article("d", hours=72), slug="d"),
    ]
    summary = summarize(stories, UTC)
    assert (summary.stories, summary.articles) == (3, 4)
    assert summary.first == T0 and summary.last == T0 + timedelta(hours=80)
    assert summary.per_day == (
        (date(2020, 1, 24), 2),
        (date(2020, 1, 25), 0),
        (date(2020, 1, 26), 0),
        (date(2020, 1, 27), 1),
    )
    line = sparkline(summary.per_day)
    assert line is not None and line.peak == 2 and line.peak_day == date(2020, 1, 24) and line.days == 4
    points = [tuple(map(float, p.split(","))) for p in line.points.split()]
    assert points[0] == (0.0, 2.0) and points[1] == (80.0, 38.0) and points[-1][0] == 240.0
    assert sparkline(summary.per_day[:1]) is None and summarize([], UTC).per_day == ()


def test_only_images_browsers_show_are_shown() -> None:
    tiff = Image("https://x.example/photo.TIFF")
    jpeg = Image("https://x.example/photo.jpg?w=800")
    cdn = Image("https://cdn.example/thumbor/abc=/0x0/filters:format(jpg)/image")
    assert shown_image(article("a", images=(tiff, jpeg))) == jpeg
    assert shown_image(article("b", images=(cdn,))) == cdn
    assert shown_image(article("c", images=(tiff,))) is None
