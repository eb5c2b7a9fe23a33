"""Raw records → Corpus: one Article per canonical URL, providers by domain, topics by name.

Every article a file mentions (its lead and each `related` item) becomes an Article; the
same article met in several files is merged, field by field, from its richest mention.
A bad field drops that field or item with a problem; only a lead with no usable title,
URL or date leaves its whole file out.
"""

from __future__ import annotations

import hashlib
import operator
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from .digest import content_digest
from .markup import markdown_to_html
from .model import Article, Corpus, Image, Provider, Topic, compact_pickle
from .problems import Problem
from .read import RawRecord
from .slugs import assign_slugs
from .urls import canonical_url, domain_of, safe_url, unwrap_amp_cache

MAX_TITLE = 300
MAX_EXCERPT = 1_000
MAX_NAME = 100
MAX_TOPICS = 20
MAX_IMAGES = 10
MAX_RELATED = 200
_URL_SCHEMAS = (("webUrl", "ampWebUrl", "cdnAmpWebUrl"), ("sourceUrl", "ampUrl", "cdnAmpUrl"))
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_SPACE = re.compile(r"\s+")
_MIN_DATE = datetime(1970, 1, 2, tzinfo=UTC)
_MAX_DATE = datetime(2200, 1, 1, tzinfo=UTC)


def is_domain(name: str) -> bool:
    """Whether `name` can stand as an outlet's domain: a host name under a top-level domain (not an address)."""
    return _HOST.match(name) is not None


class _Bad(Exception):
    """A value that cannot be used; the message says which and why."""


@compact_pickle
@dataclass(slots=True)
class Mention:
    """What one place in one file says about an article, before merging."""

    key: str
    url: str
    title: str
    published: datetime
    provider_domain: str
    provider_name: str
    logo: Image | None
    excerpt: str
    topics: tuple[str, ...]  # names as written
    images: tuple[Image, ...]
    quality: int | None
    heat: int | None
    pick: bool
    lead: bool
    body_html: str
    path: str
    alternates: tuple[str, ...]
    related: tuple[str, ...] = field(default=())
    digest: str = ""  # of all the above but `path`, once the file is read (see Article.digest)

    def richness(self) -> tuple[int, int]:
        filled = sum(bool(v) for v in (self.excerpt, self.topics, self.images, self.body_html))
        filled += (self.quality is not None) + (self.heat is not None)
        return (int(self.lead), filled)


def _says(m: Mention) -> str:
    """What an article one file mentions says, as merge_article makes it (its topics aside: their slugs are
    voted over the corpus): the file's name is not part of it."""
    return content_digest(
        m.key,
        m.url,
        m.title,
        m.published,
        m.provider_domain,
        m.excerpt or "",
        m.images or (),
        m.quality,
        m.heat,
        bool(m.pick),
        bool(m.lead),
        m.body_html or "",
        tuple(dict.fromkeys(m.related)),
        tuple(dict.fromkeys(a for a in m.alternates if a != m.url)),
    )


def clean_text(value: Any, limit: int, what: str, notes: list[str] | None = None) -> str:
    """Seed text as one line of plain text: numbers become text, containers are refused.

    Text longer than `limit` characters is cut, and the cut noted in `notes` when given.
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Bad(f"{what}: expected text, got {type(value).__name__}")
    text = str(value)
    if "  " in text or not text.isprintable():  # else its only whitespace is single spaces: nothing to fold
        text = _SPACE.sub(" ", text)
    text = text.strip()
    if not text.isprintable():  # the whole-string check is C-fast; the filter runs only when needed
        text = "".join(c for c in text if c.isprintable())
    if len(text) > limit:
        if notes is not None:
            notes.append(f"{what}: {len(text):,} characters, cut to the limit of {limit:,}")
        text = text[: limit - 1].rstrip() + "…"
    return text


def _number(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Bad(f"{what}: expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        if value != value or abs(value) > 1e9:  # NaN or absurd
            raise _Bad(f"{what}: number out of range: {value!r}")
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            pass
    raise _Bad(f"{what}: expected a number, got {value!r}"[:200])


def parse_date(value: Any, what: str = "publishedDateTime") -> datetime:
    """A timezone-aware UTC datetime; a date or time without a zone is taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            raise _Bad(f"{what}: not a date: {value[:60]!r}") from None
    elif value is None or value == "":
        raise _Bad(f"{what}: missing")
    else:
        raise _Bad(f"{what}: not a date: {value!r}"[:200])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if not _MIN_DATE <= moment < _MAX_DATE:
        raise _Bad(f"{what}: date out of range: {moment.isoformat()}")
    return moment


