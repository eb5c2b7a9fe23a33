import json
import re
import subprocess
import sys
from pathlib import Path

from newsstand.cli import main

from .conftest import ROOT, story_file


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsstand", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_build_prints_a_summary_and_problems(tmp_path: Path, seed_dir) -> None:
    seeds = seed_dir(copy_real=True, bad__txt="---\ntitle: [unclosed\n---\n", ok__txt=story_file())
    proc = run("build", "--seeds", str(seeds), "--out", str(tmp_path / "site"))
    assert proc.returncode == 0, proc.stderr
    assert "7 files read, 1 rejected" in proc.stdout and "stories" in proc.stdout and "pages" in proc.stdout
    (line,) = [x for x in proc.stderr.splitlines() if "bad.txt" in x]
    path, lineno, col, message = line.split(":", 3)
    assert path.endswith("bad.txt") and lineno.isdigit() and col.isdigit() and "invalid YAML" in message
    assert (tmp_path / "site" / "index.html").is_file()


def test_check_exits_1_on_problems_and_0_on_clean_seeds(tmp_path: Path, seed_dir) -> None:
    assert run("check").returncode == 0
    seeds = seed_dir(copy_real=True, empty__txt="")
    proc = run("check", "--seeds", str(seeds))
    assert proc.returncode == 1 and "empty.txt: empty file" in proc.stderr
    assert not (tmp_path / "site").exists()


def test_strict_fails_and_keeps_the_last_good_site(tmp_path: Path, seed_dir) -> None:
    seeds = seed_dir(ok__txt=story_file())
    out = tmp_path / "site"
    assert main(["build", "--seeds", str(seeds), "--out", str(out)]) == 0
    good = (out / "index.html").read_bytes()
    (seeds / "bad.txt").write_text("not a seed")
    proc = run("build", "--seeds", str(seeds), "--out", str(out), "--strict")
    assert proc.returncode == 1
    assert "bad.txt:1:1:" in proc.stderr and "--strict" in proc.stderr  # the problem itself, then why it failed
    assert (out / "index.html").read_bytes() == good


def test_config_file_is_read_and_validated(tmp_path: Path, seed_dir, capsys) -> None:
    seeds = seed_dir(ok__txt=story_file())
    config = tmp_path / "newsstand.yaml"
    config.write_text(f"title: My Wire\nseeds: {seeds}\nout: {tmp_path / 'out'}\n")
    assert main(["build", "--config", str(config)]) == 0
    assert "<title>My Wire</title>" in (tmp_path / "out" / "index.html").read_text()
    config.write_text("titel: typo\n")
    assert main(["build", "--config", str(config)]) == 1
    assert "did you mean 'title'" in capsys.readouterr().err
    config.write_text("page_size: many\n")
    assert main(["build", "--config", str(config)]) == 1
    assert "page_size" in capsys.readouterr().err


def test_missing_seeds_folder_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["build", "--seeds", str(tmp_path / "nope"), "--out", str(tmp_path / "site")]) == 1
    assert "no such folder" in capsys.readouterr().err


def test_drafts_flag(tmp_path: Path, seed_dir) -> None:
    seeds = seed_dir(
        d__txt=story_file(title="Secret draft", extra="draft: true\n"), ok__txt=story_file(url="https://example.com/b")
    )
    out = tmp_path / "site"
    main(["build", "--seeds", str(seeds), "--out", str(out)])
    assert "Secret draft" not in (out / "stories.json").read_text()
    main(["build", "--seeds", str(seeds), "--out", str(out), "--drafts"])
    assert "Secret draft" in (out / "stories.json").read_text()


def test_timings_name_every_stage_with_its_seconds_and_the_peak_memory_after_it(tmp_path: Path, seed_dir) -> None:
    seeds = seed_dir(copy_real=True)
    proc = run("build", "--seeds", str(seeds), "--out", str(tmp_path / "site"), "--timings", "--no-search")
    assert proc.returncode == 0, proc.stderr
    seconds, memory = proc.stdout.splitlines()[-2:]
    stages = ["read", "normalize", "cluster+rank", "plan", "signatures", "render+write"]
    for stage in stages:
        assert re.search(rf"\b{re.escape(stage)} \d+\.\d\d s\b", seconds), (stage, seconds)
    peaks = [float(mb) for mb in re.findall(r" (\d+) MB", memory)]
    assert memory.startswith("  peak memory after read ") and len(peaks) == len(stages)
    assert peaks == sorted(peaks) and peaks[0] > 10  # a peak never falls, and Python alone takes more than 10 MB


def test_the_clustering_window_and_threshold_are_settings(tmp_path: Path, capsys) -> None:
    """The editor's two clustering knobs, from newsstand.yaml: checked, and they change the stories."""
    config = tmp_path / "newsstand.yaml"
    base = f"seeds: {ROOT / 'seeds'}\nsearch: false\n"
    counts = {}
    for threshold in (0.26, 0.9):
        out = tmp_path / f"out-{threshold}"
        config.write_text(base + f"out: {out}\ncluster_threshold: {threshold}\ncluster_window_hours: 48\n")
        assert main(["build", "--config", str(config)]) == 0
        counts[threshold] = len(json.loads((out / "stories.json").read_text())["stories"])
    assert counts[0.9] > counts[0.26]  # a stricter threshold joins fewer reports
    for bad in ("cluster_threshold: 1.5", "cluster_window_hours: 0", "cluster_threshold: high"):
        config.write_text(base + bad + "\n")
        assert main(["build", "--config", str(config)]) == 1
        assert bad.split(":")[0] in capsys.readouterr().err
