"""What a build keeps from the last one: which pages must be rendered again, the last clusters, and
whether anything moved at all.

A page's signature names every input it was made from: a digest of the page itself (URL, kind, template,
title, pager position, feeds), of what it shows of each story (the coverage of those it lists, with the
outlets and topics they name; the title and lead of those it links to), and of the site-wide inputs
(settings, templates, theme assets, code). When a page's signature is the one recorded at the last build and
its files are still in the site as they were written, it is not rendered again: `write` links the old files.
List pages and feeds carry the stories they show, so a story that changes re-renders every list it appears
on, and a list whose order moved re-renders too (Jekyll's incremental mode misses exactly these).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from operator import attrgetter, itemgetter
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from . import cachefile
from .days import utc_month
from .digest import bytes_digest, content_digest
from .identity import Register
from .model import (
    Article,
    ArticleColumns,
    Provider,
    Story,
    Topic,
    article_columns,
    compact_pickle,
    from_article_columns,
)
from .pages import ArchivePager, Page, Pager, Site, Teaser, output_paths, story_providers, story_topics
from .parallel import split_map
from .problems import Problem
from .read import Identity, read_bytes, seed_stamp
from .summary import Summary
from .write import Reuse, Span

if TYPE_CHECKING:  # normalize imports Markdown: not for a build with nothing to do
    from .normalize import MergeState

CACHE_KEY = "pages 4"
Stamp = tuple[int, int]  # size, mtime_ns of a written file


def story_digest(story: Story, site: Site, terms: Terms | None = None) -> str:
    """What a list page or feed can show of a story: its coverage, with its outlets and topics as the site
    names them (names and slugs are voted over the whole corpus, so they move without the story moving).
    The score is left out (pages show the order, not the number), and so are the related stories: only the
    story's own page shows them, from its context (pages.Teaser). `terms`: the site's, made once a build."""
    terms = Terms(site) if terms is None else terms
    # Hex digests and a slug joined by separators none of them holds, hashed once: pickling the same as
    # nested tuples cost twice as much. A story ranking made stands for its articles by the digest of its
    # coverage, from which its order follows; one made by hand, by theirs.
    parts = [story.slug]
    if story.coverage:
        parts += (_ENTRY, story.coverage)
    else:
        for entry in story.entries:
            parts.append(_ENTRY)
            parts.extend(a.digest or content_digest(a) for a in entry.articles)
    parts.append(_TERMS)
    parts.extend(map(terms.providers.__getitem__, story_providers(story)))
    parts.append(_TERMS)
    parts.extend(map(terms.topics.__getitem__, story_topics(story)))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


_ENTRY, _TERMS = "\x1e", "\x1d"  # where an entry's articles and a story's outlets and topics start


class Terms:
    """The site's outlets and topics as signatures see them, worked out once a build (thousands of stories
    and pages name the same few hundred): each one's fields, as its digest stands for them."""

    def __init__(self, site: Site) -> None:
        self._by_id: dict[int, tuple[str, str]] = {}
        self.providers = {domain: self.of(p)[1] for domain, p in site.providers.items()}
        self.topics = {slug: self.of(t)[1] for slug, t in site.topics.items()}

    def of(self, value: Provider | Topic) -> tuple[str, str]:
        found = self._by_id.get(id(value))
        if found is None:
            found = self._by_id[id(value)] = (type(value).__name__, content_digest(value))
        return found


def site_digest(site: Site, *inputs: str) -> str:
    """Everything every page may depend on besides what it shows of stories, outlets and topics. The
    outlets and topics a page names come with its stories (`story_digest`) or its context (term and
    taxonomy pages): a new outlet in one story file must not re-render every page."""
    return content_digest(repr(site.settings), inputs)


