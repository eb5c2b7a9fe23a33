"""Hostile and broken seeds next to the real ones: each is reported once, precisely, and the rest is built.

One table lists every class of bad input the build must survive: what the one problem says, where
(line and column when YAML gives them, the field's line when normalizing), and whether the whole file
is left out, only a field or item of it, or nothing at all (valid input that merely looks odd).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from newsstand.build import build
from newsstand.markup import MAX_BODY_CHARS
from newsstand.normalize import MAX_EXCERPT, MAX_TITLE
from newsstand.problems import Problem
from newsstand.read import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES

from .conftest import ROOT, SEEDS, settings_for

WHEN = "publishedDateTime: 2020-01-24T12:00:00Z\n"
PROVIDER = "provider:\n  name: Example\n  domain: example.com\n"


def url(case: str) -> str:
    return f"https://hostile.example.com/{case}"


def seed(case: str, extra: str = "", body: str = "", title: str = "'A fine story'", lead: bool = True) -> str:
    """A valid seed for `case` (its own URL), with `extra` front matter lines and a body."""
    head = f"title: {title}\n{WHEN}webUrl: {url(case)}\n{PROVIDER}" if lead else ""
    return f"---\n{head}{extra}---\n{body}"


def bomb(levels: int = 9, width: int = 10) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join(f"*a{i - 1}" for _ in range(width)) + "]")
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 12) -> str:
    lines = ["m0: &m0 {k0: 1, k1: 2, k2: 3}"]
    for i in range(1, levels):
        lines.append(f"m{i}: &m{i}\n  <<: [" + ", ".join(f"*m{i - 1}" for _ in range(8)) + f"]\n  own{i}: 1")
    return "\n".join(lines) + "\n"


def block_nest(depth: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "leaf\n"


# (case, file content, words in the one problem, expected position, outcome)
#   position: "L:C" line and column, "L" line only, "" no position
#   outcome:  "rejected" the file is left out; "kept" reported but the story is built; "clean" no problem
CASES: list[tuple[str, str | bytes, str, str, str]] = [
    # broken YAML
    ("unclosed_quote", f'---\ntitle: "never closed\nwebUrl: {url("x")}\n{WHEN}---\n', "invalid YAML", "4:", "rejected"),
    ("unclosed_flow", "---\ntitle: [a, b\nwebUrl: x\n---\n", "invalid YAML", "3:7", "rejected"),
    ("bad_indentation", seed("bad_indentation", "topics:\n  - a\n bad: indent\n"), "invalid YAML", "10:2", "rejected"),
    ("tab_indentation", seed("tab_indentation", "topics:\n\t- a\n"), "invalid YAML", "9:1", "rejected"),
    ("second_document", seed("second_document", "--- x\n"), "invalid YAML", "8:1", "rejected"),
    (
        "duplicate_anchorless_alias",
        seed("duplicate_anchorless_alias", "x: *nothing\n"),
        "invalid YAML",
        "8:4",
        "rejected",
    ),
    # fences and empty files
    (
        "no_fence",
        f"title: no fences\nwebUrl: {url('no_fence')}\n",
        "expected '---' on the first line",
        "1:1",
        "rejected",
    ),
    (
        "unterminated_fence",
        f"---\ntitle: open\nwebUrl: {url('unterminated_fence')}\n",
        "never closed",
        "1:1",
        "rejected",
    ),
    ("empty", "", "empty file", "", "rejected"),
    ("blank", "  \n\n \t\n", "empty file", "", "rejected"),
    ("empty_front_matter", "---\n---\nbody only\n", "not empty", "2:1", "rejected"),
    # front matter of the wrong shape
    ("front_is_list", "---\n- title: a\n- title: b\n---\n", "mapping of fields, not list", "2:1", "rejected"),
    ("front_is_scalar", "---\njust a sentence\n---\n", "mapping of fields, not str", "2:1", "rejected"),
    ("front_is_number", "---\n42\n---\n", "mapping of fields, not int", "2:1", "rejected"),
    # required fields
    (
        "missing_title",
        f"---\n{WHEN}webUrl: {url('missing_title')}\n---\n",
        "title: missing or empty; file left out",
        "",
        "rejected",
    ),
    (
        "empty_title",
        f"---\ntitle: '   '\n{WHEN}webUrl: {url('empty_title')}\n---\n",
        "title: missing or empty",
        "2",
        "rejected",
    ),
    (
        "title_is_a_list",
        f"---\ntitle: [a, b]\n{WHEN}webUrl: {url('title_is_a_list')}\n---\n",
        "title: expected text, got list",
        "2",
        "rejected",
    ),
    ("missing_url", f"---\ntitle: No link\n{WHEN}---\n", "no URL (webUrl or sourceUrl); file left out", "", "rejected"),
    (
        "missing_date",
        f"---\ntitle: Undated\nwebUrl: {url('missing_date')}\n---\n",
        "publishedDateTime: missing",
        "",
        "rejected",
    ),
    (
        "not_a_date",
        f"---\ntitle: When\npublishedDateTime: yesterday\nwebUrl: {url('not_a_date')}\n---\n",
        "not a date: 'yesterday'",
        "3",
        "rejected",
    ),
    (
        "date_out_of_range",
        f"---\ntitle: When\npublishedDateTime: 1066-10-14\nwebUrl: {url('date_out_of_range')}\n---\n",
        "date out of range",
        "3",
        "rejected",
    ),
    (
        "date_is_a_list",
        f"---\ntitle: When\npublishedDateTime: [2020]\nwebUrl: {url('date_is_a_list')}\n---\n",
        "not a date",
        "3",
        "rejected",
    ),
    # unsafe URLs
    (
        "javascript_url",
        f"---\ntitle: Click\n{WHEN}webUrl: 'javascript:alert(1)'\n---\n",
        "webUrl: not an http(s) URL",
        "4",
        "rejected",
    ),
    (
        "data_url",
        f"---\ntitle: Click\n{WHEN}webUrl: 'data:text/html,<script>alert(1)</script>'\n---\n",
        "not an http(s) URL",
        "4",
        "rejected",
    ),
    (
        "vbscript_url",
        f"---\ntitle: Click\n{WHEN}sourceUrl: 'vbscript:msgbox(1)'\n---\n",
        "sourceUrl: not an http(s) URL",
        "4",
        "rejected",
    ),
    (
        "protocol_relative_url",
        f"---\ntitle: Click\n{WHEN}webUrl: '//evil.example/x'\n---\n",
        "not an http(s) URL",
        "4",
        "rejected",
    ),
    (
        "backslash_url",
        f"---\ntitle: Click\n{WHEN}webUrl: 'https:\\\\evil.example\\x'\n---\n",
        "not an http(s) URL",
        "4",
        "rejected",
    ),
    (
        "bad_amp_alternate",
        seed("bad_amp_alternate", "ampWebUrl: 'javascript:alert(1)'\n"),
        "ampWebUrl: not an http(s) URL",
        "8",
        "kept",
    ),
    (
        "javascript_image",
        seed("javascript_image", "images:\n  - url: 'javascript:alert(1)'\n    width: 10\n    height: 10\n"),
        "images[0].url: not an http(s) URL",
        "9",
        "kept",
    ),
    (
        "data_logo",
        seed(
            "data_logo",
            lead=False,
            extra=f"title: Logo\n{WHEN}webUrl: {url('data_logo')}\n"
            "provider:\n  name: Logo\n  domain: example.com\n  images:\n    - url: 'data:image/svg+xml,<svg onload=alert(1)>'\n",
        ),
        "provider.images[0].url: not an http(s) URL",
        "9",
        "kept",
    ),
    (
        "body_link",
        seed("body_link", body="Hello\n\n[a](javascript:alert(1)) [ok](https://ok.example.com)\n"),
        "body: link to 'javascript:alert(1)' dropped",
        "9",
        "kept",
    ),
    (
        "body_image",
        seed("body_image", body="![b](data:image/png;base64,AAAA)\n"),
        "body: image to 'data:image/png;base64,AAAA' dropped",
        "9",
        "kept",
    ),
    # tags: refused, never constructed
    (
        "python_object",
        seed("python_object", "x: !!python/object/apply:os.system ['touch /tmp/newsstand-pwned']\n"),
        "YAML tag '!!python/object/apply:os.system' is not allowed",
        "8:4",
        "rejected",
    ),
    ("python_name", seed("python_name", "x: !!python/name:os.system\n"), "is not allowed", "8:4", "rejected"),
    (
        "binary_tag",
        seed("binary_tag", "x: !!binary aGVsbG8=\n"),
        "YAML tag '!!binary' is not allowed",
        "8:4",
        "rejected",
    ),
    ("custom_tag", seed("custom_tag", "x: !custom {a: 1}\n"), "YAML tag '!custom' is not allowed", "8:4", "rejected"),
    # size and shape bombs
    ("alias_bomb", seed("alias_bomb", bomb()), "too large: more than 50,000 values", "12:", "rejected"),
    ("merge_key_bomb", seed("merge_key_bomb", merge_bomb()), "too large", "22:", "rejected"),
    (
        "deep_flow",
        seed("deep_flow", "x: " + "[" * 100_000 + "]" * 100_000 + "\n"),
        f"nested more than {MAX_DEPTH} levels",
        "",
        "rejected",
    ),
    (
        "deep_block_list",
        seed("deep_block_list", "x:\n  " + "- " * 100_000 + "leaf\n"),
        "nested more than",
        "9:",
        "rejected",
    ),
    ("deep_block_map", seed("deep_block_map", block_nest(40)), "nested more than", "28:", "rejected"),
    (
        "oversized_file",
        seed("oversized_file", "filler: '" + "a" * MAX_FILE_BYTES + "'\n"),
        "limit of 2,097,152 bytes",
        "",
        "rejected",
    ),
    (
        "huge_excerpt",
        seed("huge_excerpt", "excerpt: '" + "word " * 300_000 + "'\n"),
        f"cut to the limit of {MAX_EXCERPT:,}",
        "8",
        "kept",
    ),
    (
        "huge_title",
        seed("huge_title", title="'" + "Long " * 5_000 + "'"),
        f"title: 24,999 characters, cut to the limit of {MAX_TITLE}",
        "2",
        "kept",
    ),
    (
        "huge_body",
        seed("huge_body", body="Words and more words. " * 20_000),
        f"cut to the limit of {MAX_BODY_CHARS:,}",
        "9",
        "kept",
    ),
    # bytes
    (
        "not_utf8",
        b"---\ntitle: caf\xe9\n" + WHEN.encode() + f"webUrl: {url('not_utf8')}\n---\n".encode(),
        "not UTF-8 text (byte 0xe9)",
        "2:11",
        "rejected",
    ),
    ("utf16", "---\ntitle: x\n---\n".encode("utf-16"), "not UTF-8", "1:1", "rejected"),
    ("nul_bytes", seed("nul_bytes", "x: a\x00b\n"), "NUL", "", "rejected"),
    # wrong types and bad items: reported, the rest of the story kept
    (
        "related_without_url",
        seed("related_without_url", f"related:\n  - title: Orphan\n    {WHEN}"),
        "related[0]: no URL (webUrl or sourceUrl); item left out",
        "9",
        "kept",
    ),
    (
        "related_not_a_mapping",
        seed("related_not_a_mapping", "related:\n  - just text\n"),
        "related[0]: expected a mapping of fields, got str",
        "9",
        "kept",
    ),
    (
        "related_not_a_list",
        seed("related_not_a_list", "related: nope\n"),
        "related: expected a list of articles",
        "8",
        "kept",
    ),
    (
        "quality_not_a_number",
        seed("quality_not_a_number", "quality: lots\n"),
        "quality: expected a number, got 'lots'",
        "8",
        "kept",
    ),
    (
        "published_not_a_bool",
        seed("published_not_a_bool", "published: maybe\n"),
        "published: expected true or false",
        "8",
        "kept",
    ),
    ("draft_not_a_bool", seed("draft_not_a_bool", "draft: sometimes\n"), "draft: expected true or false", "8", "kept"),
    (
        "topic_is_a_mapping",
        seed("topic_is_a_mapping", "topics:\n  - {a: 1}\n"),
        "topics[0]: expected text, got dict",
        "9",
        "kept",
    ),
    (
        "provider_is_a_list",
        seed(
            "provider_is_a_list",
            lead=False,
            extra=f"title: P\n{WHEN}webUrl: {url('provider_is_a_list')}\nprovider: [a]\n",
        ),
        "provider: expected a mapping with name and domain",
        "5",
        "kept",
    ),
    (
        "bad_provider_domain",
        seed(
            "bad_provider_domain",
            lead=False,
            extra=f"title: P\n{WHEN}webUrl: {url('bad_provider_domain')}\n"
            "provider:\n  name: P\n  domain: '../../etc'\n",
        ),
        "provider.domain: not a domain name",
        "7",
        "kept",
    ),
    # valid, if odd: accepted without a problem
    ("bom_crlf", ("\ufeff" + seed("bom_crlf")).replace("\n", "\r\n").encode(), "", "", "clean"),
    (
        "naive_date",
        seed(
            "naive_date",
            lead=False,
            extra=f"title: Naive\npublishedDateTime: 2020-01-24 12:00:00\nwebUrl: {url('naive_date')}\n",
        ),
        "",
        "",
        "clean",
    ),
    ("topics_as_one_string", seed("topics_as_one_string", "topics: Just One\n"), "", "", "clean"),
    ("number_as_title", seed("number_as_title", title="1984"), "", "", "clean"),
    (
        "unknown_fields",
        seed("unknown_fields", "colour: blue\nsecured: hunter2\nnested: {a: [1, 2]}\n"),
        "",
        "",
        "clean",
    ),
    ("small_aliases", seed("small_aliases", "tags: &t [a, b]\nmore: *t\n"), "", "", "clean"),
]


def test_cases_have_unique_names() -> None:
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[Problem]], set[str]]:
    """The five real seeds and one file per case, built into a site once."""
    root = tmp_path_factory.mktemp("hostile")
    seeds = root / "seeds"
    seeds.mkdir()
    for p in SEEDS.iterdir():
        (seeds / p.name).write_bytes(p.read_bytes())
    for name, content, *_ in CASES:
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (seeds / f"{name}.txt").write_bytes(data)
    result = build(settings_for(seeds, root / "site"))
    by_file: dict[str, list[Problem]] = {}
    for problem in result.problems:
        by_file.setdefault(Path(problem.path).stem, []).append(problem)
    data = json.loads((root / "site" / "stories.json").read_text())
    urls = {a["url"] for s in data["stories"] for a in s["articles"]}
    assert result.files_read == len(CASES) + 5
    return root, by_file, urls


def test_every_real_story_is_still_built(hostile_build, seeds_site) -> None:
    _, by_file, urls = hostile_build
    assert not any(p.stem in by_file for p in SEEDS.iterdir())
    alone = json.loads((seeds_site[0] / "stories.json").read_text())
    real = {a["url"] for s in alone["stories"] for a in s["articles"]}
    assert len(real) == 57 and real <= urls


@pytest.mark.parametrize(("case", "content", "words", "where", "outcome"), CASES, ids=[c[0] for c in CASES])
def test_each_bad_file_is_reported_once_precisely(hostile_build, case, content, words, where, outcome) -> None:
    root, by_file, urls = hostile_build
    problems = by_file.get(case, [])
    if outcome == "clean":
        assert problems == [] and url(case) in urls
        return
    assert len(problems) == 1, [str(p) for p in problems]
    (problem,) = problems
    assert problem.path == str(root / "seeds" / f"{case}.txt")
    assert words in problem.message
    position = "" if problem.line is None else f"{problem.line}" + ("" if problem.col is None else f":{problem.col}")
    if where.endswith(":"):  # the line is known, the column varies with the libyaml version
        assert position.startswith(where) and problem.col is not None
    else:
        assert position == where, str(problem)
    assert str(problem).startswith(f"{problem.path}:{position}: " if position else f"{problem.path}: ")
    assert problem.rejected == (outcome == "rejected")
    assert (url(case) in urls) == (outcome == "kept")


def test_no_tag_was_ever_constructed() -> None:
    assert not Path("/tmp/newsstand-pwned").exists()


def test_cut_text_keeps_its_limit(hostile_build) -> None:
    root, _, _ = hostile_build
    data = json.loads((root / "site" / "stories.json").read_text())
    (title,) = [a["title"] for s in data["stories"] for a in s["articles"] if a["url"] == url("huge_title")]
    assert len(title) == MAX_TITLE and title.endswith("…")


def test_parsing_hostile_yaml_cannot_crash_the_interpreter(tmp_path: Path) -> None:
    """Deep nesting and aliases, parsed in a child process: a segfault or stack overflow would show as a signal."""
    cases = {
        "block": "---\nx:\n  " + "- " * 500_000 + "a\n---\n",
        "flow_after_text": "---\nx: " + "[" * 10 + "a\ny: " + "{a: " * 200_000 + "\n---\n",
        "indent": "---\n" + block_nest(1000) + "---\n",
        "anchors": "---\n"
        + "".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" if i else "a0: &a0 [x]\n" for i in range(5000))
        + "---\n",
        "keys": "---\n" + "".join(f"k{i}: {i}\n" for i in range(60_000)) + "---\n",
    }
    for name, text in cases.items():
        (tmp_path / f"{name}.txt").write_text(text)
    code = (
        "import sys, json\nfrom pathlib import Path\nfrom newsstand.read import read_seed\n"
        "out = {}\nfor p in sorted(Path(sys.argv[1]).iterdir()):\n"
        "    record, problem = read_seed(p)\n    out[p.stem] = str(problem) if problem else 'ok'\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = json.loads(proc.stdout)
    assert set(found) == set(cases)
    assert "nested more than" in found["block"] and "nested more than" in found["indent"]
    assert "too large" in found["anchors"] and "too large" in found["keys"]
    assert found["flow_after_text"] != "ok"


def test_limits_are_what_the_readme_says() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"{MAX_FILE_BYTES:,}" in readme or "2 MiB" in readme
    assert f"{MAX_NODES:,}" in readme and f"{MAX_DEPTH}" in readme


# ---------------------------------------------------------------------------------------------
# Injection: hostile text everywhere a seed can put text, rendered, then the output parsed.

XSS = {
    "title": "<script>alert('title')</script>",
    "excerpt": "\"><img src=x onerror=alert('excerpt')><!--",
    "provider": "</script><script>alert('provider')</script>",
    "topic": "<svg onload=alert('topic')>",
    "image_title": "\" onmouseover=\"alert('image')",
}
XSS_BODY = """\
# Heading <script>alert('body')</script>

