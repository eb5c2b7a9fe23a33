"""The two forms of everything under `.newsstand-cache/`: a checksummed pickle written atomically, for what
a build reads and writes whole (streamed into and out of its file; `Kept` holds what serve read or wrote of
them from one rebuild to the next); and an SQLite database of checksummed pickles (`Database`), for what a
build reads and writes a little of at a time.

A cache that is missing, truncated, corrupt or written by other code loads as nothing, so the caller
rebuilds what it held: a cache can cost time, never correctness.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sqlite3
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

T = TypeVar("T")

MAGIC = b"newsstand-cache 1"


def load(path: Path, key: str) -> Any | None:
    """The object saved under `key` at `path`, or None when there is no trustworthy one."""
    try:
        with path.open("rb") as f:
            # The checksum first, over the file read a piece at a time, then the pickle read from the file:
            # never the file whole in memory beside what it unpickles to (a cluster state at 100k stories
            # is 390 MB).
            if f.readline() != MAGIC + b"\n":
                return None
            digest = f.readline().rstrip(b"\n")
            start = f.tell()
            if hashlib.file_digest(f, "sha256").hexdigest().encode() != digest:
                return None
            f.seek(start)
            saved_key, value = pickle.load(f)
    except Exception:  # unreadable in any way: not trusted
        return None
    return value if saved_key == key else None


class _Hashed:
    """A file that the pickler writes to, hashing what goes in on the way."""

    def __init__(self, out: BinaryIO) -> None:
        self.out, self.hash = out, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return self.out.write(data)


def save(path: Path, key: str, value: Any) -> bool:
    """Write `value` under `key`; False when it could not be written (which only costs time later)."""
    return _save(path, key, value) is not None


# A file's device, inode, size, modification and change times: each save writes a new file, and renames it.
Identity = tuple[int, int, int, int, int]


def _save(path: Path, key: str, value: Any) -> Identity | None:
    """`save`, giving the identity of the file written (None: not written)."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as out:
            # The pickle streams into the file, with a stand-in for its checksum until it is known: never
            # the pickle whole in memory (saving a cluster state at 100k stories took 418 MB more than the
            # state, in the background process that was the moment of an edit's peak).
            out.write(MAGIC + b"\n" + b"0" * _DIGEST_LENGTH + b"\n")
            hashed = _Hashed(out)
            pickle.dump((key, value), hashed, protocol=pickle.HIGHEST_PROTOCOL)
            out.seek(len(MAGIC) + 1)
            out.write(hashed.hash.hexdigest().encode())
            out.flush()
            written = os.fstat(out.fileno())
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):  # a disk that filled half-way: no half-written file left behind
            tmp.unlink(missing_ok=True)
        return None
    # The file at `path` now, if it is still the one written (no other save renamed over it meanwhile): its
    # change time is the rename's.
    now = _identity(path)
    return now if now is not None and now[:4] == _identity_of(written)[:4] else _GONE


_GONE: Identity = (-1, -1, -1, -1, -1)  # written, but replaced since: no identity to keep


def _identity_of(st: os.stat_result) -> Identity:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _identity(path: Path) -> Identity | None:
    try:
        return _identity_of(os.stat(path))
    except OSError:
        return None


class CacheFiles:
    """Cache files read and written as they are (`load`, `save`): a build's, once each."""

    def load(self, path: Path, key: str) -> Any | None:
        return load(path, key)

    def save(self, path: Path, key: str, value: Any) -> bool:
        return save(path, key, value)


PLAIN = CacheFiles()


@dataclass
class Kept(CacheFiles):
    """Cache files, with what this process last read from or wrote to each one, kept with the file's
    identity (device, inode, size, modification and change times): a long-running caller (serve) reads a
    file again only when another process (a cron build) wrote it since. A save writes a new file, renamed
    over the old one, so a file whose identity is the one kept holds the value kept. The values are shared
    between builds: never changed in place."""

    _kept: dict[Path, tuple[Identity, str, Any]] = field(default_factory=dict)

    def load(self, path: Path, key: str) -> Any | None:
        before = _identity(path)
        kept = self._kept.get(path)
        if kept is not None and before is not None and kept[0] == before and kept[1] == key:
            return kept[2]
        value = load(path, key)
        # Kept only if the file read is the one stat'ed before (none renamed over it meanwhile).
        if value is not None and before is not None and _identity(path) == before:
            self._kept[path] = (before, key, value)
        else:
            self._kept.pop(path, None)
        return value

    def save(self, path: Path, key: str, value: Any) -> bool:
        written = _save(path, key, value)
        if written is not None and written != _GONE:
            self._kept[path] = (written, key, value)
        else:
            self._kept.pop(path, None)
        return written is not None


