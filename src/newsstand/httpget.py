"""HTTP GET for feeds, politely and within bounds: the only code that reaches the network.

Conditional requests (ETag, Last-Modified), gzip, a deadline for the whole response, a cap on the
bytes of a body (counted after decompression: a small gzip can inflate to gigabytes), redirects
followed by hand with a limit (so a permanent one can be told from a temporary one), a User-Agent
that names Newsstand, one request at a time per host, and Retry-After honoured on 429 and 503.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import urllib3

from . import __version__
from .urls import safe_url

_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True, slots=True)
class Policy:
    """How fetching behaves; tests shorten every wait."""

    timeout: float = 30.0  # seconds for one response, from connecting to its last byte
    connect_timeout: float = 10.0
    max_bytes: int = 5 * 1024 * 1024  # of one body, decompressed; the largest real feeds are a few hundred kB
    max_redirects: int = 5
    retry_wait_limit: float = 60.0  # a Retry-After up to this is waited out (once); a longer one defers the feed
    workers: int = 4  # feeds fetched at a time (never two requests to one host at once)
    backoff_base: float = 600.0  # seconds before the next try after the first failure, doubling with each one
    backoff_cap: float = 86_400.0
    sleep: Callable[[float], None] = time.sleep
    contact: str = ""  # a URL for the User-Agent: the site's, so a publisher can see who reads its feed

    @property
    def user_agent(self) -> str:
        return f"Newsstand/{__version__} (feed reader{'; +' + self.contact if self.contact else ''})"


@dataclass(frozen=True, slots=True)
class Reply:
    url: str  # where the feed was finally read from
    moved_to: str  # the new address a permanent redirect gave ('' if none)
    not_modified: bool
    body: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""


class FetchFailed(Exception):
    """The feed could not be fetched; `retry_after` is the server's own wait in seconds, when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for (a number of seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class Fetcher:
    """One connection pool and one lock per host, shared by the threads that fetch feeds."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._pool = urllib3.PoolManager(num_pools=64, maxsize=1, block=False, retries=False)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def _host(self, url: str) -> Iterator[None]:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port or ''}"
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def get(self, url: str, etag: str = "", last_modified: str = "") -> Reply:
        """GET `url`; raises FetchFailed with a one-line reason for anything but a feed's bytes or a 304."""
        policy = self.policy
        headers = {"User-Agent": policy.user_agent, "Accept": _ACCEPT, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current, moved_to, permanent, hops, waited = url, "", True, 0, False
        while True:
            with self._host(current):
                status, location, wait, reply = self._one(current, headers)
            if reply is not None:
                return replace(reply, url=current, moved_to=moved_to)
            if status in _REDIRECTS:
                hops += 1
                if hops > policy.max_redirects:
                    raise FetchFailed(f"more than {policy.max_redirects} redirects")
                target = safe_url(urljoin(current, location or ""))
                if not location or target is None:
                    raise FetchFailed(
                        f"HTTP {status} redirect to {(location or 'nowhere')[:100]!r}: not an http(s) URL"
                    )
                permanent = permanent and status in _PERMANENT
                if permanent:
                    moved_to = target
                current = target
                continue
            # 429 or 503: wait as asked, once, if the wait is short; else let the feed wait for a later run.
            if wait is not None and wait <= policy.retry_wait_limit and not waited:
                policy.sleep(wait)
                waited = True
                continue
            raise FetchFailed(f"HTTP {status}" + (f": asked to wait {wait:.0f} s" if wait is not None else ""), wait)

    def _one(self, url: str, headers: dict[str, str]) -> tuple[int, str | None, float | None, Reply | None]:
        """One request: (status, Location, Retry-After seconds, the reply when it is final)."""
        policy = self.policy
        deadline = time.monotonic() + policy.timeout
        try:
            response = self._pool.request(
                "GET",
                url,
                headers=headers,
                redirect=False,
                preload_content=False,
                decode_content=True,
                timeout=urllib3.Timeout(connect=min(policy.connect_timeout, policy.timeout), read=policy.timeout),
            )
        except urllib3.exceptions.HTTPError as err:
            raise FetchFailed(_reason(err, policy)) from None
        done = False  # the body read to its end: only then may the connection serve the next request
        try:
            status = response.status
            if status in _REDIRECTS:
                return status, response.headers.get("Location"), None, None
            if status in (429, 503):
                return status, None, retry_after(response.headers.get("Retry-After"), datetime.now(UTC)), None
            if status == 304:
                done = True
                return status, None, None, _reply(url, response, not_modified=True)
            if not 200 <= status < 300:
                raise FetchFailed(f"HTTP {status}{' ' + response.reason if response.reason else ''}")
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > policy.max_bytes:
                raise FetchFailed(f"{int(length):,} bytes: larger than the limit of {policy.max_bytes:,}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.stream(64 * 1024, decode_content=True):
                size += len(chunk)
                if size > policy.max_bytes:
                    raise FetchFailed(f"more than the limit of {policy.max_bytes:,} bytes")
                if time.monotonic() > deadline:
                    raise FetchFailed(f"timed out: no whole response within {policy.timeout:g} s")
                chunks.append(chunk)
            done = True
            return status, None, None, _reply(url, response, body=b"".join(chunks))
        except urllib3.exceptions.HTTPError as err:
            raise FetchFailed(_reason(err, policy)) from None
        finally:
            # A body left unread (a redirect's, an error's, a feed cut off) would leave the connection mid-stream: drop it.
            if not done:
                response.close()
            response.release_conn()


def _header(response: urllib3.BaseHTTPResponse, name: str) -> str:
    return (response.headers.get(name) or "")[:1000]


def _reply(url: str, response: urllib3.BaseHTTPResponse, *, not_modified: bool = False, body: bytes = b"") -> Reply:
    """The reply with the validators to send next time (a 304 carries them too, maybe renewed)."""
    return Reply(
        url,
        "",
        not_modified,
        body,
        "" if not_modified else _header(response, "Content-Type"),
        _header(response, "ETag"),
        _header(response, "Last-Modified"),
    )


def _reason(err: Exception, policy: Policy) -> str:
    """One line for a transport failure (urllib3's own messages name the pool, the object and the errno)."""
    if isinstance(err, (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ConnectTimeoutError)):
        return (
            f"timed out after {policy.timeout:g} s"
            if isinstance(err, urllib3.exceptions.ReadTimeoutError)
            else f"could not connect within {policy.connect_timeout:g} s"
        )
    if isinstance(err, urllib3.exceptions.NameResolutionError):
        return "host name not found"
    if isinstance(err, urllib3.exceptions.NewConnectionError):
        return "could not connect: " + str(err).rpartition("] ")[2][:100]
    if isinstance(err, urllib3.exceptions.SSLError):
        return "TLS failed: " + str(err)[:150]
    if isinstance(err, urllib3.exceptions.DecodeError):
        return "the body's compression is broken"
    if isinstance(err, (urllib3.exceptions.ProtocolError, urllib3.exceptions.IncompleteRead)):
        return "connection broken mid-response"
    if isinstance(err, urllib3.exceptions.LocationValueError | urllib3.exceptions.LocationParseError):
        return "not a URL that can be fetched"
    return f"{type(err).__name__}: {err}"[:200]
