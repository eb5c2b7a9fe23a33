"""The pipeline, top to bottom: read → normalize → exclude → cluster → rank → plan → render → write."""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from . import theme
from .cachefile import PLAIN, CacheFiles, Kept, code_fingerprint
from .config import Settings
from .digest import content_digest
from .identity import Register
from .incremental import (
    ClusterCache,
    LastBuild,
    MergeCache,
    PageCache,
    RankCache,
    SeedRecord,
    StoryRegister,
    signatures,
)
from .parallel import Pending, in_background, workers
from .problems import Problem
from .read import Identity, seed_files
from .write import WriteReport, write_site

if TYPE_CHECKING:  # the real imports are heavy, and wait in build() until a build needs them
    from collections.abc import Sequence

    from .cluster import Cluster, StreamState
    from .ingest import FileResult, Ingested, IngestMemo
    from .model import Article, Corpus, Story
    from .normalize import MergeMemo
    from .preview import Shown
    from .rank import Ranking
    from .render import Renderer


class BuildError(Exception):
    """The build stopped; the last good site is untouched."""

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems  # the seed problems behind it, for --strict


@dataclass(frozen=True, slots=True)
class BuildResult:
    files_read: int
    files_rejected: int
    articles: int
    stories: int
    pages: int
    rendered: int  # pages rendered by this build; the others were unchanged and linked
    report: WriteReport | None
    problems: tuple[Problem, ...]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    peaks: dict[str, float] = field(default_factory=dict)  # the process's peak memory (MB) at the end of each stage
    clustered: bool = True  # False: nothing clustering reads had changed, and the last build's clusters served
    parsed: int = 0  # seed files parsed by this build; the others were known from the last one

    def summary(self) -> str:
        wrote = ""
        if self.report is not None:
            wrote = f", {self.report.written} files written, {self.report.unchanged} unchanged, {self.report.removed} removed"
        return (
            f"{self.files_read} files read, {self.files_rejected} rejected, {len(self.problems)} problems, "
            f"{self.articles} articles, {self.stories} stories, {self.pages} pages ({self.rendered} rendered){wrote} in {self.seconds:.2f} s"
        )


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB (0 where the system does not say)."""
    try:
        import resource
    except ImportError:  # not on Unix
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20 if sys.platform == "darwin" else 1 << 10)  # bytes on macOS, KiB elsewhere


@dataclass
class BuildMemo:
    """What a long-running caller (serve) keeps in memory from one build to the next, so a build after a
    small edit neither reads its caches again (the seed files', the stream's, ranking's) nor merges every
    article again. Empty: a build from scratch."""

    ingest: IngestMemo | None = None
    merge: MergeMemo | None = None
    # The merge record as this memo last wrote it, with the folders and drafts setting it is of.
    record: tuple[tuple[Path, Path, bool], MergeCache] | None = None
    # The stream's state with what clustering read to make it (as ClusterCache keeps them), and ranking's
    # rows (RankCache), as the last build left them.
    clusters: tuple[str, StreamState, bytes] | None = None
    ranks: dict[str, Ranking] | None = None
    # What the site on disk shows and what rendered it, for showing an edit before the build (show_edit).
    shown: Shown | None = None
    renderer: Renderer | None = None
    # The story register and the record of the last build, as this process last read or wrote them: read
    # again only when another build wrote them since (0.36 s of every rebuild at 100k stories).
    kept: Kept = field(default_factory=Kept)

    def clear(self) -> None:
        self.ingest = self.merge = self.record = self.clusters = self.ranks = self.shown = self.renderer = None
        self.kept = Kept()


def _ingest(
    settings: Settings,
    names: list[str],
    memo: BuildMemo | None,
    stamps: Mapping[str, tuple[int, int, int, int]] | None = None,
) -> Ingested:
    from .ingest import IngestMemo, ingest

    if memo is not None and (memo.ingest is None or memo.merge is None):
        from .normalize import MergeMemo

        memo.ingest, memo.merge = IngestMemo(), MergeMemo()
    return ingest(
        names,
        settings.seeds,
        settings.cache if settings.use_cache else None,
        drafts=settings.drafts,
        jobs=settings.jobs,
        memo=memo.ingest if memo else None,
        stamps=stamps,
    )


def _read_and_merge(
    settings: Settings,
    names: list[str],
    memo: BuildMemo | None,
    read_done: Callable[[], None],
    stamps: Mapping[str, tuple[int, int, int, int]] | None = None,
) -> tuple[Corpus, tuple[Problem, ...], dict[str, Identity], int]:
    """Read → normalize: the corpus, every seed file's problems, what was read of each file (the next
    build checks its seeds against it) and how many files were parsed. From the last build's record
    (MergeCache), only the files that changed are read and only the articles whose mentions changed are
    merged again; with `memo`, which keeps all of it in memory, likewise (_merge_again); without either,
    everything. `read_done` is called when reading ends; `stamps` are the seed files' stats if this build
    took them already."""
    from .ingest import ingest_changes
    from .normalize import merge, merge_all, merge_changed, moved_keys

    cache = MergeCache(settings.cache, settings.seeds, settings.drafts) if settings.use_cache and memo is None else None
    saved = cache.load() if cache is not None else None
    parsed = 0
    if cache is not None and saved is not None:
        state, files = saved
        known = {path: (f[0], f[1]) for path, f in files.items()}
        changes = ingest_changes(
            names, settings.seeds, settings.cache, known, settings.drafts, settings.jobs or workers(), stamps
        )
        if changes is not None:
            removed = [m for r in changes.before for m in r.mentions]
            added = [m for r in changes.fresh for m in r.mentions]
            keys = moved_keys(removed, added)
            others = changes.mentions_in(
                {k: state.articles[k].sources if k in state.articles else () for k in keys}, known
            )
            read_done()
            parsed = len(changes.fresh)  # and in the cache now, for the reading of everything below if need be
            merged = merge_changed(state, removed, added, others) if others is not None else None
            if merged is not None:
                for path in changes.gone:
                    del files[path]
                files.update(_seed_records(changes.fresh))
                cache.save(merged[1], files, state)
                problems = tuple(sorted(p for f in files.values() for p in f[2]))
                known = {path: (f[0], f[1]) for path, f in files.items()}
                return merged[0], problems, known, parsed
    ingested = _ingest(settings, names, memo, stamps)
    read_done()
    if cache is not None:
        corpus, state = merge_all(ingested.mentions)
        cache.save(state, dict(_seed_records(ingested.results)), None)
    elif memo is not None and memo.merge is not None:
        corpus = _merge_again(settings, memo, ingested)
    else:
        corpus = merge(ingested.mentions)
    seen = {r.path: (r.stamp, r.sha) for r in ingested.results}
    return corpus, tuple(sorted(ingested.problems)), seen, parsed + ingested.parsed


def _seed_records(results: Iterable[FileResult]) -> Iterator[tuple[str, SeedRecord]]:
    """What the merge record keeps of each seed file read (MergeCache): its stat, its bytes' digest, its problems."""
    return ((r.path, (r.stamp, r.sha, r.problems)) for r in results)


