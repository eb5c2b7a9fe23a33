"""Hand-made values for stage tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsstand.model import Article, Coverage

T0 = datetime(2020, 1, 24, 12, tzinfo=UTC)


def article(key: str, hours: float = 0, provider: str = "a.com", title: str | None = None, **fields: object) -> Article:
    return Article(
        key=f"https://{provider}/{key}",
        url=f"https://{provider}/{key}",
        title=title or f"Title {key}",
        published=T0 + timedelta(hours=hours),
        provider=provider,
        **fields,
    )  # type: ignore[arg-type]


def cluster(*articles: Article) -> tuple[Coverage, ...]:
    return tuple(Coverage(a) for a in articles)
