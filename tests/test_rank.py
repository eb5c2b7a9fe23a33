from dataclasses import replace

from newsstand.model import Coverage, Story
from newsstand.rank import coverage_digest, rank, ranked

from .factories import article, cluster


def test_an_editors_pick_ranks_first_whatever_else() -> None:
    big = cluster(*(article(f"b{i}", provider=f"p{i}.com", quality=190, heat=500) for i in range(8)))
    pick = cluster(article("p", hours=-200, quality=1, pick=True, lead=True))
    stories = rank([big, pick])
    assert stories[0].lead.pick


def test_the_lead_is_the_best_coverage_not_the_first() -> None:
    early = article("early", hours=0, provider="blog.com", quality=10)
    good = article("good", hours=3, provider="paper.com", quality=90, lead=True)
    opinion = article("op", hours=4, provider="mag.com", quality=95, title="Opinion: what it means")
    (story,) = rank([cluster(early, good, opinion)])
    assert story.lead.key == good.key
    # the rest in time order
    assert [e.article.key for e in story.entries[1:]] == [early.key, opinion.key]


def test_more_providers_and_recency_rank_higher() -> None:
    wide = cluster(*(article(f"w{i}", provider=f"w{i}.com", quality=50) for i in range(5)))
    narrow = cluster(article("n", provider="n.com", quality=50))
    old = cluster(*(article(f"o{i}", hours=-24 * 30, provider=f"o{i}.com", quality=50) for i in range(5)))
    order = [s.lead.provider[0] for s in rank([narrow, old, wide])]
    assert order == ["w", "n", "o"]


def test_slug_comes_from_the_first_report_and_survives_new_coverage() -> None:
    first = article("first", title="Police deploy cameras")
    before = rank([cluster(first)])[0].slug
    later = article("later", hours=5, provider="b.com", title="Cameras go live", quality=99, lead=True)
    after = rank([cluster(first, later)])[0]
    assert before == after.slug == "police-deploy-cameras"
    assert after.lead.key == later.key


def test_related_links_become_story_links() -> None:
    a = article("a", related=("https://b.com/b",))
    b = article("b", provider="b.com")
    stories = rank([cluster(a), cluster(b)])
    by_slug = {s.slug: s for s in stories}
    story_a = next(s for s in stories if s.lead.key == a.key)
    (linked,) = story_a.related
    assert by_slug[linked].lead.key == b.key


def test_a_storys_related_stories_follow_its_coverage_once_each_and_never_itself() -> None:
    # Keys listed twice, a key of its own, two keys of one other story, a key of no story: each other story
    # once, where its first key comes in the story's coverage (lead first, then by time).
    o1, o2 = article("o1", provider="o.com"), article("o2", provider="p.com")
    q, r = article("q", provider="q.com"), article("r", provider="r.com")
    lead = article("lead", hours=1, quality=90, lead=True, related=(r.key, "https://gone.com/x", r.key))
    early = article("early", hours=0, provider="e.com", related=(o2.key, lead.key, q.key, o1.key))
    stories = rank([cluster(early, lead), cluster(o1, o2), cluster(q), cluster(r)])
    slug = {a.key: s.slug for s in stories for a in s.articles}
    (story,) = (s for s in stories if s.lead.key == lead.key)
    assert story.related == (slug[r.key], slug[o1.key], slug[q.key]) and slug[o1.key] == slug[o2.key]
    # The same from ranking's rows of the last build (rank.RankCache), as from nothing.
    clusters = [cluster(early, lead), cluster(o1, o2), cluster(q), cluster(r)]
    assert ranked(clusters, known=ranked(clusters)[1])[0] == ranked(clusters)[0]


def test_rank_is_deterministic_in_any_order() -> None:
    clusters = [cluster(article(f"x{i}", hours=i, provider=f"p{i}.com", quality=i)) for i in range(10)]
    assert rank(clusters) == rank(list(reversed(clusters)))


def test_copies_are_kept_under_their_entry() -> None:
    wire = Coverage(article("w", provider="reuters.com"), (article("w2", provider="uk.reuters.com"),))
    (story,) = rank([(wire,)])
    assert len(story.articles) == 2 and story.entries[0].providers == ("reuters.com", "uk.reuters.com")


def test_an_old_storys_related_list_keeps_its_order_when_news_arrives() -> None:
    # Ordered by the front page or by importance, the related list of an old story would move whenever
    # another story gains a report, and its page would be rendered and indexed again at each cron tick.
    old = article("old", hours=-24 * 30, related=("https://b.com/weighty", "https://a.com/recent"))
    recent = article("recent", hours=-2, quality=50)
    weighty = article("weighty", hours=-24 * 20, provider="b.com", quality=60)
    base = [cluster(old), cluster(recent), cluster(weighty)]

    def related(clusters: list) -> list[str]:
        """The first report of each story the old one relates to, in the order its page lists them."""
        stories = rank(clusters)
        first = {s.slug: min(s.articles, key=lambda a: a.published).key for s in stories}
        return [first[s] for s in next(s for s in stories if s.lead.key == old.key).related]

    before = related(base)
    news = article("news", hours=200, provider="c.com")
    more = article("more", hours=-1, provider="d.com", quality=99)  # `recent` gains weight, then outranks
    later = related([cluster(old), cluster(recent, more), cluster(weighty), cluster(news)])
    assert before == later == [weighty.key, recent.key]  # as the old story's file lists them


def test_a_ranked_story_derives_what_a_story_made_afresh_derives() -> None:
    # Ranking makes stories from what it works out of each cluster (rank.Ranking), or from what the last
    # build worked out of a cluster of the same coverage, without the constructor (model.made).
    first = article("f", hours=-5, provider="a.com", topics=("police", "cameras"))
    copy = article("c", hours=-4, provider="b.com", topics=("cameras",))
    late = article("l", hours=2, provider="c.com", topics=("cameras", "law"), related=(first.key,))
    other = article("o", hours=1, provider="d.com", quality=70)
    big = (Coverage(first), Coverage(late), Coverage(other, (copy,)))
    small = cluster(article("x", provider="x.com"))
    stories, rows = ranked([big, small])
    assert stories == rank([big, small])
    # Again, from the rows: the same stories; the rows of a cluster no longer there are not kept.
    again, kept = ranked([big, small], known={**rows, "gone": next(iter(rows.values()))})
    assert again == stories and kept == rows
    # An edited article is other coverage: its story is worked out again, not taken from the row.
    edited = (Coverage(first), Coverage(replace(late, quality=99, digest="edited")), Coverage(other, (copy,)))
    assert ranked([edited, small], known=rows)[0] == rank([edited, small])
    for story in (*stories, *again):
        fresh = Story(story.slug, story.entries, story.score, story.related)
        assert story == fresh
        for name in ("articles", "published", "updated", "providers", "topics"):
            assert getattr(story, name) == getattr(fresh, name), name
        assert story.coverage == coverage_digest(tuple(sorted(story.entries, key=lambda e: e.article.key)))
    assert stories[0].updated == late.published and stories[0].topics[0] == "cameras"
