"""Leave out what the editor will not carry: the articles of excluded outlets and topics, before clustering.

`exclude_outlets` names outlets by name or domain, `exclude_topics` topics by name or slug, in any case.
An article from an excluded outlet, or filed under an excluded topic, is dropped from the corpus; the
outlets and topics no remaining article names go with it. So clustering never sees those articles (they
neither join a story nor lead one), and planning finds no page to make for those outlets and topics.

A stage of its own between normalize and cluster, not part of normalize: merging is a function of the
seeds alone (serve keeps it in memory between builds, preview merges an edited file the same way), and
the names and slugs it votes over the whole corpus must not move when an exclusion is added or taken
back, or the pages of every other outlet and topic would change their URLs.
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import Corpus


def exclude(corpus: Corpus, topics: Iterable[str] = (), outlets: Iterable[str] = ()) -> Corpus:
    """`corpus` without the articles of the outlets and topics named; the same corpus when none is named."""
    topic_keys = {name.strip().casefold() for name in topics}
    # A domain as normalize keeps it, too: lower case, without `www.`.
    outlet_keys = {k for n in outlets for k in (n.strip().casefold(), n.strip().casefold().removeprefix("www."))}
    if not topic_keys and not outlet_keys:
        return corpus
    gone_topics = {t.slug for t in corpus.topics if t.slug in topic_keys or t.name.casefold() in topic_keys}
    gone_outlets = {p.domain for p in corpus.providers if p.domain in outlet_keys or p.name.casefold() in outlet_keys}
    articles = tuple(
        a for a in corpus.articles if a.provider not in gone_outlets and not any(t in gone_topics for t in a.topics)
    )
    used_topics = {t for a in articles for t in a.topics}
    used_outlets = {a.provider for a in articles}
    return Corpus(
        articles=articles,
        providers=tuple(p for p in corpus.providers if p.domain in used_outlets),
        topics=tuple(t for t in corpus.topics if t.slug in used_topics),
    )
