"""One format for everything under `.newsstand-cache/`: a checksummed pickle, written atomically.

A cache file that is missing, truncated, corrupt or written by other code loads as None, so the
caller rebuilds what it held: a cache can cost time, never correctness.
"""

from __future__ import annotations

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
        head, checksum, payload = path.read_bytes().split(b"\n", 2)
        if head != MAGIC or hashlib.sha256(payload).hexdigest().encode() != checksum:
            return None
        saved_key, value = pickle.loads(payload)
    except Exception:  # unreadable in any way: not trusted
        return None
    return value if saved_key == key else None


def save(path: Path, key: str, value: Any) -> bool:
    """Write `value` under `key`; False when it could not be written (which only costs time later)."""
    payload = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
    blob = MAGIC + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        tmp.write_bytes(blob)
        os.replace(tmp, path)
    except OSError:
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
