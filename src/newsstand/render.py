"""Pages → bytes: the Jinja environment, its filters, the one rule for links between pages,
and every file of the site that is not a page (feeds, sitemap, robots.txt, _headers, assets, search)."""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import posixpath
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from importlib.resources.abc import Traversable
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from markupsafe import Markup

from . import days as day_helpers
from . import pages as plan_helpers
from .assets import Assets, build_assets, headers_file, redirects_file
from .cachefile import code_fingerprint
from .config import Settings, SiteSettings
from .countries import countries, generic_count
from .coverage import coverage_groups, opinion_label
from .feeds import atom, atom_entry, json_feed
from .fragments import Fragments
from .images import shown_image
from .metadata import crumbs, json_ld, social
from .model import Story
from .pages import OUTPUT_FORMATS, Page, Site, output_paths
from .parallel import with_room
from .search import LISTS, partition, search_bundles, split_months
from .sitemap import robots_txt, sitemap_files
from .summary import sparkline
from .theme import layers
from .timeline import timeline
from .write import Content, Reuse, Span

# Pages: below this a second process costs more than it saves. A cron tick of 50 stories at 10k renders
# ~300 pages: over two processes 1.69 -> 1.62 s (paired runs; 400 before), and at 100k neither its time nor
# its peak memory moved; an edit's ~50 pages gain nothing from a fork.
PARALLEL_FROM = 200
DATA_STORIES = 256  # stories per piece of a streamed data file
_SCORE, _ARTICLES = b',"score":', b',"articles":'  # around a story's score in stories.json (pages.story_data)


def relative_url(from_url: str, to_url: str, pretty: bool) -> str:
    """A link from the page at `from_url` to `to_url`, both relative to the site root.

    Links are relative so the site works under any sub-path and from the file system;
    without a base URL (`pretty` False) directory links name their `index.html`, because
    a browser opening files does not look for one.
    """
    if not pretty and (to_url == "" or to_url.endswith("/")):
        to_url += "index.html"
    from_dir = from_url if from_url == "" or from_url.endswith("/") else posixpath.dirname(from_url) + "/"
    if from_dir in ("", "/"):
        return to_url or "./"
    return "../" * (from_dir.rstrip("/").count("/") + 1) + to_url


