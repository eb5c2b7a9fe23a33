"""Seed files → each file's mentions and problems: through a persistent cache, over every core.

Parsing YAML is the floor of a cold build, so an unchanged file is never parsed twice: its
result is kept in `.newsstand-cache/`, keyed by the file's identity on disk and checked
against a checksum and the code's own fingerprint. A cache that is corrupt, stale or from
other code is thrown away and rebuilt, never trusted.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path

from . import cachefile
from .digest import bytes_digest
from .model import compact_pickle
from .normalize import Mention, file_mentions
from .parallel import workers
from .problems import Problem
from .read import Identity, read_bytes, seed_from_bytes, seed_stamp

RESULTS = "path TEXT PRIMARY KEY, sum BLOB, data BLOB"  # the seed cache's table: a row per file
INLINE_BELOW = 200  # files: under this, a process pool costs more than it saves
CHUNK_FILES = 1000  # files a worker parses at a time: their rows are held in memory until written


@compact_pickle
@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    stamp: tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode: any edit changes one
    mentions: tuple[Mention, ...]
    problems: tuple[Problem, ...]
    # Of the bytes read (digest.bytes_digest), so a file rewritten with the same bytes is known unchanged.
    sha: str = ""


@dataclass(frozen=True, slots=True)
class Ingested:
    results: tuple[FileResult, ...]  # in path order
    parsed: int  # files parsed in this build
    cached: int  # files taken from the cache

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(p for r in self.results for p in r.problems)

    @property
    def mentions(self) -> Iterator[Mention]:
        return (m for r in self.results for m in r.mentions)


def read_seed_file(path: Path, drafts: bool) -> FileResult:
    """One seed file read, parsed and turned into mentions (or problems)."""
    stamp = seed_stamp(path) or (0, 0, 0, 0)
    name = str(path)
    try:
        data = read_bytes(path)
    except OSError as err:
        unreadable = Problem(name, message=f"cannot read: {err.strerror or err}", rejected=True)
        return FileResult(name, (0, 0, 0, 0), (), (unreadable,))
    sha = bytes_digest(data)
    record, problem = seed_from_bytes(name, data)
    if record is None:
        return FileResult(name, stamp, (), (problem,) if problem else (), sha)
    mentions, problems = file_mentions(record, drafts)
    return FileResult(name, stamp, tuple(mentions), tuple(problems), sha)


def _process_chunk(paths: Sequence[Path], drafts: bool) -> list[FileResult]:
    return [read_seed_file(p, drafts) for p in paths]


def _process_rows(paths: Sequence[Path], drafts: bool) -> list[tuple[str, bytes, bytes]]:
    """Parse files as the seed cache's rows: a worker pickles its results once, for the cache and for the
    way back to the parent alike, so a cold build pickles on every core."""
    return [_row(r) for r in _process_chunk(paths, drafts)]


class SeedCache:
    """The on-disk cache of per-file results: a row per seed file in an SQLite database beside the other
    caches. Safe to delete at any time.

    A build reads and writes only the rows of the files that changed: a cron tick's 50 new files are 50
    rows, where 64 shards by a hash of the path had each file land in its own shard, and the tick rewrote
    most of the cache (290 MB of shards at 100k files). Each row carries the checksum of its pickle and
    the database the code's fingerprint: a row that is missing, corrupt or from other code reads as
    missing, and a database that cannot be read is deleted and made again. A build killed mid-write
    leaves the last committed rows (SQLite's journal)."""

    KEEP = 8  # caches of other seed folders kept beside this one
    BATCH = 500  # paths per query: under SQLite's oldest limit on a statement's parameters (999)

    def __init__(self, folder: Path, seeds: Path, drafts: bool) -> None:
        # One database per seed folder, so building a test folder does not evict the real one.
        self.path = folder / f"{Path(cachefile.name_for('seeds', seeds)).stem}.sqlite"
        self.db = cachefile.Database(self.path, f"{cachefile.code_fingerprint()} drafts={drafts}", {"results": RESULTS})

    def load(self) -> dict[str, FileResult]:
        """Every file's result the cache holds."""
        nothing: dict[str, FileResult] = {}
        return self.db.run(lambda db: _rows(db.execute("SELECT path, sum, data FROM results")), nothing)

    def results_for(self, paths: Iterable[str]) -> dict[str, FileResult] | None:
        """The cached results of `paths`; None if one of them is missing."""
        wanted = list(dict.fromkeys(paths))

        def look(db: sqlite3.Connection) -> dict[str, FileResult]:
            found: dict[str, FileResult] = {}
            for i in range(0, len(wanted), self.BATCH):
                batch = wanted[i : i + self.BATCH]
                query = f"SELECT path, sum, data FROM results WHERE path IN ({','.join('?' * len(batch))})"
                found.update(_rows(db.execute(query, batch)))
            return found

        nothing: dict[str, FileResult] = {}
        found = self.db.run(look, nothing) if wanted else nothing
        return found if len(found) == len(wanted) else None

    def save_changes(self, fresh: Iterable[FileResult], gone: Iterable[str]) -> None:
        """Put `fresh` results in and take the `gone` files out, in one transaction."""
        self.put([_row(r) for r in fresh], gone)

    def put(self, rows: Sequence[tuple[str, bytes, bytes]], gone: Iterable[str]) -> None:
        """Write rows made by `_row` (a worker may make them) and delete the `gone` files' rows."""
        dropped = [(path,) for path in gone]

        def write(db: sqlite3.Connection) -> None:
            db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?)", rows)
            db.executemany("DELETE FROM results WHERE path = ?", dropped)

        if rows or dropped:
            self.db.run(write, None)

    def evict_others(self) -> None:
        """Keep the caches of the KEEP seed folders built most recently, and none of an older layout."""
        try:
            if self.path.exists():
                os.utime(self.path)  # the most recently used is kept longest
            others = sorted(
                (p for p in self.path.parent.glob("seeds-*.sqlite") if p != self.path),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
            for stale in others[self.KEEP :]:
                cachefile.delete_database(stale)
            for legacy in self.path.parent.glob("seeds-*"):
                if legacy.is_dir():  # the shard folders of earlier versions
                    shutil.rmtree(legacy, ignore_errors=True)
        except OSError:
            pass


def _row(result: FileResult) -> tuple[str, bytes, bytes]:
    """A result as the cache's row: its path, the checksum of its pickle, the pickle."""
    return (result.path, *cachefile.pack(result))


def _rows(rows: Iterable[tuple[str, bytes, bytes]]) -> dict[str, FileResult]:
    """The results of rows that are whole: a row whose checksum or content is wrong is left out."""
    found: dict[str, FileResult] = {}
    for path, digest, data in rows:
        try:
            result = cachefile.unpack(digest, data)
        except ValueError:  # as good as missing
            continue
        if isinstance(result, FileResult) and result.path == path:
            found[path] = result
    return found


@dataclass(frozen=True, slots=True)
class Changes:
    """The seed files that changed since a build whose reading is known (ingest_changes)."""

    fresh: tuple[FileResult, ...]  # the files new or changed since, read now, in path order
    before: tuple[FileResult, ...]  # what that build read of the files changed or gone since
    gone: tuple[str, ...]
    store: SeedCache  # to look up what that build read of the other files (mentions_in)

    def mentions_in(
        self, files: Mapping[str, Iterable[str]], known: Mapping[str, Identity]
    ) -> dict[str, list[Mention]] | None:
        """For each key of `files`, the mentions of it that the files listed hold, as that build read them
        (files that changed since are left out: their mentions are in `fresh`); None if the cache does not
        hold them as `known` says they were read."""
        changed = {r.path for r in self.fresh} | set(self.gone)
        wanted = {key: [p for p in paths if p not in changed] for key, paths in files.items()}
        results = self.store.results_for(sorted({p for paths in wanted.values() for p in paths}))
        if results is None or any((r.stamp, r.sha) != known.get(p) for p, r in results.items()):
            return None
        return {key: [m for p in paths for m in results[p].mentions if m.key == key] for key, paths in wanted.items()}


def ingest_changes(
    names: Sequence[str],
    seeds: Path,
    cache_dir: Path,
    known: Mapping[str, Identity],
    drafts: bool = False,
    jobs: int | None = None,
    stamps: Mapping[str, tuple[int, int, int, int]] | None = None,
) -> Changes | None:
    """Read the files among `names` (as read.seed_files gives them) that are new or whose stat is not the
    one `known` gives (what the last build read of each file), and find in the cache what it read of those
    and of the files since gone; the cache is updated. `stamps`: each file's stat as this build already
    took it, if it did. None when the cache does not hold what `known` says was read (deleted, or left by
    a build killed between writing it and the record of its reading): the caller reads everything."""
    store = SeedCache(cache_dir, seeds, drafts)
    stat = stamps.get if stamps is not None else seed_stamp
    todo = [name for name in names if (k := known.get(name)) is None or k[0] != stat(name)]
    gone = sorted(set(known).difference(names))
    touched = [name for name in todo if name in known] + gone
    before = store.results_for(touched)
    if before is None or any((r.stamp, r.sha) != known[p] for p, r in before.items()):
        return None
    fresh = _parse([Path(name) for name in todo], drafts, jobs or workers())
    store.save_changes(fresh, gone)
    return Changes(tuple(fresh), tuple(before[p] for p in touched), tuple(gone), store)


def _parse(paths: Sequence[Path], drafts: bool, jobs: int) -> list[FileResult]:
    if len(paths) < INLINE_BELOW or jobs == 1:
        return _process_chunk(paths, drafts)
    step = -(-len(paths) // (jobs * 4))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
        chunks = pool.map(_process_chunk, [paths[i : i + step] for i in range(0, len(paths), step)], repeat(drafts))
        return [r for chunk in chunks for r in chunk]


@dataclass(slots=True)
class IngestMemo:
    """The last ingest's results and seed cache, kept in memory by a long-running caller (serve).

    The next ingest of the same seeds then checks each file's stamp against these results instead of
    loading every shard from disk, and keeps the cache's record of what is on disk, so it rewrites only
    the shards whose files changed."""

    source: tuple[Path, Path | None, bool] | None = None  # seeds, cache folder, drafts: what `results` hold
    store: SeedCache | None = None
    results: dict[str, FileResult] = field(default_factory=dict)


def ingest(
    paths: Sequence[str | Path],
    seeds: Path,
    cache_dir: Path | None,
    drafts: bool = False,
    jobs: int | None = None,
    memo: IngestMemo | None = None,
    stamps: Mapping[str, tuple[int, int, int, int]] | None = None,
) -> Ingested:
    """Every seed file's mentions and problems, parsing only what the cache (or `memo`) does not hold.
    `paths` as read.seed_files names them; `stamps`: each file's stat as this build already took it, if it did."""
    source = (seeds, cache_dir, drafts)
    if memo is not None and memo.source == source:
        store, known = memo.store, memo.results
    else:
        store = SeedCache(cache_dir, seeds, drafts) if cache_dir is not None else None
        known = store.load() if store else {}
    stat = stamps.get if stamps is not None else seed_stamp
    names = list(map(str, paths))  # a Path is made only for a file to read (100,000 Paths: half a second)
    results: dict[str, FileResult] = {}
    todo: list[Path] = []
    for name in names:
        hit = known.get(name)
        if hit is not None and hit.stamp == stat(name):
            results[hit.path] = hit
        else:
            todo.append(Path(name))
    jobs = jobs or workers()
    if len(todo) < INLINE_BELOW or jobs == 1:
        fresh = _process_chunk(todo, drafts)
        written = False
    else:
        # The workers' rows go into the cache as they come, so they are never all in memory at once.
        step = min(CHUNK_FILES, -(-len(todo) // (jobs * 4)))
        fresh = []
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
            chunks = [todo[i : i + step] for i in range(0, len(todo), step)]
            for rows in pool.map(_process_rows, chunks, repeat(drafts)):
                fresh += [pickle.loads(data) for _, _, data in rows]
                if store is not None:
                    store.put(rows, ())
        written = True
    for result in fresh:
        results[result.path] = result
    ordered = tuple(map(results.__getitem__, names))
    gone = set(known) - set(results)
    if store is not None and (gone or (fresh and not written)):
        store.save_changes(() if written else fresh, gone)
    if store is not None and (fresh or gone):
        store.evict_others()
    if memo is not None:
        memo.source, memo.store, memo.results = source, store, {r.path: r for r in ordered}
    return Ingested(ordered, parsed=len(fresh), cached=len(ordered) - len(fresh))