def _merge_again(settings: Settings, memo: BuildMemo, ingested: Ingested) -> Corpus:
    """The corpus, merged again from `memo` (normalize.merge_again), and the merge record (MergeCache) kept
    in step with it: a CLI build between or after serve's rebuilds then reads and merges only what changed
    since, not everything (28 s at 100k stories). The record is written whole once, then each rebuild
    writes only the articles it changed."""
    from .normalize import MergeMemo, merge_again

    merged = memo.merge if memo.merge is not None else MergeMemo()
    before = merged.state
    corpus = merge_again(merged, {r.path: r.mentions for r in ingested.results})
    memo.merge = merged
    if settings.use_cache and merged.state is not None:
        where = (settings.cache, settings.seeds, settings.drafts)
        if memo.record is None or memo.record[0] != where:
            memo.record, before = (where, MergeCache(*where)), None
        memo.record[1].save(merged.state, dict(_seed_records(ingested.results)), before)
    return corpus


def _cluster(
    settings: Settings, articles: Sequence[Article], memo: BuildMemo | None = None
) -> tuple[tuple[Cluster, ...], bool, Pending]:
    """The articles' clusters, whether they were clustered now, and the saving of the stream's state for the
    next build, which goes on beside the stages that follow (hundreds of megabytes at 100k stories, over a
    second to pickle and write): the caller waits for it. Clustering is the costliest stage after parsing,
    and an edit that leaves every field it reads alone (new heat, a new body) gives the same clusters: those
    the last build kept in the cache (or in `memo`) are reused."""
    from .cluster import DEFAULT, StreamState, cluster_input, cluster_stream, clusters_of

    params = replace(DEFAULT, window_hours=settings.cluster_window_hours, threshold=settings.cluster_threshold)
    cache = ClusterCache(settings.cache, settings.seeds) if settings.use_cache else None
    saved = memo.clusters if memo is not None and memo.clusters is not None else cache.get() if cache else None
    last = saved[1] if saved is not None and isinstance(saved[1], StreamState) else None
    read, reads = "", b""
    if cache or memo is not None:
        read, reads = cluster_input(articles, last, saved[2] if saved is not None else b"")
        read = f"{params!r} {read}"
    if last is not None and saved is not None and saved[0] == read:
        clusters = clusters_of(last, articles)
        if clusters is not None:
            if memo is not None:
                memo.clusters = (read, last, reads)
            return clusters, False, Pending(None)
    # Otherwise the stream resumes from where the last run's decisions start to differ (cluster.stream).
    clusters, state, _ = cluster_stream(articles, params=params, jobs=settings.jobs or workers(), last=last)
    if memo is not None:
        memo.clusters = (read, state, reads)
    if cache:
        return clusters, True, in_background(lambda: cache.put(read, state, reads))
    return clusters, True, Pending(None)


