"""Measuring clustering against labelled data: the UCI headline sample and the scoring figures.

Used by the clustering benchmark and its regression test only; the site build never imports it.
Metrics follow data/README of the shared corpus: B-cubed (Amigó et al. 2009), pairwise P/R/F1 and
the adjusted Rand index, all from one contingency table so they cost O(n) whatever the cluster sizes.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from ..model import Article

# The UCI CATEGORY letters, mapped to topic slugs the way the converter in the issue allows.
CATEGORY_TOPICS = {"b": "business", "t": "technology", "e": "entertainment", "m": "health"}


@dataclass(frozen=True, slots=True)
class Scores:
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    ari: float
    n: int
    predicted_clusters: int
    true_clusters: int

    def lines(self) -> list[str]:
        return [
            f"B-cubed  precision {self.bcubed_precision:.3f}  recall {self.bcubed_recall:.3f}  F1 {self.bcubed_f1:.3f}",
            f"pairwise precision {self.pairwise_precision:.3f}  recall {self.pairwise_recall:.3f}"
            f"  F1 {self.pairwise_f1:.3f}   ARI {self.ari:.3f}",
            f"{self.n} items, {self.predicted_clusters} predicted clusters, {self.true_clusters} true clusters",
        ]


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def score(predicted: Mapping[str, Hashable], truth: Mapping[str, Hashable]) -> Scores:
    """Compare two labellings of the same items (item -> cluster label); items missing from either are skipped."""
    items = [k for k in truth if k in predicted]
    n = len(items)
    cells = Counter((predicted[k], truth[k]) for k in items)
    pred_sizes = Counter(predicted[k] for k in items)
    true_sizes = Counter(truth[k] for k in items)
    # B-cubed: each item in cell (p, t) has precision |cell|/|p| and recall |cell|/|t|.
    bp = sum(c * c / pred_sizes[p] for (p, _), c in cells.items()) / n
    br = sum(c * c / true_sizes[t] for (_, t), c in cells.items()) / n
    same_both = sum(_pairs(c) for c in cells.values())
    same_pred = sum(_pairs(c) for c in pred_sizes.values())
    same_true = sum(_pairs(c) for c in true_sizes.values())
    pp = same_both / same_pred if same_pred else 1.0
    pr = same_both / same_true if same_true else 1.0
    expected = same_pred * same_true / _pairs(n) if n > 1 else 0.0
    top = (same_pred + same_true) / 2
    ari = (same_both - expected) / (top - expected) if top != expected else 1.0
    return Scores(bp, br, _f1(bp, br), pp, pr, _f1(pp, pr), ari, n, len(pred_sizes), len(true_sizes))


def labels_of(clusters: Iterable[Iterable[Article]]) -> dict[str, int]:
    """Article key -> index of its cluster."""
    return {a.key: i for i, members in enumerate(clusters) for a in members}


def simple_key(url: str) -> str:
    """A canonical-enough URL key for labelled data: lowercase host without www., no utm_* parameters,
    no trailing slash. (The project's own canonical form lives in urls.py; this one only has to agree
    between a synthetic corpus and its truth file.)"""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    query = "&".join(q for q in parts.query.split("&") if q and not q.lower().startswith("utm_"))
    return f"{host}{path}?{query}" if query else f"{host}{path}"


def read_uci(path: Path) -> tuple[list[Article], dict[str, str]]:
    """The UCI headline sample as Articles (title, URL, provider, time, category topic) and key -> STORY.

    Rows without the 8 fields (the cut-off last line) are dropped; a URL seen twice keeps its first row.
    """
    articles: list[Article] = []
    truth: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows)
        for row in rows:
            if len(row) != len(header) or not all(row[i] for i in (1, 2, 5, 6, 7)):
                continue
            _id, title, url, _publisher, category, story, host, stamp = row
            key = simple_key(url)
            if key in truth:
                continue
            truth[key] = story
            published = datetime.fromtimestamp(int(stamp) / 1000, tz=UTC)
            topic = CATEGORY_TOPICS.get(category)
            articles.append(
                Article(
                    key=key,
                    url=url,
                    title=title,
                    published=published,
                    provider=host.lower().removeprefix("www."),
                    topics=(topic,) if topic else (),
                )
            )
    return articles, truth