def _images(value: Any, what: str, problems: list[str], quiet_relative: bool = False) -> tuple[Image, ...]:
    """Images with an http(s) URL; `quiet_relative`: a site-relative URL ('/x.png') is dropped unreported."""
    if value is None:
        return ()
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        problems.append(f"{what}: expected a list of images")
        return ()
    if len(value) > MAX_IMAGES:
        problems.append(f"{what}: {len(value)} images, only the first {MAX_IMAGES} are read")
    out: list[Image] = []
    for i, item in enumerate(value[:MAX_IMAGES]):
        if not isinstance(item, dict):
            problems.append(f"{what}[{i}]: expected a mapping with url, width and height")
            continue
        raw = item.get("url")
        url = safe_url(raw)
        if url is None:
            relative = isinstance(raw, str) and raw.strip().startswith("/") and not raw.strip().startswith("//")
            if raw is None:
                problems.append(f"{what}[{i}].url: missing: image left out")
            elif not (quiet_relative and relative):
                problems.append(f"{what}[{i}].url: not an http(s) URL: {str(raw)[:80]!r}: image left out")
            continue
        try:
            width = _number(item.get("width"), f"{what}[{i}].width")
            height = _number(item.get("height"), f"{what}[{i}].height")
            title = clean_text(item.get("title"), MAX_TITLE, f"{what}[{i}].title", problems)
        except _Bad as err:
            problems.append(str(err))
            width = height = None
            title = ""
        if not (width and height and 0 < width <= 10_000 and 0 < height <= 10_000):
            width = height = None
        out.append(Image(url=url, width=width, height=height, title=title))
    return tuple(out)


def _topics(value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]  # one topic written as a string
    if not isinstance(value, list):
        problems.append("topics: expected a list of names")
        return ()
    if len(value) > MAX_TOPICS:
        problems.append(f"topics: {len(value)} topics, only the first {MAX_TOPICS} are read")
    names: list[str] = []
    for i, item in enumerate(value[:MAX_TOPICS]):
        try:
            name = clean_text(item, MAX_NAME, f"topics[{i}]", problems)
        except _Bad as err:
            problems.append(str(err))
            continue
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _urls(item: dict[str, Any], what: str, problems: list[str]) -> tuple[str, str, tuple[str, ...]]:
    """(key, link, alternates) from either URL schema; AMP URLs are alternates, not articles.

    A bad main URL leaves the article out; a bad AMP URL only drops that alternate.
    """
    main: str | None = None
    alternates: list[str] = []
    for schema in _URL_SCHEMAS:
        for i, name in enumerate(schema):
            raw = item.get(name)
            if raw is None:
                continue
            url = safe_url(raw)
            if url is None and i > 0:
                problems.append(f"{what}{name}: not an http(s) URL: {str(raw)[:80]!r}: left out")
                continue
            if url is None:
                raise _Bad(f"{what}{name}: not an http(s) URL: {str(raw)[:80]!r}")
            if i == 0 and main is None:
                main = url
            elif url not in alternates:
                alternates.append(url)
    if main is None:
        if not alternates:
            raise _Bad(f"{_at(what)}no URL (webUrl or sourceUrl)")
        # Only AMP renditions are known: link to the publisher's own AMP page, keyed as the article.
        main = unwrap_amp_cache(alternates[0])
    return canonical_url(main), main, tuple(a for a in alternates if a != main)


