"""Full-text search that runs in the browser: a Pagefind index of the rendered pages, in partitions.

Pagefind's binary ships inside the `pagefind[bin]` wheel; nothing is fetched at run time.
It indexes the rendered HTML in a scratch folder and its bundle (`pagefind/…`) joins the
site's other files before the atomic write, so a failed index never half-replaces a site.
Only story pages and the first page of each topic and provider are indexed: their `<main>`
carries `data-pagefind-body` (the story cards on term pages are `data-pagefind-ignore`).

Pagefind cannot update an index (it has no incremental mode), so the site is indexed in parts and the
search page merges them in the browser (Pagefind's `mergeIndex`): a story page belongs to the month of
its first report (UTC), or to its quarter of that month when the month has more than MONTH_STORIES
stories, every other page to "lists", whose bundle is the primary one at `pagefind/` (with Pagefind's
scripts); each month's is at `pagefind/parts/YYYY-MM/` (a quarter's at `pagefind/parts/YYYY-MM-Q/`).
A partition none of whose pages changed what Pagefind reads of them, and which lost none, is kept as the
last build wrote it; any other is indexed afresh. New stories land in the current month, so a build after new files indexes that
month and the lists, and the closed months are left alone — even when an old story's page changes in a
part Pagefind ignores (its related stories, which move as other stories grow, and its timeline).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .days import utc_month

if TYPE_CHECKING:  # pages imports this module for the partitions' names
    from .pages import Page

BUNDLE = "pagefind"
PARTS = f"{BUNDLE}/parts"
LISTS = "lists"  # the partition of every indexed page that is not a story's
# Each bundle lists the pages it indexed, each with the digest of what Pagefind read of it (indexed_digest),
# so that the next build knows when one of them is gone or reads otherwise, and which unchanged pages it
# need not read again to look for a body.
MANIFEST = "newsstand-pages.txt"
BODY = b"data-pagefind-body"
IGNORE = b"data-pagefind-ignore"
# One start tag, its attributes parsed as HTML does (quoted values may hold '>' and attribute-like text).
_START_TAG = re.compile(
    rb"""<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*(/?)>"""
)
_ATTR_NAME = re.compile(rb"""\s+([^\s"'>/=]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?""")
# A script's text is never indexed (nor can it hold "</script"): only its tag's attributes could matter.
_SCRIPT = re.compile(rb"(<script\b[^>]*>).*?</script\s*>", re.IGNORECASE | re.DOTALL)
_VOID = frozenset(b"area base br col embed hr img input link meta source track wbr".split())
INDEX_FOLDERS = ("index", "fragment", "filter")
ENTRY = "pagefind-entry.json"
# Stories a month's bundle holds before the month is indexed in four parts. Pagefind takes ~2 ms a story page:
# at 100k stories a month holds a thousand, and one edited story in it cost two seconds of indexing; more
# bundles cost the reader's browser a few small files each on the first search.
MONTH_STORIES = 400


@dataclass(frozen=True, slots=True)
class IndexedPage:
    """A page the last build's bundle indexed and that did not change since: its file in the live site, and
    the digest of what Pagefind read of it (indexed_digest), from that bundle's manifest."""

    file: Path
    digest: str


class SearchIndexError(RuntimeError):
    """Pagefind could not index the site."""


def split_months(published: Iterable[datetime]) -> frozenset[str]:
    """The months with more than MONTH_STORIES stories, whose index is made in four parts (see `story_part`)."""
    counts = Counter(map(utc_month, published))
    return frozenset(m for m, n in counts.items() if n > MONTH_STORIES)


def story_part(published: datetime, split: Collection[str]) -> str:
    """The partition of a story first reported at `published`: its month ("2020-06"), or, in a month of
    `split`, its quarter of that month: the days 1-7, 8-14, 15-21 and 22 on ("2020-06-1" to "2020-06-4")."""
    part = utc_month(published)
    if part not in split:
        return part
    return f"{part}-{min((published.astimezone(UTC).day - 1) // 7, 3) + 1}"


def partition(page: Page, split: Collection[str]) -> str:
    """The partition a page's search entry belongs to; `split`: the site's split_months."""
    return story_part(page.context["story"].published, split) if page.kind == "story" else LISTS


def bundle_path(part: str) -> str:
    """The folder of a partition's bundle, relative to the site root."""
    return f"{BUNDLE}/" if part == LISTS else f"{PARTS}/{part}/"


def merged_bundles(published: Iterable[datetime]) -> tuple[str, ...]:
    """The bundles the search page merges into the primary one: one per month (or quarter of a month) that
    has a story, in order."""
    moments = list(published)
    split = split_months(moments)
    return tuple(bundle_path(part) for part in sorted({story_part(moment, split) for moment in moments}))


def indexed_digest(data: bytes) -> str:
    """A digest of what Pagefind reads of a page: its bytes without the elements marked
    `data-pagefind-ignore` and without the text of its scripts (the structured data in the head lists a
    page's stories). Two pages with the same digest give the same index entry, whatever the left-out parts
    say. Conservative where unsure: an ignored element that holds Pagefind attributes (filters, metadata
    and sort keys inside it are still read) or that cannot be matched to its end tag is kept."""
    data = _SCRIPT.sub(lambda m: m.group(1), data)
    kept, pos, at = [], 0, data.find(IGNORE)
    while at != -1:
        start = data.rfind(b"<", 0, at)
        tag = _START_TAG.match(data, start) if start >= pos else None
        end = _element_end(data, tag) if tag and tag.end() > at and _names_ignore(tag.group(2)) else None
        if tag is not None and end is not None and b"data-pagefind-" not in data[tag.end() : end]:
            kept.append(data[pos:start])
            pos = end
        at = data.find(IGNORE, max(at + 1, pos))
    kept.append(data[pos:])
    digest = hashlib.blake2b(digest_size=16)
    for part in kept:
        digest.update(part)
    return digest.hexdigest()


def _names_ignore(attributes: bytes) -> bool:
    return any(name.lower() == IGNORE for name in _ATTR_NAME.findall(attributes))


def _element_end(data: bytes, tag: re.Match[bytes]) -> int | None:
    """Where the element `tag` opens ends (after its end tag), or None if it cannot be told."""
    name = tag.group(1).lower()
    if name in _VOID or tag.group(3):
        return tag.end()
    depth = 1
    for m in re.compile(rb"<(/?)" + re.escape(name) + rb"(?=[\s/>])[^>]*>", re.IGNORECASE).finditer(data, tag.end()):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return m.end()
    return None


def search_files(
    outputs: Iterable[tuple[str, bytes | IndexedPage]], language: str = "en", bundle: str = f"{BUNDLE}/"
) -> list[tuple[str, bytes]]:
    """The Pagefind bundle at `bundle` for the HTML among `outputs` that marks a body to index, as
    (path, bytes), with its manifest; a bundle other than the primary one holds only what merging needs.
    A page given as `IndexedPage` is a file the last bundle indexed, unchanged: linked, not read and written again."""
    scratch = _scratch()
    _sweep(scratch or tempfile.gettempdir())
    with tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=scratch) as tmp:
        site = Path(tmp) / "site"
        indexed = {}
        for path, data in outputs:
            # Only pages that mark a body to index are given to Pagefind: the rest would be parsed for nothing.
            if not path.endswith(".html") or (isinstance(data, bytes) and BODY not in data):
                continue
            target = site / PurePosixPath(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, IndexedPage):
                try:  # Pagefind reads through a link to a file as through the file
                    target.symlink_to(data.file)
                except OSError:  # a system without them
                    target.write_bytes(data.file.read_bytes())
                indexed[path] = data.digest
            else:
                target.write_bytes(data)
                indexed[path] = indexed_digest(data)
        site.mkdir(exist_ok=True)
        cmd = [
            *pagefind_command(),
            "--site",
            str(site),
            "--output-subdir",
            bundle.rstrip("/"),
            "--force-language",
            language.split("-")[0],
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise SearchIndexError(f"pagefind could not run: {err}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise SearchIndexError("pagefind failed: " + " | ".join(tail))
        out = site / PurePosixPath(bundle)
        files = []
        for p in sorted(out.rglob("*")):
            name = p.relative_to(out).as_posix()
            if p.is_file() and (bundle == f"{BUNDLE}/" or _merged_needs(name)):
                files.append((bundle + name, p.read_bytes()))
    manifest = "".join(f"{path}\t{indexed[path]}\n" for path in sorted(indexed)).encode("utf-8")
    return sorted([*files, (bundle + MANIFEST, manifest)])


SCRATCH_FREE = 512 << 20  # bytes /dev/shm must have free to be used: a container's is often 64 MB in all
SCRATCH_PREFIX = "newsstand-search-"  # then the pid of the build that made the folder


@cache
def _scratch() -> str | None:
    """Where Pagefind's input and output live for the second it runs: in memory (/dev/shm) where the system
    has room there and TMPDIR does not say otherwise. On a disk, making a folder and a file for each page and
    reading the bundle back cost as much as Pagefind itself (0.17 s for a month of 100 pages)."""
    shm = "/dev/shm"
    if "TMPDIR" in os.environ or not os.path.isdir(shm) or not os.access(shm, os.W_OK | os.X_OK):
        return None
    try:
        room = os.statvfs(shm)
    except OSError:
        return None
    return shm if room.f_bavail * room.f_frsize >= SCRATCH_FREE else None


@cache
def _sweep(folder: str) -> None:
    """Remove the scratch folders left by builds killed while Pagefind ran (in /dev/shm, each would hold a
    month of pages in memory until the machine restarts): those whose build's process is gone."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        pid = name.removeprefix(SCRATCH_PREFIX).partition("-")[0]
        if name.startswith(SCRATCH_PREFIX) and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # another user's process (PermissionError), a pid the system cannot have
        return True
    return True


@cache
def pagefind_command() -> tuple[str, ...]:
    """The command that runs Pagefind: its binary, found as its own Python wrapper finds it, but without
    starting Python to exec it (a tenth of a second each run; a build runs one per partition it indexes)."""
    if path := os.environ.get("PAGEFIND_BINARY_PATH"):
        return (path,)
    try:
        from pagefind_bin import get_executable

        return (str(get_executable().absolute()),)
    except (ImportError, OSError):  # another install of Pagefind: its wrapper knows where it is
        return (sys.executable, "-m", "pagefind")


def _merged_needs(name: str) -> bool:
    """Whether a merged bundle needs this file of its own: Pagefind's `mergeIndex` runs the primary
    bundle's scripts and WebAssembly over the merged bundle's index (six files of ~600 kB spared a month)."""
    return name == ENTRY or name.endswith(".pf_meta") or name.split("/")[0] in INDEX_FOLDERS


def _indexed_before(previous: Path, bundle: str) -> dict[str, str] | None:
    """The pages the last build's bundle at `bundle` indexed, each with its indexed_digest ("" where the
    manifest does not say), or None if it has none (or no manifest)."""
    try:
        text = (previous / bundle / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return {path: digest for path, _, digest in (line.partition("\t") for line in text.splitlines())}


def _old_files(previous: Path, bundle: str) -> list[str]:
    """Every file of the last build's bundle at `bundle` (not those of the bundles below it)."""
    root = previous / bundle
    found = []
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(previous).as_posix() + "/"
        if rel == f"{BUNDLE}/":
            dirs[:] = [d for d in dirs if f"{rel}{d}" != PARTS]
        found += [rel + name for name in files]
    return sorted(found)


def _version(entry: bytes | Path) -> str | None:
    """The Pagefind version a bundle was made by, from its entry file (or None: the bundle is not whole)."""
    try:
        version = json.loads(entry.read_bytes() if isinstance(entry, Path) else entry).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


def search_bundles(
    pages: Mapping[str, Sequence[tuple[str, bytes | None]]],
    language: str,
    previous: Path | None,
    jobs: int = 1,
    lists: Callable[[], Sequence[tuple[str, bytes | None]]] | None = None,
) -> Iterator[tuple[str, bytes | None]]:
    """Every partition's bundle, as (path, bytes), or (path, None) for a file kept from the `previous` site.

    `pages` holds each partition's HTML pages, a page that did not change since the last build coming as
    (path, None): its bytes are in `previous`. The lists partition always has a bundle (the search page
    loads Pagefind's scripts from it), each month one when it has pages. Partitions are indexed by
    independent runs of Pagefind, `jobs` at a time. `lists`, if given, gives the lists partition's pages
    instead of `pages`, when they are rendered: the months are indexed meanwhile (a build renders the
    story pages first, then the lists).
    """

    def old(path: str) -> bytes:
        if previous is None:
            raise ValueError("unchanged pages need the previous site to be indexed")
        return (previous / path).read_bytes()

    def known(path: str, before: Mapping[str, str] | None) -> bytes | IndexedPage:
        digest = before.get(path) if before is not None else None
        if previous is None or not digest:
            return old(path)
        return IndexedPage((previous / path).absolute(), digest)

    kept: dict[str, list[str]] = {}

    def stale(
        parts: Mapping[str, Sequence[tuple[str, bytes | None]]],
    ) -> dict[str, list[tuple[str, bytes | IndexedPage]]]:
        """The partitions of `parts` to index again, with what Pagefind reads; the others go to `kept`."""
        fresh: dict[str, list[tuple[str, bytes | IndexedPage]]] = {}
        for part, files in parts.items():
            bundle = bundle_path(part)
            before = _indexed_before(previous, bundle) if previous is not None else None
            # Kept: the last build indexed it, Pagefind would read each of its pages as it did then, and none
            # of those it indexed is gone. An unchanged page reads as it did; a changed one may too, when what
            # changed is in a part Pagefind ignores.
            if before is not None and all(before.get(path) for path in before):
                now = {}
                for path, data in files:
                    if data is None:
                        if path in before:
                            now[path] = before[path]
                    elif BODY in data:
                        now[path] = indexed_digest(data)
                if now == before:
                    assert previous is not None
                    kept[part] = _old_files(previous, bundle)
                    continue
            # An unchanged page has the bytes it had: if the last bundle did not index it, it has no body; if
            # it did, with a digest, Pagefind reads it where it is.
            fresh[part] = [
                (path, data if data is not None else known(path, before))
                for path, data in files
                if data is not None or before is None or path in before
            ]
        return fresh

    if lists is None:
        parts = {LISTS: (), **pages}
        made = _index(stale(parts), language, jobs)
    else:
        months = {part: files for part, files in pages.items() if part != LISTS}
        made = _index(stale(months), language, jobs)
        parts = {LISTS: lists(), **months}
        made |= _index(stale({LISTS: parts[LISTS]}), language, jobs)
    # A bundle kept from another version of Pagefind would not merge with the new ones: index it again.
    versions = {_version(data) for files in made.values() for path, data in files if path.endswith("/" + ENTRY)}
    if len(versions) == 1 and previous is not None:
        (version,) = versions
        outdated = [part for part in kept if _version(previous / bundle_path(part) / ENTRY) != version]
        made |= _index({part: [(p, old(p)) for p, _ in parts[part]] for part in outdated}, language, jobs)
    for part in sorted(parts, key=lambda p: (p != LISTS, p)):
        if part in made:
            yield from made[part]
        else:
            yield from ((path, None) for path in kept[part])


def _index(
    parts: Mapping[str, Sequence[tuple[str, bytes | IndexedPage]]], language: str, jobs: int
) -> dict[str, list[tuple[str, bytes]]]:
    """A new bundle for each partition; Pagefind runs in its own process, so threads run them side by side."""
    if jobs <= 1 or len(parts) <= 1:
        return {part: search_files(files, language, bundle_path(part)) for part, files in parts.items()}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {part: pool.submit(search_files, files, language, bundle_path(part)) for part, files in parts.items()}
        return {part: future.result() for part, future in futures.items()}