def _stand_in(value: Any, digests: Mapping[str, str], terms: Terms) -> Any:
    """`value` with each story replaced by its digest (see `signatures`), each outlet and topic by its own,
    and each moment by its text, so that a page's context pickles small and fast: a list page holds twenty
    whole stories, and a moment pickles its time zone again each time (a quarter of signing a page)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    made = _STAND_INS.get(kind)
    if made is not None:
        return made(value, digests, terms)
    if (kind is tuple or kind is list) and value:
        first = type(value[0])
        if first in _STAND_INS and first not in _MOMENTS:
            return _items(value, digests, terms)
        if first is tuple and value[0] and type(value[0][0]) in (Provider, Topic):
            return tuple((terms.of(row[0]), *row[1:]) for row in value)  # a taxonomy's rows: (term, count)
    return value


def _moment(value: datetime | date | None) -> Any:
    """A moment as a signature holds it: its type and its text (offset included)."""
    return value if value is None else (type(value).__name__, value.isoformat())


def _items(items: Sequence[Any], digests: Mapping[str, str], terms: Terms) -> tuple[Any, ...]:
    if set(map(type, items)) <= _STORY:  # most lists: without a call of Python per story (50,000 pages at 100k)
        return tuple(map(digests.__getitem__, map(_SLUG, items)))
    return tuple(_stand_in(v, digests, terms) for v in items)


_STORY, _SLUG = {Story}, attrgetter("slug")
_PLAIN = frozenset({str, int, float, bool, type(None)})
_MOMENTS = frozenset({datetime, date})
_STAND_INS: dict[type, Any] = {
    Story: lambda v, d, t: d[v.slug],
    Provider: lambda v, d, t: t.of(v),
    Topic: lambda v, d, t: t.of(v),
    Teaser: lambda v, d, t: ("teaser", v.slug, v.title, v.lead.digest or content_digest(v.lead), t.of(v.provider)),
    Pager: lambda v, d, t: ("pager", v.number, v.total, v.base, v.first_index, _items(v.items, d, t)),
    ArchivePager: lambda v, d, t: ("archive", v.number, v.newest, v.base, _items(v.items, d, t)),
    Summary: lambda v, d, t: (
        "summary",
        v.stories,
        v.articles,
        _moment(v.first),
        _moment(v.last),
        _moment(v.start),
        v.counts,
    ),
    Site: lambda v, d, t: "site",
    datetime: lambda v, d, t: _moment(v),
    date: lambda v, d, t: _moment(v),
}


def page_signature(page: Page, site_key: str, digests: Mapping[str, str], terms: Terms) -> str:
    context = sorted((k, _stand_in(v, digests, terms)) for k, v in page.context.items())
    return content_digest(
        site_key,
        page.url,
        page.kind,
        page.template,
        page.title,
        page.description,
        page.outputs,
        _moment(page.updated),
        page.feeds,
        context,
    )


@compact_pickle  # one per page, loaded and saved every build
@dataclass(frozen=True, slots=True)
class Record:
    signature: str
    files: tuple[tuple[str, Stamp], ...]  # each output file and how it was left on disk
    # A data page's: where its file holds each story's text, by the story's key (see PageCache.reuse).
    pieces: Mapping[str, tuple[int, int, int, int]] | None = None


def _stamp(path: str) -> Stamp | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


class PageCache:
    """The signatures of the last build's pages, beside the seed cache in `.newsstand-cache/`."""

    def __init__(self, folder: Path, out: Path) -> None:
        self.path = folder / cachefile.name_for("pages", out)
        self.out = out
        records = cachefile.load(self.path, CACHE_KEY)
        self.records: dict[str, Record] = records if isinstance(records, dict) else {}

    def unchanged(self, page: Page, signature: str) -> bool:
        """Whether the site still holds exactly what this page rendered to last time."""
        record = self.records.get(page.path)
        if record is None or record.signature != signature:
            return False
        return self._intact(record)

    def _intact(self, record: Record) -> bool:
        return all(_stamp(f"{self.out}/{path}") == stamp for path, stamp in record.files)

    def reuse(self, pages: Sequence[Page], keys: Mapping[str, str]) -> dict[str, Reuse]:
        """What each data page can copy from its file in the live site (write.Reuse): a story's text there
        is still right, but for its score, when the story's key (`Signed.keys`) is the one recorded with that
        text, so a story that did not move keeps its bytes, and the file is not made again story by story."""
        data = [page for page in pages if page.kind == "data"]
        if not data:
            return {}
        found: dict[str, Reuse] = {}
        for page in data:
            record = self.records.get(page.path)
            old: dict[str, tuple[Span, Span]] = {}
            if record is not None and record.pieces and self._intact(record):
                stamp = dict(record.files)[page.path]
                old = {key: (Span(a, b, stamp), Span(c, d, stamp)) for key, (a, b, c, d) in record.pieces.items()}
            found[page.path] = Reuse(keys, old, {})
        return found

    def save(
        self,
        pages: Iterable[tuple[Page, str]],
        stamps: Mapping[str, Stamp] | None = None,
        reused: Mapping[str, Reuse] | None = None,
    ) -> None:
        """Record each page's signature and its files as written (called after the site is in place), with
        the `stamps` the writer gave them (write.write_site), or as a stat finds them; and where each data
        page's file holds each story (`reused`: what rendering it filled in; a page not rendered again
        keeps what the last record said)."""
        records: dict[str, Record] = {}
        stamps = stamps or {}
        reused = reused or {}
        for page, signature in pages:
            files = tuple(
                (p, s) for p in output_paths(page) if (s := stamps.get(p) or _stamp(f"{self.out}/{p}")) is not None
            )
            pieces = None
            if page.kind == "data":
                last = self.records.get(page.path)
                made = reused[page.path].made if page.path in reused else None
                pieces = made or (last.pieces if last is not None and last.signature == signature else None)
            records[page.path] = Record(signature, files, pieces)
        cachefile.save(self.path, CACHE_KEY, records)


