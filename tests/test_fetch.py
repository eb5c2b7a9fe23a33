"""`newsstand fetch`: feeds served from a loopback server become story files the build reads."""

from __future__ import annotations

import gzip
import json
import os
import pty
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from newsstand.build import build
from newsstand.checksite import check_site
from newsstand.cli import main
from newsstand.feedparse import decode_xml
from newsstand.feedstory import fetched, html_text, story_name
from newsstand.fetch import FetchReport, fetch
from newsstand.fetchstate import FetchState
from newsstand.httpget import Policy, retry_after
from newsstand.read import seed_files
from newsstand.subscriptions import Subscription
from newsstand.write import OutputLock, WriteError

from .conftest import ROOT, settings_for
from .feedserver import FeedServer, Route

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WAITS: list[float] = []
FAST = Policy(timeout=3.0, connect_timeout=3.0, retry_wait_limit=10.0, sleep=WAITS.append)

RSS2 = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>The Daily Planet</title><link>https://planet.example.com/</link><description>News</description>
<item><title>Planet reporter wins the Pulitzer prize</title>
<link>https://planet.example.com/2026/pulitzer?utm_source=rss&amp;utm_medium=feed</link>
<description>&lt;p&gt;Lois Lane &lt;b&gt;won&lt;/b&gt; the prize.&lt;/p&gt;&lt;p&gt;More at eleven.&lt;/p&gt;</description>
<category>Awards</category><category>Media</category>
<media:thumbnail url="https://img.example.com/pulitzer-thumb.jpg" width="120" height="80"/>
<media:content url="https://img.example.com/pulitzer.jpg" medium="image" width="1200" height="800"/>
<pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>City council approves the new harbour bridge</title><link>https://planet.example.com/2026/bridge</link>
<description>The vote was eleven to two.</description>
<enclosure url="https://img.example.com/bridge.png" type="image/png" length="1234"/>
<enclosure url="https://audio.example.com/bridge.mp3" type="audio/mpeg" length="1234"/>
<pubDate>Sun, 29 Nov 2026 08:30:00 GMT</pubDate></item>
<item><title>Archive: the founding of the Planet</title><link>https://planet.example.com/1938/founding</link>
<pubDate>Sat, 01 Jan 2000 08:30:00 GMT</pubDate></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Gotham Gazette</title><id>tag:gazette.example.org,2026:feed</id>
<link href="https://gazette.example.org/"/><updated>2026-11-30T09:00:00Z</updated>
<entry><title type="html">Museum reopens its &lt;em&gt;dinosaur&lt;/em&gt; hall</title>
<link rel="alternate" href="https://gazette.example.org/museum-dinosaur-hall"/><id>tag:gazette.example.org,2026:1</id>
<published>2026-11-30T09:00:00Z</published><updated>2026-11-30T09:30:00Z</updated>
<category term="culture" label="Culture"/><category term="https://gazette.example.org/tags/x"/>
<summary type="html">&lt;p&gt;The hall had been closed for two years.&lt;/p&gt;</summary></entry>
</feed>"""

RSS1 = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://rdf.example.net/"><title>Metropolis Science</title><link>https://rdf.example.net/</link>
<description>Science</description></channel>
<item rdf:about="https://rdf.example.net/comet"><title>Astronomers track a bright new comet</title>
<link>https://rdf.example.net/comet</link><description>Visible at dawn next week.</description>
<dc:date>2026-11-28T20:00:00Z</dc:date><dc:subject>Astronomy</dc:subject></item>
</rdf:RDF>"""

JSONFEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Smallville Ledger",
        "home_page_url": "https://ledger.example.com/",
        "items": [
            {
                "id": "1",
                "url": "https://ledger.example.com/harvest",
                "title": "Record corn harvest in Smallville",
                "content_html": "<p>Farmers <i>celebrate</i>.</p>",
                "date_published": "2026-11-27T07:00:00+01:00",
                "tags": ["Farming"],
                "image": "https://img.example.com/corn.jpg",
                "attachments": [{"url": "https://img.example.com/corn-2.webp", "mime_type": "image/webp"}],
            },
            {
                "id": "2",
                "url": "https://ledger.example.com/no-title",
                "content_text": "A post without a title, as microblogs write.",
            },
            {"id": "3", "url": "https://ledger.example.com/nothing"},
        ],
    }
)

