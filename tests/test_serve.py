"""The dev server: only files inside site/, on this machine unless asked, and errors shown until fixed."""

from __future__ import annotations

import http.client
import io
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from newsstand.serve import ServeState, site_app

from .conftest import SEEDS, free_port, own_template, story_file, wait_until_listening

# ---------------------------------------------------------------------------------------------
# The WSGI app, called directly


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "a").mkdir(parents=True)
    (root / "index.html").write_text("<html><body><p>home</p></body></html>")
    (root / "a" / "index.html").write_text("<html><body>a</body></html>")
    (root / "404.html").write_text("<html><body>not here</body></html>")
    (root / "style.css").write_text("p{}")
    (tmp_path / "secret.txt").write_text("top secret")
    (tmp_path / "secret-dir").mkdir()
    (tmp_path / "secret-dir" / "index.html").write_text("secret index")
    (root / "link-out.txt").symlink_to(tmp_path / "secret.txt")
    (root / "dir-out").symlink_to(tmp_path / "secret-dir")
    (root / "link-in.css").symlink_to(root / "style.css")
    return root


def get(app: Callable, path: str) -> tuple[str, dict[str, str], bytes]:
    captured: dict[str, object] = {}

    def start(status: str, headers: list[tuple[str, str]]) -> None:
        captured["status"], captured["headers"] = status, dict(headers)

    # PEP 3333: PATH_INFO arrives percent-decoded, as latin-1 code points.
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()}
    body = b"".join(app(environ, start))
    return captured["status"], captured["headers"], body  # type: ignore[return-value]


def test_serves_files_directories_and_the_404_page(site: Path) -> None:
    app = site_app(site, ServeState())
    status, headers, body = get(app, "/")
    assert status == "200 OK" and b"home" in body and headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert get(app, "/style.css")[1]["Content-Type"] == "text/css; charset=utf-8"
    assert get(app, "/link-in.css")[0] == "200 OK"  # a symlink that stays inside is fine
    status, headers, _ = get(app, "/a")
    assert status == "301 Moved Permanently" and headers["Location"] == "/a/"
    assert get(app, "/a/")[2] == b"<html><body>a</body></html>"
    status, _, body = get(app, "/no/such/page")
    assert status == "404 Not Found" and b"not here" in body


def test_the_preview_serves_pages_without_their_content_security_policy(site: Path) -> None:
    # Live reload and the error banner are inline script and style: under the pages' policy they would not run.
    page = '<html><head><meta http-equiv="Content-Security-Policy" content="script-src \'self\'">\n</head><body>x</body></html>'
    (site / "csp.html").write_text(page)
    body = get(site_app(site, ServeState()), "/csp.html")[2]
    assert b"Content-Security-Policy" not in body and body == b"<html><head></head><body>x</body></html>"
    assert "Content-Security-Policy" in (site / "csp.html").read_text()


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/a/../../secret.txt",
        "/..",
        "/a/..",
        "/./index.html",
        "/..\\secret.txt",
        "/a\\..\\..\\secret.txt",
        "/index.html\x00.css",
        "/link-out.txt",
        "/dir-out/",
        "/dir-out/index.html",
        "/%2e%2e/secret.txt".replace("%2e", "."),  # what a server hands over once it has decoded %2e
        "/\xc0\xae\xc0\xae/secret.txt",  # overlong UTF-8 dots: not dots, and never outside
    ],
)
def test_nothing_outside_the_site_is_served(site: Path, path: str) -> None:
    status, _, body = get(site_app(site, ServeState()), path)
    assert status in ("403 Forbidden", "404 Not Found")
    assert b"secret" not in body


def test_still_encoded_traversal_is_a_file_name_not_a_way_out(site: Path) -> None:
    for path in ("/%2e%2e/secret.txt", "/%252e%252e/secret.txt", "/..%2fsecret.txt", "/%2e%2e%5csecret.txt"):
        status, _, body = get(site_app(site, ServeState()), path)
        assert status in ("403 Forbidden", "404 Not Found") and b"secret" not in body


