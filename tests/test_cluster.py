"""Story clustering: the partition contract, the seeds' editorial cases, and a quality floor on labelled data."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsstand.cluster import cluster
from newsstand.cluster_eval import read_uci, score
from newsstand.model import Article

UCI = Path(__file__).resolve().parent.parent / "data" / "uci-news-aggregator.head.csv"
# Measured B-cubed on the UCI sample: P 0.852, R 0.769, F1 0.808. The floors sit a little under it.
FLOOR_F1 = 0.79
FLOOR_PRECISION = 0.83


def art(key: str, title: str, when: str, provider: str, **kw: object) -> Article:
    return Article(
        key=key, url=f"https://{key}", title=title, published=datetime.fromisoformat(when).replace(tzinfo=UTC),
        provider=provider, **kw,  # type: ignore[arg-type]
    )


# Titles, times and outlets as in seeds/ (the lead of each file and a sample of its related items).
SEEDS = [
    art("computing.co.uk/met", "Met Police begins deploying live facial recognition cameras in Stratford",
        "2020-02-11T11:37", "computing.co.uk", topics=("ai", "computer-vision"), lead=True),
    art("theguardian.com/met", "Met police deploy live facial recognition technology", "2020-02-11T19:20",
        "theguardian.com", topics=("ai", "computer-vision"), lead=True),
    art("ft.com/met", "Met Police try to calm tensions as live facial recognition hits London", "2020-02-12T04:00",
        "ft.com"),
    art("heraldscotland.com/msp", "Police warned not to adopt ‘unjustifiable’ live facial recognition technology",
        "2020-02-11T05:28", "heraldscotland.com"),
    art("theverge.com/ring", "New Jersey’s former attorney general on Ring cameras and facial recognition",
        "2020-02-11T13:00", "theverge.com"),
    art("tmcnet.com/vegas", "Artificial Intelligence and Facial Recognition Could Change How Vegas Casinos Work",
        "2020-02-11T16:13", "tmcnet.com"),
    art("engadget.com/london", "London police begin using live facial recognition tech across the capital",
        "2020-01-24T12:05", "engadget.com", topics=("ai", "computer-vision"), lead=True),
    art("nytimes.com/london", "London Police Amp Up Surveillance With Real-Time Facial Recognition",
        "2020-01-24T14:57", "nytimes.com", topics=("ai", "computer-vision"), lead=True, pick=True, quality=89),
    art("techcrunch.com/london",
        "London’s Met Police switches on live facial recognition, flying in face of human rights concerns",
        "2020-01-24T13:09", "techcrunch.com"),
    art("time.com/london", "London Police to Deploy Facial Recognition Cameras Despite Privacy Concerns and "
        "Evidence of High Failure Rate", "2020-01-24T16:35", "time.com"),
    art("independent.co.uk/london", "Facial recognition to be rolled out across London by police, despite privacy "
        "concerns", "2020-01-24T10:36", "independent.co.uk"),
    art("biometricupdate.com/nec", "Met Police deploy NEC biometric facial recognition tech across London",
        "2020-01-24T18:24", "biometricupdate.com", topics=("ai", "computer-vision"), lead=True),
    art("extremetech.com/london", "London Police Deploy Controversial Facial Recognition Cameras", "2020-01-25T12:11",
        "extremetech.com"),
    art("uk.reuters.com/watchdog", "British watchdog urges caution over police facial recognition plans",
        "2020-01-28T17:25", "reuters.com"),
    art("reuters.com/watchdog", "British watchdog urges caution over police facial recognition plans",
        "2020-01-29T00:00", "reuters.com"),
    art("nytimes.com/facebook", "Facebook to Pay $550 Million to Settle Facial Recognition Suit", "2020-01-29T23:18",
        "nytimes.com"),
    art("forbes.com/facebook", "Facebook To Pay $550 Million To Settle Facial Recognition Lawsuit",
        "2020-01-30T02:19", "forbes.com"),
    art("nytimes.com/clearview", "New Jersey Bars Police From Using Clearview Facial Recognition App",
        "2020-01-25T01:47", "nytimes.com"),
    art("theverge.com/moscow", "Moscow rolls out live facial recognition system with an app to alert police",
        "2020-01-30T16:13", "theverge.com"),
    art("newsday.com/bill", "Proposed bill would ban police from using facial recognition technology",
        "2020-02-02T10:00", "newsday.com"),
    art("thenextweb.com/chicago", "Chicago police: Facial recognition adds “jet fuel” for criminal investigations",
        "2020-01-31T20:56", "thenextweb.com"),
]


def story_of(clusters: tuple, key: str) -> set[str]:
    for c in clusters:
        keys = {a.key for e in c for a in (e.article, *e.copies)}
        if key in keys:
            return keys
    raise AssertionError(key)


@pytest.fixture(scope="module")
def seeds() -> tuple:
    return cluster(SEEDS)


def test_partition_and_order(seeds: tuple) -> None:
    keys = [a.key for c in seeds for e in c for a in (e.article, *e.copies)]
    assert sorted(keys) == sorted(a.key for a in SEEDS)  # each article exactly once
    for c in seeds:
        assert [e.article.key for e in c] == sorted(e.article.key for e in c)
    assert [c[0].article.key for c in seeds] == sorted(c[0].article.key for c in seeds)


def test_same_result_in_any_input_order(seeds: tuple) -> None:
    for seed in range(3):
        shuffled = list(SEEDS)
        random.Random(seed).shuffle(shuffled)
        assert cluster(shuffled) == seeds


def test_january_announcement_is_one_story(seeds: tuple) -> None:
    story = story_of(seeds, "nytimes.com/london")
    for key in ("engadget.com/london", "techcrunch.com/london", "time.com/london", "independent.co.uk/london",
                "biometricupdate.com/nec"):
        assert key in story, key


def test_february_deployment_is_another_story(seeds: tuple) -> None:
    story = story_of(seeds, "computing.co.uk/met")
    assert "theguardian.com/met" in story
    assert "nytimes.com/london" not in story  # 24 January and 11 February are different events


def test_other_news_on_the_subject_stays_out(seeds: tuple) -> None:
    january = story_of(seeds, "nytimes.com/london")
    february = story_of(seeds, "computing.co.uk/met")
    for key in ("theverge.com/ring", "tmcnet.com/vegas", "theverge.com/moscow",
                "newsday.com/bill", "thenextweb.com/chicago", "nytimes.com/facebook", "uk.reuters.com/watchdog"):
        assert key not in january and key not in february, key


@pytest.mark.xfail(strict=True, reason="joins the 24 January story: needs the same-outlet penalty, off for now")
def test_clearview_ban_stays_out_of_the_london_story(seeds: tuple) -> None:
    assert "nytimes.com/clearview" not in story_of(seeds, "nytimes.com/london")


def test_facebook_settlement_is_a_story_of_its_own(seeds: tuple) -> None:
    assert story_of(seeds, "nytimes.com/facebook") == {"nytimes.com/facebook", "forbes.com/facebook"}


def test_two_reuters_copies_are_one_entry(seeds: tuple) -> None:
    assert story_of(seeds, "reuters.com/watchdog") == {"reuters.com/watchdog", "uk.reuters.com/watchdog"}
    (entry,) = next(c for c in seeds if any(e.article.key.endswith("reuters.com/watchdog") for e in c))
    assert len(entry.copies) == 1


def test_wire_copies_collapse_listing_every_outlet() -> None:
    original = art("reuters.com/a", "Facebook to pay $550 million to settle facial recognition suit",
                   "2020-01-29T20:00", "reuters.com", quality=80)
    update = art("cnbc.com/a", "UPDATE 1-Facebook to pay $550 million to settle facial recognition suit",
                 "2020-01-29T21:00", "cnbc.com", quality=90)
    refile = art("yahoo.com/a", "REFILE-Facebook to pay $550 million to settle facial recognition suit",
                 "2020-01-29T22:00", "yahoo.com")
    ((entry,),) = cluster([refile, update, original])
    assert entry.article == original  # the original report, not the copy with the prefix
    assert set(entry.providers) == {"reuters.com", "cnbc.com", "yahoo.com"}


def test_empty_and_single() -> None:
    assert cluster([]) == ()
    (only,) = cluster(SEEDS[:1])
    assert only[0].article == SEEDS[0]


def test_uci_quality_floor() -> None:
    """B-cubed on the labelled UCI headlines (titles only) stays near what the benchmark reports."""
    articles, truth = read_uci(UCI)
    clusters = cluster(articles)
    got = {a.key: i for i, c in enumerate(clusters) for e in c for a in (e.article, *e.copies)}
    s = score(got, truth)
    assert s.n == 6366
    assert s.bcubed_f1 >= FLOOR_F1, s.lines()
    assert s.bcubed_precision >= FLOOR_PRECISION, s.lines()


def test_scores_on_known_partitions() -> None:
    truth = {"a": 1, "b": 1, "c": 2, "d": 2}
    perfect = score(truth, truth)
    assert perfect.bcubed_f1 == perfect.pairwise_f1 == perfect.ari == 1.0
    lumped = score(dict.fromkeys(truth, 0), truth)
    assert lumped.bcubed_recall == 1.0 and lumped.bcubed_precision == 0.5


@pytest.mark.parametrize(
    "titles",
    [["0"], ["0", "1"], ["a", "the", "0"], ["", ""], ["Floods hit"] * 3, ["Floods hit", "0", "Floods hit"]],
)
def test_degenerate_titles_still_partition(titles: list[str]) -> None:
    """Titles with no usable term ("0", stopwords, empty) or all alike: every article lands exactly once."""
    arts = [art(f"k{i}", t, f"2020-01-0{1 + i % 3}T10:00", f"p{i}.com") for i, t in enumerate(titles)]
    clusters = cluster(arts)
    keys = sorted(a.key for c in clusters for e in c for a in (e.article, *e.copies))
    assert keys == sorted(a.key for a in arts)
    assert cluster(list(reversed(arts))) == clusters


def test_identical_short_titles_are_one_story() -> None:
    arts = [art(f"k{i}", "Floods hit", f"2020-01-01T1{i}:00", f"p{i}.com") for i in range(3)]
    assert len(cluster(arts)) == 1