def _provider(value: Any, link: str, what: str, problems: list[str]) -> tuple[str, str, Image | None]:
    name = domain = ""
    logo: Image | None = None
    if isinstance(value, dict):
        try:
            name = clean_text(value.get("name"), MAX_NAME, f"{what}provider.name", problems)
        except _Bad as err:
            problems.append(str(err))
        raw_domain = value.get("domain")
        if isinstance(raw_domain, str):
            domain = raw_domain.strip().lower().rstrip(".")
            domain = domain[4:] if domain.startswith("www.") else domain
        # Relative logo URLs point into the aggregator the seeds came from: unusable here, dropped quietly.
        logos = [
            i for i in _images(value.get("images"), f"{what}provider.images", problems, quiet_relative=True) if i.url
        ]
        logo = logos[0] if logos else None
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        name = clean_text(value, MAX_NAME, f"{what}provider", problems)
    elif value is not None:
        problems.append(f"{what}provider: expected a mapping with name and domain")
    if not _HOST.match(domain):
        if domain:
            problems.append(f"{what}provider.domain: not a domain name: {domain[:60]!r}; using the article's host")
        domain = domain_of(link)
    return domain, name or domain, logo


def _mention(item: Any, path: str, what: str, lead: bool, problems: list[str], body_html: str = "") -> Mention:
    if not isinstance(item, dict):
        raise _Bad(f"{_at(what)}expected a mapping of fields, got {type(item).__name__}")
    title = clean_text(item.get("title"), MAX_TITLE, f"{what}title", problems)
    if not title:
        raise _Bad(f"{what}title: missing or empty")
    key, link, alternates = _urls(item, what, problems)
    published = parse_date(item.get("publishedDateTime"), f"{what}publishedDateTime")
    domain, name, logo = _provider(item.get("provider"), link, what, problems)
    excerpt = ""
    quality = heat = None
    try:
        excerpt = clean_text(item.get("excerpt"), MAX_EXCERPT, f"{what}excerpt", problems)
    except _Bad as err:
        problems.append(str(err))
    try:
        quality = _number(item.get("quality"), f"{what}quality")
    except _Bad as err:
        problems.append(str(err))
    try:
        heat = _number(item.get("heat"), f"{what}heat")
    except _Bad as err:
        problems.append(str(err))
    pick = item.get("published")
    if pick is not None and not isinstance(pick, bool):
        problems.append(f"{what}published: expected true or false, got {pick!r}"[:200])
        pick = None
    return Mention(
        key=key,
        url=link,
        title=title,
        published=published,
        provider_domain=domain,
        provider_name=name,
        logo=logo,
        excerpt=excerpt,
        topics=_topics(item.get("topics"), problems) if lead else (),
        images=_images(item.get("images"), f"{what}images", problems),
        quality=quality,
        heat=heat,
        pick=bool(pick) and lead,
        lead=lead,
        body_html=body_html,
        path=path,
        alternates=alternates,
    )


