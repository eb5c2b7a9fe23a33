from pathlib import Path

import pytest

from newsstand.write import OutputLock, WriteError, write_site


def test_writes_swaps_and_removes_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = write_site(out, [("index.html", b"one"), ("a/b.html", b"b"), ("old.html", b"x")])
    assert first.written == 3
    before = (out / "a/b.html").stat().st_mtime_ns
    second = write_site(out, [("index.html", b"two"), ("a/b.html", b"b")])
    assert (second.written, second.unchanged, second.removed) == (1, 1, 1)
    assert (out / "index.html").read_bytes() == b"two"
    assert not (out / "old.html").exists()
    assert (out / "a/b.html").stat().st_mtime_ns == before  # unchanged bytes keep their mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.lock", "site"]


def test_two_pages_never_write_one_path(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(out, [("index.html", b"good")])
    with pytest.raises(WriteError, match="two pages"):
        write_site(out, [("a.html", b"1"), ("a.html", b"2")])
    assert (out / "index.html").read_bytes() == b"good"


@pytest.mark.parametrize("bad", ["../x.html", "/etc/x", "a//b.html", "a/./b", ""])
def test_paths_outside_the_site_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(WriteError, match="outside"):
        write_site(tmp_path / "site", [(bad, b"x")])
    assert not (tmp_path / "x.html").exists()


def test_a_failed_write_leaves_the_last_good_site(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(out, [("index.html", b"good")])

    def broken():
        yield ("index.html", b"new")
        raise RuntimeError("render crashed half-way")

    with pytest.raises(RuntimeError):
        write_site(out, broken())
    assert (out / "index.html").read_bytes() == b"good"
    assert not (tmp_path / ".site.new").exists()


def test_a_second_build_is_told_the_output_is_busy(tmp_path: Path) -> None:
    out = tmp_path / "site"
    with OutputLock(out.absolute()), pytest.raises(WriteError, match="another build"):
        write_site(out, [("index.html", b"x")])
