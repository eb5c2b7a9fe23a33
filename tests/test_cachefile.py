"""The cache file format: what is saved loads back; what cannot be trusted or written leaves nothing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from newsstand import cachefile


def test_a_saved_value_loads_back_under_its_key_only(tmp_path: Path) -> None:
    path = tmp_path / "c" / "state.pickle"
    value = {"rows": np.arange(10, dtype=np.uint8).reshape(5, 2), "keys": ("a", "b")}
    assert cachefile.save(path, "k1", value)
    got = cachefile.load(path, "k1")
    assert got is not None and got["keys"] == ("a", "b") and np.array_equal(got["rows"], value["rows"])
    assert cachefile.load(path, "k2") is None
    blob = path.read_bytes()
    for broken in (blob[: len(blob) // 2], blob[:-1] + bytes([blob[-1] ^ 1]), b"no header at all", b""):
        path.write_bytes(broken)
        assert cachefile.load(path, "k1") is None


def test_a_write_that_fails_leaves_no_half_written_file(tmp_path: Path) -> None:
    taken = tmp_path / "state.pickle"
    taken.mkdir()  # the file cannot replace a folder: the write fails after the temporary file is written
    assert not cachefile.save(taken, "k", list(range(1000)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.pickle"]


def test_the_code_s_fingerprint_moves_with_each_library_whose_results_the_caches_keep(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import importlib.metadata

    real = importlib.metadata.version
    fingerprint = cachefile.code_fingerprint.__wrapped__  # without the per-process memo
    assert fingerprint() == cachefile.code_fingerprint()
    seen = set()
    for library in ("numpy", "wordllama", "Jinja2", "Markdown", "tzdata", "yaml-rs"):
        monkeypatch.setattr(
            importlib.metadata, "version", lambda name, lib=library: real(name) + ("+1" if name == lib else "")
        )
        seen.add(fingerprint())
    assert len(seen) == 6 and cachefile.code_fingerprint() not in seen


def test_kept_files_are_read_again_only_when_another_build_wrote_them(tmp_path: Path) -> None:
    """serve keeps the register and the last build's record between rebuilds (cachefile.Kept): the value it
    wrote or read, as long as the file is that one; a file another build wrote since is read again."""
    path = tmp_path / "c" / "record.pickle"
    kept = cachefile.Kept()
    mine = {"stories": ("a", "b")}
    assert kept.save(path, "k", mine)
    assert kept.load(path, "k") is mine  # what it wrote, not the file read again
    assert cachefile.load(path, "k") == mine  # and the file holds it
    assert kept.load(path, "another key") is None
    again = kept.load(path, "k")
    assert again == mine and again is not mine and kept.load(path, "k") is again  # read once, then kept
    other = {"stories": ("c",)}
    assert cachefile.save(path, "k", other)  # another build (a cron job's) writes the file
    assert kept.load(path, "k") == other
    blob = path.read_bytes()
    before = path.stat()
    path.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))  # changed in place: not what was read
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))  # later, whatever the clock's grain
    assert kept.load(path, "k") is None
    path.unlink()
    assert kept.load(path, "k") is None
    taken = tmp_path / "folder.pickle"
    taken.mkdir()  # a save that fails keeps nothing
    assert not kept.save(taken, "k", mine) and kept.load(taken, "k") is None
