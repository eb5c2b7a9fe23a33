"""Rendered files → the output folder, all at once or not at all.

The new site is staged in a folder beside the old one and swapped in with one atomic
rename, so a build killed at any moment leaves the last good site complete. Files whose
bytes did not change are hard-linked from the old site: their mtimes stay, so rsync and
CDNs see no change.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import signal
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

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


def _checked(path: str) -> PurePosixPath:
    """Refuse any output path that could land outside the site or collide with a folder."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or any(p in ("", ".", "..") for p in path.split("/")) or "\\" in path:
        raise WriteError(f"refusing to write outside the site: {path!r}")
    return pure


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

    def __init__(self, out: Path) -> None:
        self.out = out
        self.path = out.parent / f".{out.name}.lock"
        self.fd: int | None = None

    def __enter__(self) -> OutputLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise WriteError(f"cannot write the site to {self.out}: {_reason(err)}; the last good site is untouched") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise WriteError(f"another build is writing {self.out}; try again when it ends") from None
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


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


def write_site(out: Path, files: Iterable[tuple[str, bytes | None]]) -> WriteReport:
    """Replace the folder `out` with exactly `files` (path relative to `out`, bytes).

    Bytes of None mean "unchanged since the last build": the file is linked from the current
    site without being read or rendered again (the incremental build knows it did not change).

    Any failure (a full disk, a read-only or unwritable folder, another build holding the
    lock) raises WriteError with one clear message and leaves the last good site as it was.
    """
    out = out.absolute()
    stage = out.parent / f".{out.name}.new"
    with OutputLock(out), _terminate_cleanly():
        try:
            return _write(out, stage, files)
        except OSError as err:
            shutil.rmtree(stage, ignore_errors=True)
            raise WriteError(f"cannot write the site to {out}: {_reason(err)}; the last good site is untouched") from None
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise


def _write(out: Path, stage: Path, files: Iterable[tuple[str, bytes | None]]) -> WriteReport:
    shutil.rmtree(stage, ignore_errors=True)  # left by a build that was killed
    previous = out.parent / f".{out.name}.old"
    if not out.exists() and previous.is_dir():
        previous.rename(out)  # a build killed between the two renames of the fallback swap: the old site is back
    stage.mkdir(parents=True)
    seen: set[str] = set()
    written = unchanged = 0
    made_dirs: set[PurePosixPath] = set()
    for path, data in files:
        pure = _checked(path)
        if path in seen:
            raise WriteError(f"two pages want to write {path}: refusing to overwrite one with the other")
        seen.add(path)
        parent = pure.parent
        if parent not in made_dirs:
            (stage / parent).mkdir(parents=True, exist_ok=True)
            made_dirs.add(parent)
        target = stage / pure
        old = out / pure
        if data is None and not old.is_file():
            raise WriteError(f"{path}: marked unchanged, but the last site does not have it")
        if data is None or _same_bytes(old, data):
            try:
                os.link(old, target)
            except OSError:  # a file system without hard links: a copy keeps the mtime too
                shutil.copy2(old, target)
            unchanged += 1
        else:
            target.write_bytes(data)
            written += 1
    removed = 0
    if out.is_dir():
        for root, _dirs, names in os.walk(out):
            rel = Path(root).relative_to(out)
            removed += sum(1 for n in names if (rel / n).as_posix().removeprefix("./") not in seen)
    if out.exists() and not out.is_dir():
        raise WriteError(f"{out} exists and is not a folder")
    if out.exists():
        if not _exchange(stage, out):
            # No atomic swap here: two renames, with a moment in which the site is missing.
            old = out.parent / f".{out.name}.old"
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            stage.rename(out)
            stage = old
        shutil.rmtree(stage, ignore_errors=True)  # now the old site
    else:
        stage.rename(out)
    return WriteReport(written=written, unchanged=unchanged, removed=removed)