LEADS = {
    "https://planet.example.com/2026/pulitzer?utm_source=rss&utm_medium=feed",
    "https://planet.example.com/2026/bridge",
    "https://gazette.example.org/museum-dinosaur-hall",
    "https://rdf.example.net/comet",
    "https://ledger.example.com/harvest",
    "https://ledger.example.com/no-title",
}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    WAITS.clear()
    with FeedServer() as srv:
        yield srv


def run(
    tmp_path: Path, subs: list[Subscription], max_age: int = 30, policy: Policy = FAST, now: datetime = NOW
) -> FetchReport:
    return fetch(subs, tmp_path / "seeds", tmp_path / "cache", max_age, policy, now=now)


def fronts(tmp_path: Path) -> dict[str, dict]:
    out = {}
    for name in seed_files(tmp_path / "seeds"):
        text = Path(name).read_text(encoding="utf-8")
        out[Path(name).name] = yaml.safe_load(text.split("---\n")[1])
    return out


def by_url(tmp_path: Path) -> dict[str, dict]:
    return {f["webUrl"]: f for f in fronts(tmp_path).values()}


def four_feeds(server: FeedServer) -> list[Subscription]:
    server.routes["/rss2.xml"] = Route(RSS2.encode(), headers={"Content-Type": "application/rss+xml"}, etag='"r2-v1"')
    server.routes["/atom.xml"] = Route(
        ATOM.encode(), headers={"Content-Type": "application/atom+xml"}, last_modified=1_764_500_000.0, gzip=True
    )
    server.routes["/rss1.rdf"] = Route(RSS1.encode(), headers={"Content-Type": "application/rdf+xml"})
    server.routes["/feed.json"] = Route(JSONFEED.encode(), headers={"Content-Type": "application/feed+json"})
    return [
        Subscription(server.url("/rss2.xml"), name="Daily Planet", topics=("Local",), weight=70),
        Subscription(server.url("/atom.xml")),
        Subscription(server.url("/rss1.rdf")),
        Subscription(server.url("/feed.json"), topics=("Rural",)),
    ]


def test_four_formats_become_story_files_the_build_reads(server: FeedServer, tmp_path: Path) -> None:
    report = run(tmp_path, four_feeds(server))
    assert [f.outcome for f in report.feeds] == ["fetched"] * 4
    assert report.feeds[0].skipped == {"older than 30 days": 1}
    assert report.feeds[3].skipped == {"no title": 1}
    stories = by_url(tmp_path)
    assert set(stories) == LEADS
    pulitzer = stories["https://planet.example.com/2026/pulitzer?utm_source=rss&utm_medium=feed"]
    assert pulitzer["title"] == "Planet reporter wins the Pulitzer prize"
    assert pulitzer["excerpt"] == "Lois Lane won the prize. More at eleven."
    assert pulitzer["publishedDateTime"] == "2026-11-30T10:00:00Z"
    assert pulitzer["provider"] == {"name": "Daily Planet", "domain": "planet.example.com"}
    assert pulitzer["topics"] == ["Local", "Awards", "Media"]
    assert pulitzer["quality"] == 70
    assert pulitzer["images"] == [
        {"url": "https://img.example.com/pulitzer-thumb.jpg", "width": 120, "height": 80},
        {"url": "https://img.example.com/pulitzer.jpg", "width": 1200, "height": 800},
    ]
    assert stories["https://planet.example.com/2026/bridge"]["images"] == [
        {"url": "https://img.example.com/bridge.png"}
    ]
    museum = stories["https://gazette.example.org/museum-dinosaur-hall"]
    assert museum["title"] == "Museum reopens its dinosaur hall"
    assert museum["provider"] == {"name": "Gotham Gazette", "domain": "gazette.example.org"}
    assert museum["topics"] == ["Culture"]  # a category that is only a URL is no topic
    assert "quality" not in museum
    comet = stories["https://rdf.example.net/comet"]
    assert (comet["publishedDateTime"], comet["topics"]) == ("2026-11-28T20:00:00Z", ["Astronomy"])
    corn = stories["https://ledger.example.com/harvest"]
    assert corn["publishedDateTime"] == "2026-11-27T06:00:00Z" and corn["excerpt"] == "Farmers celebrate."
    assert corn["topics"] == ["Rural", "Farming"]
    assert [i["url"] for i in corn["images"]] == [
        "https://img.example.com/corn.jpg",
        "https://img.example.com/corn-2.webp",
    ]
    assert stories["https://ledger.example.com/no-title"]["title"] == "A post without a title, as microblogs write."
    # Named by the canonical URL's digest (tracking parameters do not make another file), marked as fetched.
    names = set(fronts(tmp_path))
    assert story_name("https://planet.example.com/2026/pulitzer") in names
    assert all(name.startswith("feed-") and name.endswith(".md") for name in names)
    assert all(fetched((tmp_path / "seeds" / n).read_bytes()) is not None for n in names)
    # Politely: a User-Agent naming the tool, gzip asked for and used.
    (atom,) = server.requests("/atom.xml")
    assert atom.headers["User-Agent"].startswith("Newsstand/0.1.0") and "gzip" in atom.headers["Accept-Encoding"]

    # The build: one story per entry, each led by the entry's own link, and a site with no broken links.
    out = tmp_path / "site"
    result = build(settings_for(tmp_path / "seeds", out, base_url="https://example.org/news/"))
    assert result.problems == ()
    data = json.loads((out / "stories.json").read_text())
    assert {s["articles"][0]["url"] for s in data["stories"]} == LEADS
    assert check_site(out, "https://example.org/news/") == []


