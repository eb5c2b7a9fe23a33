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


def test_the_spare_s_ledger_gives_the_site_a_walk_gives_whatever_happens_between_builds(tmp_path: Path) -> None:
    """The spare's ledger (write.Ledger) lets a build leave the unchanged files it did not write last time
    unlooked-at. Builds in a row, with what may happen between two of them: a build that fails half-way
    (its stage, changed, kept as the spare), a build killed mid-stage, serve writing a preview into the live
    site, a file dropped into the live site by hand, the site folder replaced by a copy of it. After each
    build the site is exactly the files asked for, each unchanged file is the very file it was (inode and
    mtime), and the stamps the writer gives are those a walk finds."""
    import os
    import random
    import shutil

    from newsstand.write import LEDGER, replace_files

    rng = random.Random(11)
    out = tmp_path / "site"
    names = [f"p{i}.html" for i in range(12)] + [f"d{i}/index.html" for i in range(8)] + ["x/y/z.html"]
    live: dict[str, bytes] = {}
    for step in range(60):
        what = rng.choice(["build"] * 6 + ["fail", "killed", "preview", "stray", "copied"])
        if what == "preview" and live:
            name = rng.choice(sorted(live))
            replace_files(out, [(name, live[name] + b"!")])  # the build after renders it again: not "unchanged"
            live[name] += b"!"
            preview = name
        else:
            preview = ""
        if what == "stray" and out.is_dir():
            (out / "stray.html").write_bytes(b"dropped in by hand")
        if what == "copied" and out.is_dir():
            shutil.copytree(out, tmp_path / "copy", copy_function=shutil.copy2)
            shutil.rmtree(out)
            (tmp_path / "copy").rename(out)
        files = {n: rng.choice([b"1", b"22", live.get(n, b"1")]) for n in rng.sample(names, rng.randint(3, len(names)))}
        before = {n: os.stat(out / n) for n, b in files.items() if live.get(n) == b and n != preview}
        given: list[tuple[str, Content]] = [
            (n, None if n in before and rng.random() < 0.8 else b) for n, b in files.items()
        ]
        rng.shuffle(given)
        if what in ("fail", "killed") and live:

            def broken(items: list[tuple[str, Content]]):  # type: ignore[no-untyped-def]
                yield from items[: len(items) // 2]
                raise RuntimeError("render crashed half-way")

            with pytest.raises(RuntimeError):
                write_site(out, broken(given))
            assert _tree(out) == live, step
            if what == "killed":  # as SIGKILL leaves it: the half-made stage where the next build finds it
                (tmp_path / ".site.prev").rename(tmp_path / ".site.new")
            continue
        stamps: dict[str, tuple[int, int]] = {}
        swapped = out.is_dir()  # a first build has no site to swap with, and so no spare
        write_site(out, given, stamps)
        live = files
        assert _tree(out) == files, (step, what)
        assert not (out / LEDGER).exists() and (tmp_path / ".site.prev" / LEDGER).exists() == swapped, step
        for n, st in before.items():
            now = os.stat(out / n)
            assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns), (step, n)
        assert site_manifest(out, stamps) == site_manifest(out), step


def test_a_build_looks_only_at_the_files_it_or_the_build_before_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import newsstand.write as write

    out = tmp_path / "site"
    pages = {f"page{i}/index.html": f"page {i}".encode() for i in range(300)}
    write_site(out, pages.items())
    write_site(out, [(n, None) for n in pages])  # the first with a spare, whose ledger it leaves
    looked: list[str] = []

    def lstat(path: str) -> os.stat_result | None:
        looked.append(path)
        return os.lstat(path) if os.path.lexists(path) else None

    monkeypatch.setattr(write, "_lstat", lstat)
    report = write_site(out, [(n, None if n != "page7/index.html" else b"new") for n in pages])
    assert (report.written, report.unchanged) == (1, 299)
    assert {Path(p).relative_to(tmp_path).parts[1:] for p in looked} <= {("page7", "index.html")}
    # The next build links the file it changed back into its stage, and looks at nothing else.
    looked.clear()
    write_site(out, [(n, None) for n in pages])
    assert {Path(p).relative_to(tmp_path).parts[1:] for p in looked} == {("page7", "index.html")}
    assert (out / "page7/index.html").read_bytes() == b"new" and _tree(out) == {**pages, "page7/index.html": b"new"}


def test_a_stage_a_failed_build_changed_is_never_trusted_as_a_spare(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(out, [("a.html", b"1"), ("b.html", b"1")])
    write_site(out, [("a.html", None), ("b.html", None)])  # leaves the spare a ledger

    def broken():  # type: ignore[no-untyped-def]
        yield ("a.html", b"2")  # into the stage made of the spare
        raise RuntimeError("render crashed half-way")

    with pytest.raises(RuntimeError):
        write_site(out, broken())
    assert (tmp_path / ".site.prev" / "a.html").read_bytes() == b"2"  # the changed stage is the spare now ...
    write_site(out, [("a.html", None), ("b.html", None)])
    assert _tree(out) == {"a.html": b"1", "b.html": b"1"}  # ... and its a.html is not taken for the live one


def test_pieces_are_the_file_they_make_however_they_run_on_from_the_live_one(tmp_path: Path) -> None:
    # Spans and bytes that go on where the live file goes on are copied in runs (write._write_pieces): the
    # file is still exactly the pieces, whether they run on, jump back, repeat or differ by a byte.
    import os
    import random

    rng = random.Random(5)
    out = tmp_path / "site"
    old = bytes(rng.randrange(256) for _ in range(4000))
    for trial in range(40):
        write_site(out, [("data.json", old), ("index.html", b"i")])
        st = (out / "data.json").stat()
        stamp = (st.st_size, st.st_mtime_ns)
        pieces: list[bytes | Span] = []
        at = rng.randrange(len(old))
        for _ in range(rng.randint(1, 30)):
            length = rng.randint(0, 50)
            kind = rng.random()
            if kind < 0.4:  # the live file, on from where the last piece stopped (or from anywhere)
                at = at if rng.random() < 0.7 else rng.randrange(len(old))
                stop = min(len(old), at + length)
                pieces.append(Span(at, stop, stamp))
                at = stop
            elif kind < 0.7:  # the live file's own next bytes, as bytes
                pieces.append(old[at : at + length])
                at += len(pieces[-1])
            else:  # other bytes
                pieces.append(bytes(rng.randrange(256) for _ in range(length)))
        expected = b"".join(old[p.start : p.stop] if isinstance(p, Span) else p for p in pieces)
        write_site(out, [("data.json", pieces), ("index.html", b"i")])
        assert (out / "data.json").read_bytes() == expected, trial
        old = expected if len(expected) > 100 else old
        assert os.path.getsize(out / "data.json") == len(expected)
