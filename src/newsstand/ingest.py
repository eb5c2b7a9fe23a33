"""Seed files → each file's mentions and problems: through a persistent cache, over every core.

Parsing YAML is the floor of a cold build, so an unchanged file is never parsed twice: its
result is kept in `.newsstand-cache/`, keyed by the file's identity on disk and checked
against a checksum and the code's own fingerprint. A cache that is corrupt, stale or from
other code is thrown away and rebuilt, never trusted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import zlib
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
from .problems import Problem
from .read import Identity, read_bytes, seed_from_bytes, seed_stamp

INLINE_BELOW = 200  # files: under this, a process pool costs more than it saves


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


def _process_shard(paths: Sequence[Path], drafts: bool, file: Path | None, key: str) -> tuple[list[FileResult], bool]:
    """Parse the files of one cache shard; with `file`, they are the whole shard: write it. Whether it was
    written comes back with the results."""
    results = _process_chunk(paths, drafts)
    return results, file is not None and cachefile.save(file, key, {r.path: r for r in results})


class SeedCache:
    """The on-disk cache of per-file results; `.newsstand-cache/` is safe to delete at any time.

    Results are spread over SHARDS files by a hash of the path, so a build after one file changed
    rewrites one small shard rather than the whole cache (10k files: 53 MB, 2 s to write)."""

    KEEP = 8  # caches of other seed folders kept beside this one
    SHARDS = 64

    def __init__(self, folder: Path, seeds: Path, drafts: bool) -> None:
        # One folder per seed folder, so building a test folder does not evict the real one.
        self.dir = folder / Path(cachefile.name_for("seeds", seeds)).stem
        self.key = f"{cachefile.code_fingerprint()} drafts={drafts}"
        self.loaded: dict[int, dict[str, FileResult]] = {}

    @classmethod
    def shard(cls, path: str) -> int:
        return zlib.crc32(path.encode("utf-8", "surrogateescape")) % cls.SHARDS

    def _file(self, shard: int) -> Path:
        return self.dir / f"{shard:02d}.pickle"

    def load(self) -> dict[str, FileResult]:
        results: dict[str, FileResult] = {}
        for shard in range(self.SHARDS):
            part = cachefile.load(self._file(shard), self.key)
            if isinstance(part, dict) and all(self.shard(p) == shard for p in part):
                self.loaded[shard] = part
                results.update(part)
        return results

    def _part(self, shard: int) -> dict[str, FileResult] | None:
        """One shard's results, loaded once per build; None if it has no trustworthy file."""
        if shard not in self.loaded:
            part = cachefile.load(self._file(shard), self.key)
            if not isinstance(part, dict):
                return None
            self.loaded[shard] = part
        return self.loaded[shard]

    def results_for(self, paths: Iterable[str]) -> dict[str, FileResult] | None:
        """The cached results of `paths`, loading only their shards; None if one of them is missing."""
        found: dict[str, FileResult] = {}
        for path in paths:
            part = self._part(self.shard(path))
            hit = part.get(path) if part is not None else None
            if hit is None:
                return None
            found[path] = hit
        return found

    def save_changes(self, fresh: Iterable[FileResult], gone: Iterable[str]) -> None:
        """Put `fresh` results in and take the `gone` files out, rewriting only their shards."""
        parts: dict[int, dict[str, FileResult]] = {}

        def changing(path: str) -> dict[str, FileResult]:
            shard = self.shard(path)
            if shard not in parts:
                parts[shard] = dict(self._part(shard) or {})
            return parts[shard]

        for result in fresh:
            changing(result.path)[result.path] = result
        for path in gone:
            changing(path).pop(path, None)
        for shard, part in parts.items():
            if part:
                cachefile.save(self._file(shard), self.key, part)
            else:
                with contextlib.suppress(OSError):
                    self._file(shard).unlink(missing_ok=True)
            self.loaded[shard] = part

    def save(self, results: dict[str, FileResult]) -> None:
        parts: dict[int, dict[str, FileResult]] = {}
        for path, result in results.items():
            parts.setdefault(self.shard(path), {})[path] = result
        for shard in range(self.SHARDS):
            part = parts.get(shard)
            if not part:
                with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
                    self._file(shard).unlink(missing_ok=True)
                self.loaded.pop(shard, None)
            elif self.loaded.get(shard) != part:  # unchanged results are the loaded objects: compared by identity
                cachefile.save(self._file(shard), self.key, part)
                self.loaded[shard] = part
        try:
            others = sorted(self.dir.parent.glob("seeds-*"), key=lambda p: p.stat().st_mtime, reverse=True)
            for stale in [p for p in others if p != self.dir][self.KEEP :]:
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)
            os.utime(self.dir)  # the most recently used folder is kept longest
        except OSError:
            pass


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
    paths: Sequence[Path],
    seeds: Path,
    cache_dir: Path,
    known: Mapping[str, Identity],
    drafts: bool = False,
    jobs: int | None = None,
) -> Changes | None:
    """Read the files among `paths` that are new or whose stat is not the one `known` gives (what the last
    build read of each file), and find in the cache what it read of those and of the files since gone;
    the cache is updated. None when the cache does not hold what `known` says was read (deleted, or left
    by a build killed between writing it and the record of its reading): the caller reads everything."""
    store = SeedCache(cache_dir, seeds, drafts)
    todo = [p for p in paths if (k := known.get(str(p))) is None or k[0] != seed_stamp(p)]
    gone = sorted(set(known) - {str(p) for p in paths})
    touched = [str(p) for p in todo if str(p) in known] + gone
    before = store.results_for(touched)
    if before is None or any((r.stamp, r.sha) != known[p] for p, r in before.items()):
        return None
    fresh = _parse(todo, drafts, jobs or workers())
    store.save_changes(fresh, gone)
    return Changes(tuple(fresh), tuple(before[p] for p in touched), tuple(gone), store)