def test_second_fetch_gets_304_and_writes_nothing(server: FeedServer, tmp_path: Path) -> None:
    subs = four_feeds(server)
    run(tmp_path, subs)
    before = {p: os.stat(p).st_mtime_ns for p in seed_files(tmp_path / "seeds")}
    report = run(tmp_path, subs, now=NOW + timedelta(hours=1))
    assert [f.outcome for f in report.feeds] == ["not modified", "not modified", "fetched", "fetched"]
    assert server.requests("/rss2.xml")[1].headers["If-None-Match"] == '"r2-v1"'
    assert server.requests("/atom.xml")[1].headers["If-Modified-Since"].endswith("GMT")
    # The two feeds without validators came again whole, and gave the very same bytes: nothing rewritten.
    assert sum(f.new + f.updated for f in report.feeds) == 0 and report.feeds[2].unchanged == 1
    assert {p: os.stat(p).st_mtime_ns for p in seed_files(tmp_path / "seeds")} == before
    # A story file of a feed gone from the folder: the next fetch asks unconditionally, and puts it back.
    victim = tmp_path / "seeds" / story_name("https://planet.example.com/2026/bridge")
    victim.unlink()
    report = run(tmp_path, subs, now=NOW + timedelta(hours=2))
    assert "If-None-Match" not in server.requests("/rss2.xml")[2].headers
    assert report.feeds[0].new == 1 and victim.is_file()


def test_a_changed_entry_is_updated_in_place_and_hand_written_files_are_kept(
    server: FeedServer, tmp_path: Path
) -> None:
    subs = four_feeds(server)
    run(tmp_path, subs)
    seeds = tmp_path / "seeds"
    bridge = seeds / story_name("https://planet.example.com/2026/bridge")
    pulitzer = seeds / story_name("https://planet.example.com/2026/pulitzer")
    # The editor adds notes to one fetched file, and writes a story of their own under the name another would get.
    edited = pulitzer.read_text().replace("title: Planet reporter", "title: Our reporter") + "Editor's note.\n"
    pulitzer.write_text(edited)
    comet = seeds / story_name("https://rdf.example.net/comet")
    by_hand = (
        "---\ntitle: Comet seen from the roof\npublishedDateTime: 2026-11-28T21:00:00Z\n"
        "webUrl: https://rdf.example.net/comet\n---\nOur own photos.\n"
    )
    comet.write_text(by_hand)
    server.routes["/rss2.xml"] = Route(
        RSS2.replace("harbour bridge", "harbour bridge, with conditions")
        .replace("utm_medium=feed", "utm_medium=email")
        .replace("won", "has won")
        .encode(),
        etag='"r2-v2"',
    )
    report = run(tmp_path, subs, now=NOW + timedelta(hours=1))
    planet, _, rdf, _ = report.feeds
    assert (planet.updated, planet.new, planet.skipped["file written by hand"]) == (1, 0, 1)
    assert rdf.skipped["file written by hand"] == 1
    assert "with conditions" in bridge.read_text()
    assert pulitzer.read_text() == edited and comet.read_text() == by_hand
    assert len(seed_files(seeds)) == len(LEADS)


