"""Turn a Newsstand seed corpus into the content of an equivalent Pelican site and Hugo site.

One peer page per story file: the lead article is the page (title, date, excerpt as summary, image), its
topics become Pelican tags / Hugo `topics`, the outlets that cover it (the lead's first, then each `related`
item's) become Pelican authors / Hugo `providers` -- the same meaning as Newsstand's /providers/<slug>/
pages, which list every story an outlet covered. The coverage list (every related article with outlet,
date and excerpt) is Markdown in the Pelican body and front-matter data for Hugo, whose templates render
it; the story file's own Markdown notes come first in both bodies.

Only the benchmark uses this; it runs in the project's venv (PyYAML).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SLUG_RE = re.compile(r"[^a-z0-9]+")


@dataclass(slots=True)
class Item:
    title: str
    url: str
    provider: str
    date: dt.datetime
    excerpt: str = ""


@dataclass(slots=True)
class Story:
    slug: str
    lead: Item
    topics: list[str]
    related: list[Item]
    body: str
    image: tuple[str, int, int] | None = None
    providers: list[str] = field(default_factory=list)


def slugify(text: str, limit: int = 80) -> str:
    return _SLUG_RE.sub("-", text.lower()).strip("-")[:limit].strip("-") or "story"


def _date(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _item(d: dict) -> Item:
    return Item(
        title=str(d.get("title") or "Untitled"),
        url=str(d.get("webUrl") or d.get("sourceUrl") or ""),
        provider=str((d.get("provider") or {}).get("name") or "Unknown").replace(",", " ").replace(";", " "),
        date=_date(d.get("publishedDateTime")),
        excerpt=str(d.get("excerpt") or ""),
    )


def read_story(path: Path, slug_taken: set[str]) -> Story | None:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    meta = yaml.load(text[3:end], Loader=_LOADER) or {}
    if meta.get("draft"):
        return None
    lead = _item(meta)
    slug = base = slugify(lead.title)
    n = 1
    while slug in slug_taken:
        n += 1
        slug = f"{base}-{n}"
    slug_taken.add(slug)
    related = [_item(r) for r in meta.get("related") or [] if isinstance(r, dict)]
    images = meta.get("images") or []
    image = None
    if images and isinstance(images[0], dict) and images[0].get("url"):
        image = (str(images[0]["url"]), int(images[0].get("width") or 0), int(images[0].get("height") or 0))
    providers = list(dict.fromkeys([lead.provider, *(r.provider for r in related)]))
    body = text[end + 4 :].lstrip("\n")
    return Story(slug, lead, [str(t) for t in meta.get("topics") or []], related, body, image, providers)


def read_corpus(corpus: Path) -> Iterator[tuple[Path, Story]]:
    taken: set[str] = set()
    for name in sorted(os.listdir(corpus)):
        if name.endswith((".txt", ".md")) and not name.startswith("."):
            story = read_story(corpus / name, taken)
            if story is not None:
                yield corpus / name, story


def _iso(d: dt.datetime) -> str:
    return d.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _md_text(s: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", s)


# --- Pelican -------------------------------------------------------------------------------------------


def pelican_text(s: Story) -> str:
    more, seen = [], {s.lead.provider}
    for r in s.related:
        if r.provider not in seen:
            seen.add(r.provider)
            more.append(f'<a href="{_esc(r.url)}" rel="noopener">{_esc(r.provider)}</a>')
    head = [
        f"Title: {s.lead.title}",
        f"Date: {s.lead.date.astimezone(dt.UTC):%Y-%m-%d %H:%M}",
        f"Slug: {s.slug}",
        f"Tags: {', '.join(t.replace(',', ' ') for t in s.topics)}",
        f"Authors: {', '.join(s.providers)}",
        f"Summary: {_md_text(s.lead.excerpt)}",
        f"Leadurl: {s.lead.url}",
        f"More: {', '.join(more)}",
        f"Articles: {1 + len(s.related)}",
    ]
    if s.image:
        head += [f"Thumb: {s.image[0]}", f"Thumbw: {s.image[1]}", f"Thumbh: {s.image[2]}"]
    lines = [*head, "", s.body.rstrip(), "", "## All coverage", ""]
    for a in sorted([s.lead, *s.related], key=lambda a: a.date):
        lines.append(f"- [{_md_text(a.title)}]({a.url}) -- *{_md_text(a.provider)}*, {a.date:%d %b %Y %H:%M}  ")
        if a.excerpt:
            lines.append(f"  {_md_text(a.excerpt)}")
    return "\n".join(lines) + "\n"


def pelican_path(root: Path, s: Story) -> Path:
    return root / "content" / f"{s.slug}.md"


# --- Hugo ----------------------------------------------------------------------------------------------


def hugo_text(s: Story) -> str:
    more, seen = [], {s.lead.provider}
    for r in s.related:  # the front page's "More:" line, one link per other outlet, worked out once here
        if r.provider not in seen:
            seen.add(r.provider)
            more.append({"p": r.provider, "u": r.url})
    fm: dict[str, object] = {
        "title": s.lead.title,
        "date": _iso(s.lead.date),
        "summary": s.lead.excerpt,
        "topics": s.topics,
        "providers": s.providers,
        "lead": {"url": s.lead.url, "provider": s.lead.provider},
        "more": more,
        "articles": 1 + len(s.related),
        "related": [{"t": r.title, "u": r.url, "p": r.provider, "d": _iso(r.date), "e": r.excerpt} for r in s.related],
    }
    if s.image:
        fm["image"] = {"url": s.image[0], "w": s.image[1], "h": s.image[2]}
    return json.dumps(fm, ensure_ascii=False, indent=1) + "\n\n" + s.body


def hugo_path(root: Path, s: Story) -> Path:
    return root / "content" / "stories" / f"{s.slug}.md"


# --- both ----------------------------------------------------------------------------------------------


def _copy_scaffold(src: Path, dst: Path) -> None:
    for p in src.rglob("*"):
        if p.is_file() and "__pycache__" not in p.parts:
            target = dst / p.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, target)


def convert(corpus: Path, pelican_root: Path, hugo_root: Path, stylesheet: Path | None = None) -> dict[str, Path]:
    """Write both peer projects (scaffold + content); return {tool: path of the content file of story 0}.

    `stylesheet` (Newsstand's style.css) is copied into both, so every site ships the same CSS.
    """
    for root, tool in ((pelican_root, "pelican"), (hugo_root, "hugo")):
        if root.exists():
            shutil.rmtree(root)
        _copy_scaffold(HERE / tool, root)
    if stylesheet is not None and stylesheet.is_file():
        for target in (pelican_root / "theme" / "static" / "style.css", hugo_root / "static" / "style.css"):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(stylesheet, target)
    (pelican_root / "content").mkdir(parents=True)
    (hugo_root / "content" / "stories").mkdir(parents=True)
    first: dict[str, Path] = {}
    for seed, s in read_corpus(corpus):
        pp, hp = pelican_path(pelican_root, s), hugo_path(hugo_root, s)
        pp.write_text(pelican_text(s), encoding="utf-8")
        hp.write_text(hugo_text(s), encoding="utf-8")
        if not first:
            first = {"newsstand": seed, "pelican": pp, "hugo": hp}
    return first


# Where each tool's story files keep the lead's title, to change one story for the "one changed" rebuild.
TITLE_LINE = {
    "newsstand": re.compile(r"^title: .*$", re.M),
    "pelican": re.compile(r"^Title: .*$", re.M),
    "hugo": re.compile(r'^ "title": .*$', re.M),
}


def retitle(tool: str, path: Path, title: str) -> None:
    """Change the lead title of one story file in place (atomically: hard-linked copies are left alone)."""
    text = path.read_text(encoding="utf-8")
    line = {
        "newsstand": f"title: {json.dumps(title)}",
        "pelican": f"Title: {title}",
        "hugo": f' "title": {json.dumps(title)},',
    }[tool]
    new, n = TITLE_LINE[tool].subn(line.replace("\\", "\\\\"), text, count=1)
    if n != 1:
        raise ValueError(f"{path}: no title line to change")
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, path)
