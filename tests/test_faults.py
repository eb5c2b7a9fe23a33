"""Faults during a build: killed mid-way, a full disk, a read-only output, two builds at once.

Each test runs the real command in a child process and checks the output folder byte by byte
against a manifest of the last good site: nothing is lost, nothing is half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsstand.write import OutputLock

WORDS = [
    "market",
    "election",
    "storm",
    "court",
    "vaccine",
    "rocket",
    "budget",
    "strike",
    "merger",
    "league",
    "climate",
    "summit",
    "harbour",
]


def make_seeds(folder: Path, count: int, variant: int = 0, body_words: int = 40) -> Path:
    """`count` valid seeds; another `variant` changes some titles and the set of files, so the site differs."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    rng = random.Random(variant)
    for i in range(count + variant * 7):
        words = " ".join(rng.choice(WORDS) for _ in range(5))
        (folder / f"s{i:04d}.txt").write_text(
            f"---\ntitle: 'Story {i} v{variant if i % 3 == 0 else 0} {words}'\n"
            f"publishedDateTime: 2020-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z\n"
            f"webUrl: https://n{i % 13}.example.com/s/{i}\n"
            f"provider:\n  name: Outlet {i % 13}\n  domain: n{i % 13}.example.com\n"
            f"topics:\n  - {WORDS[i % len(WORDS)]}\n---\n"
            + " ".join(rng.choice(WORDS) for _ in range(body_words))
            + "\n"
        )
    return folder


def manifest(site: Path) -> dict[str, str]:
    return {
        p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site.rglob("*"))
        if p.is_file()
    }


def groups(site: Path) -> set[frozenset[str]]:
    """The site's stories as sets of article URLs, from its stories.json."""
    data = json.loads((site / "stories.json").read_text(encoding="utf-8"))
    return {frozenset(a["url"] for a in s["articles"]) for s in data["stories"]}


def command(seeds: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "newsstand", "build", "--seeds", str(seeds), "--out", str(out)]