def test_max_age_and_entries_without_a_date(server: FeedServer, tmp_path: Path) -> None:
    undated = RSS2.replace("<pubDate>Sun, 29 Nov 2026 08:30:00 GMT</pubDate>", "").replace(
        "<pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate>", "<pubDate>Tue, 01 Jan 2999 10:00:00 GMT</pubDate>"
    )
    server.routes["/rss2.xml"] = Route(undated.encode())
    sub = [Subscription(server.url("/rss2.xml"))]
    report = run(tmp_path, sub, max_age=0)
    assert report.feeds[0].new == 3 and not report.feeds[0].skipped  # 0: no limit, the archive entry too
    stories = by_url(tmp_path)
    # No date, or one in the future: the time it was first seen, kept on the next fetches.
    assert stories["https://planet.example.com/2026/bridge"]["publishedDateTime"] == "2026-12-01T12:00:00Z"
    assert (
        stories["https://planet.example.com/2026/pulitzer?utm_source=rss&utm_medium=feed"]["publishedDateTime"]
        == "2026-12-01T12:00:00Z"
    )
    report = run(tmp_path, sub, max_age=0, now=NOW + timedelta(days=2))
    assert report.feeds[0].unchanged == 3
    assert by_url(tmp_path)["https://planet.example.com/2026/bridge"]["publishedDateTime"] == "2026-12-01T12:00:00Z"
    report = run(tmp_path, sub, max_age=1, now=NOW + timedelta(days=3))
    assert report.feeds[0].skipped == {"older than 1 days": 3}


def test_permanent_and_temporary_redirects(server: FeedServer, tmp_path: Path) -> None:
    server.routes["/old.xml"] = Route(status=301, headers={"Location": "/new.xml"})
    server.routes["/new.xml"] = Route(RSS1.encode(), etag='"n1"')
    server.routes["/hop.xml"] = Route(status=302, headers={"Location": server.url("/atom.xml")})
    server.routes["/atom.xml"] = Route(ATOM.encode())
    server.routes["/loop.xml"] = Route(status=307, headers={"Location": "/loop.xml"})
    server.routes["/ftp.xml"] = Route(status=301, headers={"Location": "ftp://example.com/feed.xml"})
    subs = [Subscription(server.url(p)) for p in ("/old.xml", "/hop.xml", "/loop.xml", "/ftp.xml")]
    report = run(tmp_path, subs)
    old, hop, loop, ftp = report.feeds
    assert (old.outcome, old.moved_to, old.new) == ("fetched", server.url("/new.xml"), 1)
    assert any(p.startswith(f"{subs[0].url}: moved permanently to {server.url('/new.xml')}") for p in report.problems)
    assert (hop.outcome, hop.moved_to, hop.new) == ("fetched", "", 1)
    assert (loop.outcome, loop.message) == ("failed", "more than 5 redirects")
    assert ftp.outcome == "failed" and "not an http(s) URL" in ftp.message
    assert FetchState.load(tmp_path / "cache").get(subs[0].url).moved_to == server.url("/new.xml")
    report = run(tmp_path, subs[:2], now=NOW + timedelta(hours=1))
    assert len(server.requests("/old.xml")) == 1  # the moved feed is asked at its new address, with its validator
    assert server.requests("/new.xml")[-1].headers["If-None-Match"] == '"n1"'
    assert report.feeds[0].outcome == "not modified" and not report.problems
    assert len(server.requests("/hop.xml")) == 2  # a temporary redirect moves nothing


