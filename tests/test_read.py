from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsstand.read import (
    _REFERENCE_SYNTAX,
    _TRIGGERS,
    MAX_FILE_BYTES,
    parse_seed,
    read_seed,
    read_seeds,
    seed_files,
    seed_name,
    seed_paths,
)

from .conftest import SEEDS

GOOD = b"---\ntitle: A\nwebUrl: https://a.com/x\n---\nSome *body*\n"


def problem_for(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "s.txt"
    path.write_bytes(data)
    record, problem = read_seed(path)
    assert record is None and problem is not None and problem.rejected
    return str(problem)


def test_front_matter_and_body_are_split() -> None:
    record = parse_seed("s.txt", GOOD)
    assert record.front == {"title": "A", "webUrl": "https://a.com/x"}
    assert record.body.strip() == "Some *body*"
    assert record.body_line == 5


def test_bom_and_crlf_are_accepted() -> None:
    record = parse_seed("s.txt", b"\xef\xbb\xbf" + GOOD.replace(b"\n", b"\r\n"))
    assert record.front["title"] == "A"


def test_broken_yaml_is_reported_with_its_position(tmp_path: Path) -> None:
    message = problem_for(tmp_path, b'---\ntitle: "unclosed\nwebUrl: x\n---\n')
    assert message.startswith(str(tmp_path / "s.txt") + ":")
    line, col = message.split(":")[1:3]
    assert line.isdigit() and col.isdigit() and int(line) >= 2


def test_bad_indentation_and_tabs(tmp_path: Path) -> None:
    assert "invalid YAML" in problem_for(tmp_path, b"---\ntitle: a\n  bad: indent\n---\n")
    assert "invalid YAML" in problem_for(tmp_path, b"---\ntitle: a\n\tx: 1\n---\n")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty file"),
        (b"title: no fences\n", "'---'"),
        (b"---\ntitle: never closed\n", "never closed"),
        (b"---\n- a\n- b\n---\n", "mapping"),
        (b"---\njust a string\n---\n", "mapping"),
        (b"---\n---\n", "mapping"),
        (b"---\ntitle: \xff\xfe bad\n---\n", "not UTF-8"),
        (b"---\nx: !!python/object/apply:os.system ['echo hi']\n---\n", "is not allowed"),
    ],
)
def test_bad_files_are_rejected_with_a_message(tmp_path: Path, data: bytes, words: str) -> None:
    assert words in problem_for(tmp_path, data)