def _parse(paths: Sequence[Path], drafts: bool, jobs: int) -> list[FileResult]:
    if len(paths) < INLINE_BELOW or jobs == 1:
        return _process_chunk(paths, drafts)
    step = -(-len(paths) // (jobs * 4))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
        chunks = pool.map(_process_chunk, [paths[i : i + step] for i in range(0, len(paths), step)], repeat(drafts))
        return [r for chunk in chunks for r in chunk]


def workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


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
    paths: Sequence[Path],
    seeds: Path,
    cache_dir: Path | None,
    drafts: bool = False,
    jobs: int | None = None,
    memo: IngestMemo | None = None,
) -> Ingested:
    """Every seed file's mentions and problems, parsing only what the cache (or `memo`) does not hold."""
    source = (seeds, cache_dir, drafts)
    if memo is not None and memo.source == source:
        store, known = memo.store, memo.results
    else:
        store = SeedCache(cache_dir, seeds, drafts) if cache_dir is not None else None
        known = store.load() if store else {}
    results: dict[str, FileResult] = {}
    todo: list[Path] = []
    for path in paths:
        hit = known.get(str(path))
        if hit is not None and hit.stamp == seed_stamp(path):
            results[hit.path] = hit
        else:
            todo.append(path)
    jobs = jobs or workers()
    if len(todo) < INLINE_BELOW or jobs == 1:
        fresh = _process_chunk(todo, drafts)
    else:
        # One task per cache shard. A worker that parses every file of a shard also writes the shard, so a
        # cold build's cache (53 MB at 10k files) is pickled on every core during the parse, not after it on
        # one; the save below then finds those shards already as they should be.
        shards: dict[int, list[Path]] = {}
        for path in todo:
            shards.setdefault(SeedCache.shard(str(path)), []).append(path)
        cached = {SeedCache.shard(r) for r in results}
        order = sorted(shards)
        files = [store._file(k) if store is not None and k not in cached else None for k in order]
        fresh = []
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
            for k, (part, saved) in zip(
                order,
                pool.map(
                    _process_shard,
                    [shards[k] for k in order],
                    [drafts] * len(order),
                    files,
                    [store.key if store else ""] * len(order),
                ),
                strict=True,
            ):
                fresh += part
                if saved and store is not None:
                    store.loaded[k] = {r.path: r for r in part}
    for result in fresh:
        results[result.path] = result
    ordered = tuple(results[str(p)] for p in paths)
    if store is not None and (fresh or len(known) != len(ordered)):
        store.save({r.path: r for r in ordered})
    if memo is not None:
        memo.source, memo.store, memo.results = source, store, {r.path: r for r in ordered}
    return Ingested(ordered, parsed=len(fresh), cached=len(ordered) - len(fresh))