def test_retry_after_is_honoured(server: FeedServer, tmp_path: Path) -> None:
    calls = {"n": 0}

    def busy_once(handler: object) -> Route:
        calls["n"] += 1
        return Route(status=429, headers={"Retry-After": "2"}) if calls["n"] == 1 else Route(ATOM.encode())

    server.routes["/busy.xml"] = Route(dynamic=busy_once)
    server.routes["/later.xml"] = Route(status=503, headers={"Retry-After": "3600"})
    subs = [Subscription(server.url("/busy.xml")), Subscription(server.url("/later.xml"))]
    report = run(tmp_path, subs)
    assert WAITS == [2.0]  # the short wait is waited out, then the feed asked again
    assert len(server.requests("/busy.xml")) == 2 and report.feeds[0].new == 1
    assert report.feeds[1].outcome == "failed" and "asked to wait 3600 s" in report.feeds[1].message
    # The long one waits for a later run: not asked again before the hour is up.
    report = run(tmp_path, subs, now=NOW + timedelta(minutes=30))
    assert report.feeds[1].outcome == "waiting" and "2026-12-01 13:00 UTC" in report.feeds[1].message
    assert len(server.requests("/later.xml")) == 1
    run(tmp_path, subs, now=NOW + timedelta(minutes=61))
    assert len(server.requests("/later.xml")) == 2
    assert retry_after("Tue, 01 Dec 2026 12:10:00 GMT", NOW) == 600.0 and retry_after("soon", NOW) is None


def test_a_failing_feed_backs_off_exponentially(server: FeedServer, tmp_path: Path) -> None:
    server.routes["/atom.xml"] = Route(ATOM.encode())
    subs = [Subscription(server.url("/gone.xml")), Subscription(server.url("/atom.xml"))]
    report = run(tmp_path, subs)
    assert (report.feeds[0].outcome, report.feeds[0].message) == ("failed", "HTTP 404 Not Found")
    assert report.feeds[1].new == 1  # the other feed does not pay for it
    moments = [NOW + timedelta(minutes=m) for m in (5, 11, 25, 32, 70)]
    outcomes = [run(tmp_path, subs, now=m).feeds[0].outcome for m in moments]
    # Tried again 10 min after the first failure, 20 after the second, 40 after the third.
    assert outcomes == ["waiting", "failed", "waiting", "failed", "waiting"]
    assert FetchState.load(tmp_path / "cache").get(subs[0].url).failures == 3
    server.routes["/gone.xml"] = Route(RSS1.encode())
    report = run(tmp_path, subs, now=NOW + timedelta(minutes=75))
    assert report.feeds[0].outcome == "fetched" and FetchState.load(tmp_path / "cache").get(subs[0].url).failures == 0


def test_slow_large_and_compressed_bombs_are_cut_off(server: FeedServer, tmp_path: Path) -> None:
    big = RSS1.replace("</rdf:RDF>", "<!--" + "x" * 300_000 + "--></rdf:RDF>").encode()
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = co.compress(b" " * (64 * 1024 * 1024)) + co.flush()
    server.routes["/slow.xml"] = Route(ATOM.encode(), delay=2.0)
    server.routes["/drip.xml"] = Route(ATOM.encode(), drip=0.02)
    server.routes["/large.xml"] = Route(big)
    server.routes["/chunked.xml"] = Route(big, chunked=True)
    server.routes["/bomb.xml"] = Route(bomb, headers={"Content-Encoding": "gzip"})
    server.routes["/ok.xml"] = Route(RSS2.encode())
    subs = [
        Subscription(server.url(p))
        for p in ("/slow.xml", "/drip.xml", "/large.xml", "/chunked.xml", "/bomb.xml", "/ok.xml")
    ]
    policy = Policy(timeout=0.5, connect_timeout=0.5, max_bytes=200_000, sleep=WAITS.append)
    report = run(tmp_path, subs, policy=policy)
    slow, drip, large, chunked, bombed, ok = report.feeds
    assert slow.message == "timed out after 0.5 s"
    assert drip.message == "timed out: no whole response within 0.5 s"
    assert large.message == f"{len(big):,} bytes: larger than the limit of 200,000"
    assert chunked.message == bombed.message == "more than the limit of 200,000 bytes"
    assert ok.outcome == "fetched" and ok.new == 2
    assert len(gzip.decompress(bomb)) > 300 * len(bomb)  # it was a bomb


