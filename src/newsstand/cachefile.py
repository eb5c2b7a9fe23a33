"""One format for everything under `.newsstand-cache/`: a checksummed pickle, written atomically.

A cache file that is missing, truncated, corrupt or written by other code loads as None, so the
caller rebuilds what it held: a cache can cost time, never correctness.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
from functools import cache
from pathlib import Path
from typing import Any

MAGIC = b"newsstand-cache 1"


def load(path: Path, key: str) -> Any | None:
    """The object saved under `key` at `path`, or None when there is no trustworthy one."""
    try:
        data = path.read_bytes()
        # The header's two lines, and a view of the rest: a cluster state at 100k stories is hundreds of
        # megabytes, not to be copied again to be checked and read.
        head_end = data.index(b"\n")
        sum_end = data.index(b"\n", head_end + 1)
        payload = memoryview(data)[sum_end + 1 :]
        if data[:head_end] != MAGIC or hashlib.sha256(payload).hexdigest().encode() != data[head_end + 1 : sum_end]:
            return None
        saved_key, value = pickle.loads(payload)
    except Exception:  # unreadable in any way: not trusted
        return None
    return value if saved_key == key else None


def save(path: Path, key: str, value: Any) -> bool:
    """Write `value` under `key`; False when it could not be written (which only costs time later)."""
    payload = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
    head = MAGIC + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n"
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as out:  # the header, then the payload as it is: no copy of the two joined
            out.write(head)
            out.write(payload)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):  # a disk that filled half-way: no half-written file left behind
            tmp.unlink(missing_ok=True)
        return False
    return True


def name_for(kind: str, folder: Path) -> str:
    """A cache file name tied to one folder (the seeds or the site), so folders never share one."""
    return f"{kind}-{hashlib.sha256(str(folder.absolute()).encode()).hexdigest()[:16]}.pickle"


@cache
def code_fingerprint() -> str:
    """Changes whenever the code (or a parser it uses) could give another result for the same input."""
    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).parent
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    from importlib.metadata import PackageNotFoundError, version

    for parser in ("PyYAML", "yaml-rs"):  # what reads the seeds is part of what the cache holds
        try:
            digest.update(f"{parser} {version(parser)}".encode())
        except PackageNotFoundError:
            digest.update(f"{parser} absent".encode())
    return digest.hexdigest()