def file_mentions(record: RawRecord, drafts: bool = False) -> tuple[list[Mention], list[Problem]]:
    """Every article one file mentions; problems for what was dropped."""
    notes: list[str] = []
    front = record.front
    draft = front.get("draft", False)
    if draft is True and not drafts:
        return [], []
    if not isinstance(draft, bool):
        notes.append(f"draft: expected true or false, got {draft!r}"[:200] + "; taken as false")
    body_notes: list[str] = []
    try:
        body = markdown_to_html(record.body, body_notes) if record.body.strip() else ""
        lead = _mention(front, record.path, "", True, notes, body)
    except _Bad as err:
        # Only the reason the file is left out: what else is wrong with it does not matter any more.
        return [], [_problem(record, f"{err}; file left out", rejected=True)]
    out = [lead]
    related = front.get("related")
    if related is not None and not isinstance(related, list):
        notes.append("related: expected a list of articles; ignored")
        related = []
    if related and len(related) > MAX_RELATED:
        notes.append(f"related: {len(related)} items, only the first {MAX_RELATED} are read")
    keys: list[str] = []
    for i, item in enumerate((related or [])[:MAX_RELATED]):
        try:
            mention = _mention(item, record.path, f"related[{i}].", False, notes)
        except _Bad as err:
            notes.append(f"{err}; item left out")
            continue
        if mention.key != lead.key and mention.key not in keys:
            keys.append(mention.key)
            out.append(mention)
    lead.related = tuple(keys)
    for mention in out:
        mention.digest = _says(mention)
    problems = [_problem(record, n) for n in dict.fromkeys(notes)]
    problems += [Problem(record.path, record.body_line, None, n) for n in dict.fromkeys(body_notes)]
    return out, problems


_WHERE = re.compile(r"^([A-Za-z_][\w-]*(?:\[\d+\])*(?:\.[A-Za-z_][\w-]*(?:\[\d+\])*)*): ")


def _at(what: str) -> str:
    """'related[2].' → 'related[2]: ', '' → '': the prefix of a message about a whole item."""
    return f"{what.rstrip('.')}: " if what else ""


def _problem(record: RawRecord, message: str, rejected: bool = False) -> Problem:
    """A problem at the line of the field its message starts with ('related[2].webUrl: ...')."""
    match = _WHERE.match(message)
    line = record.line_of(match.group(1)) if match else None
    return Problem(record.path, line, None, message, rejected=rejected)


def _first(values: Iterable[Any]) -> Any:
    return next((v for v in values if v), None)


def merge_article(mentions: Sequence[Mention], topic_slugs: dict[str, str]) -> Article:
    """One Article from every mention of it: each field from the richest mention that has it."""
    if len(mentions) == 1:  # most articles (four in five at 10k stories): the same result, without the ranking
        m = mentions[0]
        slugs = tuple(dict.fromkeys(topic_slugs[t.casefold()] for t in m.topics))
        return Article(
            key=m.key,
            url=m.url,
            title=m.title,
            published=m.published,
            provider=m.provider_domain,
            excerpt=m.excerpt or "",
            topics=slugs,
            images=m.images or (),
            quality=m.quality,
            heat=m.heat,
            pick=bool(m.pick),
            lead=bool(m.lead),
            body_html=m.body_html or "",
            related=tuple(dict.fromkeys(m.related)),
            sources=(m.path,),
            alternates=tuple(dict.fromkeys(a for a in m.alternates if a != m.url)),
            digest=_digest(m.digest, slugs) if m.digest else "",
        )
    # Ties go by content, not by file: the article is then a function of what its mentions say, whichever
    # files say it, as its digest is.
    ranked = sorted(mentions, key=lambda m: (tuple(-x for x in m.richness()), m.digest, m.path))
    best = ranked[0]
    topics = dict.fromkeys(topic_slugs[t.casefold()] for m in ranked for t in m.topics)
    related = dict.fromkeys(k for m in ranked for k in m.related)
    alternates = dict.fromkeys(a for m in ranked for a in m.alternates if a != best.url)
    excerpt, images = _first(m.excerpt for m in ranked) or "", _first(m.images for m in ranked) or ()
    quality = next((m.quality for m in ranked if m.quality is not None), None)
    heat = next((m.heat for m in ranked if m.heat is not None), None)
    pick, lead, body = any(m.pick for m in mentions), any(m.lead for m in mentions), _first(m.body_html for m in ranked)
    published = min(m.published for m in ranked)  # of equal instants, the richest mention's (not the first file's)
    # Of what it says, as _says gives it for an article one file mentions: one more file listing it as related,
    # with fewer fields than its own file gives (each new story file does so for a few older articles),
    # changes nothing a page shows or clustering reads, and leaves the digest as it was.
    if (
        published is best.published
        and excerpt == (best.excerpt or "")
        and images == (best.images or ())
        and quality == best.quality
        and heat == best.heat
        and pick == bool(best.pick)
        and lead == bool(best.lead)
        and (body or "") == (best.body_html or "")
        and len(related) == len(set(best.related))
        and len(alternates) == len(set(best.alternates) - {best.url})
    ):
        # The other mentions add nothing to what the richest one says (most often they are other files'
        # `related` lists): the same values as _says(best) gave, so its digest, without pickling them again
        # (two in five articles at 100k stories have several mentions). The lengths suffice: `related` and
        # `alternates` start with best's own, deduplicated, and equal values of `quality` and `heat` are
        # ints (or None) taken from best itself, unless best has none and no other mention has one either.
        says = best.digest
    else:
        says = content_digest(
            best.key,
            best.url,
            best.title,
            published,
            best.provider_domain,
            excerpt,
            images,
            quality,
            heat,
            pick,
            lead,
            body or "",
            tuple(related),
            tuple(alternates),
        )
    return Article(
        key=best.key,
        url=best.url,
        title=best.title,
        published=published,
        provider=best.provider_domain,
        excerpt=excerpt,
        topics=tuple(topics),
        images=images,
        quality=quality,
        heat=heat,
        pick=pick,
        lead=lead,
        body_html=body or "",
        related=tuple(related),
        sources=tuple(sorted({m.path for m in mentions})),
        alternates=tuple(alternates),
        digest=_digest(says, tuple(topics)) if all(m.digest for m in mentions) else "",
    )


