"""Content digests: equal values give equal digests, in any process and from any cache."""

from __future__ import annotations

import hashlib
import pickle


def bytes_digest(data: bytes) -> str:
    """A file's identity by its bytes: a file rewritten with the same bytes has the same one."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def content_digest(*parts: object) -> str:
    """A SHA-256 of `parts` pickled."""
    # No memo: with one, an object met twice is written as a back-reference the second time, so equal values
    # gave other bytes depending on which strings happened to be shared — freshly parsed seeds share
    # differently from seeds loaded from the cache, and a build after a cold one re-rendered nearly every page.
    sink = _Sink()
    pickler = pickle.Pickler(sink, protocol=5)
    pickler.fast = True
    pickler.dump(parts)
    return sink.digest.hexdigest()


class _Sink:
    """A file-like hash: the pickle streams into it instead of into one big bytes object."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)
