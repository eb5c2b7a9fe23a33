"""Subscriptions: the feeds `newsstand fetch` reads, from newsstand.yaml's `feeds:` list or an OPML file.

Each is a feed URL, an optional outlet name (else the feed's own title), topics to file its stories
under, and an optional weight: the outlet's quality (0-100), written into its story files as `quality`.
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .normalize import MAX_NAME, MAX_TOPICS
from .urls import safe_url

MAX_OPML_BYTES = 2 * 1024 * 1024
_KEYS = ("url", "name", "topics", "weight")


@dataclass(frozen=True, slots=True)
class Subscription:
    url: str
    name: str = ""
    topics: tuple[str, ...] = ()
    weight: int | None = None


class SubscriptionError(ValueError):
    """A subscription is wrong; the message names where (`feeds[2].url: ...`) and what is accepted."""


def _text(value: Any, what: str, limit: int = MAX_NAME) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SubscriptionError(f"{what}: expected text, got {value!r}"[:200])
    text = " ".join(str(value).split())
    return text[:limit]


def subscription(value: Any, what: str) -> Subscription:
    """One subscription from a config entry: a URL alone, or a mapping of url, name, topics, weight."""
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, dict):
        raise SubscriptionError(f"{what}: expected a feed URL or a mapping with url, name, topics, weight")
    unknown = [k for k in value if k not in _KEYS]
    if unknown:
        raise SubscriptionError(f"{what}.{unknown[0]}: unknown key; known keys: {', '.join(_KEYS)}")
    url = safe_url(value.get("url"))
    if url is None:
        raise SubscriptionError(f"{what}.url: expected an absolute http(s) URL, got {value.get('url')!r}"[:200])
    topics = value.get("topics")
    if topics is None:
        topics = []
    elif isinstance(topics, str):
        topics = [topics]
    if not isinstance(topics, list):
        raise SubscriptionError(f"{what}.topics: expected a list of topic names")
    names = tuple(
        dict.fromkeys(t for i, item in enumerate(topics[:MAX_TOPICS]) if (t := _text(item, f"{what}.topics[{i}]")))
    )
    weight = value.get("weight")
    if weight is not None and (
        isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 100
    ):
        raise SubscriptionError(
            f"{what}.weight: expected a number from 0 to 100 (the outlet's quality), got {weight!r}"[:200]
        )
    return Subscription(
        url=url,
        name=_text(value.get("name"), f"{what}.name"),
        topics=names,
        weight=None if weight is None else round(weight),
    )


def subscriptions_from(value: Any, what: str = "feeds") -> tuple[Subscription, ...]:
    """The config's `feeds:` list; a URL listed twice is one subscription (the first)."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        raise SubscriptionError(
            f"{what}: expected a list of feeds (each a URL, or a mapping with url, name, topics, weight)"
        )
    found: dict[str, Subscription] = {}
    for i, item in enumerate(value):
        sub = item if isinstance(item, Subscription) else subscription(item, f"{what}[{i}]")
        found.setdefault(sub.url, sub)
    return tuple(found.values())


def read_opml(path: Path) -> tuple[Subscription, ...]:
    """The feeds of an OPML file: every outline with an `xmlUrl`; the folders it sits in and its
    `category` are its topics, `text` (or `title`) its name, a `weight` attribute its quality."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_OPML_BYTES + 1)
    except OSError as err:
        raise SubscriptionError(f"{path}: cannot read: {err.strerror or err}") from None
    if len(data) > MAX_OPML_BYTES:
        raise SubscriptionError(f"{path}: larger than the limit of {MAX_OPML_BYTES:,} bytes")
    # Entity declarations are how XML bombs work; an OPML file has no use for them.
    if b"<!ENTITY" in data.replace(b"\x00", b"").upper():
        raise SubscriptionError(f"{path}: declares XML entities: refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        line, col = err.position
        reason = str(err).split(":")[0]
        raise SubscriptionError(f"{path}:{line}:{col + 1}: not valid OPML: {reason}") from None
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise SubscriptionError(f"{path}: not an OPML file (no <opml> with a <body>)")
    found: list[Subscription] = []
    problems: list[str] = []

    def walk(node: ET.Element, folders: tuple[str, ...]) -> None:
        for outline in node.findall("outline"):
            label = (outline.get("text") or outline.get("title") or "").strip()
            xml_url = outline.get("xmlUrl")
            if label == xml_url:  # what opml_bytes writes for a feed without a name
                label = ""
            if xml_url is None:
                walk(outline, (*folders, label) if label else folders)
                continue
            categories = [c.strip().strip("/").rpartition("/")[2] for c in (outline.get("category") or "").split(",")]
            weight: Any = outline.get("weight") or None
            with contextlib.suppress(ValueError):  # else reported as not a number by subscription()
                weight = None if weight is None else float(weight)
            try:
                found.append(
                    subscription(
                        {
                            "url": xml_url,
                            "name": label or None,
                            "weight": weight,
                            "topics": [t for t in (*folders, *categories) if t],
                        },
                        f"outline {xml_url!r}",
                    )
                )
            except SubscriptionError as err:
                problems.append(str(err))

    walk(body, ())
    if problems:
        raise SubscriptionError(
            f"{path}: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        )
    return subscriptions_from(found)


def opml_bytes(subscriptions: Sequence[Subscription], title: str) -> bytes:
    """An OPML 2.0 file of `subscriptions`, which `read_opml` reads back as the same subscriptions."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for sub in subscriptions:
        attributes = {"type": "rss", "text": sub.name or sub.url, "xmlUrl": sub.url}
        if sub.topics:
            attributes["category"] = ",".join(t.replace(",", " ").replace("/", " ") for t in sub.topics)
        if sub.weight is not None:
            attributes["weight"] = str(sub.weight)
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    out: bytes = (
        b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"
    )
    return out
