"""A feed's bytes → its entries: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed 1.0/1.1 here.

Feeds are untrusted. The text is decoded here (byte-order mark, then the HTTP charset, the XML
declaration, UTF-8, Windows-1252), so that what is checked is what feedparser reads: a feed that
declares XML entities is refused before any parser sees it. feedparser alone is not enough: when
expat refuses a document (not well-formed, or expanding too much) it falls back to its loose
parser, which expands "safe" entities itself, and a 160 kB feed that referenced one 100 kB entity 20,000 times became a 2 GB title
(5.7 GB of memory, 49 s).
An XML parser in front (defusedxml) does not close that: it stops at the first syntax error, and
a stray `&amp;` before the DOCTYPE stops it before the declarations, which the loose parser
still reads (16 kB of feed, a 20 MB title).
Links come out absolute (relative ones resolved against the feed's URL); nothing here is cleaned
of markup: that is the mapping's job (`feedstory`).
"""

from __future__ import annotations

import calendar
import codecs
import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

MAX_ENTRIES = 500  # read from one feed; news feeds carry 10-100

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARATION = re.compile(r"""^\s*<\?xml[^>]*?\?>""")
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_ENTITY = re.compile(r"<!\s*ENTITY", re.IGNORECASE)
_HTML = re.compile(
    r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]", re.IGNORECASE | re.DOTALL
)
_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif)(?:[?#]|$)", re.IGNORECASE)


class BadFeed(Exception):
    """Not a feed that can be read; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class FeedImage:
    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class FeedEntry:
    title: str  # as the feed has it: may hold markup
    link: str  # absolute, but not yet checked to be http(s)
    summary: str  # HTML
    published: datetime | None
    categories: tuple[str, ...] = ()
    images: tuple[FeedImage, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    kind: str  # feedparser's version ("rss20", "atom10", "rss10", ...) or "json11"
    title: str
    link: str
    entries: tuple[FeedEntry, ...]
    dropped: int = 0  # entries past MAX_ENTRIES


def parse_feed(data: bytes, content_type: str, url: str) -> ParsedFeed:
    """The feed in `data`, fetched from `url` with `content_type`; raises BadFeed."""
    charset = m.group(1) if (m := _CHARSET.search(content_type)) else ""
    head = data[:64].lstrip()
    if "json" in content_type.lower() or head.startswith(b"{") or head.startswith(codecs.BOM_UTF8 + b"{"):
        return _json_feed(_decode_json(data, charset), url)
    return _xml_feed(decode_xml(data, charset), url)


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_xml(data: bytes, charset: str = "") -> str:
    """An XML document's text: by its byte-order mark, else the first of the HTTP charset, the XML
    declaration's encoding, UTF-8 and Windows-1252 that decodes it without error, else Latin-1."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace")
    if data.startswith((b"<\x00?\x00", b"\x00<\x00?")):  # UTF-16 without a mark
        return data.decode("utf-16-le" if data[0] == 0x3C else "utf-16-be", "replace")
    declared = m.group(1).decode("ascii") if (m := _DECLARED.match(data[:500])) else ""
    for name in (charset, declared, "utf-8", "windows-1252"):
        found = _codec(name) if name else None
        if found is None:
            continue
        try:
            return data.decode(found)
        except (UnicodeDecodeError, LookupError):  # LookupError: a codec that is not a text encoding
            continue
    return data.decode("latin-1")


def _decode_json(data: bytes, charset: str) -> str:
    """JSON is UTF-8 (RFC 8259); a mark or a charset saying otherwise is believed, bad bytes replaced."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace")
    found = _codec(charset) if charset else None
    try:
        return data.decode(found or "utf-8", "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _xml_feed(text: str, url: str) -> ParsedFeed:
    if _ENTITY.search(text):
        raise BadFeed(
            "declares XML entities (<!ENTITY>): refused, as entity expansion is how XML bombs "
            "and external-entity reads work"
        )
    text = _DECLARATION.sub('<?xml version="1.0" encoding="utf-8"?>', text, count=1)
    # Bytes in a BytesIO: given a bare string, feedparser may take it for a URL or a file name and open it.
    parsed = feedparser.parse(
        io.BytesIO(text.encode("utf-8", "replace")),
        response_headers={"content-type": "application/xml; charset=utf-8", "content-location": url},
    )
    entries = parsed.get("entries") or []
    if not parsed.get("version") and not entries:
        if _HTML.match(text):
            raise BadFeed("an HTML page, not a feed")
        error = parsed.get("bozo_exception")
        why = f": {_short(error)}" if error is not None and parsed.get("bozo") else ""
        raise BadFeed(f"not an RSS, Atom or JSON feed{why}")
    feed = parsed.get("feed") or {}
    return ParsedFeed(
        kind=parsed.get("version") or "xml",
        title=_str(feed.get("title")),
        link=_str(feed.get("link")),
        entries=tuple(_xml_entry(e) for e in entries[:MAX_ENTRIES]),
        dropped=max(0, len(entries) - MAX_ENTRIES),
    )


def _short(error: object) -> str:
    text = " ".join(str(error).split())
    return text.rpartition(": ")[2][:120] if text.startswith("<") else text[:120]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= 10_000 else None


def _when(parsed: Any) -> datetime | None:
    """feedparser's UTC struct_time → an aware datetime (None when missing or absurd)."""
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _xml_entry(entry: Mapping[str, Any]) -> FeedEntry:
    link = _str(entry.get("link"))
    if not link and entry.get("guidislink") is not False and _str(entry.get("id")).startswith(("http://", "https://")):
        link = entry["id"]
    summary = _str(entry.get("summary"))
    if not summary:
        content = entry.get("content") or []
        summary = _str(content[0].get("value")) if content and isinstance(content[0], Mapping) else ""
    published = next(
        (
            w
            for key in ("published_parsed", "updated_parsed", "created_parsed")
            if (w := _when(entry.get(key))) is not None
        ),
        None,
    )
    categories = tuple(
        c
        for tag in entry.get("tags") or []
        if isinstance(tag, Mapping)
        if (c := _str(tag.get("label")) or _str(tag.get("term")))
    )
    return FeedEntry(
        title=_str(entry.get("title")),
        link=link,
        summary=summary,
        published=published,
        categories=categories,
        images=tuple(_xml_images(entry)),
    )


def _xml_images(entry: Mapping[str, Any]) -> Iterable[FeedImage]:
    for item in entry.get("media_thumbnail") or []:
        if isinstance(item, Mapping) and _str(item.get("url")):
            yield FeedImage(item["url"], _int(item.get("width")), _int(item.get("height")))
    for item in entry.get("media_content") or []:
        if not isinstance(item, Mapping) or not _str(item.get("url")):
            continue
        medium, kind = _str(item.get("medium")).lower(), _str(item.get("type")).lower()
        if (
            medium == "image"
            or kind.startswith("image/")
            or (not medium and not kind and _IMAGE_FILE.search(item["url"]))
        ):
            yield FeedImage(item["url"], _int(item.get("width")), _int(item.get("height")))
    for item in entry.get("enclosures") or []:
        if isinstance(item, Mapping) and _str(item.get("type")).lower().startswith("image/") and _str(item.get("href")):
            yield FeedImage(item["href"])


def _json_feed(text: str, url: str) -> ParsedFeed:
    try:
        doc = json.loads(text)
    except RecursionError:
        raise BadFeed("not a JSON Feed: nested too deeply") from None
    except ValueError as err:
        raise BadFeed(f"not valid JSON: {err}"[:200]) from None
    if not isinstance(doc, dict) or not _str(doc.get("version")).startswith("https://jsonfeed.org/version/"):
        raise BadFeed('not a JSON Feed: no "version" naming https://jsonfeed.org/version/...')
    items = doc.get("items")
    if not isinstance(items, list):
        raise BadFeed('not a JSON Feed: no "items" list')
    home = _str(doc.get("home_page_url"))
    entries = [_json_entry(item, url) for item in items[:MAX_ENTRIES] if isinstance(item, dict)]
    return ParsedFeed(
        kind="json" + _str(doc.get("version")).rpartition("/")[2].replace(".", ""),
        title=_str(doc.get("title")),
        link=urljoin(url, home) if home else "",
        entries=tuple(entries),
        dropped=max(0, len(items) - MAX_ENTRIES),
    )


def _json_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _json_entry(item: dict[str, Any], base: str) -> FeedEntry:
    link = _str(item.get("url")) or _str(item.get("external_url"))
    summary = _str(item.get("summary")) or _str(item.get("content_html"))
    if not summary and _str(item.get("content_text")):
        summary = html.escape(item["content_text"])
    images = [FeedImage(urljoin(base, u)) for key in ("image", "banner_image") if (u := _str(item.get(key)))]
    for attachment in item.get("attachments") or []:
        if (
            isinstance(attachment, dict)
            and _str(attachment.get("mime_type")).lower().startswith("image/")
            and _str(attachment.get("url"))
        ):
            images.append(FeedImage(urljoin(base, attachment["url"])))
    tags = item.get("tags")
    return FeedEntry(
        title=_str(item.get("title")),
        link=urljoin(base, link) if link else "",
        summary=summary,
        published=_json_date(item.get("date_published")) or _json_date(item.get("date_modified")),
        categories=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        images=tuple(images),
    )