@dataclass(frozen=True, slots=True)
class Signed:
    """Each page's signature, in the pages' order, and two of the digests they are made of: the site-wide
    inputs' (`site`) and each story's (`stories`, by slug; see `story_digest`)."""

    pages: list[str]
    site: str
    stories: dict[str, str]

    def keys(self) -> dict[str, str]:
        """Each story's key, by slug: a digest of all a list page, a feed or stories.json shows of the story
        but its score, and of the site-wide inputs. What a build made of a story under a key is what the
        story makes now (see fragments and PageCache.reuse)."""
        return {slug: content_digest(self.site, digest) for slug, digest in self.stories.items()}


SIGN_FROM = 5000  # stories or pages per process: below this a forked one costs more than it saves


def signatures(pages: Sequence[Page], site: Site, stories: Sequence[Story], *inputs: str, jobs: int = 1) -> Signed:
    """Every page's signature, over `jobs` processes (parallel.split_map: digests are small to send back)."""
    terms = Terms(site)
    own = dict(
        zip(
            (s.slug for s in stories),
            split_map(lambda s: story_digest(s, site, terms), stories, jobs, SIGN_FROM),
            strict=True,
        )
    )
    key = site_digest(site, *inputs)
    return Signed(split_map(lambda p: page_signature(p, key, own, terms), pages, jobs, SIGN_FROM), key, own)


def seed_identities(seed_files: Sequence[str], known: Mapping[str, Identity]) -> dict[str, Identity] | None:
    """Each seed file's stat identity and the digest of its bytes: the digest `known` holds for a file whose
    stat is as it was, else its bytes read again (a file rewritten with the same bytes is the same input);
    None when a file went away meanwhile."""
    found: dict[str, Identity] = {}
    for path in seed_files:
        stamp = seed_stamp(path)
        if stamp is None:
            return None
        was = known.get(path)
        if was is not None and was[0] == stamp:
            found[path] = was
            continue
        try:
            found[path] = (stamp, bytes_digest(read_bytes(Path(path))))
        except OSError:
            return None
    return found


