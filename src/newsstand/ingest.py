"""Seed files → each file's mentions and problems: through a persistent cache, over every core.

Parsing YAML is the floor of a cold build, so an unchanged file is never parsed twice: its
result is kept in `.newsstand-cache/`, keyed by the file's identity on disk and checked
against a checksum and the code's own fingerprint. A cache that is corrupt, stale or from
other code is thrown away and rebuilt, never trusted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from . import cachefile
from .model import compact_pickle
from .normalize import Mention, file_mentions
from .problems import Problem
from .read import read_bytes, seed_from_bytes

INLINE_BELOW = 200  # files: under this, a process pool costs more than it saves


@compact_pickle
@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    stamp: tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode: any edit changes one
    mentions: tuple[Mention, ...]
    problems: tuple[Problem, ...]


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


def _stamp(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _process(path: Path, drafts: bool) -> FileResult:
    stamp = _stamp(path) or (0, 0, 0, 0)
    name = str(path)
    try:
        data = read_bytes(path)
    except OSError as err:
        problem = Problem(name, message=f"cannot read: {err.strerror or err}", rejected=True)
        return FileResult(name, (0, 0, 0, 0), (), (problem,))
    record, problem = seed_from_bytes(name, data)
    if record is None:
        return FileResult(name, stamp, (), (problem,) if problem else ())
    mentions, problems = file_mentions(record, drafts)
    return FileResult(name, stamp, tuple(mentions), tuple(problems))


def _process_chunk(paths: Sequence[Path], drafts: bool) -> list[FileResult]:
    return [_process(p, drafts) for p in paths]


class SeedCache:
    """The on-disk cache of per-file results; `.newsstand-cache/` is safe to delete at any time."""

    KEEP = 8  # cache files of other seed folders kept beside this one

    def __init__(self, folder: Path, seeds: Path, drafts: bool) -> None:
        # One file per seed folder, so building a test folder does not evict the real one.
        self.path = folder / cachefile.name_for("seeds", seeds)
        self.key = f"{cachefile.code_fingerprint()} drafts={drafts}"

    def load(self) -> dict[str, FileResult]:
        results = cachefile.load(self.path, self.key)
        return results if isinstance(results, dict) else {}

    def save(self, results: dict[str, FileResult]) -> None:
        cachefile.save(self.path, self.key, results)
        try:
            others = sorted(self.path.parent.glob("seeds-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
            for stale in others[self.KEEP :]:
                stale.unlink(missing_ok=True)
        except OSError:
            pass


def workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def ingest(paths: Sequence[Path], seeds: Path, cache_dir: Path | None, drafts: bool = False,
           jobs: int | None = None) -> Ingested:
    """Every seed file's mentions and problems, parsing only what the cache does not hold."""
    store = SeedCache(cache_dir, seeds, drafts) if cache_dir is not None else None
    known = store.load() if store else {}
    results: dict[str, FileResult] = {}
    todo: list[Path] = []
    for path in paths:
        hit = known.get(str(path))
        if hit is not None and hit.stamp == _stamp(path):
            results[hit.path] = hit
        else:
            todo.append(path)
    jobs = jobs or workers()
    if len(todo) < INLINE_BELOW or jobs == 1:
        fresh = _process_chunk(todo, drafts)
    else:
        size = max(16, len(todo) // (jobs * 8))
        chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
            fresh = [r for part in pool.map(_process_chunk, chunks, [drafts] * len(chunks)) for r in part]
    for result in fresh:
        results[result.path] = result
    ordered = tuple(results[str(p)] for p in paths)
    if store is not None and (fresh or len(known) != len(results)):
        store.save({r.path: r for r in ordered})
    return Ingested(ordered, parsed=len(fresh), cached=len(ordered) - len(fresh))