_DIGEST_LENGTH = 64  # a sha256 in hex


def pack(value: Any) -> tuple[bytes, bytes]:
    """A value as a database row's checksum and pickle."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return hashlib.sha256(data).digest(), data


def unpack(digest: object, data: object) -> Any:
    """The value of a row that `pack` made; ValueError if its checksum or pickle is wrong."""
    if not isinstance(data, bytes) or hashlib.sha256(data).digest() != digest:
        raise ValueError("a cache row that is not what was written")
    try:
        return pickle.loads(data)
    except Exception as err:  # a pickle that checks out but does not load: other code's classes
        raise ValueError(f"a cache row that does not load: {err}") from None


class Database:
    """An SQLite database under `.newsstand-cache/` (Python's own sqlite3, WAL journal).

    The rules of a cache file hold: made if missing, emptied when other code wrote it (`key`), deleted and
    made again when it is not a database, and a failure to read or write only costs time (`run` then
    gives its `failed` value). Each `run` is one transaction: a build killed mid-write leaves the last
    committed rows. Connections last one `run`: serve builds on another thread than it started on."""

    def __init__(self, path: Path, key: str, tables: Mapping[str, str]) -> None:
        self.path, self.key, self.tables = path, key, dict(tables)  # table name -> its columns, as SQL

    @contextlib.contextmanager
    def _open(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait on a writer (serve beside a cron build)
            db.execute("PRAGMA synchronous=NORMAL")  # a power cut may lose the last commit, never corrupt
            with db:
                db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
                for name, columns in self.tables.items():
                    db.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
                if db.execute("SELECT value FROM meta WHERE name = 'key'").fetchone() != (self.key,):
                    for name in (*self.tables, "meta"):  # and whatever else the last code noted
                        db.execute(f"DELETE FROM {name}")
                    db.execute("INSERT INTO meta VALUES ('key', ?)", (self.key,))
            with db:  # the caller's work: committed if it returns, rolled back if it raises
                yield db
        finally:
            db.close()

    def run(self, work: Callable[[sqlite3.Connection], T], failed: T) -> T:
        """`work` in one transaction; `failed` if it cannot be done."""
        for attempt in range(2):
            try:
                with self._open() as db:
                    return work(db)
            except sqlite3.ProgrammingError:  # a mistake in this code, not in the database: the tests must see it
                raise
            except sqlite3.OperationalError:  # locked past the timeout, a full disk: only costs time
                break
            except sqlite3.DatabaseError as err:
                if type(err) is not sqlite3.DatabaseError or attempt:
                    break
                delete_database(self.path)  # not a database, or a corrupt one: start again from nothing
            except (sqlite3.Error, OSError):
                break
        return failed


def delete_database(path: Path) -> None:
    """An SQLite database and its journal files."""
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(OSError):
            stale.unlink(missing_ok=True)


def name_for(kind: str, folder: Path) -> str:
    """A cache file name tied to one folder (the seeds or the site), so folders never share one."""
    return f"{kind}-{hashlib.sha256(str(folder.absolute()).encode()).hexdigest()[:16]}.pickle"


# The libraries whose results the caches keep, besides the code's own: what reads the seeds (YAML), turns
# their Markdown into sanitized HTML and their names into slugs (the merge record), clusters them (the
# stream's state: sparse sums, headline embeddings), dates them (time zones), renders and indexes the pages
# and minifies the assets (the pages' signatures). A new version of any may give other bytes.
LIBRARIES = (
    "PyYAML",
    "yaml-rs",
    "Markdown",
    "nh3",
    "python-slugify",
    "numpy",
    "scipy",
    "wordllama",
    "tokenizers",
    "safetensors",
    "tzdata",
    "Jinja2",
    "MarkupSafe",
    "pagefind",
    "rcssmin",
    "rjsmin",
)


@cache
def code_fingerprint() -> str:
    """Changes whenever the code (or a library it uses) could give another result for the same input."""
    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).parent
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    from importlib.metadata import PackageNotFoundError, version

    for library in LIBRARIES:
        try:
            digest.update(f"{library} {version(library)}".encode())
        except PackageNotFoundError:
            digest.update(f"{library} absent".encode())
    return digest.hexdigest()