def site_manifest(out: Path, written: Mapping[str, Stamp] | None = None) -> dict[str, Stamp]:
    """Every file of the site (not below a linked folder) with its stamp, and every folder ("x/", the
    site itself as "") with (-1, its mtime): a folder's mtime moves whenever an entry is added to it,
    removed or renamed, so `site_unchanged` need not list a folder to know its entries are the same.

    `written`: the site is exactly these files with these stamps, as the writer just left it (it holds no
    other file nor an empty folder: write.write_site), and only the folders are stat'ed."""
    if written is not None and out.is_dir():
        folders = {f"{path.rpartition('/')[0]}/" for path in written if "/" in path}
        for folder in list(folders):  # and each one's parents, which may hold no file of their own
            while (folder := f"{folder[:-1].rpartition('/')[0]}/") != "/" and folder not in folders:
                folders.add(folder)
        found = {"": (-1, os.stat(out).st_mtime_ns)}
        for folder in sorted(folders):
            found[folder] = (-1, os.stat(f"{out}/{folder}").st_mtime_ns)
        found.update(written)
        return found
    manifest: dict[str, Stamp] = {}

    def walk(folder: str, prefix: str) -> None:
        manifest[prefix] = (-1, os.stat(folder).st_mtime_ns)
        with os.scandir(folder) as entries:
            for entry in entries:
                try:
                    if entry.is_dir():
                        if not entry.is_symlink():
                            walk(entry.path, f"{prefix}{entry.name}/")
                        continue
                    st = entry.stat()
                except OSError:
                    continue
                manifest[prefix + entry.name] = (st.st_size, st.st_mtime_ns)

    if out.is_dir():
        walk(str(out), "")
    return manifest


def site_unchanged(out: Path, manifest: dict[str, Stamp]) -> bool:
    """Whether the site still holds exactly the manifest's files and folders, as they were: one stat each
    (a walk of a 10k-story site opens 5,000 folders; the build with nothing to do was half that)."""
    root = f"{out}/"
    for name, (size, mtime) in manifest.items():
        try:
            st = os.stat(root + name)
        except OSError:
            return False
        if st.st_mtime_ns != mtime or (st.st_size != size if size >= 0 else not stat.S_ISDIR(st.st_mode)):
            return False
    return bool(manifest)


class ClusterCache:
    """The state the last build's stream left (cluster.StreamState), which holds its clusters and is where
    the next run resumes from, with the digest of what clustering read to make it and each article's part
    of that digest (cluster.cluster_input), so that the next build reads again only the articles that
    changed."""

    def __init__(self, folder: Path, seeds: Path) -> None:
        self.path = folder / cachefile.name_for("clusters", seeds)
        self.key = f"{CACHE_KEY} {cachefile.code_fingerprint()}"  # the clustering's code and constants

    def get(self) -> tuple[str, Any, bytes] | None:
        """(digest, stream state, parts of the digest) of the last build, if there is a trustworthy one. The
        state holds the clusters too (cluster.clusters_of)."""
        saved = cachefile.load(self.path, self.key)
        ok = isinstance(saved, tuple) and len(saved) == 3 and isinstance(saved[0], str) and isinstance(saved[2], bytes)
        return saved if ok else None

    def put(self, digest: str, state: Any, reads: bytes) -> None:
        cachefile.save(self.path, self.key, (digest, state, reads))


class RankCache:
    """What ranking worked out of each story's coverage (rank.Ranking), by the coverage's digest: the next
    build works it out again only for the stories whose coverage changed (rank.ranked)."""

    def __init__(self, folder: Path, seeds: Path) -> None:
        self.path = folder / cachefile.name_for("ranks", seeds)
        self.key = f"{CACHE_KEY} {cachefile.code_fingerprint()}"  # the ranking's code and constants

    def get(self) -> dict[str, Any]:
        saved = cachefile.load(self.path, self.key)
        return saved if isinstance(saved, dict) else {}

    def put(self, rows: Mapping[str, Any]) -> None:
        cachefile.save(self.path, self.key, dict(rows))


