"""Article URLs: which are safe to link to, and the canonical form that identifies an article."""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that track the reader, not select the article.
_TRACKING = frozenset(
    {
        "feedtype",
        "feedname",
        "track",
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "cmp",
        "ocid",
        "ref",
        "ref_src",
        "rss",
        "smid",
        "src",
        "sr_share",
        "cmpid",
        "ito",
        "igshid",
        "amp",
        "outputtype",
        "__twitter_impression",
        "yptr",
        "guccounter",
    }
)
_TRACKING_PREFIXES = ("utm_", "_hs", "pk_", "mkt_")
# Google's AMP cache: https://www-example-com.cdn.ampproject.org/c/s/www.example.com/amp/...
_AMP_CACHE = re.compile(r"^/[a-z]/(s/)?(?P<rest>.+)$")
# AMP renditions of a page: /amp/..., /platform/amp/..., .../amp, ....amp.html, ?amp=1
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\]")  # controls, spaces, backslashes: never in a link we emit
# http(s), a host of letters, digits, dots and hyphens, no port or user: safe by the rules below, seen at once.
_PLAIN_HTTP = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(?:[/?#].*)?", re.DOTALL)
_AMP_SEGMENTS = frozenset({"amp", "amp.html"})


def safe_url(value: object) -> str | None:
    """`value` as a link readers may follow: an absolute http(s) URL with a host, else None.

    Anything else (javascript:, data:, vbscript:, protocol-relative, relative, control
    characters) is refused, because seed text is untrusted and ends up in href and src.
    """
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or len(url) > 4096 or _UNSAFE_CHARS.search(url):
        return None
    if _PLAIN_HTTP.fullmatch(url):  # the common case, without the cost of urlsplit
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _strip_amp_path(path: str) -> str:
    segments = [s for s in path.split("/")]
    kept = [s for s in segments if s.lower() not in _AMP_SEGMENTS]
    if kept and kept[-1].lower().endswith(".amp.html"):
        kept[-1] = kept[-1][: -len(".amp.html")] + ".html"
    if kept and kept[-1].lower().endswith(".amp"):
        kept[-1] = kept[-1][: -len(".amp")]
    # /platform/amp/ is The Verge's: once "amp" is gone, "platform" is an empty shell
    if len(kept) > 1 and kept[1].lower() == "platform" and "amp" in (s.lower() for s in segments):
        del kept[1]
    return "/".join(kept)


def unwrap_amp_cache(url: str) -> str:
    """The publisher's URL inside a Google AMP cache URL; other URLs unchanged."""
    if "ampproject" not in url.lower():  # most URLs: no need to split them
        return url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.endswith(".cdn.ampproject.org"):
        match = _AMP_CACHE.match(parts.path)
        if match:
            scheme = "https" if match.group(1) else "http"
            inner = f"{scheme}://{match.group('rest')}"
            if parts.query:
                inner += "?" + parts.query
            return inner
    return url


@functools.lru_cache(maxsize=1 << 16)  # one article's URLs recur in every story file that lists it
def canonical_url(url: str) -> str:
    """The identity of an article: the same article under any of its URLs gives one string.

    Scheme and host case, `www.`, the AMP cache and AMP paths, tracking parameters, the
    fragment and a trailing slash do not make a different article. http and https do not
    either. The result is a key, never a link.
    """
    url = url.strip()
    plain = _PLAIN_PATH.fullmatch(url)
    if plain is not None and "ampproject" not in url.lower():
        # Most URLs: a plain host and path, nothing to decode or drop; what urlsplit and the query
        # rules would give, at a fifth of the cost (tests/test_urls.py compares the two ways).
        return "https://" + _host(plain.group(1)) + _canonical_path(plain.group(2) or "/")
    return _canonical_general(url)


# http(s), a host of letters, digits, dots and hyphens, then a path with nothing to decode (%), no query,
# no fragment, no whitespace or controls (urlsplit would drop some): the rules below apply as they are.
_PLAIN_PATH = re.compile(
    r"[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9.-]*[A-Za-z0-9-][A-Za-z0-9.-]*)(/[^?#%\s\x00-\x1f\x7f]*)?"
)


def _host(host: str) -> str:
    host = host.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if host.startswith("amp."):
        host = host[4:]
    return host


def _canonical_path(path: str) -> str:
    return _SLASHES.sub("/", _strip_amp_path(path)).rstrip("/")


_SLASHES = re.compile(r"/{2,}")


def _canonical_general(url: str) -> str:
    """`canonical_url` of any URL, through urlsplit."""
    parts = urlsplit(unwrap_amp_cache(url))
    host = _host(parts.hostname or "")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = unquote(parts.path) or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING and not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    return urlunsplit(("https", host, _canonical_path(path), urlencode(sorted(query)), ""))


def domain_of(url: str) -> str:
    """The registrable-looking host of `url`, lower case, without `www.`."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host
