"""What `fetch` remembers of each feed between runs: validators, where it moved, how it has been failing.

Kept in one small file under the cache folder (`cachefile`'s checksummed format, written atomically);
a missing or damaged file only costs one unconditional fetch of every feed. Everything goes through
`FetchState.load`, `get`, `put` and `save`, so the store can change without its callers noticing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from . import cachefile

_NAME = "fetch-state.pickle"
_KEY = "fetch-state 1"
_FORGET_AFTER = timedelta(days=90)  # a feed not fetched for this long is no longer subscribed


@dataclass(frozen=True, slots=True)
class FeedRecord:
    etag: str = ""
    last_modified: str = ""
    moved_to: str = ""  # where a permanent redirect sent the feed: fetched from there from now on
    failures: int = 0  # in a row
    retry_at: datetime | None = None  # not fetched again before this (back-off, or the server's Retry-After)
    last_error: str = ""
    last_attempt: datetime | None = None
    files: tuple[str, ...] = ()  # the story files its last full reply gave: one gone, and validators are not sent


class FetchState:
    """The records of every feed, by subscription URL."""

    def __init__(self, path: Path, records: dict[str, FeedRecord] | None = None) -> None:
        self.path = path
        self._records = dict(records or {})

    @classmethod
    def load(cls, cache: Path) -> FetchState:
        path = cache / _NAME
        records = cachefile.load(path, _KEY)
        return cls(path, records if isinstance(records, dict) else None)

    def get(self, url: str) -> FeedRecord:
        return self._records.get(url) or FeedRecord()

    def put(self, url: str, record: FeedRecord) -> None:
        self._records[url] = record

    def save(self, now: datetime) -> bool:
        """Write the records (False when that failed: it only costs validators next time)."""
        keep = {
            url: r
            for url, r in sorted(self._records.items())
            if r.last_attempt is None or now - r.last_attempt <= _FORGET_AFTER
        }
        return cachefile.save(self.path, _KEY, keep)
