import random
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from newsstand.digest import content_digest
from newsstand.normalize import (
    _digest,
    _says,
    file_mentions,
    merge_all,
    merge_article,
    merge_changed,
    moved_keys,
    normalize,
)
from newsstand.read import RawRecord, parse_seed, read_seeds, seed_paths

from .conftest import SEEDS


def seeds_corpus():
    records, problems = read_seeds(seed_paths(SEEDS))
    assert not problems
    return normalize(records)


def record(text: str, path: str = "s.txt") -> RawRecord:
    return parse_seed(path, text.encode())


def test_the_seeds_give_one_article_per_canonical_url() -> None:
    corpus, problems = seeds_corpus()
    assert not problems
    keys = [a.key for a in corpus.articles]
    assert len(keys) == len(set(keys)) == 57
    computing = [a for a in corpus.articles if "computing.co.uk" in a.url]
    assert len(computing) == 1  # lead of one file, related item of another
    assert computing[0].lead and len(computing[0].sources) == 2
    assert computing[0].topics == ("ai", "computer-vision")  # merged from the richer (lead) mention


def test_amp_urls_are_alternates_not_articles() -> None:
    corpus, _ = seeds_corpus()
    assert not any("/amp/" in a.url or "ampproject" in a.url for a in corpus.articles)
    engadget = next(a for a in corpus.articles if a.provider == "engadget.com")
    assert any("ampproject" in u for u in engadget.alternates)


def test_providers_are_keyed_by_domain_and_topics_by_name() -> None:
    corpus, _ = seeds_corpus()
    domains = [p.domain for p in corpus.providers]
    assert len(domains) == len(set(domains))
    assert {t.name for t in corpus.topics} == {"AI", "Computer Vision"}
    assert len({p.slug for p in corpus.providers}) == len(corpus.providers)


def test_picks_and_secured() -> None:
    corpus, _ = seeds_corpus()
    picks = [a for a in corpus.articles if a.pick]
    assert [a.provider for a in picks] == ["nytimes.com"]
    assert "secured" not in repr(corpus) and "OfBsGsXwZbQv" not in repr(corpus)


def test_one_article_under_two_names_of_one_provider_takes_the_most_used_name() -> None:
    a = record(
        "---\ntitle: A\npublishedDateTime: 2020-01-01T00:00:00Z\nwebUrl: https://x.com/a\n"
        "provider: {name: X News, domain: www.x.com}\n---\n",
        "a.txt",
    )
    b = record(
        "---\ntitle: B\npublishedDateTime: 2020-01-01T00:00:00Z\nwebUrl: https://x.com/b\n"
        "provider: {name: X News, domain: x.com}\n---\n",
        "b.txt",
    )
    c = record(
        "---\ntitle: C\npublishedDateTime: 2020-01-01T00:00:00Z\nwebUrl: https://x.com/c\n"
        "provider: {name: xnews, domain: x.com}\n---\n",
        "c.txt",
    )
    corpus, _ = normalize([a, b, c])
    assert [(p.domain, p.name) for p in corpus.providers] == [("x.com", "X News")]


def test_naive_dates_are_utc_and_bad_fields_are_reported() -> None:
    text = (
        "---\ntitle: T\npublishedDateTime: '2020-02-01T10:00:00'\nwebUrl: https://x.com/a\nquality: lots\n"
        "topics: Single Topic\nrelated:\n  - title: no url\n    publishedDateTime: 2020-02-01T10:00:00Z\n---\n"
    )
    corpus, problems = normalize([record(text)])
    (article,) = corpus.articles
    assert article.published == datetime(2020, 2, 1, 10, tzinfo=UTC)
    assert article.quality is None
    assert [t.name for t in corpus.topics] == ["Single Topic"]
    messages = [p.message for p in problems]
    assert any("quality" in m for m in messages)
    assert any("related[0]" in m and "no URL" in m for m in messages)
    assert not any(p.rejected for p in problems)


def test_a_lead_without_title_url_or_date_leaves_its_file_out() -> None:
    for text in (
        "---\nwebUrl: https://x.com/a\npublishedDateTime: 2020-01-01\n---\n",
        "---\ntitle: T\npublishedDateTime: 2020-01-01\n---\n",
        "---\ntitle: T\nwebUrl: https://x.com/a\npublishedDateTime: yesterday\n---\n",
        "---\ntitle: T\nwebUrl: javascript:alert(1)\npublishedDateTime: 2020-01-01\n---\n",
    ):
        corpus, problems = normalize([record(text)])
        assert corpus.articles == () and problems[0].rejected and problems[0].path == "s.txt"


def test_drafts_are_left_out_unless_asked_for() -> None:
    text = "---\ntitle: T\nwebUrl: https://x.com/a\npublishedDateTime: 2020-01-01\ndraft: true\n---\n"
    assert normalize([record(text)])[0].articles == ()
    assert len(normalize([record(text)], drafts=True)[0].articles) == 1


def test_markdown_body_is_sanitized() -> None:
    text = (
        "---\ntitle: T\nwebUrl: https://x.com/a\npublishedDateTime: 2020-01-01\n---\n"
        "Hello **world** <script>alert(1)</script> [x](javascript:alert(1)) [ok](https://ok.com)\n"
        "<img src=x onerror=alert(1)>\n"
    )
    (article,) = normalize([record(text)])[0].articles
    html = article.body_html
    assert "<strong>world</strong>" in html
    assert "script" not in html and "javascript" not in html and "onerror" not in html
    assert 'href="https://ok.com"' in html


def test_input_order_does_not_matter(tmp_path: Path) -> None:
    records, _ = read_seeds(seed_paths(SEEDS))
    assert normalize(records) == normalize(tuple(reversed(records)))