def _digest(says: str, topic_slugs: tuple[str, ...]) -> str:
    """Article.digest: what the article says and the slugs its topics get; empty for an article made of
    mentions made by hand, not read from a file."""
    return hashlib.sha256("\n".join([says, "", *topic_slugs]).encode()).hexdigest()


Votes = dict[str, Counter[Any]]  # a name (or logo) → how many mentions give it, for each topic or outlet


@dataclass(frozen=True, slots=True)
class Tally:
    """The corpus-wide votes for names: each topic's spellings (by its case-folded name) and each outlet's
    names and logos (by domain), counted over every mention. Kept between builds (MergeState), a vote
    moves by what the changed files' mentions give and gave."""

    topic_names: Votes
    provider_names: Votes
    provider_logos: Votes

    @classmethod
    def of(cls, mentions: Iterable[Mention]) -> Tally:
        tally = cls({}, {}, {})
        tally._count(mentions, 1, set())
        return tally

    def moved(self, removed: Iterable[Mention], added: Iterable[Mention]) -> Tally:
        """The tally with the `removed` mentions' votes taken back and the `added` ones' counted."""
        tally = Tally(dict(self.topic_names), dict(self.provider_names), dict(self.provider_logos))
        copied: set[tuple[int, str]] = set()  # copy on write: the tables of the last build stay as they were
        tally._count(removed, -1, copied)
        tally._count(added, 1, copied)
        return tally

    def _count(self, mentions: Iterable[Mention], sign: int, copied: set[tuple[int, str]]) -> None:
        tables = (self.topic_names, self.provider_names, self.provider_logos)

        def vote(which: int, key: str, value: object) -> None:
            table = tables[which]
            if (which, key) not in copied:
                table[key] = Counter(table.get(key, ()))
                copied.add((which, key))
            votes = table[key]
            votes[value] += sign
            if votes[value] <= 0:
                del votes[value]
                if not votes:
                    del table[key]
                    copied.discard((which, key))

        for m in mentions:
            for t in m.topics:
                vote(0, t.casefold(), t)
            vote(1, m.provider_domain, m.provider_name)
            if m.logo:
                vote(2, m.provider_domain, m.logo)

    def topic_display(self) -> dict[str, str]:
        """Each topic's name as the most mentions spell it (ties: the first in code point order)."""
        return {k: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for k, c in self.topic_names.items()}

    def topic_slugs(self) -> dict[str, str]:
        display = self.topic_display()
        return assign_slugs(((k, display[k]) for k in sorted(display)), fallback="topic")

    def topics(self) -> tuple[Topic, ...]:
        display, slugs = self.topic_display(), self.topic_slugs()
        return tuple(sorted((Topic(slugs[k], display[k]) for k in display), key=lambda t: t.slug))

    def providers(self) -> tuple[Provider, ...]:
        names = self.provider_names

        def display(domain: str) -> str:
            # The most used name; on a tie, prefer a real name over one that is just the domain.
            name: str = min(names[domain].items(), key=lambda kv: (-kv[1], kv[0].lower() in domain, kv[0]))[0]
            return name

        def logo(domain: str) -> Image | None:
            # The logo the most mentions give; on a tie, the first by its fields (not by which file came first,
            # which a build that reads only the changed files cannot know).
            votes = self.provider_logos.get(domain)
            if not votes:
                return None
            best: Image = min(votes.items(), key=lambda kv: (-kv[1], _image_order(kv[0])))[0]
            return best

        chosen = {d: display(d) for d in sorted(names)}
        slugs = assign_slugs(((d, chosen[d]) for d in sorted(names)), fallback="provider")

        def every_name(domain: str) -> tuple[str, ...]:
            return (
                chosen[domain],
                *sorted((n for n in names[domain] if n != chosen[domain]), key=lambda n: (-names[domain][n], n)),
            )

        return tuple(
            sorted((Provider(d, chosen[d], slugs[d], logo(d), every_name(d)) for d in names), key=lambda p: p.slug)
        )


