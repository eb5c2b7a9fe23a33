"""A story's coverage read as a reader reads it: the first report, the follow-ups, opinion and analysis.

An entry is opinion or analysis only where its title says so, as outlets label such pieces
("Editorial: ...", "Opinion | ...", "Analysis: ...", "Political Cartoon: ...", "... - opinion"); every
other entry is reporting. The first report is the earliest reporting entry; wire copies stay folded in
their entry (model.Coverage) and count once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Coverage, Story

# The labels, longest first so that "Political Cartoon" wins over "Cartoon"; each maps to what the page calls it.
_LABELS = {
    "political cartoon": "Cartoon",
    "editorial cartoon": "Cartoon",
    "letters to the editor": "Letters",
    "letter to the editor": "Letters",
    "guest column": "Opinion",
    "guest opinion": "Opinion",
    "our view": "Editorial",
    "editorial": "Editorial",
    "opinion": "Opinion",
    "op-ed": "Opinion",
    "commentary": "Commentary",
    "column": "Opinion",
    "analysis": "Analysis",
    "news analysis": "Analysis",
    "cartoon": "Cartoon",
    "letters": "Letters",
    "viewpoint": "Opinion",
    "perspective": "Opinion",
}
_NAMES = "|".join(re.escape(k) for k in sorted(_LABELS, key=len, reverse=True))
# A label before the headline, set off by a colon, a bar or a dash ("Opinion | ...", "ANALYSIS - ...") ...
_PREFIX = re.compile(rf"^\W*({_NAMES})\s*(?::|\||[-–—](?=\s))", re.IGNORECASE)
# ... or after it, set off the same way or in brackets ("... | Opinion", "... (Analysis)").
_SUFFIX = re.compile(rf"(?:\s(?:\||[-–—])\s*|[(\[]\s*)({_NAMES})\s*[)\]]?\W*$", re.IGNORECASE)


def opinion_label(title: str) -> str | None:
    """'Editorial', 'Opinion', 'Analysis', 'Commentary', 'Cartoon' or 'Letters' when the title says so."""
    match = _PREFIX.match(title) or _SUFFIX.search(title)
    return _LABELS[match.group(1).casefold()] if match else None


@dataclass(frozen=True, slots=True)
class CoverageGroup:
    key: str  # first | follow-ups | opinion
    heading: str
    entries: tuple[Coverage, ...]  # in time order


def in_time_order(story: Story) -> tuple[Coverage, ...]:
    return tuple(sorted(story.entries, key=lambda e: (e.article.published, e.article.key)))


def coverage_groups(story: Story) -> tuple[CoverageGroup, ...]:
    """The first report, the follow-ups and the opinion and analysis of a story; empty groups left out."""
    entries = in_time_order(story)
    opinion = tuple(e for e in entries if opinion_label(e.article.title))
    reports = tuple(e for e in entries if not opinion_label(e.article.title))
    groups = (
        CoverageGroup("first", "First report", reports[:1]),
        CoverageGroup("follow-ups", "Follow-ups", reports[1:]),
        CoverageGroup("opinion", "Opinion and analysis", opinion),
    )
    return tuple(g for g in groups if g.entries)