<img src=x onerror=alert('img')> <iframe src="javascript:alert('iframe')"></iframe>
<a href="javascript:alert('a')">a</a> <a href="&#106;avascript:alert('entity')">e</a> [md](javascript:alert('md'))
[vb](vbscript:msgbox) ![data](data:image/svg+xml;base64,PHN2Zz4=) [proto](//evil.example/x)
<style>body{background:url(javascript:alert('style'))}</style> <div style="x:expression(alert('css'))">d</div>
<svg><script>alert('svg')</script></svg> <math><mi xlink:href="javascript:alert('math')">m</mi></math>
<form action="javascript:alert('form')"><button formaction="javascript:alert(1)">b</button></form>
[ok](https://ok.example.com/page)
"""


def _yaml(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def hostile_seed(n: int, slug_text: str, topic: str, provider: str, domain: str) -> str:
    return (
        f"---\ntitle: {_yaml(slug_text)}\n{WHEN}webUrl: https://{domain}/story-{n}\n"
        f"excerpt: {_yaml(XSS['excerpt'])}\n"
        f"provider:\n  name: {_yaml(provider)}\n  domain: {domain}\n"
        f"topics:\n  - {_yaml(topic)}\n  - {_yaml(XSS['topic'])}\n"
        f"images:\n  - url: https://{domain}/i.jpg\n    width: 10\n    height: 10\n    title: {_yaml(XSS['image_title'])}\n"
        f"related:\n  - title: {_yaml(XSS['title'])}\n    {WHEN}    webUrl: https://{domain}/related-{n}\n"
        f"    provider: {{name: {_yaml(XSS['provider'])}, domain: {domain}}}\n"
        f"---\n{XSS_BODY}"
    )


# Titles, topics and providers whose slugs are empty, '..', punctuation only, or collide.
AWKWARD = [
    ("..", "..", "..", "dots.example.com"),
    ("!!!", "../../etc", "/", "bang.example.com"),
    ("/../../etc/passwd", "C++", "Foo!", "foo.example.com"),
    ("<script>alert('title')</script>", "C", "Foo?", "foo.example.org"),
    ("%2e%2e%2f", "c", "%00", "pct.example.com"),
    ("Ωμέγα — ★", "★", "★", "star.example.com"),
]


@pytest.fixture(scope="module")
def xss_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("xss")
    seeds = root / "seeds"
    seeds.mkdir()
    for n, (title, topic, provider, domain) in enumerate(AWKWARD):
        (seeds / f"x{n}.txt").write_text(hostile_seed(n, title, topic, provider, domain))
    result = build(settings_for(seeds, root / "site"))
    return root / "site", result


def test_hostile_text_never_becomes_markup(xss_site) -> None:
    from html.parser import HTMLParser

    site, result = xss_site
    assert result.articles == 2 * len(AWKWARD)

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.bad: list[str] = []
            self.script: dict[str, str | None] | None = None
            self.scripts: list[tuple[dict[str, str | None], str]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            # The theme's own drawings (a story's timeline, a list's sparkline) are the only SVG allowed.
            ours = tag == "svg" and a.get("class") in ("timeline", "spark-chart")
            if tag in ("iframe", "object", "embed", "svg", "math", "style", "base") and not ours:
                self.bad.append(f"<{tag}>")
            if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
                self.bad.append("meta refresh")
            for name, value in attrs:
                if name.startswith("on"):
                    self.bad.append(f"{tag}[{name}]")
                if name == "style" and value and ("alert" in value or "expression" in value or "url(" in value):
                    self.bad.append(f"{tag}[style]={value}")
                if name in ("href", "src", "action", "formaction", "xlink:href", "srcset", "poster") and value:
                    scheme = value.split(":", 1)[0].lower() if ":" in value.split("/", 1)[0] else ""
                    if value.startswith("//") or (scheme and scheme not in ("http", "https", "mailto")):
                        self.bad.append(f"{tag}[{name}]={value}")
            if tag == "script":
                self.script = a

        def handle_data(self, data: str) -> None:
            if self.script is not None:
                self.scripts.append((self.script, data))
                self.script = None

        def handle_endtag(self, tag: str) -> None:
            if tag == "script" and self.script is not None:
                self.scripts.append((self.script, ""))
                self.script = None

    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        raw = page.read_text(encoding="utf-8")
        reader = Reader()
        reader.feed(raw)
        assert reader.bad == [], f"{page}: {reader.bad}"
        assert raw.lower().count("<script") == len(reader.scripts), page
        for attrs, content in reader.scripts:
            if attrs.get("type") == "application/ld+json":
                assert "<" not in content and "-->" not in content  # no '</script>', no '<!--'
                json.loads(content)  # still valid JSON, whatever the seed text was
            else:
                assert attrs.get("src") and not content.strip(), f"{page}: inline script {content[:80]!r}"
                assert "alert" not in (attrs.get("src") or "")
    stories_json = (site / "stories.json").read_bytes()
    assert b"<" not in stories_json and b"alert('title')" in stories_json.replace(b"\\u003c", b"<")


def test_hostile_text_is_shown_as_text(xss_site) -> None:
    site, _ = xss_site
    home = (site / "index.html").read_text()
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in home or "&lt;script&gt;alert('title')" in home


def test_unsafe_body_urls_are_reported(xss_site) -> None:
    _, result = xss_site
    messages = [p.message for p in result.problems if p.path.endswith("x0.txt")]
    for fragment in (
        "javascript:alert('a')",
        "javascript:alert(",
        "vbscript:msgbox",
        "data:image/svg+xml",
        "//evil.example/x",
    ):
        assert any(fragment in m and "dropped" in m for m in messages), (fragment, messages)
    assert all(not p.rejected for p in result.problems)


def test_awkward_slugs_stay_inside_the_site_and_never_collide(xss_site) -> None:
    site, _ = xss_site
    root = site.resolve()
    for path in site.rglob("*"):
        assert root in path.resolve().parents
        assert path.name not in ("", ".", "..") and not path.name.startswith(".")
    for section in ("stories", "topics", "providers"):
        folders = [p.name for p in (site / section).iterdir() if p.is_dir()]
        assert folders and all(f and f.strip("-") and f not in ("..", ".") for f in folders)
        assert all((site / section / f / "index.html").is_file() for f in folders)
    topics = [p for p in (site / "topics").iterdir() if p.is_dir()]
    # '..', '../../etc', '★' (no usable characters), 'C++' and 'C' (both want 'c'; 'c' is 'C' case-folded)
    # and the XSS topic: every topic has a folder of its own.
    data = json.loads((site / "stories.json").read_text())
    names = {t for s in data["stories"] for a in s["articles"] for t in a["topics"]}
    assert len(topics) == len(names)
    providers = [p for p in (site / "providers").iterdir() if p.is_dir()]
    assert len(providers) == len(AWKWARD)  # one per domain, 'Foo!' and 'Foo?' included


@pytest.mark.parametrize(
    ("config", "message"),
    [
        # Ten to the ninth strings by aliases, and a list that holds itself: a bounded message, no hang.
        (
            "jobs:\n" + "\n".join(f"  - {line[4:]}" for line in bomb().splitlines()),
            "newsstand.yaml:1:1: jobs: expected a whole number from 0 to 1000, got [['lol', 'lol', 'lol', 'lol', 'lol', ...], [[",
        ),
        (
            "jobs: &x [1, *x]\n",
            "newsstand.yaml:1:1: jobs: expected a whole number from 0 to 1000, got [1, [1, [1, [...]]]]",
        ),
        ("feeds: &x [*x]\n", "newsstand.yaml:1:8: feeds[0]: expected a feed URL or a mapping"),
        ("title: " + "[" * 5000 + "\n", "newsstand.yaml: not valid YAML: RecursionError"),
        (
            "title: ok\ndescription: \x00\n",
            "newsstand.yaml:2:14: not valid YAML: special characters are not allowed #x0000",
        ),
        ("title: ok\n", "newsstand.yaml: not UTF-8 text (byte 11)"),
    ],
)
def test_a_hostile_config_file_is_an_error_not_a_crash(tmp_path: Path, config: str, message: str) -> None:
    data = config.encode() + (b"\xc3\x28" if "UTF-8" in message else b"")
    (tmp_path / "newsstand.yaml").write_bytes(data)
    proc = subprocess.run(
        [sys.executable, "-m", "newsstand", "check"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    (line,) = proc.stderr.splitlines()
    assert line.startswith(message) and len(line) < 400, line
