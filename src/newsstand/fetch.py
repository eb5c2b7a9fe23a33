"""`newsstand fetch`: every subscription's feed → story files in the seeds folder, then `build` as usual.

A few feeds are fetched at a time (one host's feeds one after another, so no host ever gets two
requests at once); the results are mapped and written in the order of the subscriptions, so that an
article two feeds carry is always filed under the first. A feed that fails is reported as
`url: message` and costs nothing else: it is tried again after a back-off that doubles with each
failure in a row (or when its server's Retry-After says). What each feed's server said last
(validators, a permanent move, failures) is kept in the fetch state under the cache folder.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from .feedparse import BadFeed, FeedEntry, ParsedFeed, parse_feed
from .feedstory import StoryFile, fetched, story_file
from .fetchstate import FeedRecord, FetchState
from .httpget import Fetcher, FetchFailed, Policy, Reply
from .read import read_bytes
from .subscriptions import Subscription
from .write import OutputLock, WriteError, atomic_write

_LONGEST_WAIT = timedelta(days=7)  # a server's Retry-After is honoured up to this


@dataclass(slots=True)
class FeedResult:
    sub: Subscription
    outcome: str  # "fetched", "not modified", "failed", "waiting"
    message: str = ""  # why it failed or waits
    moved_to: str = ""  # a permanent redirect met on this run
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # entries not written, by reason

    def line(self) -> str:
        """The progress line of this feed."""
        if self.outcome == "failed":
            return f"{self.sub.url}: {self.message}"
        if self.outcome != "fetched":
            return f"{self.sub.url}: {self.outcome}" + (f": {self.message}" if self.message else "")
        text = f"{self.sub.url}: {self.new} new, {self.updated} updated, {self.unchanged} unchanged"
        if self.skipped:
            text += f"; {sum(self.skipped.values())} skipped ({_reasons(self.skipped)})"
        return text


@dataclass(slots=True)
class FetchReport:
    feeds: list[FeedResult]
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # beside the feeds that failed: moves, unreadable files

    def count(self, outcome: str) -> int:
        return sum(f.outcome == outcome for f in self.feeds)

    def summary(self) -> str:
        skipped: Counter[str] = Counter()
        for f in self.feeds:
            skipped.update(f.skipped)
        new, updated = sum(f.new for f in self.feeds), sum(f.updated for f in self.feeds)
        text = (
            f"{len(self.feeds)} feeds: {self.count('fetched')} fetched, {self.count('not modified')} not modified, "
            f"{self.count('failed')} failed, {self.count('waiting')} waiting; "
            f"{new + updated} story files written ({new} new, {updated} updated), "
            f"{sum(f.unchanged for f in self.feeds)} unchanged"
        )
        if skipped:
            text += f", {sum(skipped.values())} entries skipped ({_reasons(skipped)})"
        return text + f"; {self.seconds:.1f} s"


def _reasons(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


@dataclass(frozen=True, slots=True)
class _Got:
    """What fetching and parsing one feed gave: a reply and its feed, or the failure."""

    reply: Reply | None = None
    feed: ParsedFeed | None = None
    error: str = ""
    retry_after: float | None = None


def _fetch_one(fetcher: Fetcher, url: str, record: FeedRecord) -> _Got:
    try:
        reply = fetcher.get(url, record.etag, record.last_modified)
    except FetchFailed as err:
        return _Got(error=err.message, retry_after=err.retry_after)
    if reply.not_modified:
        return _Got(reply=reply)
    try:
        return _Got(reply=reply, feed=parse_feed(reply.body, reply.content_type, reply.url))
    except BadFeed as err:
        return _Got(reply=reply, error=str(err))
    except Exception as err:  # a parser's bug on hostile bytes must not cost the other feeds
        return _Got(reply=reply, error=f"could not be read: {type(err).__name__}: {err}"[:200])


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _backoff(failures: int, policy: Policy) -> timedelta:
    return timedelta(seconds=min(policy.backoff_base * 2 ** max(0, failures - 1), policy.backoff_cap))


def fetch(
    subscriptions: Sequence[Subscription],
    seeds: Path,
    cache: Path,
    max_age_days: int = 30,
    policy: Policy | None = None,
    now: datetime | None = None,
    progress: Callable[[FeedResult], None] | None = None,
) -> FetchReport:
    """Fetch every due feed and write its entries into `seeds`; `progress` hears of each feed in order."""
    policy = policy or Policy()
    now = now or datetime.now(UTC)
    started = time.monotonic()
    seeds.mkdir(parents=True, exist_ok=True)
    with OutputLock(
        cache / "fetch", busy=f"another fetch is running (lock {cache / '.fetch.lock'}); try again when it ends"
    ):
        state = FetchState.load(cache)
        report = FetchReport(feeds=[])
        records = {sub.url: _conditional(state.get(sub.url), seeds) for sub in subscriptions}
        due = [s for s in subscriptions if not _backing_off(records[s.url].retry_at, now)]
        by_host: dict[str, list[Subscription]] = {}
        for sub in due:
            by_host.setdefault(_host(records[sub.url].moved_to or sub.url), []).append(sub)
        fetcher = Fetcher(policy)
        written: dict[str, str] = {}  # file name → the feed that wrote it on this run
        futures: dict[str, Future[_Got]] = {sub.url: Future() for sub in due}

        stop = threading.Event()

        def run_host(subs: list[Subscription]) -> None:
            for sub in subs:
                if stop.is_set():
                    futures[sub.url].cancel()
                    continue
                try:
                    got = _fetch_one(fetcher, records[sub.url].moved_to or sub.url, records[sub.url])
                except Exception as err:  # a bug, on hostile input most likely: it fails this feed, not the run
                    got = _Got(error=f"could not be fetched: {type(err).__name__}: {err}"[:200])
                futures[sub.url].set_result(got)

        with ThreadPoolExecutor(max_workers=max(1, policy.workers), thread_name_prefix="fetch") as pool:
            for subs in by_host.values():
                pool.submit(run_host, subs)
            try:
                # Fetched host by host, each host in one thread; gathered in the order of the subscriptions.
                for sub in subscriptions:
                    record = records[sub.url]
                    if sub.url not in futures:
                        result = FeedResult(sub, "waiting", _waiting(record))
                    else:
                        result = _settle(
                            sub,
                            record,
                            futures[sub.url].result(),
                            seeds,
                            now,
                            max_age_days,
                            policy,
                            state,
                            written,
                            report.problems,
                        )
                    report.feeds.append(result)
                    if result.moved_to:
                        report.problems.append(
                            f"{sub.url}: moved permanently to {result.moved_to}; fetched from "
                            "there from now on (change the subscription to the new address)"
                        )
                    if progress is not None:
                        progress(result)
            finally:
                stop.set()  # interrupted: the threads finish the request they are in, and start no other
        if not state.save(now):
            report.problems.append(f"{cache}: cannot save the fetch state: every feed is fetched whole next time")
    report.seconds = time.monotonic() - started
    return report


def _backing_off(retry_at: datetime | None, now: datetime) -> bool:
    """Whether a feed is still backing off."""
    return retry_at is not None and retry_at > now


def _conditional(record: FeedRecord, seeds: Path) -> FeedRecord:
    """The record, without its validators when a story file its feed gave is gone (the seeds folder emptied,
    say): a 304 would leave it missing."""
    if (record.etag or record.last_modified) and any(not (seeds / name).is_file() for name in record.files):
        return replace(record, etag="", last_modified="")
    return record


def _waiting(record: FeedRecord) -> str:
    when = record.retry_at.strftime("%Y-%m-%d %H:%M UTC") if record.retry_at else "later"
    why = (
        f"after {record.failures} failure{'s' if record.failures != 1 else ''} in a row"
        if record.failures
        else "as its server asked"
    )
    return f"next try {when} ({why}; last: {record.last_error or 'none'})"


def _settle(
    sub: Subscription,
    record: FeedRecord,
    got: _Got,
    seeds: Path,
    now: datetime,
    max_age_days: int,
    policy: Policy,
    state: FetchState,
    written: dict[str, str],
    problems: list[str],
) -> FeedResult:
    """Record what the server said, and write the feed's story files."""
    reply = got.reply
    moved = reply.moved_to if reply is not None and reply.moved_to and reply.moved_to != record.moved_to else ""
    moved_to = reply.moved_to if reply is not None and reply.moved_to else record.moved_to
    if got.error:
        failures = record.failures + 1
        wait = timedelta(seconds=got.retry_after) if got.retry_after is not None else _backoff(failures, policy)
        state.put(
            sub.url,
            replace(
                record,
                moved_to=moved_to,
                failures=failures,
                retry_at=now + min(wait, _LONGEST_WAIT),
                last_error=got.error,
                last_attempt=now,
            ),
        )
        return FeedResult(sub, "failed", got.error, moved_to=moved)
    assert reply is not None
    etag = reply.etag or (record.etag if reply.not_modified else "")
    modified = reply.last_modified or (record.last_modified if reply.not_modified else "")
    if reply.not_modified or got.feed is None:
        state.put(
            sub.url,
            FeedRecord(etag=etag, last_modified=modified, moved_to=moved_to, last_attempt=now, files=record.files),
        )
        return FeedResult(sub, "not modified", moved_to=moved)
    result = FeedResult(sub, "fetched", moved_to=moved)
    files: list[str] = []
    if got.feed.dropped:
        result.skipped[f"past the first {len(got.feed.entries)} of the feed"] += got.feed.dropped
    for entry in got.feed.entries:
        story = story_file(entry, got.feed, sub, now, max_age_days)
        if isinstance(story, str):
            result.skipped[story] += 1
            continue
        if _write(
            story,
            functools.partial(_again, entry, got.feed, sub, now, max_age_days),
            sub,
            seeds,
            written,
            result,
            problems,
        ):
            files.append(story.name)
    state.put(
        sub.url, FeedRecord(etag=etag, last_modified=modified, moved_to=moved_to, last_attempt=now, files=tuple(files))
    )
    return result