def _stories(
    settings: Settings, clusters: Sequence[Cluster], memo: BuildMemo | None = None
) -> tuple[tuple[Story, ...], Register, bool, Pending, Mapping[str, str]]:
    """The ranked stories, named as the last published build named them (identity), the register of
    names this build publishes, whether it differs from the last one's (470,000 article keys at 100k
    stories, a second to write: an edited headline leaves it as it was), the saving of what ranking
    keeps for the next build, if it changed (the caller waits for it), and each article's story's slug."""
    from .identity import identify, members
    from .preview import StoryOf
    from .rank import ranked

    last = StoryRegister(settings.cache, settings.seeds, _cache_files(memo)).load()
    held = members(clusters)
    slugs, register = identify(clusters, last, held)
    cache = RankCache(settings.cache, settings.seeds) if settings.use_cache else None
    known = memo.ranks if memo is not None and memo.ranks is not None else cache.get() if cache is not None else {}
    stories, rows = ranked(clusters, slugs, held.where, known)
    if memo is not None:
        memo.ranks = rows
    saving = Pending(None)
    if cache is not None and rows.keys() != known.keys():  # a row is a function of its key: none moved
        saving = in_background(partial(cache.put, rows))
    return stories, register, register != last, saving, StoryOf(held.where, slugs)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic collector off for a build. A build makes millions of small objects that live to its end
    (mentions, articles, pages) and almost no reference cycles, and the collector walked all of them again
    and again (a sixth of a cold build's CPU); the render workers, which make Jinja's few cycles per page,
    collect (see render.render_pages)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            # What the build made goes straight to the oldest generation (freeze, then unfreeze): turned
            # back on, the collector's next young pass would otherwise walk every object the build made, all
            # still alive (half a second after a build at 10k stories).
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def warm(settings: Settings, memo: BuildMemo) -> None:
    """Fill `memo` with what a build reads, merges and plans, without building: serve's first build finds
    nothing to do when the site is up to date, and the first edit would otherwise pay for reading every
    file, and could not be shown ahead of its rebuild (show_edit)."""
    if memo.merge is not None or not settings.seeds.is_dir():
        return
    from .assets import build_assets
    from .exclude import exclude
    from .pages import plan
    from .preview import shown
    from .render import Renderer

    with _collector_paused():
        corpus = _merge_again(settings, memo, _ingest(settings, seed_files(settings.seeds), memo))
        corpus = exclude(corpus, settings.exclude_topics, settings.exclude_outlets)
        # The site on disk was made from these seeds (the build before found nothing to do), and most
        # often from these clusters, which the cache keeps.
        clusters, _, saving = _cluster(settings, corpus.articles, memo)
        stories, register, _, ranking, story_of = _stories(settings, clusters, memo)
        _saved(saving)
        _saved(ranking)
        pages, site = plan(corpus, stories, settings.site, register.redirects)
        memo.shown = shown(pages, site, story_of)
        memo.renderer = Renderer(settings, site, build_assets(theme.static_files(settings)))


def show_edit(settings: Settings, memo: BuildMemo, changed: Sequence[str]) -> tuple[str, ...]:
    """Write at once the pages that show the stories an edit of the seed files `changed` (absolute paths,
    as file events name them) changes, as the last build made them but with the edit in (see preview); the
    files whose bytes changed. The build that follows makes the site exact."""
    from .ingest import read_seed_file
    from .preview import preview
    from .read import seed_name
    from .write import replace_files

    if memo.shown is None or memo.renderer is None or memo.ingest is None or memo.merge is None:
        return ()
    names = [name for path in changed if (name := seed_name(settings.seeds, path))]
    if not names:
        return ()
    edited = [read_seed_file(Path(name), settings.drafts) for name in names]
    shown = preview(memo.shown, memo.merge, memo.ingest.results, edited)
    if not shown:
        return ()
    pages, stories = shown
    memo.renderer.forget(stories)
    return tuple(replace_files(settings.out, [out for page in pages for out in memo.renderer.outputs(page)]))


def build(settings: Settings, write: bool = True, memo: BuildMemo | None = None) -> BuildResult:
    """Build the site described by `settings`; with `write` False, only check the seeds.

    With `memo`, what the last build with it read and merged is reused where unchanged, and the memo is
    updated: the site is the same as without it."""
    background: list[Pending] = []
    with _collector_paused():
        try:
            return _build(settings, write, memo, background)
        finally:
            for pending in background:  # a build that failed leaves no process behind either
                pending.wait()


def _cache_files(memo: BuildMemo | None) -> CacheFiles:
    """How a build reads and writes the cache files it reads whole every build: through the memo's, if any."""
    return memo.kept if memo is not None else PLAIN


def _saved(pending: Pending) -> None:
    """Wait for work `in_background`: it only writes caches, and fails only by a mistake in the code."""
    if not pending.wait():
        raise RuntimeError("a cache of this build could not be written: see the error above")


def _build(settings: Settings, write: bool, memo: BuildMemo | None, background: list[Pending]) -> BuildResult:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    peaks: dict[str, float] = {}

    def lap(stage: str, t0: float) -> float:
        now = time.perf_counter()
        timings[stage] = now - t0
        peaks[stage] = peak_mb()
        return now

    t = time.perf_counter()
    jobs = settings.jobs or workers()
    if not settings.seeds.is_dir():
        raise BuildError(f"{settings.seeds}: no such folder of seed files")
    names = seed_files(settings.seeds)
    last = LastBuild(settings.cache, settings.out, _cache_files(memo)) if settings.use_cache and write else None
    stamp = None
    if last is not None:
        try:
            stamp = content_digest(
                repr(settings),
                code_fingerprint(),
                theme.digest(settings, "templates"),
                theme.digest(settings, "static"),
            )
        except theme.ThemeError as err:
            raise BuildError(str(err)) from None
        previous = last.result_if_unchanged(names, stamp)
        if isinstance(previous, BuildResult) and previous.report is not None:
            # Nothing moved since the last build: say so, and leave every file of the site alone.
            return replace(
                previous,
                report=WriteReport(0, previous.report.total, 0),
                rendered=0,
                seconds=time.perf_counter() - started,
                timings={"unchanged": time.perf_counter() - t},
            )
    # The pipeline's heavy imports (numpy and scipy, Jinja, Markdown) come after the check above, so a build
    # with nothing to do does not pay half a second for them.
    import jinja2

    from .assets import AssetError, build_assets
    from .exclude import exclude
    from .fragments import Fragments
    from .pages import listed, plan
    from .preview import shown
    from .render import Renderer, render_all
    from .search import SearchIndexError

    if memo is not None:
        memo.shown = memo.renderer = None  # until this build has written the site they would show
    read_at = t

    def read_done() -> None:
        nonlocal read_at
        read_at = lap("read", t)

    # The check above stat'ed every seed file when it found the same number of them: reading need not again.
    stats = {name: found[0] for name, found in last.seen.items()} if last is not None and last.seen else None
    corpus, problems, seen, parsed = _read_and_merge(settings, names, memo, read_done, stats)
    # The editor's exclusions, a stage of their own before clustering (see exclude.py); timed with normalize.
    corpus = exclude(corpus, settings.exclude_topics, settings.exclude_outlets)
    t = lap("normalize", read_at)
    rejected = sum(1 for p in problems if p.rejected)
    if settings.strict and problems:
        raise BuildError(f"{len(problems)} problems in the seeds and --strict is set: nothing written", problems)
    clusters, clustered, saving = _cluster(settings, corpus.articles, memo)
    background.append(saving)
    stories, register, register_changed, ranking, story_of = _stories(settings, clusters, memo)
    background.append(ranking)
    t = lap("cluster+rank", t)
    pages, site = plan(corpus, stories, settings.site, register.redirects)
    t = lap("plan", t)
    report = None
    unchanged: set[str] = set()
    stamps: dict[str, tuple[int, int]] | None = None  # every file of the site written, with its stamp
    if write:
        try:
            static = theme.static_files(settings)
            templates = theme.digest(settings, "templates")
        except theme.ThemeError as err:
            raise BuildError(str(err)) from None
        cache = PageCache(settings.cache, settings.out) if settings.use_cache else None
        signed = signatures(
            pages, site, stories, templates, code_fingerprint(), theme.digest(settings, "static"), jobs=jobs
        )
        sigs = signed.pages
        unchanged = {p.path for p, sig in zip(pages, sigs, strict=True) if cache and cache.unchanged(p, sig)}
        keys = signed.keys() if cache is not None else {}
        reuse = cache.reuse(pages, keys) if cache is not None else {}
        t = lap("signatures", t)
        fragments = None
        if cache is not None:
            fragments = Fragments(settings.cache, settings.out, keys)
            fragments.fetch(story.slug for page in pages if page.path not in unchanged for story in listed(page))
        # Rendering streams into the writer, so the site is never whole in memory; an error half-way
        # leaves the staged folder behind, removed by the writer, and the last good site in place.
        try:
            renderer = Renderer(settings, site, build_assets(static), fragments)
            stamps = {}
            report = write_site(
                settings.out,
                render_all(
                    pages,
                    renderer,
                    unchanged=unchanged,
                    jobs=jobs,
                    previous=settings.out,
                    reuse=reuse,
                ),
                stamps,
                last.site if last is not None else None,
            )
        except jinja2.TemplateSyntaxError as err:
            raise BuildError(f"{err.filename or err.name}:{err.lineno}: template error: {err.message}") from None
        except jinja2.TemplateError as err:
            raise BuildError(f"template error: {type(err).__name__}: {err}") from None
        except (AssetError, SearchIndexError) as err:
            raise BuildError(str(err)) from None
        t = lap("render+write", t)
        if cache is not None:  # a record older than the site only costs pages rendered again (_intact)
            background.append(in_background(partial(cache.save, zip(pages, sigs, strict=True), stamps, reuse)))
        if fragments is not None:
            background.append(in_background(fragments.save))
        if register_changed:
            StoryRegister(settings.cache, settings.seeds, _cache_files(memo)).save(
                register
            )  # the URLs the next build keeps
        if memo is not None:
            memo.shown, memo.renderer = shown(pages, site, story_of), renderer
    result = BuildResult(
        files_read=len(names),
        files_rejected=rejected,
        articles=len(corpus.articles),
        stories=len(stories),
        pages=len(pages),
        rendered=len(pages) - len(unchanged) if write else 0,
        report=report,
        problems=problems,
        seconds=time.perf_counter() - started,
        timings=timings,
        peaks=peaks,
        clustered=clustered,
        parsed=parsed,
    )
    if last is not None and stamp is not None:
        last.save(stamp, result, seen, stamps)
    for pending in background:
        _saved(pending)
    return result