def test_redirects_never_lead_off_site(site: Path) -> None:
    (site / "evil.example").mkdir()
    status, headers, _ = get(site_app(site, ServeState()), "//evil.example")
    assert status == "301 Moved Permanently" and headers["Location"] == "/evil.example/"


def test_the_error_banner_is_escaped_and_only_on_html(site: Path) -> None:
    state = ServeState(error="base.html:3: template error: <script>alert(1)</script>")
    app = site_app(site, state)
    body = get(app, "/")[2]
    assert body.index(b"newsstand-build-error") > body.index(b"<body")
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in body and b"<script>" not in body
    assert get(app, "/style.css")[2] == b"p{}"
    state.error, state.problems = None, ("seeds/bad.txt:2:7: invalid YAML: <oops>",)
    body = get(app, "/")[2]
    assert b"1 problem in the seeds" in body and b"seeds/bad.txt:2:7: invalid YAML: &lt;oops&gt;" in body
    state.problems = ()
    assert b"newsstand-build-error" not in get(app, "/")[2]


# ---------------------------------------------------------------------------------------------
# The real server: `newsstand serve` in a child process, spoken to over HTTP


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port`, from /proc/net/tcp (IPv4)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port and state == "0A":
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


class Served:
    def __init__(self, work: Path, port: int, proc: subprocess.Popen[str], log: Path) -> None:
        self.work, self.port, self.proc, self.log = work, port, proc, log

    def get(self, path: str) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.putrequest("GET", path, skip_accept_encoding=True)
            conn.endheaders()
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def wait_for(self, test: Callable[[str], bool], path: str = "/", timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        body = ""
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            body = self.get(path)[1]
            if test(body):
                return body
            time.sleep(0.2)
        raise AssertionError(f"timed out; last page:\n{body[:2000]}\nlog:\n{self.log.read_text()[-2000:]}")


def start_server(work: Path, *extra: str) -> Served:
    port = free_port()
    log = work / "serve.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsstand",
            "serve",
            "--config",
            str(work / "newsstand.yaml"),
            "--port",
            str(port),
            *extra,
        ],
        cwd=work,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_until_listening(proc, port, log.read_text)
    return Served(work, port, proc, log)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    work = tmp_path / "work"
    own_template(work / "templates")  # the site's own base.html, the rest of the default theme under it
    shutil.copytree(SEEDS, work / "seeds")
    (work / "newsstand.yaml").write_text(f"seeds: {work / 'seeds'}\nout: {work / 'site'}\n")
    server = start_server(work)
    try:
        yield server
    finally:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.proc.kill()


def test_binds_this_machine_only_by_default(served: Served) -> None:
    assert listening_addresses(served.port) == {"127.0.0.1"}
    assert "warning" not in served.log.read_text()


def test_traversal_over_http_is_refused(served: Served) -> None:
    for path in (
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/..%5c..%5cetc%5cpasswd",
        "/%252e%252e/etc/passwd",
        "/stories/..%2f..%2f..%2fnewsstand.yaml",
    ):
        status, body = served.get(path)
        assert status in (400, 403, 404), path
        assert "root:" not in body and "templates:" not in body


def test_a_template_error_is_shown_until_it_is_fixed(served: Served) -> None:
    base = served.work / "templates" / "base.html"
    good = base.read_text()
    assert "newsstand-build-error" not in served.get("/")[1]
    base.write_text(good.replace("</head>", "{% if %}</head>", 1))
    page = served.wait_for(lambda body: "newsstand-build-error" in body)
    assert "Build failed" in page and "base.html" in page and "template error" in page
    assert "Top stories" in page  # the last good site, under the banner
    assert "base.html" in served.log.read_text() and "build failed" in served.log.read_text()
    base.write_text(good)
    served.wait_for(lambda body: "newsstand-build-error" not in body and "Top stories" in body)
    assert served.proc.poll() is None


def test_a_bad_seed_is_shown_until_it_is_fixed(served: Served) -> None:
    bad = served.work / "seeds" / "zz-bad.txt"
    bad.write_text("---\ntitle: 'unclosed\n---\n")
    page = served.wait_for(lambda body: "zz-bad.txt" in body)
    assert "1 problem in the seeds" in page and "invalid YAML" in page
    assert "zz-bad.txt" in served.log.read_text()
    bad.write_text(story_file(title="Now fixed", url="https://fixed.example.com/a"))
    served.wait_for(lambda body: "newsstand-build-error" not in body)
    assert "Now fixed" in served.get("/stories.json")[1]


def test_another_host_only_when_asked_and_with_a_warning(tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(SEEDS, work / "seeds")
    (work / "newsstand.yaml").write_text(f"seeds: {work / 'seeds'}\nout: {work / 'site'}\n")
    server = start_server(work, "--host", "0.0.0.0")
    try:
        assert listening_addresses(server.port) == {"0.0.0.0"}
        assert "warning: serving on 0.0.0.0: other machines can reach this preview" in server.log.read_text()
    finally:
        server.proc.terminate()
        server.proc.wait(timeout=10)


def test_an_edit_in_a_seed_folder_named_relative_to_the_working_folder_is_seen(tmp_path: Path) -> None:
    # The watcher hears of changes by absolute path; the folders it was given may be relative ("seeds").
    work = tmp_path / "work"
    shutil.copytree(SEEDS, work / "seeds")
    (work / "newsstand.yaml").write_text("seeds: seeds\nout: site\n")
    server = start_server(work)
    try:
        assert "Now in the news" not in server.get("/stories.json")[1]
        (work / "seeds" / "new.txt").write_text(story_file(title="Now in the news", url="https://new.example.com/a"))
        server.wait_for(lambda body: "Now in the news" in body, "/stories.json")
        seed = next(p for p in sorted((work / "seeds").iterdir()) if p.name != "new.txt")
        seed.write_text(seed.read_text().replace('\ntitle: "', '\ntitle: "Edited by hand ', 1))
        server.wait_for(lambda body: "Edited by hand" in body, "/stories.json")
    finally:
        server.proc.terminate()
        server.proc.wait(timeout=10)


def test_an_edit_shows_on_its_story_page_before_the_rebuild(served: Served) -> None:
    seed = served.work / "seeds" / "zz-preview.txt"
    seed.write_text(story_file(title="Preview one", url="https://preview.example.com/a", body="First note.\n"))
    served.wait_for(lambda body: "Preview one" in body, "/stories.json")
    # Saved as most editors save, in one rename: a file written in place can be seen half-written (on a busy
    # machine its truncation and its write may come as two batches of events), and the preview then rightly
    # leaves it to the rebuild, with no "shown in" line to wait for.
    temp = seed.with_name(".zz-preview.txt.swp")
    temp.write_text(story_file(title="Preview one", url="https://preview.example.com/a", body="Second note.\n"))
    temp.replace(seed)
    deadline = time.monotonic() + 30
    while "shown in" not in served.log.read_text():
        assert time.monotonic() < deadline, served.log.read_text()
        time.sleep(0.05)
    shown = next(line for line in served.log.read_text().splitlines() if line.startswith("shown in"))
    path = shown.split(": ", 1)[1].split(" (")[0]
    assert path.startswith("stories/") and path.endswith("/index.html"), shown
    assert "Second note." in served.get("/" + path)[1]
    # Then the whole site follows.
    deadline = time.monotonic() + 30
    while served.log.read_text().count("rebuilt in") < 3:
        assert time.monotonic() < deadline, served.log.read_text()
        time.sleep(0.05)
    assert "Second note." in served.get("/" + path)[1]