def test_an_articles_digest_changes_exactly_when_the_article_does() -> None:
    # Page signatures compare these digests instead of the articles: equal digests must mean equal articles,
    # and an edit to any mention of an article (here: a related item's excerpt) must change its digest.
    records, _ = read_seeds(seed_paths(SEEDS))
    before, _ = normalize(records)
    at = next(i for i, r in enumerate(records) if r.front.get("related"))
    r = records[at]
    related = [{**r.front["related"][0], "excerpt": "An excerpt only this file gives."}, *r.front["related"][1:]]
    edited = RawRecord(path=r.path, front={**r.front, "related": related}, body=r.body, body_line=r.body_line)
    after, _ = normalize([*records[:at], edited, *records[at + 1 :]])
    old = {a.key: a for a in before.articles}
    new = {a.key: a for a in after.articles}
    assert old.keys() == new.keys() and all(a.digest for a in new.values())
    changed = {k for k in old if replace(old[k], digest="") != replace(new[k], digest="")}
    assert changed and changed == {k for k in old if old[k].digest != new[k].digest}


def test_one_more_file_listing_an_article_leaves_its_digest_alone() -> None:
    # Each new story file lists a few older articles as related, with fewer fields than their own files give:
    # that changes only where the article was read, which no page shows, so no page of its story renders again.
    records, _ = read_seeds(seed_paths(SEEDS))
    before, _ = normalize(records)
    old = next(a for a in before.articles if a.lead and a.excerpt and a.topics)
    new_file = record(
        "---\ntitle: A new story\npublishedDateTime: 2020-03-01T09:00:00Z\nwebUrl: https://new.example/story\n"
        "provider:\n  name: New\n  domain: new.example\nrelated:\n"
        f"  - title: {old.title!r}\n    publishedDateTime: {old.published.isoformat()}\n    webUrl: {old.url!r}\n"
        f"    provider:\n      domain: {old.provider}\n---\n",
        path="zz-new.txt",
    )
    after, _ = normalize([*records, new_file])
    [now] = [a for a in after.articles if a.key == old.key]
    assert now.sources == (*old.sources, "zz-new.txt")
    assert replace(now, sources=old.sources) == old and now.digest == old.digest


def test_an_articles_digest_is_that_of_what_its_mentions_say_together() -> None:
    # merge_article takes the richest mention's digest when the others add nothing; whichever way it gets
    # there, the digest must be that of the merged values, for any mix of what mentions hold.
    records, _ = read_seeds(seed_paths(SEEDS))
    mentions = [m for r in records for m in file_mentions(r)[0]]
    slugs = {t.casefold(): t.casefold().replace(" ", "-") for m in mentions for t in m.topics}
    rng = random.Random(7)
    fields = {
        "excerpt": lambda m: "",
        "images": lambda m: (),
        "quality": lambda m: None if m.quality is not None else 3,
        "heat": lambda m: None if m.heat is not None else 2,
        "pick": lambda m: not m.pick,
        "body_html": lambda m: "" if m.body_html else "<p>b</p>",
        "related": lambda m: (*m.related, "example.org/other"),
        "alternates": lambda m: (*m.alternates, m.url, "https://amp.example/x"),
        "published": lambda m: m.published.replace(minute=(m.published.minute + 1) % 60),
    }
    checked = set()
    for _ in range(400):
        base = rng.choice(mentions)
        group = [base, *(replace(base, path=f"other{i}.txt") for i in range(rng.randint(1, 3)))]
        for i in range(len(group)):
            for name in rng.sample(sorted(fields), rng.randint(0, 3)):
                group[i] = replace(group[i], **{name: fields[name](group[i])})
        group = [replace(m, digest=_says(m)) for m in group]
        a = merge_article(group, slugs)
        says = content_digest(
            a.key, a.url, a.title, a.published, a.provider, a.excerpt, a.images, a.quality, a.heat,
            a.pick, a.lead, a.body_html, a.related, a.alternates,
        )  # fmt: skip
        assert a.digest == _digest(says, a.topics)
        checked.add(a.digest == _digest(group[0].digest, a.topics))
    assert checked == {True, False}  # both ways were taken


def test_an_edited_file_merges_again_only_the_articles_whose_mentions_changed() -> None:
    # A file rewritten with a new headline still names its related articles as before: those are neither
    # merged again nor recorded as changed (the merge record would rewrite their months for nothing).
    records, _ = read_seeds(seed_paths(SEEDS))
    _, state = merge_all(m for r in records for m in file_mentions(r)[0])
    target = next(r for r in records if len(file_mentions(r)[0]) > 3)
    old = file_mentions(target)[0]
    text = Path(SEEDS / target.path).read_text(encoding="utf-8")
    lead = old[0]
    edited = record(text.replace(lead.title, "Edited: " + lead.title, 1), target.path)
    new = file_mentions(edited)[0]
    assert moved_keys(old, new) == {lead.key}
    others = {
        k: [m for r in records if r.path != target.path for m in file_mentions(r)[0] if m.key == k] for k in {lead.key}
    }
    merged = merge_changed(state, old, new, others)
    assert merged is not None
    after, after_state = merged
    assert after_state.changed == {lead.key}
    assert all(after_state.articles[k] is a for k, a in state.articles.items() if k != lead.key)
    fresh, _ = merge_all(m for r in records for m in file_mentions(edited if r.path == target.path else r)[0])
    assert after == fresh
    # Mentions that moved with nothing else (a file's related list reordered) are no change either.
    assert moved_keys(old, list(reversed(old))) == set()
    assert moved_keys(old, old[1:]) == {old[0].key}