def _image_order(image: Image) -> tuple[str, int, int, str]:
    return (image.url, image.width or 0, image.height or 0, image.title)


@dataclass(frozen=True, slots=True)
class MergeState:
    """What a merge leaves for the next build to merge only what changed (merge_changed): every article by
    key, in key order, and the votes for names."""

    articles: dict[str, Article]
    tally: Tally
    changed: frozenset[str] | None = None  # the keys merged again since the state this one was made from; None: all


def merge(mentions: Iterable[Mention]) -> Corpus:
    """The corpus from every file's mentions: one Article per key, providers by domain, topics by name."""
    return merge_all(mentions)[0]


def merge_all(mentions: Iterable[Mention]) -> tuple[Corpus, MergeState]:
    """`merge`, and the state it leaves for merge_changed."""
    by_key: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_key[m.key].append(m)
    tally = Tally.of(m for group in by_key.values() for m in group)
    topic_slugs = tally.topic_slugs()
    articles = {k: merge_article(by_key[k], topic_slugs) for k in sorted(by_key)}
    corpus = Corpus(articles=tuple(articles.values()), providers=tally.providers(), topics=tally.topics())
    return corpus, MergeState(articles, tally)


def merge_changed(
    state: MergeState,
    removed: Sequence[Mention],
    added: Sequence[Mention],
    others: Mapping[str, Sequence[Mention]],
) -> tuple[Corpus, MergeState] | None:
    """What `merge_all` gives for the corpus `state` was made of, with some files changed: `removed` are
    the mentions those files (changed, or gone) held when `state` was made, `added` what they hold now, and
    `others` the mentions every other file holds of each key either names. Only the articles of those keys
    are merged again. None when a topic's slug moved: every article under it changes, and the caller
    merges everything."""
    tally = state.tally.moved(removed, added)
    topic_slugs = tally.topic_slugs()
    if topic_slugs != state.tally.topic_slugs():
        return None
    keys = moved_keys(removed, added)
    groups: dict[str, list[Mention]] = {k: [] for k in keys}
    for m in added:
        if m.key in groups:
            groups[m.key].append(m)
    articles = dict(state.articles)
    new_keys = False
    changed = set()
    for key, group in groups.items():
        group = [*others.get(key, ()), *group]
        was = articles.get(key)
        if group:
            new_keys |= was is None
            article = merge_article(group, topic_slugs)
            if article != was:  # merged again the same, it stays the object the record holds
                articles[key] = article
                changed.add(key)
        elif was is not None:
            del articles[key]
            changed.add(key)
    if new_keys:
        articles = {k: articles[k] for k in sorted(articles)}
    corpus = Corpus(articles=tuple(articles.values()), providers=tally.providers(), topics=tally.topics())
    return corpus, MergeState(articles, tally, frozenset(changed))


