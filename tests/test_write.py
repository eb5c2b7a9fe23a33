import contextlib
from pathlib import Path

import pytest

from newsstand.incremental import site_manifest
from newsstand.write import Content, OutputLock, Span, WriteError, write_site


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
    # The site before last is kept aside as the start of the next stage; no stage is left.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.lock", ".site.prev", "site"]


def test_the_files_removed_are_counted_from_the_record_of_the_site_when_there_is_one(tmp_path: Path) -> None:
    out = tmp_path / "site"
    stamps: dict[str, tuple[int, int]] = {}
    write_site(out, [("index.html", b"one"), ("a/b.html", b"b"), ("a/c.html", b"c")], stamps)
    # What the last build's record says the site holds (its stamps), not a walk of it: the same count ...
    again = write_site(out, [("index.html", b"two")], before=list(stamps))
    assert (again.written, again.removed) == (1, 2) and not (out / "a").exists()
    # ... and the files are gone whatever the record says: the stage is pruned by a walk of its own.
    report = write_site(out, [("x.html", b"x")], before=[])
    assert (report.written, report.removed) == (1, 0)
    assert sorted(p.name for p in out.iterdir()) == ["x.html"]


def test_a_file_given_in_pieces_is_written_whole_and_kept_when_its_bytes_are_the_same(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(out, [("data.json", iter([b'{"a":', b"[1,2]", b"}\n"])), ("index.html", b"i")])
    assert (out / "data.json").read_bytes() == b'{"a":[1,2]}\n'
    before = (out / "data.json").stat()
    # The same bytes in other pieces: unchanged, the very file kept (mtime, inode) ...
    report = write_site(out, [("data.json", [b'{"a":[1', b",2]}\n"]), ("index.html", b"i")])
    assert (report.written, report.unchanged) == (0, 2)
    after = (out / "data.json").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # ... other bytes of the same length, or a longer file: written.
    for pieces in ([b'{"a":[1,3]}\n'], [b'{"a":[1,2]}\n', b" "]):
        report = write_site(out, [("data.json", pieces), ("index.html", b"i")])
        assert (report.written, report.unchanged) == (1, 1)
        assert (out / "data.json").read_bytes() == b"".join(pieces)


def test_pieces_copied_from_the_live_file_and_refused_once_it_changed(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(out, [("data.json", b'{"a":[111,222,333]}\n'), ("index.html", b"i")])
    st = (out / "data.json").stat()
    stamp = (st.st_size, st.st_mtime_ns)
    pieces = [b'{"a":[', Span(10, 13, stamp), b",", Span(6, 9, stamp), b"]}\n"]
    write_site(out, [("data.json", pieces), ("index.html", b"i")])
    assert (out / "data.json").read_bytes() == b'{"a":[222,111]}\n'
    # A live file that is not the one the pieces were taken from (its stamp moved): nothing is written.
    good = _tree(out)
    with pytest.raises(WriteError, match="changed during the build"):
        write_site(out, [("data.json", [b"[", Span(0, 3, stamp), b"]"]), ("index.html", b"i")])
    assert _tree(out) == good


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_reused_stage_never_leaks_into_the_site(tmp_path: Path) -> None:
    """Many builds in a row, each from the spare of the one before last (and from stages left by
    killed builds, full of junk): the site is always exactly the files asked for, and files whose
    bytes did not change keep their mtime."""
    import random

    rng = random.Random(3)
    out = tmp_path / "site"
    names = ["index.html", "a/b.html", "a/c.html", "a", "d/e/f.html", "d/e", "g.html", "h/i.html", "j/k/l/m.html"]
    previous: dict[str, bytes] = {}
    for step in range(40):
        files: dict[str, bytes] = {}
        for name in rng.sample(names, rng.randint(1, len(names))):
            # a path cannot be both a file and a folder of another file
            if any(other.startswith(name + "/") or name.startswith(other + "/") for other in files):
                continue
            files[name] = rng.choice([b"1", b"2", b"three", previous.get(name, b"1")])
        if step % 7 == 3:  # a build killed mid-stage left junk, some of it where the next files go
            junk = tmp_path / ".site.new"
            (junk / "a").mkdir(parents=True, exist_ok=True)
            (junk / "index.html").write_bytes(b"junk")
            (junk / "zzz.html").write_bytes(b"junk")
            (junk / "empty" / "inside").mkdir(parents=True, exist_ok=True)  # folders the site must not keep
            outside = tmp_path / "outside"
            (outside / "sub").mkdir(parents=True, exist_ok=True)
            (outside / "sub" / "x.html").write_bytes(b"not the site's")
            for link, to in (("linked", outside), ("empty/dangling.html", tmp_path / "nowhere"), ("a/up", outside)):
                with contextlib.suppress(FileExistsError):
                    (junk / link).symlink_to(to)  # links, to folders and to nothing: never followed, all gone
        mtimes = {n: (out / n).stat().st_mtime_ns for n, b in files.items() if previous.get(n) == b}
        unchanged = [(n, None) for n in mtimes if step % 2]  # as the incremental build marks them
        given: list[tuple[str, Content]] = [*unchanged]
        for n, b in files.items():
            if not (step % 2 and n in mtimes):
                given.append((n, [b[:1], b[1:]] if step % 3 == 0 else b))  # some in pieces
        stamps: dict[str, tuple[int, int]] = {}
        write_site(out, given, stamps)
        assert _tree(out) == files, step
        assert not [p for p in out.rglob("*") if p.is_symlink()], step
        assert (tmp_path / "outside" / "sub" / "x.html").exists() or step < 3, step
        # What the writer says it left is what a walk of the site finds, folders and all.
        assert site_manifest(out, stamps) == site_manifest(out), step
        assert {n: (out / n).stat().st_mtime_ns for n in mtimes} == mtimes, step
        assert not (tmp_path / ".site.new").exists()
        previous = files


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
