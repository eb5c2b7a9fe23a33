"""The cache file format: what is saved loads back; what cannot be trusted or written leaves nothing."""

from __future__ import annotations

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