def moved_keys(removed: Iterable[Mention], added: Iterable[Mention]) -> set[str]:
    """The keys whose mentions differ between `removed` and `added` (the mentions some files held before
    and hold now): only their articles can change. An edited headline rewrites its file, whose other
    mentions (its related articles, each also in other files) are as they were."""
    before: dict[str, list[Mention]] = defaultdict(list)
    after: dict[str, list[Mention]] = defaultdict(list)
    for m in removed:
        before[m.key].append(m)
    for m in added:
        after[m.key].append(m)
    by_path = operator.attrgetter("path")
    return {
        k
        for k in before.keys() | after.keys()
        if sorted(before.get(k, ()), key=by_path) != sorted(after.get(k, ()), key=by_path)
    }


@dataclass(slots=True)
class MergeMemo:
    """The last merge and the files it was made of (each one's mentions, by path), kept in memory by a
    long-running caller (serve): the next merge (`merge_again`) merges again only the articles whose
    mentions moved, as a CLI build does from the merge record, instead of every article of the archive
    (merging them all was most of a rebuild's normalizing: 0.15 s at 10k stories, ten times that at 100k)."""

    state: MergeState | None = None
    files: Mapping[str, Sequence[Mention]] = field(default_factory=dict)
    topic_slugs: dict[str, str] = field(default_factory=dict)  # the state's, worked out once

    @property
    def articles(self) -> Mapping[str, Article]:
        return self.state.articles if self.state is not None else {}

    def mentions_of(self, key: str) -> list[Mention] | None:
        """Every mention of the article `key` in the files the merge was made of; None for an unknown key."""
        article = self.articles.get(key)
        if article is None:
            return None
        return [m for path in article.sources for m in self.files[path] if m.key == key]


def merge_again(memo: MergeMemo, files: Mapping[str, Sequence[Mention]]) -> Corpus:
    """`merge` of the mentions of `files` (by path, in path order), merging again only the articles whose
    mentions moved since the merge `memo` holds, and the memo updated: the corpus is `merge`'s. A file is
    known unchanged by being the same sequence of mentions (the ingest memo keeps an unchanged file's)."""
    state, before = memo.state, memo.files
    fresh = [path for path, mentions in files.items() if before.get(path) is not mentions]
    gone = [path for path in before if path not in files]
    merged = None
    if state is not None:
        changed = {*fresh, *gone}
        removed = [m for path in (*fresh, *gone) for m in before.get(path, ())]
        added = [m for path in fresh for m in files[path]]
        others = {
            key: [
                m
                for path in (state.articles[key].sources if key in state.articles else ())
                if path not in changed
                for m in files[path]
                if m.key == key
            ]
            for key in moved_keys(removed, added)
        }
        merged = merge_changed(state, removed, added, others)
    if merged is None:
        merged = merge_all(m for mentions in files.values() for m in mentions)
    memo.state, memo.files, memo.topic_slugs = merged[1], dict(files), merged[1].tally.topic_slugs()
    return merged[0]


def normalize(records: Sequence[RawRecord], drafts: bool = False) -> tuple[Corpus, tuple[Problem, ...]]:
    """Per-file extraction (`file_mentions`, cacheable and parallel) followed by the corpus-wide `merge`."""
    problems: list[Problem] = []
    mentions: list[Mention] = []
    for record in records:
        found_mentions, found = file_mentions(record, drafts)
        problems.extend(found)
        mentions.extend(found_mentions)
    return merge(mentions), tuple(problems)