def config(folder: Path) -> Path:
    """A working folder of its own, with no config and no theme: the default theme that ships in the package."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run(cwd: Path, seeds: Path, out: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(seeds, out), cwd=cwd, capture_output=True, text=True, timeout=300, **kw)  # type: ignore[call-overload]


def test_a_build_killed_at_any_moment_leaves_a_complete_site(tmp_path: Path) -> None:
    work = config(tmp_path / "work")
    seeds = work / "seeds"
    out = work / "site"
    make_seeds(seeds, 100, 0)
    started = time.monotonic()
    assert run(work, seeds, out).returncode == 0
    duration = time.monotonic() - started
    current = 0
    rng = random.Random(6)
    # Half the kills at random moments of the whole build, half the moment the staging folder appears.
    plans = [("random", rng.uniform(0.05, 1.1) * duration) for _ in range(3)] + [
        ("staging", rng.uniform(0, 0.03)) for _ in range(3)
    ]
    killed_mid_write = 0
    snapshot = tmp_path / "snapshot"
    for how, delay in plans:
        make_seeds(seeds, 100, 1 - current)
        # The two sites the folder may hold: the one there now, and the one this build makes of it (a
        # story keeps the URL the build before gave it, so that is found by building a copy of the folder
        # in place, byte by byte, and putting the folder back as it was).
        before = manifest(out)
        shutil.copytree(work, snapshot, symlinks=True)
        assert run(work, seeds, out).returncode == 0
        after = manifest(out)
        shutil.rmtree(work)
        shutil.copytree(snapshot, work, symlinks=True)
        shutil.rmtree(snapshot)
        assert before != after and manifest(out) == before
        proc = subprocess.Popen(command(seeds, out), cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if how == "staging":
            stage = work / ".site.new"
            deadline = time.monotonic() + 120
            while not stage.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            killed_mid_write += stage.exists() and proc.poll() is None
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert proc.stderr is not None
        proc.stderr.close()
        now = manifest(out)
        assert now in (before, after), f"{how} kill after {delay:.2f} s left a mixed or partial site"
        current = current if now == before else 1 - current
    assert killed_mid_write >= 2  # the kills did land while the new site was being staged
    make_seeds(seeds, 100, 1 - current)
    proc = run(work, seeds, out)
    assert proc.returncode == 0, proc.stderr
    # The same stories as a build of these seeds with no history (their names may differ: a story keeps
    # the URL an earlier build gave it).
    assert run(work, seeds, tmp_path / "fresh").returncode == 0
    assert groups(out) == groups(tmp_path / "fresh") and (out / "index.html").exists()
    assert not (work / ".site.new").exists() and not (work / ".site.old").exists()  # no stale stage left


@contextlib.contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[bool]:
    """A real, small file system at `folder` (CI runs as root); False where mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def _file_size_limit() -> None:  # pragma: no cover - runs in the child
    """Where no file system can be mounted: the kernel refuses every write beyond 1 kB (EFBIG), like a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


def assert_one_clear_failure(proc: subprocess.CompletedProcess[str], *reasons: str) -> None:
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("newsstand: ")]
    assert len(errors) == 1, proc.stderr
    assert "cannot write the site" in errors[0] and "the last good site is untouched" in errors[0]
    assert any(r in errors[0] for r in reasons), errors[0]


def test_a_full_disk_fails_with_one_message_and_loses_nothing(tmp_path: Path) -> None:
    work = config(tmp_path / "work")
    disk = tmp_path / "disk"
    with tmpfs(disk, "1m") as mounted:
        out = disk / "site"
        assert run(work, make_seeds(work / "small", 5), out).returncode == 0
        good = manifest(out)
        big = make_seeds(work / "big", 120, body_words=400)
        proc = run(work, big, out, preexec_fn=None if mounted else _file_size_limit)
        assert_one_clear_failure(proc, "No space left on device", "File too large")
        assert manifest(out) == good
        assert not (disk / ".site.new").exists()


def test_a_read_only_output_fails_with_one_message_and_loses_nothing(tmp_path: Path) -> None:
    work = config(tmp_path / "work")
    disk = tmp_path / "disk"
    with tmpfs(disk, "8m") as mounted:
        out = disk / "site"
        seeds = make_seeds(work / "seeds", 5)
        assert run(work, seeds, out).returncode == 0
        good = manifest(out)
        make_seeds(seeds, 5, variant=1)
        if mounted:
            assert subprocess.run(["mount", "-o", "remount,ro", str(disk)]).returncode == 0
        proc = run(work, seeds, out, preexec_fn=None if mounted else _file_size_limit)
        assert_one_clear_failure(proc, "Read-only file system", "File too large")
        assert manifest(out) == good
        if mounted:
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        proc = run(work, seeds, out)  # writable again: the next build just works
        assert proc.returncode == 0, proc.stderr
        assert manifest(out) != good


def test_an_output_under_a_file_is_one_clear_message(tmp_path: Path) -> None:
    work = config(tmp_path / "work")
    (tmp_path / "a-file").write_text("x")
    proc = run(work, make_seeds(work / "seeds", 3), tmp_path / "a-file" / "site")
    assert_one_clear_failure(proc, "Not a directory", "File exists")


def test_a_second_build_on_the_same_output_is_told_and_changes_nothing(tmp_path: Path) -> None:
    work = config(tmp_path / "work")
    seeds = make_seeds(work / "seeds", 5)
    out = work / "site"
    assert run(work, seeds, out).returncode == 0
    good = manifest(out)
    make_seeds(seeds, 5, variant=1)
    with OutputLock(out.absolute()):  # another build is writing
        proc = run(work, seeds, out)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "another build is writing" in proc.stderr
    assert manifest(out) == good


def test_builds_started_together_never_corrupt_the_output(tmp_path: Path) -> None:
    work = config(tmp_path / "work")
    seeds = make_seeds(work / "seeds", 60)
    assert run(work, seeds, tmp_path / "ref").returncode == 0
    expected = manifest(tmp_path / "ref")
    out = work / "site"
    procs = [
        subprocess.Popen(command(seeds, out), cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    assert any(code == 0 for code, _ in results)
    for code, err in results:
        assert "Traceback" not in err
        assert code == 0 or "another build is writing" in err, err
    assert manifest(out) == expected
    assert not (work / ".site.new").exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_build_cleans_its_stage(tmp_path: Path, signum: int) -> None:
    work = config(tmp_path / "work")
    seeds = make_seeds(work / "seeds", 150)
    out = work / "site"
    assert run(work, make_seeds(work / "first", 3), out).returncode == 0
    good = manifest(out)
    proc = subprocess.Popen(command(seeds, out), cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (work / ".site.new").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signum)
    err = proc.communicate(timeout=60)[1]
    assert "Traceback" not in err or signum == signal.SIGINT
    if manifest(out) != good:  # the signal came after the swap: the new site, complete
        assert proc.returncode in (0, 1) and (out / "index.html").is_file()
    assert not (work / ".site.new").exists(), (proc.returncode, err)  # no stage left behind
    if signum == signal.SIGTERM and proc.returncode == 1:
        assert "terminated while writing the site; the last good site is untouched" in err