def json_text(data: Any) -> str:
    """JSON safe to serve and to embed in a <script>: '<' never appears raw, so no '</script>' or '<!--'."""
    # Compact separators keep json on its C encoder (indent forces the pure-Python one).
    return (
        json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


# Where a card's links start: a page's way to the site root replaces it. Seed text never holds a NUL
# (normalize keeps printable characters only; URLs are percent-encoded), so it marks nothing else.
_ROOT = "\x00"
_CARD_PAGE = Page("", "card", "_macros.html", "", "", {})


class TemplateFolder(jinja2.BaseLoader):
    """Templates from one folder of the theme, on disk or inside the installed package (which may be a zip)."""

    def __init__(self, folder: Traversable) -> None:
        self.folder = folder

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        entry = self.folder
        for part in jinja2.loaders.split_template_path(template):  # refuses '..' and the like
            entry = entry / part
        if not entry.is_file():
            raise jinja2.TemplateNotFound(template)
        # Named by its path, so that a template error says which layer's file it is in. A renderer lives
        # for one build, so a template never needs loading again.
        return entry.read_text(encoding="utf-8"), str(entry), lambda: True


class CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Templates compiled by an earlier build, kept in the build cache: Jinja otherwise compiles every
    template a build renders with again in each process (a tenth of a second a build, and each rebuild of
    `serve`). Jinja checks each file against its template's source; the file names carry the code's
    fingerprint, as the environment's options are in the code. A file that cannot be read or written
    costs a compile, never the build."""

    def __init__(self, folder: Path) -> None:
        tag = code_fingerprint()[:16]
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():  # what other versions of the code compiled
            if not old.name.endswith(f".{tag}.cache"):
                old.unlink(missing_ok=True)
        super().__init__(str(folder), f"%s.{tag}.cache")

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # damaged: compiled again, and written again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def compiled_templates(settings: Settings) -> jinja2.BytecodeCache | None:
    """The store of compiled templates in the build cache, or None without one (or when it cannot be made)."""
    if not settings.use_cache:
        return None
    try:
        return CompiledTemplates(settings.cache / "templates")
    except OSError:
        return None


def template_loader(settings: Settings) -> jinja2.BaseLoader:
    """Each template from the first layer of the theme that has it (see theme.py)."""
    return jinja2.ChoiceLoader([TemplateFolder(folder) for folder in layers(settings, "templates")])


class Renderer:
    def __init__(
        self, settings: Settings, site: Site, assets: Assets | None = None, fragments: Fragments | None = None
    ) -> None:
        self.settings = site.settings  # what pages show; the rest of `settings` says where the theme is
        self.site = site
        self.assets = assets or build_assets({})
        # A story's card and feed entry are the same on every page, so made once a build (by slug), and kept
        # from the last builds when `fragments` holds them.
        self._cards: dict[str, str] = {}  # links from _ROOT
        self._entries: dict[str, str] = {}
        self.fragments = fragments
        self.env = jinja2.Environment(
            loader=template_loader(settings),
            bytecode_cache=compiled_templates(settings),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        zone = self.settings.zone
        # A story's time shows on its page, and its lead's on the page of every story that links to it.
        local = functools.lru_cache(maxsize=1 << 16)(lambda d: d.astimezone(zone))
        self.env.filters.update(
            date=functools.lru_cache(maxsize=1 << 16)(lambda d, fmt="%-d %B %Y, %H:%M": local(d).strftime(fmt)),
            isodate=functools.lru_cache(maxsize=1 << 16)(lambda d: local(d).isoformat()),
            json=lambda v: Markup(json_text(v)),
        )
        self.env.globals.update(
            site=site,
            settings=self.settings,
            url=self._url,
            absolute_url=self._absolute,
            asset=self._asset,
            feed_links=self._feed_links,
            social_tags=self._social,
            json_ld=self._json_ld,
            crumbs=lambda page: crumbs(page, self.settings),
            story_card=self._story_card,
            story_url=plan_helpers.story_url,
            topic_url=plan_helpers.topic_url,
            provider_url=plan_helpers.provider_url,
            story_topics=plan_helpers.story_topics,
            story_providers=plan_helpers.story_providers,
            more_coverage=plan_helpers.more_coverage,
            # The reader's views of a story and of a list, made in Python (see each module), drawn by the theme.
            shown_image=shown_image,
            coverage_groups=coverage_groups,
            opinion_label=opinion_label,
            countries=countries,
            generic_count=generic_count,
            sparkline=sparkline,
            timeline=lambda story: timeline(story, zone, lambda d: site.providers[d].name),
            day_url=day_helpers.day_url,
            day_title=day_helpers.day_title,
            story_day=lambda story: day_helpers.story_day(story, zone),
            group_by_day=lambda stories, reference: day_helpers.group_by_day(stories, zone, reference),
            time_zone=self.settings.timezone,
        )

    def link(self, page: Page, target: str) -> str:
        """The one rule for a link from `page` to `target` (a URL relative to the site root)."""
        if page is _CARD_PAGE:
            return _ROOT + relative_url("", target, pretty=bool(self.settings.base_url))
        if page.kind == "notfound":
            # 404.html is served for missing paths at any depth: only absolute or root-relative links work
            # there. Without a base URL, root-relative links assume the site is at the domain's root.
            return self._absolute(target) if self.settings.base_url else "/" + target
        return relative_url(page.url, target, pretty=bool(self.settings.base_url))

    def root(self, page: Page) -> str:
        """What every link from `page` starts with: its way to the site root ("", "../../", the base URL)."""
        return self.link(page, "x")[:-1]  # a target with no trailing slash, so `link` adds nothing after it

    def forget(self, slugs: Iterable[str]) -> None:
        """Drop the cards of stories that changed since they were rendered (serve's preview of an edit)."""
        slugs = tuple(slugs)
        for slug in slugs:
            self._cards.pop(slug, None)
            self._entries.pop(slug, None)
        if self.fragments is not None:
            self.fragments.forget(slugs)

    @jinja2.pass_context
    def _story_card(self, ctx: jinja2.runtime.Context, story: Any) -> Markup:
        """A story's card on a list page. The same card stands on the front page and on its topics' and
        outlets' pages, at several depths, so it is rendered once, its links starting from a marker that
        each page replaces with its own way to the site root."""

        def make() -> str:
            macros = ctx.environment.get_template("_macros.html").make_module(
                vars={**ctx.get_all(), "page": _CARD_PAGE}
            )
            return str(macros.story_card(story))  # type: ignore[attr-defined]  # a macro

        card = self._piece("card", story.slug, self._cards, make)
        return Markup(card.replace(_ROOT, self.root(ctx["page"])))

    def _atom_entry(self, story: Story) -> str:
        return self._piece("entry", story.slug, self._entries, lambda: atom_entry(story, self.site, self._absolute))

    def _piece(self, kind: str, slug: str, made: dict[str, str], make: Callable[[], str]) -> str:
        """A story's card or feed entry: made once a build (`made`, by slug), and taken from the fragments
        the last builds kept when they hold it."""
        piece = made.get(slug)
        if piece is None and self.fragments is not None:
            piece = self.fragments.get(kind, slug)
        if piece is None:
            piece = make()
            if self.fragments is not None:
                self.fragments.put(kind, slug, piece)
        made[slug] = piece
        return piece

    @jinja2.pass_context
    def _url(self, ctx: jinja2.runtime.Context, target: str) -> str:
        return self.link(ctx["page"], target)

    def _absolute(self, target: str) -> str:
        """The full URL of a page, for canonical links and feeds; relative when no base URL is set."""
        return self.settings.base_url + target if self.settings.base_url else target

    @jinja2.pass_context
    def _asset(self, ctx: jinja2.runtime.Context, name: str) -> str:
        """The link to a theme asset, by its name under static/: fingerprinted, so cached for ever."""
        return self.link(ctx["page"], self.assets.path(name))

    @jinja2.pass_context
    def _feed_links(self, ctx: jinja2.runtime.Context) -> list[tuple[str, str, str]]:
        """(media type, href, title) of the feeds this page advertises with <link rel="alternate">."""
        page: Page = ctx["page"]
        title = page.context["term"].name if page.kind == "term" else self.settings.title
        return [
            (OUTPUT_FORMATS[fmt][1], self._absolute(url), f"{title} ({'Atom' if fmt == 'atom' else 'JSON Feed'})")
            for fmt, url in page.feeds
        ]

    @jinja2.pass_context
    def _social(self, ctx: jinja2.runtime.Context) -> list[tuple[str, str, str]]:
        return social(ctx["page"], self.site, self.settings, self._absolute if self.settings.base_url else None)

    @jinja2.pass_context
    def _json_ld(self, ctx: jinja2.runtime.Context) -> list[dict[str, Any]]:
        page: Page = ctx["page"]
        link = self._absolute if self.settings.base_url else (lambda target: self.link(page, target))
        return json_ld(page, self.site, self.settings, link)

    def data(self, page: Page, reuse: Reuse | None = None) -> Iterator[bytes | Span]:
        """`stories.json`, a few hundred stories at a time: at 100k stories the text is 150 MB, and the
        records as Python objects several times that; this way neither is ever whole in memory.

        A story whose text the live site's file already holds (`reuse`) is copied from there, not made
        again, but for its score: scores are measured from the newest report, so a story that did not move
        still gets a new score whenever newer reports come in."""
        stories = page.context["stories"]
        made = reuse.made if reuse is not None else {}
        at = 0  # bytes so far: where each story's text lands, for the next build's `reuse`
        fresh: list[bytes] = []  # made here, not yet handed on: written in runs, not story by story

        def emit(text: bytes) -> None:
            nonlocal at
            fresh.append(text)
            at += len(text)

        def taken() -> bytes:
            run = b"".join(fresh)
            fresh.clear()
            return run

        emit(b'{"stories":[')
        for i, story in enumerate(stories):
            if i:
                emit(b",")
            key = reuse.keys.get(story.slug) if reuse is not None else None
            spans = reuse.old.get(key) if reuse is not None and key is not None else None
            start = at
            if spans is not None:
                head, tail = spans
                yield taken()
                yield head
                at += head.stop - head.start
                score_at = at
                emit(json_text(story.score).encode())
                score_end = at
                yield taken()
                yield tail
                at += tail.stop - tail.start
            else:
                text = json_text(plan_helpers.story_data(story, self.site)).encode("utf-8")
                emit(text)
                if key is not None:
                    # Every '"' inside a JSON string is escaped: this is the record's own key, not a title's.
                    score_at = start + text.index(_SCORE) + len(_SCORE)
                    score_end = start + text.index(_ARTICLES, score_at - start)
            if key is not None:
                made[key] = (start, score_at, score_end, at)
            if len(fresh) >= 2 * DATA_STORIES:
                yield taken()
        emit(b"]}\n")
        yield taken()

    def render(self, page: Page) -> bytes:
        if page.kind == "data":
            pieces = list(self.data(page))  # no `reuse`: every piece is made here, as bytes
            return b"".join(p for p in pieces if isinstance(p, bytes))
        template = self.env.get_template(page.template)
        return template.render(page=page, **page.context).encode("utf-8")

    def outputs(self, page: Page) -> Iterator[tuple[str, bytes]]:
        """Every output format of one page: its HTML (or data), then its feeds."""
        yield page.path, self.render(page)
        for fmt in page.outputs:
            if fmt == "atom":
                yield page.output_url(fmt), atom(page, self.site, self.settings, self._absolute, self._atom_entry)
            elif fmt == "jsonfeed":
                yield page.output_url(fmt), json_feed(page, self.site, self.settings, self._absolute)


def sitemap_entries(pages: Iterable[Page], settings: SiteSettings) -> list[tuple[str, Any]]:
    """Every HTML page a search engine should know, with its last change."""
    return [
        (settings.base_url + p.url, p.updated)
        for p in pages
        if p.kind not in ("data", "notfound", "search", "redirect")
    ]


_FORKED: tuple[Renderer, Sequence[Page]] | None = None  # what forked render workers inherit
CHUNK = 64  # pages per task: small enough that memory stays bounded, large enough to amortize the round trip


Chunk = tuple[list[tuple[str, bytes]], dict[tuple[str, str], str]]  # a chunk's files, and the fragments it made


def _render_chunk(start: int, stop: int) -> Chunk:
    """A forked worker's share: its files, and the fragments it made, for the build to keep."""
    assert _FORKED is not None
    renderer, pages = _FORKED
    files = [out for page in pages[start:stop] for out in renderer.outputs(page)]
    return files, renderer.fragments.take() if renderer.fragments is not None else {}


def render_pages(renderer: Renderer, pages: Sequence[Page], jobs: int) -> Iterator[tuple[str, bytes]]:
    """Render `pages` in order, over this process and `jobs - 1` forked ones when there are enough pages to
    pay for them and the memory has room for their copies (parallel.with_room).

    A generator: files flow to the writer as chunks are done, so the site is never whole in memory. This
    process renders its share between writes rather than only waiting: a forked worker holds its own copy
    of every memory page it touches (reference counts are writes), so each worker spared is one copy fewer
    of most of the build's data, at no cost in time."""
    global _FORKED
    if jobs > 1 and len(pages) >= PARALLEL_FROM:
        jobs = 1 + with_room(jobs - 1)
    if jobs <= 1 or len(pages) < PARALLEL_FROM:
        for page in pages:
            yield from renderer.outputs(page)
        return
    _FORKED = (renderer, pages)  # inherited through fork: nothing large is pickled on the way in
    # The build pauses the collector (see build._collector_paused); the renderers collect, Jinja leaving a few cycles
    # per page, but what the workers inherit is frozen: never walked, so neither time spent on it nor
    # copy-on-write of every inherited memory page just to mark its objects.
    gc.freeze()
    collecting = gc.isenabled()
    gc.enable()
    try:
        chunks = [(i, min(i + CHUNK, len(pages))) for i in range(0, len(pages), CHUNK)]
        # Chunk k is this process's when k % jobs == 0, a worker's otherwise.
        theirs = iter([c for k, c in enumerate(chunks) if k % jobs])
        with ProcessPoolExecutor(max_workers=jobs - 1, mp_context=get_context("fork"), initializer=gc.enable) as pool:
            # A few chunks ahead of the writer, not all of them (as pool.map would): when the writer falls
            # behind, finished pages wait in the workers' queue, not by the hundred megabytes in this process.
            ahead: deque[Future[Chunk]] = deque(pool.submit(_render_chunk, *c) for c in islice(theirs, 2 * jobs))
            for k, chunk in enumerate(chunks):
                if k % jobs == 0:
                    for page in pages[chunk[0] : chunk[1]]:
                        yield from renderer.outputs(page)
                    continue
                part, made = ahead.popleft().result()
                if (c := next(theirs, None)) is not None:
                    ahead.append(pool.submit(_render_chunk, *c))
                if renderer.fragments is not None:  # to be saved by this process
                    renderer.fragments.add(made)
                yield from part
    finally:
        if not collecting:
            gc.disable()
        gc.unfreeze()
        _FORKED = None


def render_all(
    pages: Iterable[Page],
    renderer: Renderer,
    unchanged: Collection[str] = frozenset(),
    jobs: int = 1,
    previous: Path | None = None,
    reuse: Mapping[str, Reuse] | None = None,
) -> Iterator[tuple[str, Content]]:
    """Every file of the site, as a stream: the pages rendered, then the unchanged ones, then the site-wide
    files, then the search index.

    Pages whose path is in `unchanged` are not rendered: their files come out as (path, None),
    to be linked from the `previous` site by the writer. Data files come as streams of pieces that
    this process makes while the writer writes them, taking from their last version what `reuse` (by
    page path) says it still holds (see `Renderer.data`). The search index is made by Pagefind, in processes
    of its own: the story pages are rendered first, and the months' bundles are made while the lists render;
    the lists' bundle, if it changed, once they are rendered, while the writer links the unchanged pages (a
    stat or two and a link each, 77,000 files at 100k stories: seconds that Pagefind used to wait for).
    """
    pages = tuple(pages)
    settings, assets = renderer.settings, renderer.assets
    order = (*(p for p in pages if p.kind == "story"), *(p for p in pages if p.kind != "story"))
    rendered = render_pages(renderer, [p for p in order if p.path not in unchanged and p.kind != "data"], jobs)
    indexed: dict[str, list[tuple[str, bytes | None]]] = {}  # by partition, the pages search may index
    split = split_months(s.published for s in renderer.site.stories.values()) if settings.search else frozenset()
    streamed: list[tuple[str, Content]] = []
    kept: list[str] = []  # the unchanged pages' files, for the writer to link
    lists: Future[list[tuple[str, bytes | None]]] = Future()
    with ThreadPoolExecutor(max_workers=1) as pool:
        index = None
        try:
            for page in order:
                if settings.search and index is None and page.kind != "story":
                    # Every story page is in, so every month's pages are known (a generator: it runs in the pool).
                    months = search_bundles(dict(indexed), settings.language, previous, jobs, lists=lists.result)
                    index = pool.submit(list, months)
                if page.path in unchanged:
                    files: list[tuple[str, bytes | None]] = [(path, None) for path in output_paths(page)]
                    kept.extend(path for path, _ in files)
                elif page.kind == "data":
                    streamed.append((page.path, renderer.data(page, (reuse or {}).get(page.path))))
                    continue
                else:
                    files = [next(rendered) for _ in output_paths(page)]
                    yield from files
                if settings.search:  # only pages that mark a body to index (unchanged ones are read back if needed)
                    indexed.setdefault(partition(page, split), []).extend(
                        (path, data)
                        for path, data in files
                        if path.endswith(".html") and (data is None or b"data-pagefind-body" in data)
                    )
            if settings.search and index is None:  # story pages alone
                index = pool.submit(list, search_bundles(indexed, settings.language, previous, jobs))
            lists.set_result(indexed.get(LISTS, []))
        finally:
            if not lists.done():  # rendering failed or the writer stopped: the search gives up too
                lists.set_exception(RuntimeError("the lists were not rendered"))
        # Pagefind reads unchanged pages from the previous site, which the writer leaves alone until the end.
        yield from ((path, None) for path in kept)
        yield from streamed
        if settings.base_url:
            yield from sitemap_files(sitemap_entries(pages, settings), settings.base_url)
        yield ("robots.txt", robots_txt(settings.base_url))
        yield ("_headers", headers_file(settings.base_url))
        yield ("_redirects", redirects_file(renderer.site.redirects, settings.base_url))
        yield from assets.files
        if index is not None:
            yield from index.result()
