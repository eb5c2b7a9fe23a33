"""Slugs: stable, path-safe, collision-free names for the pages of stories, topics and providers."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Hashable, Iterable
from typing import TypeVar

from slugify import slugify

MAX_LENGTH = 80
K = TypeVar("K", bound=Hashable)


def slug_of(text: str) -> str:
    """A URL path segment for `text`: lower-case ASCII words and hyphens, possibly empty."""
    return slugify(text or "", max_length=MAX_LENGTH, word_boundary=True, save_order=True)


def _digest(key: Hashable, length: int) -> str:
    return hashlib.sha1(repr(key).encode("utf-8")).hexdigest()[:length]


def assign_slugs(
    items: Iterable[tuple[K, str]],
    fallback: str = "item",
    taken: Collection[str] = frozenset(),
) -> dict[K, str]:
    """Map each key to a slug made from its text, unique among `items` and unlike any slug in `taken`.

    `items` come in priority order: the first to want a slug gets it plain, the later
    ones get a suffix made from their own key (not a counter), so a slug does not
    change when unrelated items are added. Text with no usable characters (empty,
    '..', punctuation only) gets `fallback` plus the suffix: never an empty or
    path-escaping segment.
    """
    taken = set(taken)
    out: dict[K, str] = {}
    for key, text in items:
        if key in out:
            continue
        base = slug_of(text)
        slug = base
        length = 6
        while not slug or slug in taken:
            slug = f"{base or fallback}-{_digest(key, length)}"
            length += 2
        taken.add(slug)
        out[key] = slug
    return out
