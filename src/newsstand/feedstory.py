"""Feed entries → story files in the seed format. Pure: the caller reads, writes and tells the time.

One file per article, named by a digest of its canonical URL (`urls.canonical_url`, the key the build
gives the article), so a second fetch rewrites the file in place and the same article under another
tracking parameter is the same file. Every file written ends with a `fetched:` stamp, a digest of the
rest of the file: a file without one, or whose bytes no longer match it, was written or edited by
hand, and fetch never writes over it. All text is reduced to plain text (the build escapes it);
only http(s) links and images are kept.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import yaml

from .feedparse import FeedEntry, ParsedFeed
from .normalize import MAX_IMAGES, MAX_NAME, MAX_TITLE, MAX_TOPICS, clean_text, is_domain
from .subscriptions import Subscription
from .urls import canonical_url, domain_of, safe_url

PREFIX = "feed-"
SUFFIX = ".md"
EXCERPT_CHARS = 400  # the seeds' excerpts are 300-400 characters
_UNTITLED = 100  # characters of an untitled post's text that stand as its title
_FUTURE = timedelta(days=1)  # an entry dated later than this is taken as first seen now (a wrong clock, or a trick)
_OLDEST = datetime(1970, 1, 2, tzinfo=UTC)
_MAX_MARKUP = 200_000  # characters of a summary read for its text; an excerpt needs the first few hundred
_STAMP = re.compile(r"^fetched: ([0-9a-f]{16})$", re.MULTILINE)
_SKIP_CONTENT = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "head",
        "select",
        "textarea",
    }
)
_BLOCKS = frozenset(
    {
        "p",
        "br",
        "div",
        "li",
        "ul",
        "ol",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "hr",
        "table",
        "section",
        "article",
        "figure",
        "figcaption",
        "dd",
        "dt",
    }
)
_SPACE = re.compile(r"\s+")
_CUT_TAG = re.compile(r"<[A-Za-z/!?][^<>]*$")  # a tag a summary cut short left open: the parser would keep it as text


@dataclass(frozen=True, slots=True)
class StoryFile:
    name: str  # file name in the seeds folder
    url: str
    published: datetime
    data: bytes


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a story file that fetch wrote, untouched since, says of itself."""

    feed: str
    published: datetime | None


def story_name(url: str) -> str:
    return f"{PREFIX}{hashlib.sha256(canonical_url(url).encode('utf-8')).hexdigest()[:16]}{SUFFIX}"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_CONTENT:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_CONTENT:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(markup: str) -> str:
    """The text a reader would see of `markup`, on one line; scripts, styles and the like dropped whole.
    Read twice when the first reading still holds tags: feeds often escape their markup twice."""
    text = markup[:_MAX_MARKUP]
    for _ in range(2):
        if "<" not in text and "&" not in text:
            break
        parser = _Text()
        parser.feed(_CUT_TAG.sub("", text))
        parser.close()
        text = "".join(parser.parts)
    return _SPACE.sub(" ", text).strip()


def _cut(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, at a space when there is one in its second half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"


def _excerpt(summary: str) -> str:
    return _cut(clean_text(html_text(summary), 10 * EXCERPT_CHARS, "excerpt"), EXCERPT_CHARS)


def _topics(sub: Subscription, entry: FeedEntry) -> list[str]:
    names: dict[str, str] = {}
    for raw in (*sub.topics, *entry.categories):
        name = clean_text(html_text(raw), MAX_NAME, "topic")
        if name and not name.startswith(("http://", "https://", "tag:", "urn:")):
            names.setdefault(name.casefold(), name)
    return list(names.values())[:MAX_TOPICS]


def _images(entry: FeedEntry) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for image in entry.images:
        url = safe_url(image.url)
        if url is None or url in found:
            continue
        item: dict[str, Any] = {"url": url}
        if image.width and image.height:
            item.update(width=image.width, height=image.height)
        found[url] = item
    return list(found.values())[:MAX_IMAGES]


def _stamp(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def story_file(
    entry: FeedEntry,
    feed: ParsedFeed,
    sub: Subscription,
    now: datetime,
    max_age_days: int,
    first_seen: datetime | None = None,
) -> StoryFile | str:
    """The story file of one entry, or why the entry is skipped. `first_seen`: the date the entry's file
    already has, kept for an entry without a date of its own (else it would move with every fetch)."""
    title = clean_text(html_text(entry.title), MAX_TITLE, "title")
    if not title:  # RSS 2.0 and JSON Feed allow a post without one (a microblog's): its text's start stands in
        title = _cut(clean_text(html_text(entry.summary), 10 * _UNTITLED, "title"), _UNTITLED)
    if not title:
        return "no title"
    link = safe_url(entry.link)
    if link is None:
        return "no http(s) link"
    published = entry.published
    if published is None or published < _OLDEST or published > now + _FUTURE:
        published = first_seen or now
    published = published.astimezone(UTC).replace(microsecond=0)
    if max_age_days and published < now - timedelta(days=max_age_days):
        return f"older than {max_age_days} days"
    domain = domain_of(link)
    name = sub.name or clean_text(html_text(feed.title), MAX_NAME, "provider") or domain
    front: dict[str, Any] = {"title": title}
    if excerpt := _excerpt(entry.summary):
        front["excerpt"] = excerpt
    front["publishedDateTime"] = published.strftime("%Y-%m-%dT%H:%M:%SZ")
    front["webUrl"] = link
    front["provider"] = {"name": name, "domain": domain} if is_domain(domain) else {"name": name}
    if sub.weight is not None:
        front["quality"] = sub.weight
    if topics := _topics(sub, entry):
        front["topics"] = topics
    if images := _images(entry):
        front["images"] = images
    front["feed"] = sub.url
    body = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1_000_000, default_flow_style=False)
    unstamped = f"---\n{body}---\n"
    text = f"---\n{body}fetched: {_stamp(unstamped)}\n---\n"
    return StoryFile(name=story_name(link), url=link, published=published, data=text.encode("utf-8"))


def fetched(data: bytes) -> Fetched | None:
    """What a file that fetch wrote says of itself, or None when it was written or edited by hand."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    stamps = list(_STAMP.finditer(text))
    if len(stamps) != 1:
        return None
    mark = stamps[0]
    unstamped = text[: mark.start()] + text[mark.end() + 1 :]
    if _stamp(unstamped) != mark.group(1):
        return None
    try:
        front = yaml.safe_load(unstamped.split("---\n", 2)[1])
    except (yaml.YAMLError, IndexError):
        return None
    if not isinstance(front, dict) or not isinstance(front.get("feed"), str):
        return None
    published = front.get("publishedDateTime")
    try:
        when = datetime.fromisoformat(published) if isinstance(published, str) else published
    except ValueError:
        when = None
    if not isinstance(when, datetime):
        when = None
    elif when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return Fetched(feed=front["feed"], published=when)