XML_BOMBS = {
    "laughs": '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "lol">\n'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n' for i in range(8))
    + ']>\n<rss version="2.0"><channel><title>&i;</title><item><title>&i;</title>'
    "<link>https://bomb.example.com/1</link></item></channel></rss>",
    # One big entity referenced many times, after a stray token that stops any XML parser before the DOCTYPE:
    # feedparser's loose parser then expands the entity itself.
    "quadratic": '<?xml version="1.0"?>\n&amp;\n<!DOCTYPE rss [\n<!ENTITY a "' + "A" * 10_000 + '">\n]>\n'
    '<rss version="2.0"><channel><title>t</title><item><title>' + "&a;" * 2_000 + "</title>"
    "<link>https://bomb.example.com/2</link></item></channel></rss>",
    "external": '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<rss version="2.0">'
    "<channel><title>&x;</title><item><title>&x;</title><link>https://bomb.example.com/3</link></item></channel></rss>",
    "utf16": (
        '<?xml version="1.0" encoding="utf-16"?>\n<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<rss version="2.0"><channel><title>&x;</title><item><title>&x;</title>'
        "<link>https://bomb.example.com/4</link></item></channel></rss>"
    ),
}


def test_hostile_feeds_are_refused_or_cleaned(server: FeedServer, tmp_path: Path) -> None:
    for name, text in XML_BOMBS.items():
        server.routes[f"/{name}.xml"] = Route(text.encode("utf-16" if name == "utf16" else "utf-8"))
    server.routes["/script.xml"] = Route(
        RSS2.replace(
            "Planet reporter wins the Pulitzer prize", "&lt;script&gt;alert(1)&lt;/script&gt;Planet reporter wins"
        )
        .replace("City council approves", "&amp;lt;img src=x onerror=alert(2)&amp;gt;City council approves")
        .replace("https://img.example.com/pulitzer.jpg", "javascript:alert(3)")
        .replace("https://planet.example.com/1938/founding", "javascript:alert(4)")
        .encode()
    )
    server.routes["/script.json"] = Route(
        json.dumps(
            {
                "version": "https://jsonfeed.org/version/1.1",
                "items": [
                    {
                        "id": "x",
                        "url": "https://ledger.example.com/x",
                        "title": "<script>alert(5)</script>Ledger <b>bold</b> move",
                        "content_html": "<p onclick='alert(6)'>Text</p><script>alert(7)</script><style>p{}</style>",
                    }
                ],
            }
        ).encode()
    )
    server.routes["/page.html"] = Route(
        b"<!doctype html><html><head><title>Not a feed</title></head><body>Hi</body></html>",
        headers={"Content-Type": "text/html"},
    )
    server.routes["/deep.json"] = Route(
        b'{"version": "https://jsonfeed.org/version/1.1", "items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    )
    subs = [Subscription(server.url(f"/{n}.xml")) for n in XML_BOMBS] + [
        Subscription(server.url(p)) for p in ("/script.xml", "/script.json", "/page.html", "/deep.json")
    ]
    report = run(tmp_path, subs, max_age=0)
    outcomes = {f.sub.url.rsplit("/", 1)[1]: (f.outcome, f.message) for f in report.feeds}
    for name in XML_BOMBS:
        assert outcomes[f"{name}.xml"] == (
            "failed",
            "declares XML entities (<!ENTITY>): refused, as entity expansion "
            "is how XML bombs and external-entity reads work",
        ), name
    assert outcomes["page.html"] == ("failed", "an HTML page, not a feed")
    assert outcomes["deep.json"][0] == "failed"
    stories = by_url(tmp_path)
    assert {s["title"] for s in stories.values()} == {
        "Planet reporter wins",
        "City council approves the new harbour bridge",
        "Ledger bold move",
    }
    assert stories["https://ledger.example.com/x"]["excerpt"] == "Text"
    assert [
        i["url"] for i in stories["https://planet.example.com/2026/pulitzer?utm_source=rss&utm_medium=feed"]["images"]
    ] == ["https://img.example.com/pulitzer-thumb.jpg"]
    assert report.feeds[4].skipped == {"no http(s) link": 1}
    out = tmp_path / "site"
    build(settings_for(tmp_path / "seeds", out))
    for page in out.rglob("*.html"):
        text = page.read_text()
        assert "alert(" not in text and "javascript:" not in text, page


def test_text_in_other_encodings(server: FeedServer, tmp_path: Path) -> None:
    latin = RSS1.replace('encoding="utf-8"', 'encoding="windows-1252"').replace(
        "bright new comet", "bright new comet – café"
    )
    chinese = RSS1.replace('encoding="utf-8"', 'encoding="gb2312"').replace(
        "Astronomers track a bright new comet", "天文学家追踪彗星"
    )
    server.routes["/latin.rdf"] = Route(latin.encode("cp1252"))
    server.routes["/gb.rdf"] = Route(chinese.replace("/comet", "/comet-zh").encode("gb2312"))
    # Labelled UTF-8 by the server, but Latin-1 bytes: read as Windows-1252 rather than refused.
    server.routes["/mislabelled.rdf"] = Route(
        RSS1.replace("/comet", "/comet-fr").replace("bright", "brillant é").encode("latin-1"),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    subs = [Subscription(server.url(p)) for p in ("/latin.rdf", "/gb.rdf", "/mislabelled.rdf")]
    run(tmp_path, subs, max_age=0)
    titles = {s["title"] for s in by_url(tmp_path).values()}
    assert titles == {
        "Astronomers track a bright new comet – café",
        "天文学家追踪彗星",
        "Astronomers track a brillant é new comet",
    }
    assert decode_xml("<?xml version='1.0'?><a>é</a>".encode("utf-16")) == "<?xml version='1.0'?><a>é</a>"
    assert html_text("<p>a</p><p>b &amp; c</p><script>x</script>") == "a b & c"


def test_one_host_at_a_time_several_hosts_at_once(server: FeedServer, tmp_path: Path) -> None:
    import threading

    both = threading.Barrier(2, timeout=10)

    def meet(handler: object) -> Route:
        both.wait()  # answers only once a request for the other host is in flight too
        return Route(ATOM.replace("museum-dinosaur-hall", f"m{len(server.seen)}").encode())

    for i in range(3):
        server.routes[f"/a{i}.xml"] = Route(dynamic=meet)
        server.routes[f"/b{i}.xml"] = Route(dynamic=meet)
    subs = [Subscription(server.url(f"/a{i}.xml")) for i in range(3)] + [
        Subscription(server.url(f"/b{i}.xml", host="localhost")) for i in range(3)
    ]
    report = run(tmp_path, subs)
    assert [f.outcome for f in report.feeds] == ["fetched"] * 6
    assert server.most_in_flight == {"127.0.0.1": 1, "localhost": 1}


def test_state_survives_damage_and_one_fetch_runs_at_a_time(server: FeedServer, tmp_path: Path) -> None:
    subs = four_feeds(server)
    run(tmp_path, subs)
    state = next((tmp_path / "cache").glob("fetch-state*"))
    state.write_bytes(b"garbage")
    report = run(tmp_path, subs, now=NOW + timedelta(hours=1))
    assert [f.outcome for f in report.feeds] == ["fetched"] * 4 and sum(f.unchanged for f in report.feeds) == len(LEADS)
    with OutputLock(tmp_path / "cache" / "fetch"), pytest.raises(WriteError, match="another fetch is running"):
        run(tmp_path, subs)


def test_config_opml_and_the_command(server: FeedServer, tmp_path: Path) -> None:
    subs = four_feeds(server)
    server.routes["/broken.xml"] = Route(b'{"version": "https://jsonfeed.org/version/1.1", "items": [')
    config = tmp_path / "newsstand.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "seeds": str(tmp_path / "seeds"),
                "cache": str(tmp_path / "cache"),
                "out": str(tmp_path / "site"),
                "templates": str(ROOT / "templates"),
                "static": str(ROOT / "static"),
                "fetch_max_age": 0,
                "feeds": [{"url": subs[0].url, "name": "Daily Planet", "topics": ["Local"], "weight": 70}, subs[1].url],
            }
        )
    )
    opml = tmp_path / "more.opml"
    opml.write_text(f"""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
<outline text="Science"><outline text="Metropolis" xmlUrl="{subs[2].url}" category="Space/Astronomy"/></outline>
<outline text="Ledger" xmlUrl="{subs[3].url}" weight="40"/><outline text="Broken" xmlUrl="{server.url("/broken.xml")}"/>
</body></opml>""")
    # Not a terminal: problems on stderr as `url: message`, then one summary line.
    proc = subprocess.run(
        [sys.executable, "-m", "newsstand", "fetch", "--config", str(config), "--opml", str(opml)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1 and proc.stdout.startswith("5 feeds: 4 fetched, 0 not modified, 1 failed")
    assert (
        proc.stderr.strip()
        == f"{server.url('/broken.xml')}: not valid JSON: Expecting value: line 1 column 59 (char 58)"
    )
    stories = by_url(tmp_path)
    assert stories["https://rdf.example.net/comet"]["topics"] == ["Science", "Astronomy"]
    assert stories["https://ledger.example.com/harvest"]["quality"] == 40
    # On a terminal: a line per feed.
    leader, follower = pty.openpty()
    proc2 = subprocess.Popen(
        [sys.executable, "-m", "newsstand", "fetch", "--config", str(config), "--max-age", "30"],
        stdout=follower,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert proc2.wait(timeout=60) == 0
    lines = seen.decode().splitlines()
    assert lines[:2] == [f"{subs[0].url}: not modified", f"{subs[1].url}: not modified"], lines
    assert lines[2].startswith("2 feeds: 0 fetched, 2 not modified")
    # export-opml writes the config's feeds back, and they read back the same.
    assert main(["export-opml", "--config", str(config), "--output", str(tmp_path / "out.opml")]) == 0
    from newsstand.subscriptions import read_opml

    assert read_opml(tmp_path / "out.opml") == (
        Subscription(subs[0].url, "Daily Planet", ("Local",), 70),
        Subscription(subs[1].url),
    )
    config.write_text("feeds:\n  - url: ftp://example.com/feed\n")
    assert main(["fetch", "--config", str(config)]) == 1


CAPTURED = ROOT / "tests" / "data" / "feeds"


def test_captured_real_world_feeds(server: FeedServer, tmp_path: Path) -> None:
    subs = []
    for path in sorted(CAPTURED.rglob("*")):
        if path.suffix in (".xml", ".json"):
            route = "/" + path.relative_to(CAPTURED).as_posix()
            kind = "application/feed+json" if path.suffix == ".json" else "application/rss+xml"
            server.routes[route] = Route(path.read_bytes(), headers={"Content-Type": kind}, gzip=True)
            subs.append(Subscription(server.url(route), topics=("Blogs",)))
    report = run(tmp_path, subs, max_age=0)
    results = {f.sub.url.split("/", 3)[3]: f for f in report.feeds}
    empty = {
        "failed/jsonfeed-failed-no-title-items.json",
        "failed/v2ex-jsonfeed-no-storys.json",
    }  # feeds, with nothing to file
    for name, result in results.items():
        if name.startswith("failed/") and name not in empty:
            assert result.outcome == "failed" and result.message, name
        else:
            assert result.outcome == "fetched", (name, result.message)
    assert results["failed/v2ex-jsonfeed-no-storys.json"].skipped == {"no http(s) link": 1}
    # The same V2EX topic as RSS and as JSON Feed: one file, under the feed listed first.
    assert results["well/v2ex-jsonfeed.json"].new == 1
    assert results["well/v2ex-jsonfeed.xml"].skipped == {"already in an earlier feed": 1}
    written = sum(f.new for f in report.feeds)
    assert written == len(seed_files(tmp_path / "seeds")) > 60
    links = set(by_url(tmp_path))
    out = tmp_path / "site"
    result = build(settings_for(tmp_path / "seeds", out, base_url="https://example.org/news/"))
    assert result.files_rejected == 0, result.problems
    data = json.loads((out / "stories.json").read_text())
    assert {a["url"] for s in data["stories"] for a in s["articles"]} == links
    assert all(s["articles"][0]["url"] in links for s in data["stories"])
    assert check_site(out, "https://example.org/news/") == []