def _again(
    entry: FeedEntry, feed: ParsedFeed, sub: Subscription, now: datetime, max_age_days: int, first_seen: datetime
) -> StoryFile | str:
    """The entry's story file again, dated when it was first seen."""
    return story_file(entry, feed, sub, now, max_age_days, first_seen)


def _write(
    story: StoryFile,
    again: Callable[[datetime], StoryFile | str],
    sub: Subscription,
    seeds: Path,
    written: dict[str, str],
    result: FeedResult,
    problems: list[str],
) -> bool:
    """Write one story file, unless a file by hand, another feed's or this run's is there; `again` maps the
    entry anew with the date its file already has (which an entry without a date of its own keeps).
    True when the file is now as the entry says."""
    if story.name in written:
        result.skipped["already in an earlier feed"] += 1
        return False
    path = seeds / story.name
    old: bytes | None = None
    if path.exists():
        try:
            old = read_bytes(path)
        except OSError as err:
            problems.append(f"{path}: cannot read: {err.strerror or err}")
            result.skipped["unreadable file"] += 1
            return False
        mine = fetched(old)
        if mine is None:
            result.skipped["file written by hand"] += 1
            return False
        if mine.feed != sub.url:
            result.skipped["filed from another feed"] += 1
            return False
        if mine.published is not None:
            remapped = again(mine.published)
            if isinstance(remapped, str):
                result.skipped[remapped] += 1
                return False
            story = remapped
    written[story.name] = sub.url
    if old == story.data:
        result.unchanged += 1
        return True
    try:
        atomic_write(path, story.data)
    except OSError as err:
        raise WriteError(f"{path}: cannot write: {err.strerror or err}") from None
    if old is None:
        result.new += 1
    else:
        result.updated += 1
    return True
