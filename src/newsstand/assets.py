"""Theme assets: minified and fingerprinted by content hash, so they can be cached for ever.

`static/style.css` is written as `static/style.3f2a9c1b0d.css`; templates ask for
`asset('style.css')` and get the fingerprinted URL. A new stylesheet gets a new name, so
hosts may serve everything under `static/` with `Cache-Control: immutable`; `_headers`
tells hosts that read one (Netlify, Cloudflare Pages) exactly that.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit

import rcssmin
import rjsmin

IMMUTABLE = "public, max-age=31536000, immutable"
SEARCH_BUNDLE = "public, max-age=3600"


class AssetError(LookupError):
    """A template asked for an asset the theme does not have."""


def minify(name: str, data: bytes) -> bytes:
    if name.endswith(".css"):
        css: str = rcssmin.cssmin(data.decode("utf-8"))
        return css.encode("utf-8") + b"\n"
    if name.endswith(".js"):
        js: str = rjsmin.jsmin(data.decode("utf-8"))
        return js.encode("utf-8") + b"\n"
    return data


def fingerprinted(name: str, data: bytes) -> str:
    stem, ext = posixpath.splitext(name)
    return f"{stem}.{hashlib.sha256(data).hexdigest()[:10]}{ext}"


@dataclass(frozen=True, slots=True)
class Assets:
    files: tuple[tuple[str, bytes], ...]  # (output path, bytes)
    manifest: Mapping[str, str]  # name under static/ → output path relative to the site root

    def path(self, name: str) -> str:
        try:
            return self.manifest[name]
        except KeyError:
            raise AssetError(f"no asset {name!r} in the theme's static folder") from None


def build_assets(static: Mapping[str, bytes]) -> Assets:
    files = []
    manifest = {}
    for name in sorted(static):
        data = minify(name, static[name])
        path = "static/" + fingerprinted(name, data)
        manifest[name] = path
        files.append((path, data))
    return Assets(tuple(files), MappingProxyType(manifest))


def headers_file(base_url: str) -> bytes:
    """`_headers` (Netlify / Cloudflare Pages syntax): fingerprinted assets are immutable.

    Pages get no Cache-Control of their own: these hosts already make HTML revalidate, and two
    rules matching one path would merge their Cache-Control values.
    """
    root = urlsplit(base_url).path or "/" if base_url else "/"
    rules = [
        (f"{root}*", ["X-Content-Type-Options: nosniff", "Referrer-Policy: strict-origin-when-cross-origin"]),
        (f"{root}static/*", [f"Cache-Control: {IMMUTABLE}"]),
        (f"{root}pagefind/*", [f"Cache-Control: {SEARCH_BUNDLE}"]),
    ]
    text = "".join(f"{path}\n" + "".join(f"  {h}\n" for h in hs) for path, hs in rules)
    return text.encode("utf-8")


def redirects_file(redirects: Mapping[str, str], base_url: str) -> bytes:
    """`_redirects` (Netlify / Cloudflare Pages syntax): a story merged into another moves there for good
    (301); its old page also redirects, for hosts that do not read this file."""
    root = urlsplit(base_url).path or "/" if base_url else "/"
    lines = ["# Stories merged into others: each old address moves to the story it joined."]
    lines += (f"{root}stories/{old}/ {root}stories/{new}/ 301" for old, new in sorted(redirects.items()))
    return ("\n".join(lines) + "\n").encode("utf-8")
