"""A loopback HTTP server for the fetch tests: routes to canned responses, every request recorded."""

from __future__ import annotations

import gzip
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate


@dataclass
class Route:
    """What one path answers: a body and headers, or a function of the request that returns a Route."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""  # answers 304 to a request that names it
    last_modified: float | None = None  # a time; answers 304 to If-Modified-Since not older than it
    delay: float = 0.0  # seconds before the headers
    drip: float = 0.0  # seconds between body chunks of 16 bytes
    gzip: bool = False  # compress the body when the client accepts gzip
    chunked: bool = False  # no Content-Length: the body is sent until the connection closes
    dynamic: Callable[[http.server.BaseHTTPRequestHandler], Route] | None = None


@dataclass(frozen=True)
class Seen:
    path: str
    host: str
    headers: dict[str, str]
    at: float


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.in_flight: dict[str, int] = {}
        self.most_in_flight: dict[str, int] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                host = self.headers.get("Host", "").rsplit(":", 1)[0]
                with server._lock:
                    server.seen.append(Seen(self.path, host, dict(self.headers.items()), time.monotonic()))
                    server.in_flight[host] = server.in_flight.get(host, 0) + 1
                    server.most_in_flight[host] = max(server.most_in_flight.get(host, 0), server.in_flight[host])
                try:
                    server._answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server._lock:
                        server.in_flight[host] -= 1

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def requests(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    def _answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        route = self.routes.get(handler.path)
        if route is None:
            route = Route(b"not here", status=404, headers={"Content-Type": "text/plain"})
        if route.dynamic is not None:
            route = route.dynamic(handler)
        if route.delay:
            time.sleep(route.delay)
        fresh = route.etag and handler.headers.get("If-None-Match") == route.etag
        if route.last_modified is not None and handler.headers.get("If-Modified-Since") == formatdate(
            route.last_modified, usegmt=True
        ):
            fresh = True
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified is not None:
            headers["Last-Modified"] = formatdate(route.last_modified, usegmt=True)
        if fresh:
            handler.send_response(304)
            for k, v in headers.items():
                handler.send_header(k, v)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        body = route.body
        if route.gzip and "gzip" in handler.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        handler.send_response(route.status)
        for k, v in headers.items():
            handler.send_header(k, v)
        if route.chunked:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        else:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if route.drip:
            for i in range(0, len(body), 16):
                handler.wfile.write(body[i : i + 16])
                handler.wfile.flush()
                time.sleep(route.drip)
        else:
            handler.wfile.write(body)

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server
