"""A static host for the tests: the seeds' site built for http://127.0.0.1:PORT/news/ and served from a
folder where it sits at news/, with the site's 404.html for any missing path, as GitHub Pages or Netlify
serve it."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newsstand.build import build

from .conftest import SEEDS, settings_for


class _Host(http.server.SimpleHTTPRequestHandler):
    not_found: Path

    def log_message(self, *args: object) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code == 404 and self.not_found.is_file():
            body = self.not_found.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)


@contextmanager
def hosted_seeds(root: Path) -> Iterator[tuple[str, Path]]:
    """Build the seeds into root/news for the host's address and serve root; yield the site's URL and folder."""
    handler = type("Host", (_Host,), {"not_found": root / "news" / "404.html"})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_address[1]}/news/"
    build(settings_for(SEEDS, root / "news", base_url=base))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield base, root / "news"
    finally:
        server.shutdown()
        server.server_close()
