"""What many pages show of one story, kept from one build to the next: its card on the list pages and its
entry in the feeds.

A list page rendered again because one of its forty stories changed (or its order moved) shows thirty-nine
that did not: their cards come from here rather than from the templates again, and so do their entries in
the page's feeds. Rendering those pieces was nine tenths of a list page's time, and an edited headline
re-renders the lists of every topic and outlet of its story.

Each piece is kept under its story's key (`incremental.Signed.keys`), which digests everything a list page
or a feed can show of the story and the site-wide inputs (settings, templates, theme, code): a piece found
under a key is the piece the story renders to now. The pieces of stories the site no longer has are
dropped at each save. An SQLite database (cachefile.Database): a build killed while writing it leaves the
last committed rows, and deleting it only costs time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from . import cachefile

CACHE_KEY = "fragments 1"
BATCH = 500  # keys per query: under SQLite's oldest limit on a statement's parameters (999)

Piece = tuple[str, str]  # (kind, story key): "card", "entry"


class Fragments:
    """The pieces the last builds rendered, for the stories named by `keys` (slug → key)."""

    def __init__(self, folder: Path, out: Path, keys: Mapping[str, str]) -> None:
        path = folder / f"{Path(cachefile.name_for('fragments', out)).stem}.sqlite"
        columns = (
            "kind TEXT NOT NULL, key TEXT NOT NULL, sum BLOB NOT NULL, data BLOB NOT NULL, PRIMARY KEY (key, kind)"
        )
        self.db = cachefile.Database(path, CACHE_KEY, {"pieces": columns})
        self.keys = dict(keys)
        self.found: dict[Piece, str] = {}
        self.fresh: dict[Piece, str] = {}  # made by this process since the last `take`

    def fetch(self, slugs: Iterable[str]) -> None:
        """Read the pieces the store holds of the stories `slugs`, in a few queries: before rendering, so that
        forked renderers have them too."""
        wanted = sorted({key for slug in slugs if (key := self.keys.get(slug)) is not None})

        def look(db: sqlite3.Connection) -> dict[Piece, str]:
            found: dict[Piece, str] = {}
            for i in range(0, len(wanted), BATCH):
                batch = wanted[i : i + BATCH]
                query = f"SELECT kind, key, sum, data FROM pieces WHERE key IN ({','.join('?' * len(batch))})"
                for kind, key, digest, data in db.execute(query, batch):
                    try:
                        text = cachefile.unpack(digest, data)
                    except ValueError:  # a damaged row: rendered again, and written again
                        continue
                    if isinstance(text, str):
                        found[kind, key] = text
            return found

        nothing: dict[Piece, str] = {}
        self.found.update(self.db.run(look, nothing) if wanted else nothing)

    def get(self, kind: str, slug: str) -> str | None:
        key = self.keys.get(slug)
        return None if key is None else self.found.get((kind, key))

    def put(self, kind: str, slug: str, text: str) -> None:
        key = self.keys.get(slug)
        if key is not None:
            self.found[kind, key] = self.fresh[kind, key] = text

    def forget(self, slugs: Iterable[str]) -> None:
        """Stories that changed since their keys were worked out (serve's preview of an edit): neither read
        nor kept from now on."""
        for slug in slugs:
            self.keys.pop(slug, None)

    def take(self) -> dict[Piece, str]:
        """The pieces made since the last take (a forked renderer's, sent back with its pages)."""
        fresh, self.fresh = self.fresh, {}
        return fresh

    def add(self, pieces: Mapping[Piece, str]) -> None:
        """Pieces another process made, to be saved with this one's."""
        self.found.update(pieces)
        self.fresh.update(pieces)

    def save(self) -> None:
        """Write the pieces made by this build, and drop those of stories the site no longer shows as they
        were (their keys are not this build's), in one transaction."""
        rows = [(kind, key, *cachefile.pack(text)) for (kind, key), text in self.fresh.items()]
        live = [(key,) for key in set(self.keys.values())]

        def write(db: sqlite3.Connection) -> None:
            db.executemany("INSERT OR REPLACE INTO pieces VALUES (?, ?, ?, ?)", rows)
            db.execute("CREATE TEMP TABLE live (key TEXT PRIMARY KEY)")
            db.executemany("INSERT INTO live VALUES (?)", live)
            db.execute("DELETE FROM pieces WHERE key NOT IN (SELECT key FROM live)")

        self.db.run(write, None)