SeedRecord = tuple[tuple[int, int, int, int], str, tuple[Problem, ...]]  # what a build read of a seed file: its
# stat (read.seed_stamp), its bytes' digest, its problems


_BY_KEY = itemgetter(0)  # a (key, value) pair by its key


class MergeCache:
    """The last build's merge (normalize.MergeState) and what it read of each seed file, so that the next
    build reads and merges only the files that changed (ingest.ingest_changes, normalize.merge_changed).

    An SQLite database (cachefile.Database). The articles are kept by the month they were published, a
    pickle each; the articles a build changes go to a table of their own (`changed`: each one's newest
    version, or nothing for one deleted, and the month whose pickle holds an older one), so a build writes
    the articles it changed, not their months. A cron tick's new files name old articles all over the
    archive as related: at 100k stories it rewrote most months, ~400 MB. When that table holds more than
    a fiftieth of the articles, the months it touches are written again and it is emptied. The record of
    each seed file is a row too. One transaction a build: a build killed mid-way leaves the last one's
    record whole. Safe to delete: the next build reads every file."""

    TABLES = MappingProxyType(
        {
            "months": "month TEXT PRIMARY KEY, sum BLOB, data BLOB",
            "changed": "key TEXT PRIMARY KEY, was TEXT, sum BLOB, data BLOB",
            # A file's stamp and digest as they are, its problems (if any) pickled: a wrong stamp or digest
            # only has the file read again.
            "files": "path TEXT PRIMARY KEY, size INT, mtime INT, ctime INT, inode INT, sha TEXT, sum BLOB, data BLOB",
            "tally": "name TEXT PRIMARY KEY, sum BLOB, data BLOB",
        }
    )
    FOLD = 50  # the changed articles' table is folded into the months when it holds over 1/FOLD of them

    def __init__(self, folder: Path, seeds: Path, drafts: bool) -> None:
        self.path = folder / f"{Path(cachefile.name_for('merge', seeds)).stem}.sqlite"
        self.db = cachefile.Database(
            self.path, f"{CACHE_KEY} {cachefile.code_fingerprint()} drafts={drafts}", self.TABLES
        )
        # As loaded, and kept by save: each month's articles as they are now; the changed articles (each
        # with the month whose pickle holds an older version, or None); the months whose pickle is older
        # than their articles; the seed files' records.
        self.months: dict[str, dict[str, Article]] = {}
        self.was: dict[str, str | None] = {}
        self.stale: set[str] = set()
        self.files: dict[str, SeedRecord] = {}
        self.generation = -1  # of the record as loaded: another build's save in between makes save write all

    def load(self) -> tuple[MergeState, dict[str, SeedRecord]] | None:
        """The last build's merge and its record of each seed file; None when there is no whole one."""
        from .normalize import MergeState

        def read(db: sqlite3.Connection) -> tuple[MergeState, dict[str, SeedRecord]] | None:
            db.execute("BEGIN")  # one snapshot for every table, whatever another build writes meanwhile
            generation = _generation(db)
            tally = [cachefile.unpack(digest, data) for digest, data in db.execute("SELECT sum, data FROM tally")]
            if not tally:
                return None
            files: dict[str, SeedRecord] = {
                path: ((size, mtime, ctime, inode), sha, cachefile.unpack(digest, data) if data is not None else ())
                for path, size, mtime, ctime, inode, sha, digest, data in db.execute("SELECT * FROM files")
            }
            months = {
                m: _month_articles(cachefile.unpack(digest, data))
                for m, digest, data in db.execute("SELECT * FROM months")
            }
            was: dict[str, str | None] = {}
            stale: set[str] = set()
            for key, old, digest, data in db.execute("SELECT * FROM changed"):
                article = cachefile.unpack(digest, data) if data is not None else None
                was[key] = old
                if old is not None:
                    months[old].pop(key, None)
                    stale.add(old)
                if article is not None:
                    month = _month(article)
                    months.setdefault(month, {})[key] = article
                    stale.add(month)
            # Every article by key, in key order: the months' (key, article) pairs sorted once, one dict made.
            everything = dict(sorted(chain.from_iterable(part.items() for part in months.values()), key=_BY_KEY))
            self.months, self.was, self.stale, self.files = months, was, stale, files
            self.generation = generation
            return MergeState(everything, tally[0]), dict(files)

        try:
            return self.db.run(read, None)
        except (ValueError, KeyError, AttributeError, TypeError):  # a row that is not what was written
            return None

    def save(self, state: MergeState, files: Mapping[str, SeedRecord], before: MergeState | None) -> None:
        """Record `state`, made from `before` (the state `load` gave; None: from nothing)."""
        full = before is None or state.changed is None
        if full:
            months: dict[str, dict[str, Article]] = {}
            for key, article in state.articles.items():
                months.setdefault(_month(article), {})[key] = article
            self.months, self.was, self.stale, self.files = months, {}, set(months), {}
        rows: list[tuple[str, str | None, bytes | None, bytes | None]] = []
        for key in sorted(state.changed or ()):
            old, new = (before.articles.get(key) if before else None), state.articles.get(key)
            if old is not None:
                self.months.get(_month(old), {}).pop(key, None)
            if new is not None:
                self.months.setdefault(_month(new), {})[key] = new
            was = self.was[key] if key in self.was else (_month(old) if old is not None else None)
            self.was[key] = was
            rows.append((key, was, *cachefile.pack(new)) if new is not None else (key, was, None, None))
        fold = len(self.was) * self.FOLD > len(state.articles)
        if fold:
            self.stale |= {m for m in self.was.values() if m is not None}
            self.stale |= {_month(state.articles[k]) for k in self.was if k in state.articles}

        def write(db: sqlite3.Connection) -> bool:
            """Whether the record was written whole."""
            db.execute("BEGIN IMMEDIATE")  # the write lock first: no other save between the check and the writes
            generation = _generation(db)
            # Not the record this build loaded (none, or another build saved since): all of it from `state`.
            whole = full or generation != self.generation
            if whole:
                for name in self.TABLES:
                    db.execute(f"DELETE FROM {name}")
            if whole or fold:
                for month in sorted(self.months if whole else self.stale):
                    part = self.months.get(month)
                    if part:
                        packed = cachefile.pack(article_columns(list(part.values())))
                        db.execute("INSERT OR REPLACE INTO months VALUES (?, ?, ?)", (month, *packed))
                    else:
                        db.execute("DELETE FROM months WHERE month = ?", (month,))
                db.execute("DELETE FROM changed")
            else:
                db.executemany("INSERT OR REPLACE INTO changed VALUES (?, ?, ?, ?)", rows)
            was = {} if whole else self.files
            db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (path, *stamp, sha, *(cachefile.pack(problems) if problems else (None, None)))
                    for path, (stamp, sha, problems) in files.items()
                    if was.get(path) != (stamp, sha, problems)
                ),
            )
            db.executemany("DELETE FROM files WHERE path = ?", [(path,) for path in was if path not in files])
            db.execute("INSERT OR REPLACE INTO tally VALUES ('tally', ?, ?)", cachefile.pack(state.tally))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(generation + 1),))
            self.generation = generation + 1
            return whole

        if self.db.run(write, False) or fold:
            self.was, self.stale = {}, set()
        self.files = dict(files)
        with contextlib.suppress(OSError):  # the folder of months of earlier versions
            legacy = self.path.with_suffix("")
            if legacy.is_dir():
                shutil.rmtree(legacy, ignore_errors=True)


