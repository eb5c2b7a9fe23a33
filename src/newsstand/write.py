"""Rendered files → the output folder, all at once or not at all.

The new site is staged in a folder beside the old one and swapped in with one atomic
rename, so a build killed at any moment leaves the last good site complete. Files whose
bytes did not change are hard-linked from the old site: their mtimes stay, so rsync and
CDNs see no change.

The site before last is kept as a spare (`.site.prev`) and becomes the next stage: most of its
files already are the current site's files (the same inodes), so a build that changes a few
pages touches a few files rather than linking and deleting every file of the site.

Which ones are not, the build that made the spare knows: the files it wrote. It leaves them in the
spare's ledger (`Ledger`), with the stamp of every file of the site it made, so the next build need not
look at each unchanged file of the live site and of the stage (two stats each, a second at 100k
stories). The ledger is taken out of the spare before the spare becomes a stage: a stage that a build
changed and left behind (killed, or failed and kept as the spare) never has one, and is checked file
by file as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import mmap
import os
import shutil
import signal
import stat
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from . import cachefile


class Span(NamedTuple):
    """A piece of a file that is bytes [start, stop) of the file the live site has at the same path, which
    must still be as `stamp` (size, mtime in ns) says: a large file that changed in a few places is
    mostly copied from its last version rather than made again."""

    start: int
    stop: int
    stamp: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Reuse:
    """What a file made of many records (stories.json) can take from its last version: each record's key
    (a digest of all the file shows of it but one value, made anew each time), by the record's name; where
    the live file holds each key's text before and after that value (`old`); and, filled as the new file
    is made, where it holds each key's text, value and end (`made`: start, value's start, value's end,
    end; for the next build)."""

    keys: Mapping[str, str]
    old: Mapping[str, tuple[Span, Span]]
    made: dict[str, tuple[int, int, int, int]]


# A file's bytes, or its pieces in order, or None: unchanged (see write_site).
Content = bytes | Iterable[bytes | Span] | None

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class WriteError(Exception):
    """The site could not be written; the last good site is untouched."""


@dataclass(frozen=True, slots=True)
class WriteReport:
    written: int  # new or changed files
    unchanged: int
    removed: int  # files the old site had and the new one does not

    @property
    def total(self) -> int:
        return self.written + self.unchanged


def _checked(path: str) -> str:
    """Refuse any output path that could land outside the site or collide with a folder."""
    if not path or path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in path.split("/")):
        raise WriteError(f"refusing to write outside the site: {path!r}")
    return path


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


class OutputLock:
    """One build at a time per output folder; a second one is told so instead of corrupting it."""

    def __init__(self, out: Path, busy: str = "") -> None:
        self.out = out
        self.path = out.parent / f".{out.name}.lock"
        self.busy = busy or f"another build is writing {out}; try again when it ends"
        self.fd: int | None = None

    def __enter__(self) -> OutputLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise WriteError(
                f"cannot write the site to {self.out}: {_reason(err)}; the last good site is untouched"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise WriteError(self.busy) from None
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _same_bytes(path: str, st: os.stat_result, data: bytes) -> bool:
    if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
        return False
    try:
        with open(path, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False


def _same_files(a: str, b: str) -> bool:
    """Whether two files hold the same bytes (filecmp.cmp would keep a cache, stale in a long-running serve)."""
    try:
        if os.stat(a).st_size != os.stat(b).st_size:
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                x, y = fa.read(1 << 20), fb.read(1 << 20)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False


def _ready(stage: str, path: str, made: set[str]) -> None:
    """The folders of `path` exist in the stage (checked once per folder and build)."""
    parent = path.rpartition("/")[0]
    if parent and parent not in made:
        _make_dirs(stage, parent)
        made.add(parent)


class _Terminated(SystemExit):
    """SIGTERM (cron's timeout, systemd, kill) while writing: unwind, clean the stage, then exit 1."""


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """While the site is written, SIGTERM unwinds like an exception instead of killing the process
    on the spot, so that the half-written stage is removed. (SIGKILL cannot be caught: the next
    build removes that stage.) Only the main thread can install a signal handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise _Terminated("newsstand: terminated while writing the site; the last good site is untouched")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _reason(err: OSError) -> str:
    reason = err.strerror or str(err)
    return f"{reason} ({err.filename})" if err.filename else reason


def write_site(
    out: Path,
    files: Iterable[tuple[str, Content]],
    stamps: dict[str, tuple[int, int]] | None = None,
    before: Collection[str] | None = None,
) -> WriteReport:
    """Replace the folder `out` with exactly `files` (path relative to `out`, bytes).

    Bytes of None mean "unchanged since the last build": the file is linked from the current
    site without being read or rendered again (the incremental build knows it did not change).
    A file too large to hold whole comes as an iterable of pieces, written as they come.
    `stamps`, if given, gets the size and mtime (ns) of every file of the new site, as a stat of it
    would give them: the writer knows them, and a walk of the site after it would stat every file again.
    `before`, if given, lists the files of the current site, as the last build recorded them: the count of
    those removed is taken from it rather than from a walk of the site (a second at 100k stories).

    Any failure (a full disk, a read-only or unwritable folder, another build holding the
    lock) raises WriteError with one clear message and leaves the last good site as it was.
    """
    out = out.absolute()
    stage = out.parent / f".{out.name}.new"
    spare = out.parent / f".{out.name}.prev"
    with OutputLock(out), _terminate_cleanly():
        try:
            return _write(out, stage, spare, files, {} if stamps is None else stamps, before)
        except OSError as err:
            _keep_spare(stage, spare)
            raise WriteError(
                f"cannot write the site to {out}: {_reason(err)}; the last good site is untouched"
            ) from None
        except BaseException:
            _keep_spare(stage, spare)
            raise


def replace_files(out: Path, files: Iterable[tuple[str, bytes]]) -> list[str]:
    """Put new bytes into files the site already has, each in one rename (a reader sees the old file or
    the new one), and return those that changed. For `serve`'s preview of an edit, which the whole build then
    follows: never a new file, never a folder, and nothing at all while a build holds the site.

    The old file is never written to: its inode is also the spare's (see the module's note)."""
    out = out.absolute()
    written = []
    with OutputLock(out):
        for path, data in files:
            target = out / _checked(path)
            st = _lstat(str(target))
            if st is None or not stat.S_ISREG(st.st_mode) or _same_bytes(str(target), st, data):
                continue
            try:
                atomic_write(target, data)
            except OSError as err:
                raise WriteError(f"cannot write {target}: {_reason(err)}") from None
            written.append(path)
    return written


def atomic_write(target: Path, data: bytes) -> None:
    """Replace the file `target` with `data` in one rename: a reader sees the old file or the new one, and a
    run killed half-way leaves the old one. The temporary file is hidden (a dot name), so no folder walk takes
    it for a page or a seed."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.new")
    try:
        temp.write_bytes(data)
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _keep_spare(stage: Path, spare: Path) -> None:
    """Put a half-updated stage aside as the spare: its files are only ever trusted where they are the
    very files (inodes) of the current site, so it is as good a start as any for the next build."""
    try:
        if stage.is_dir() and not spare.exists():
            stage.rename(spare)
    except OSError:
        pass
    shutil.rmtree(stage, ignore_errors=True)


