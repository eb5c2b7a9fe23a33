"""Group articles into stories: one cluster per news event.

Placeholder: every article is a story of its own. Replaced by the real clustering.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import Article, Coverage

Cluster = tuple[Coverage, ...]


def cluster(articles: Sequence[Article]) -> tuple[Cluster, ...]:
    """Partition `articles` into clusters; deterministic whatever the input order."""
    ordered = sorted(articles, key=lambda a: a.key)
    return tuple((Coverage(a),) for a in ordered)
