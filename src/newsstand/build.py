"""The pipeline, top to bottom: read → normalize → cluster → rank → plan → render → write."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .assets import AssetError
from .cluster import cluster
from .config import Settings
from .ingest import ingest
from .normalize import merge
from .pages import plan
from .problems import Problem
from .rank import rank
from .read import seed_paths
from .render import render_all
from .search import SearchIndexError
from .write import WriteReport, write_site


class BuildError(Exception):
    """The build stopped; the last good site is untouched."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    files_read: int
    files_rejected: int
    articles: int
    stories: int
    pages: int
    report: WriteReport | None
    problems: tuple[Problem, ...]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        wrote = ""
        if self.report is not None:
            wrote = f", {self.report.written} files written, {self.report.unchanged} unchanged, {self.report.removed} removed"
        return (
            f"{self.files_read} files read, {self.files_rejected} rejected, {len(self.problems)} problems, "
            f"{self.articles} articles, {self.stories} stories, {self.pages} pages{wrote} in {self.seconds:.2f} s"
        )


def read_static(folder: Path) -> dict[str, bytes]:
    """The theme's assets, by path relative to `folder`."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def build(settings: Settings, write: bool = True) -> BuildResult:
    """Build the site described by `settings`; with `write` False, only check the seeds."""
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(stage: str, t0: float) -> float:
        now = time.perf_counter()
        timings[stage] = now - t0
        return now

    t = time.perf_counter()
    if not settings.seeds.is_dir():
        raise BuildError(f"{settings.seeds}: no such folder of seed files")
    paths = seed_paths(settings.seeds)
    ingested = ingest(paths, settings.seeds, settings.cache if settings.use_cache else None, drafts=settings.drafts, jobs=settings.jobs)
    t = lap("read", t)
    corpus = merge(ingested.mentions)
    t = lap("normalize", t)
    problems = tuple(sorted(ingested.problems))
    rejected = sum(1 for p in problems if p.rejected)
    if settings.strict and problems:
        raise BuildError(f"{len(problems)} problems in the seeds and --strict is set: nothing written")
    stories = rank(cluster(corpus.articles))
    t = lap("cluster+rank", t)
    pages, site = plan(corpus, stories, settings)
    t = lap("plan", t)
    report = None
    if write:
        if not settings.templates.is_dir():
            raise BuildError(f"{settings.templates}: no such folder of templates")
        try:
            outputs = list(render_all(pages, settings, site, read_static(settings.static)))
        except jinja2.TemplateSyntaxError as err:
            raise BuildError(f"{err.filename or err.name}:{err.lineno}: template error: {err.message}") from None
        except jinja2.TemplateError as err:
            raise BuildError(f"template error: {type(err).__name__}: {err}") from None
        except (AssetError, SearchIndexError) as err:
            raise BuildError(str(err)) from None
        t = lap("render", t)
        report = write_site(settings.out, outputs)
        t = lap("write", t)
    return BuildResult(
        files_read=len(paths), files_rejected=rejected, articles=len(corpus.articles), stories=len(stories),
        pages=len(pages), report=report, problems=problems, seconds=time.perf_counter() - started, timings=timings,
    )