def _write(
    out: Path,
    stage: Path,
    spare: Path,
    files: Iterable[tuple[str, Content]],
    stamps: dict[str, tuple[int, int]],
    before: Collection[str] | None,
) -> WriteReport:
    previous = out.parent / f".{out.name}.old"
    if not out.exists() and previous.is_dir():
        previous.rename(out)  # a build killed between the two renames of the fallback swap: the old site is back
    # The stage starts from the site before last (kept as the spare after each swap), or a stage left by a
    # killed build: most of its files are already the current site's files (hard links), so a build that
    # changes a few pages touches a few files, not every file of the site.
    ledger = None
    if not stage.is_dir() and spare.is_dir():
        ledger = _take_ledger(spare, out)
        spare.rename(stage)
    shutil.rmtree(spare, ignore_errors=True)
    # Unchanged files that the last build did not write are the live site's very files in the stage already.
    shared = ledger.stamps if ledger is not None else {}
    fresh = ledger.written if ledger is not None else frozenset()
    wrote: set[str] = set()
    stage.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    written = unchanged = 0
    made_dirs: set[str] = set()
    stage_s, out_s = str(stage), str(out)
    for path, data in files:
        _checked(path)
        if path in seen:
            raise WriteError(f"two pages want to write {path}: refusing to overwrite one with the other")
        seen.add(path)
        if data is None and path not in fresh and (known := shared.get(path)) is not None:
            unchanged += 1
            stamps[path] = known
            continue
        target, old = f"{stage_s}/{path}", f"{out_s}/{path}"
        old_stat = _lstat(old)
        if data is None and (old_stat is None or not stat.S_ISREG(old_stat.st_mode)):
            raise WriteError(f"{path}: marked unchanged, but the last site does not have it")
        if data is None or (isinstance(data, bytes) and old_stat is not None and _same_bytes(old, old_stat, data)):
            unchanged += 1
            _link_old(stage_s, path, old, old_stat, made_dirs)
            stamps[path] = _stamp_of(old_stat)
            continue
        _ready(stage_s, path, made_dirs)
        # Never write into a stage file: it may be a hard link to a file of the live site.
        _clear(target)
        with open(target, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                _write_pieces(fh, data, old)
        if (
            not isinstance(data, bytes)
            and old_stat is not None
            and stat.S_ISREG(old_stat.st_mode)
            and _same_files(target, old)
        ):
            unchanged += 1  # the same bytes again: the old file stays, with its mtime
            _link_old(stage_s, path, old, old_stat, made_dirs)
            stamps[path] = _stamp_of(old_stat)
            continue
        written += 1
        wrote.add(path)
        stamps[path] = _stamp_of(os.stat(target))  # closed: every byte is in, and the mtime final
    _prune(stage, seen)
    if not out.is_dir():
        removed = 0
    else:
        removed = sum(1 for path in (before if before is not None else _files_under(out_s)) if path not in seen)
    if out.exists() and not out.is_dir():
        raise WriteError(f"{out} exists and is not a folder")
    if out.exists():
        if not _exchange(stage, out):
            # No atomic swap here: two renames, with a moment in which the site is missing.
            aside = out.parent / f".{out.name}.old"
            shutil.rmtree(aside, ignore_errors=True)
            out.rename(aside)
            stage.rename(out)
            stage = aside
        stage.rename(spare)  # now the old site: the start of the next build's stage
        # A ledger that cannot be written costs the next build its stats, nothing more.
        cachefile.save(spare / LEDGER, _LEDGER_KEY, Ledger(_folder_id(out), frozenset(wrote), stamps))
    else:
        stage.rename(out)
    return WriteReport(written=written, unchanged=unchanged, removed=removed)


def _write_pieces(fh: BinaryIO, pieces: Iterable[bytes | Span], old: str) -> None:
    """Write `pieces` in turn, each Span copied from the live site's file `old`. Pieces that go on where the
    live file goes on (a span from where the last one stopped, bytes equal to those that follow it there)
    are copied with it in one run: at 100k stories, stories.json is 150 MB in 100,000 pieces, most of them
    the file as it was."""
    source: mmap.mmap | None = None
    view: memoryview | None = None
    stamp: tuple[int, int] | None = None
    start = stop = -1  # the run of the live file the pieces so far reproduce, not yet written

    def flush() -> None:
        nonlocal start, stop
        if view is not None and start < stop:
            fh.write(view[start:stop])
        start = stop = -1

    try:
        for piece in pieces:
            if not isinstance(piece, Span):
                if view is not None and start < stop and view[stop : stop + len(piece)] == piece:
                    stop += len(piece)
                    continue
                flush()
                fh.write(piece)
                continue
            if source is None:
                with open(old, "rb") as f:
                    stamp = _stamp_of(os.fstat(f.fileno()))
                    source = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if stamp[0] else None
                    view = memoryview(source) if source is not None else None
            # The build read where each piece is from the last build's record: the file must be that one.
            if piece.stamp != stamp or source is None or piece.stop > len(source):
                raise WriteError(f"{old} changed during the build: nothing written; build again")
            if piece.start != stop:
                flush()
                start = piece.start
            stop = piece.stop
        flush()
        if source is not None and _stamp_of(os.stat(old)) != stamp:
            raise WriteError(f"{old} changed during the build: nothing written; build again")
    finally:
        if view is not None:
            view.release()
        if source is not None:
            source.close()


LEDGER = ".newsstand-spare"  # the spare's ledger, a file at the top of the spare (never of a live site)
_LEDGER_KEY = "spare 1"


@dataclass(frozen=True, slots=True)
class Ledger:
    """What a spare is, as the build that made it the spare left it: the live site's folder then (device,
    inode), the files that build wrote (of the live site, the only ones the spare does not share with it)
    and the stamp of every file of the live site."""

    live: tuple[int, int]
    written: frozenset[str]
    stamps: Mapping[str, tuple[int, int]]


def _folder_id(folder: Path) -> tuple[int, int]:
    st = os.stat(folder)
    return st.st_dev, st.st_ino


def _take_ledger(spare: Path, out: Path) -> Ledger | None:
    """The spare's ledger, removed from it; None if it has none, or it is not of the live site there is."""
    path = spare / LEDGER
    ledger = cachefile.load(path, _LEDGER_KEY)
    try:
        path.unlink()  # first: whatever happens to the stage from here on, it is no longer what the ledger says
    except FileNotFoundError:
        return None
    if not isinstance(ledger, Ledger) or not out.is_dir() or ledger.live != _folder_id(out):
        return None
    return ledger


def _stamp_of(st: os.stat_result | None) -> tuple[int, int]:
    assert st is not None
    return st.st_size, st.st_mtime_ns


def _link_old(stage: str, path: str, old: str, old_stat: os.stat_result | None, made_dirs: set[str]) -> None:
    """Put the live site's file at `path` into the stage, as a hard link (so its mtime stays)."""
    assert old_stat is not None
    target = f"{stage}/{path}"
    now = _lstat(target)
    if now is not None and (now.st_ino, now.st_dev) == (old_stat.st_ino, old_stat.st_dev):
        return  # the stage already holds the live site's very file
    _ready(stage, path, made_dirs)
    if now is not None:
        _clear(target)
    try:
        os.link(old, target)
    except OSError:  # a file system without hard links: a copy keeps the mtime too
        shutil.copy2(old, target)


def _clear(path: str) -> None:
    """Make room for a new file at `path` in the stage: whatever is there goes (a folder included)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        shutil.rmtree(path)
    except PermissionError:  # unlink of a folder reports EPERM on some systems
        if not os.path.isdir(path) or os.path.islink(path):
            raise
        shutil.rmtree(path)


def _make_dirs(root: str, rel: str) -> None:
    """mkdir -p of root/rel (a relative path with "/" between its parts), replacing any file of the stage that
    stands where a folder must be. Strings, not pathlib: a build after a cold one makes every page's folder
    in a fresh stage (50,000 at 100k stories), and Path objects were a second of it."""
    full = f"{root}/{rel}"
    if os.path.isdir(full):  # a stat: mkdir of an existing folder is a far slower syscall on overlay file systems
        return
    try:
        os.mkdir(full)  # most often the parent is there: one call
        return
    except FileNotFoundError:
        with contextlib.suppress(FileExistsError, NotADirectoryError):
            os.makedirs(full, exist_ok=True)
            return
    except (FileExistsError, NotADirectoryError):
        pass
    here = root
    for part in rel.split("/"):
        here = f"{here}/{part}"
        if not os.path.isdir(here) or os.path.islink(here):
            _clear(here)
            os.mkdir(here)


def _files_under(root: str) -> Iterator[str]:
    """Every file below the folder `root` (its path from there), as os.walk lists them: a link to a folder is
    not followed, nor listed. By the entries' own types, with no stat of each (two walks of a 77,000-file
    site per build: os.walk took twice as long)."""
    stack = [("", root)]
    while stack:
        prefix, folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if not entry.is_dir():
                        yield prefix + entry.name
                    elif not entry.is_symlink():
                        stack.append((f"{prefix}{entry.name}/", entry.path))
        except OSError:  # gone meanwhile, or unreadable: as os.walk, passed over
            continue


def _prune(stage: Path, keep: set[str]) -> None:
    """Remove what the stage holds beyond `keep` (pages no longer produced), links to folders, and emptied
    folders."""

    def prune(folder: str, prefix: str) -> bool:  # whether `folder` is left empty
        try:
            with os.scandir(folder) as found:
                entries = list(found)
        except OSError:
            return False
        left = len(entries)
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if prune(entry.path, f"{prefix}{entry.name}/"):
                    os.rmdir(entry.path)
                    left -= 1
            elif (entry.is_symlink() and entry.is_dir()) or prefix + entry.name not in keep:
                os.unlink(entry.path)
                left -= 1
        return not left

    prune(str(stage), "")