def _generation(db: sqlite3.Connection) -> int:
    """How many times the merge record was saved (-1: never)."""
    row = db.execute("SELECT value FROM meta WHERE name = 'generation'").fetchone()
    return int(row[0]) if row is not None else -1


def _month_articles(saved: ArticleColumns) -> dict[str, Article]:
    """A month's articles by key, from the columns its row holds (model.article_columns: an article loads in
    a third of the time it takes pickled whole)."""
    articles = from_article_columns(saved)
    return dict(zip(map(_KEY, articles), articles, strict=True))


_KEY = attrgetter("key")


def _month(article: Article) -> str:
    return utc_month(article.published)


class LastBuild:
    """The last successful build's inputs, result and output files: when none of them moved, there is
    nothing to do, and the build says so without parsing a seed or touching the site. The seed files are
    known by their bytes: one rewritten with the same bytes (a touch, a checkout, a copy) changes nothing."""

    def __init__(self, folder: Path, out: Path, store: cachefile.CacheFiles = cachefile.PLAIN) -> None:
        self.path = folder / cachefile.name_for("last-build", out)
        self.out = out
        self.store = store  # serve's keeps the record from one build to the next (cachefile.Kept)
        self.seen: dict[str, Identity] | None = None  # each seed file as the check found it, if it looked
        self.site: tuple[str, ...] | None = None  # every file of the site the last build left, if recorded

    def result_if_unchanged(self, seed_files: Sequence[str], parts: str) -> Any | None:
        """The last build's result if these seed files (by their bytes), these `parts` (the digest of the
        settings, code and theme) and the site on disk are what it had and left; else None."""
        saved = self.store.load(self.path, CACHE_KEY)
        if not isinstance(saved, tuple) or len(saved) != 4:
            return None
        saved_parts, result, manifest, files = saved
        if isinstance(manifest, dict):
            self.site = tuple(path for path in manifest if path and not path.endswith("/"))
        if saved_parts != parts or not isinstance(files, dict) or len(files) != len(seed_files):
            return None
        now = self.seen = seed_identities(seed_files, files)
        if now is None or any(files.get(path, ("", ""))[1] != sha for path, (_, sha) in now.items()):
            return None
        if not isinstance(manifest, dict) or not site_unchanged(self.out, manifest):
            return None
        if now != files:  # the same bytes under new stamps: remembered, so the next check only stats them
            self.store.save(self.path, CACHE_KEY, (parts, result, manifest, now))
        return result

    def save(
        self, parts: str, result: Any, files: Mapping[str, Identity], written: Mapping[str, Stamp] | None = None
    ) -> None:
        """Record a build of the seed `files` (each one's identity as it was read) and the site it left
        (`written`: every file of it, with its stamp, as the writer left it; see site_manifest)."""
        self.store.save(self.path, CACHE_KEY, (parts, result, site_manifest(self.out, written), dict(files)))


class StoryRegister:
    """The stories' slugs and redirects (identity.Register) the last build of these seeds published. Not a
    cache: it is the record of the site's URLs, so a build without caches reads it too, and it is keyed by
    its format alone, to survive a new version of the code. Deleted, the next build names its stories
    afresh from their first reports' titles."""

    KEY = "stories 1"

    def __init__(self, folder: Path, seeds: Path, store: cachefile.CacheFiles = cachefile.PLAIN) -> None:
        self.path = folder / cachefile.name_for("stories", seeds)
        self.store = store  # serve's keeps the register from one build to the next (cachefile.Kept)

    def load(self) -> Register:
        saved = self.store.load(self.path, self.KEY)
        if not (isinstance(saved, tuple) and len(saved) == 2 and all(isinstance(m, dict) for m in saved)):
            return Register()
        return Register(MappingProxyType(saved[0]), MappingProxyType(saved[1]))

    def save(self, register: Register) -> None:
        self.store.save(self.path, self.KEY, (dict(register.stories), dict(register.moved)))