def test_alias_bomb_is_refused_before_anything_walks_it(tmp_path: Path) -> None:
    lines = ["---", 'a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join(f"*{prev}" for _ in range(10)) + "]")
    lines.append("title: bomb")
    lines.append("---")
    assert "too large" in problem_for(tmp_path, "\n".join(lines).encode())


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    assert "nested" in problem_for(tmp_path, b"---\nx: " + b"[" * 5000 + b"]" * 5000 + b"\n---\n")


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    assert "limit" in problem_for(tmp_path, b"---\ntitle: " + b"a" * (MAX_FILE_BYTES + 10) + b"\n---\n")


def test_seed_paths_are_sorted_and_skip_hidden(tmp_path: Path) -> None:
    for name in ("b.txt", "a.txt", ".hidden.txt", "notes.json"):
        (tmp_path / name).write_bytes(GOOD)
    assert [p.name for p in seed_paths(tmp_path)] == ["a.txt", "b.txt"]
    records, problems = read_seeds(seed_paths(tmp_path))
    assert len(records) == 2 and not problems


# The fast parser (yaml-rs) may be used only where it gives exactly PyYAML's safe-load result.

ODD_SCALARS = [
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "012",
    "0o12",
    "0x1F",
    "1_000",
    "1e3",
    "1.5e3",
    ".inf",
    "-.Inf",
    ".nan",
    "190:20:30",
    "2020-01-01 10:00",
    "2020-1-1",
    "2020-01-01t10:00:00z",
    "=",
    "~",
    "null",
    "",
    "+12",
    "-0",
    "0.",
    "3.14",
    "true",
    "False",
    "2020-01-24T12:05:00+01:00",
    "2020-02-11",
    "Yes we can",
    "a: b",
    "x # comment",
    "https://a.com/?a=1&b=2",
    "/relative/logo.png",
    "[yes, no]",
    "{a: on}",
    '"quoted: yes"',
    "'single ''quoted'''",
    "&anchor value",
    "*alias",
    "!!str 12",
    "|\n  block",
    ">\n  folded",
    "- nested",
    "? complex",
]


def test_fast_parser_agrees_with_pyyaml_on_every_seed_and_odd_scalar() -> None:
    import yaml

    from newsstand.read import _decode, _split, fast_load

    texts = [_split(_decode(p.read_bytes()))[0] for p in sorted(SEEDS.iterdir())]
    assert all(fast_load(t) is not None for t in texts)  # the real seeds take the fast path
    for value in ODD_SCALARS:
        for template in ("key: {v}\n", "key:\n  - {v}\n", "{v}: 1\n", "outer:\n  inner: {v}\n", "- {v}\n"):
            texts.append(template.format(v=value))
    taken = 0
    for text in texts:
        fast = fast_load(text)
        if fast is None:
            continue
        taken += 1
        assert fast == yaml.load(text, Loader=yaml.CSafeLoader), text
        # Types too: 1 and 1.0 and True compare equal in Python.
        assert repr(fast) == repr(yaml.load(text, Loader=yaml.CSafeLoader)), text
    assert taken > 40


def test_fast_and_reference_paths_give_the_same_records() -> None:
    from newsstand import read

    for path in sorted(SEEDS.iterdir()):
        data = path.read_bytes()
        fast = read.parse_seed(str(path), data)
        text = read._split(read._decode(data))[0]
        original, read._fast_loads = read._fast_loads, None
        try:
            reference = read.parse_seed(str(path), data)
        finally:
            read._fast_loads = original
        assert fast.front == reference.front and fast.body == reference.body
        assert fast.line_of("related[1].webUrl") == reference.line_of("related[1].webUrl") is not None
        assert text


def test_a_file_built_to_make_the_subset_check_backtrack_is_read_at_once(tmp_path: Path) -> None:
    """Lines with trailing spaces and one bad line at the end: a regex over the whole document tried
    every way of splitting each earlier line (12 lines: a minute; 40: years), hostage to one file. Run
    in a child process, so a regression fails here instead of hanging the suite."""
    import subprocess
    import sys

    text = "---\n" + "".join(f"key{i}: value {i}   \n" for i in range(40)) + "title: x\x02: y\n---\n"
    (tmp_path / "bomb.md").write_text(text)
    code = (
        "import sys; from pathlib import Path; from newsstand.read import read_seed; "
        "print(type(read_seed(Path(sys.argv[1]))).__name__)"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "bomb.md")], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("reading one 45-line file took over two minutes: the subset check backtracks again")
    assert done.returncode == 0, done.stderr


@given(
    st.lists(st.sampled_from([*list(" -:\n\tab#&*!%|>@`\"'?<[]{}"), " " * 16, "- ", ": "]), max_size=40).map("".join)
)
@settings(max_examples=3000, deadline=None)
def test_the_reference_syntax_is_only_looked_for_where_its_characters_are(text: str) -> None:
    # The prefilter may let a text through only if the full pattern would not have matched it either.
    if _TRIGGERS.search(text) is None:
        assert _REFERENCE_SYNTAX.search(text) is None


def test_seed_name_is_the_name_seed_files_gives(tmp_path: Path) -> None:
    folder = tmp_path / "seeds"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    for name in ("a.txt", "sub/b.md", ".c.txt", "d.json", ".hidden/e.txt"):
        (folder / name).write_text("---\ntitle: x\n---\n")
    names = seed_files(folder)
    assert names == [str(folder / "a.txt"), str(folder / "sub" / "b.md")]
    for name in ("a.txt", "sub/b.md", ".c.txt", "d.json", ".hidden/e.txt"):
        expected = str(folder / name) if str(folder / name) in names else None
        assert seed_name(folder, str((folder / name).absolute())) == expected, name
    assert seed_name(folder, str(tmp_path / "a.txt")) is None and seed_name(folder, str(folder)) is None
