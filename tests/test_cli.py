import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


KNOWN = "known settings: title, description, language, base_url"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        # A value of the wrong kind: the key's place, the key, what it accepts, what it got.
        ("title: Harbour News\njobs: x\n", "newsstand.yaml:2:1: jobs: expected a whole number from 0 to 1000, got 'x'"),
        ("title: Harbour News\n\n  # a comment\npage_size:   many\n", "newsstand.yaml:4:1: page_size: expected"),
        # An unknown key: the nearest known one, then all of them.
        ("seeds: seeds\ntitel: News\n", f"newsstand.yaml:2:1: titel: unknown setting; did you mean 'title'? {KNOWN}"),
        ("colour_scheme: dark\n", f"newsstand.yaml:1:1: colour_scheme: unknown setting; {KNOWN}"),
        # A setting of a few values lists them; a time zone suggests the nearest.
        ("title: x\nshow_images: maybe\n", "newsstand.yaml:2:1: show_images: expected true or false, got 'maybe'"),
        (
            "timezone: Europe/Londn\n",
            "newsstand.yaml:1:1: timezone: expected an IANA time zone such as UTC or Europe/London, got "
            "'Europe/Londn'; did you mean 'Europe/London'?",
        ),
        # Nested values: the item in the list, the key in the item.
        (
            "feeds:\n  - https://a.example/feed\n  - name: B\n    url: ftp://b.example/feed\n",
            "newsstand.yaml:4:5: feeds[1].url: expected an absolute http(s) URL, got 'ftp://b.example/feed'",
        ),
        (
            "feeds:\n  - https://a.example/feed\n  - ftp://b.example/feed\n",
            "newsstand.yaml:3:5: feeds[1].url: expected an absolute http(s) URL, got 'ftp://b.example/feed'",
        ),
        (
            "feeds:\n  - url: https://a.example/feed\n    topics: [Ports, {b: 1}]\n",
            "newsstand.yaml:3:21: feeds[0].topics[1]: expected text, got {'b': 1}",
        ),
        (
            "feeds:\n  - url: https://a.example/feed\n    colour: red\n",
            "newsstand.yaml:3:5: feeds[0].colour: unknown key; known keys: url, name, topics, weight",
        ),
        ("feeds: https://a.example/feed\n", "newsstand.yaml:1:1: feeds: expected a list of feeds"),
        # The file as a whole.
        ("- title\n- jobs\n", "newsstand.yaml:1:1: expected a mapping of settings at the top level"),
        (
            "title: [unclosed\njobs: 1\n",
            "newsstand.yaml:2:5: not valid YAML: while parsing a flow sequence expected ',' or ']', but got ':'",
        ),
    ],
)
def test_a_config_error_names_the_file_line_column_key_and_what_it_accepts(
    tmp_path: Path, config: str, message: str
) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "newsstand.yaml").write_text(config, encoding="utf-8")
    proc = run("build", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith(message), line
    assert not (tmp_path / "site").exists()


def test_a_config_file_named_on_the_command_line_is_named_as_given_and_a_flag_by_its_setting(tmp_path: Path) -> None:
    (tmp_path / "blog").mkdir()
    (tmp_path / "blog" / "newsstand.yaml").write_text("title: Blog\nlanguage: 12\n", encoding="utf-8")
    proc = run("build", "--config", "blog/newsstand.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["blog/newsstand.yaml:2:1: language: expected text, got 12"]
    (tmp_path / "blog" / "newsstand.yaml").write_text("title: Blog\n", encoding="utf-8")
    proc = run("build", "--config", "blog/newsstand.yaml", "--base-url", "ftp://example.org/", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "newsstand: base_url: expected an absolute http(s) URL such as https://example.org/news/, got 'ftp://example.org/'"
    ]
