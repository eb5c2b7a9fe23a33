"""A small HTML reader for tests: the links, ids, scripts and attributes of a built page."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit


@dataclass
class Scan:
    links: list[tuple[str, str, dict[str, str | None]]] = field(default_factory=list)  # (tag, url, attrs)
    ids: list[str] = field(default_factory=list)
    scripts: list[dict[str, str | None]] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)  # on* attributes
    text: list[str] = field(default_factory=list)
    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    lang: str | None = None
    title: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = Scan()
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.scan.tags.append((tag, a))
        if tag == "html":
            self.scan.lang = a.get("lang")
        if tag == "title":
            self._in_title = True
        if tag == "script":
            self.scan.scripts.append(a)
        for name, value in attrs:
            if name.startswith("on"):
                self.scan.handlers.append(f"{tag}[{name}]")
            if name == "id" and value:
                self.scan.ids.append(value)
            if name in ("href", "src") and value is not None:
                self.scan.links.append((tag, value, a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.scan.title += data
        self.scan.text.append(data)


def scan(path: Path) -> Scan:
    reader = _Reader()
    reader.feed(path.read_text(encoding="utf-8"))
    return reader.scan


def is_internal(url: str) -> bool:
    return not urlsplit(url).scheme and not url.startswith("//")


def resolve(site: Path, page: Path, url: str) -> Path:
    """The file an internal link from `page` leads to (a directory link means its index.html)."""
    target = unquote(urldefrag(url)[0].split("?")[0])
    if target.startswith("/"):  # root-relative (the 404 page without a base URL): from the site's root
        path = (site / target.lstrip("/")).resolve()
    else:
        path = (page.parent / target).resolve() if target else page
    if path.is_dir():
        path = path / "index.html"
    return path
