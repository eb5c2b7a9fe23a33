"""serve's preview of an edit: the story's page at once, exactly what the last build would show with the edit in,
nothing else touched, and the build that follows as exact as ever."""

from __future__ import annotations

import shutil
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from newsstand.build import BuildMemo, build, show_edit, warm
from newsstand.config import Settings
from newsstand.serve import ServeState, show
from newsstand.write import OutputLock

from .conftest import BASE_URL, settings_for
from .test_memo import GENERATED, lead_url, make_seeds, site_files
from .test_memo import story as story_text


class Links(HTMLParser):
    """Each link's href and text."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._open: list[str] | None = None
        self._href = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._open = dict(attrs).get("href") or "", []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.links.append((self._href, "".join(self._open).strip()))
            self._open = None


def link_texts(page: bytes, href: str) -> list[str]:
    parser = Links()
    parser.feed(page.decode("utf-8"))
    return [text for h, text in parser.links if h == href]


@pytest.fixture
def built(tmp_path: Path) -> tuple[Settings, BuildMemo]:
    settings = settings_for(make_seeds(tmp_path / "seeds"), tmp_path / "site", search=False, base_url=BASE_URL)
    memo = BuildMemo()
    build(settings, memo=memo)
    return settings, memo


def inodes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_ino for p in out.rglob("*") if p.is_file()}


def fresh_site(settings: Settings, tmp_path: Path) -> dict[str, bytes]:
    out = tmp_path / "fresh" / "site"
    cache = tmp_path / "fresh" / ".cache"
    cache.mkdir(parents=True)
    for register in settings.cache.glob("stories-*"):  # the URLs the site has published: state, not cache
        shutil.copy(register, cache / register.name)
    build(replace(settings, out=out, cache=cache, use_cache=False))
    return site_files(out)


def test_an_edit_shows_on_its_story_page_only_and_as_the_build_then_makes_it(
    built: tuple[Settings, BuildMemo], tmp_path: Path
) -> None:
    settings, memo = built
    before, nodes = site_files(settings.out), inodes(settings.out)
    target = settings.seeds / "gen_05.txt"
    # A note in the body: shown on the story's page, read by nothing that clusters or ranks.
    target.write_text(story_text(5) + "A correction from the desk, *in italics*.\n", encoding="utf-8")
    written = show_edit(settings, memo, [str(target.absolute())])
    assert len(written) == 1 and written[0].startswith("stories/") and written[0].endswith("/index.html")
    after = site_files(settings.out)
    assert {p for p in after if after[p] != before[p]} == set(written) and after.keys() == before.keys()
    page = after[written[0]]
    assert b"A correction from the desk, <em>in italics</em>." in page
    assert link_texts(page, lead_url(5)) == ["Council 5 votes on budget item 5"]
    # A new file in its place (the old inode may be the spare site's too), every other file left as it was.
    assert {p for p, n in inodes(settings.out).items() if n != nodes[p]} == set(written)
    # The build after it renders the same page, and the site is a fresh build's.
    build(settings, memo=memo)
    assert site_files(settings.out)[written[0]] == page
    assert site_files(settings.out) == fresh_site(settings, tmp_path)


def test_the_story_of_each_article_is_the_site_s(built: tuple[Settings, BuildMemo]) -> None:
    # Read through the clusters' naming (preview.StoryOf), it is what the stories themselves hold.
    _, memo = built
    assert memo.shown is not None
    stories = memo.shown.site.stories.values()
    assert dict(memo.shown.story_of) == {a.key: s.slug for s in stories for a in s.articles}
    assert len(memo.shown.story_of) == sum(len(s.articles) for s in stories) > GENERATED
    assert "https://example.org/no-such-article" not in memo.shown.story_of


def test_a_retitled_article_shows_its_new_title(built: tuple[Settings, BuildMemo], tmp_path: Path) -> None:
    settings, memo = built
    target = settings.seeds / "gen_07.txt"
    target.write_text(story_text(7, title="Council 7 <b>rejects</b> the budget"), encoding="utf-8")
    written = show_edit(settings, memo, [str(target)])
    assert len(written) == 1
    page = (settings.out / written[0]).read_bytes()
    assert link_texts(page, lead_url(7)) == ["Council 7 <b>rejects</b> the budget"]  # text, escaped
    assert b"<b>rejects</b>" not in page
    build(settings, memo=memo)
    assert site_files(settings.out) == fresh_site(settings, tmp_path)


def test_a_retitled_lead_shows_on_its_page_and_on_the_front_page(
    built: tuple[Settings, BuildMemo], tmp_path: Path
) -> None:
    settings, memo = built
    assert memo.shown is not None
    # A story on the front page led by a generated file's own article: its card shows that headline.
    leads = {lead_url(i): i for i in range(GENERATED)}
    home = [p for p in memo.shown.pages if p.kind == "home"]
    story = next(s for p in home for s in p.context["pager"].items if s.lead.url in leads)
    target = settings.seeds / f"gen_{leads[story.lead.url]:02d}.txt"
    target.write_text(story_text(leads[story.lead.url], title="Council retitled ahead"), encoding="utf-8")
    before = site_files(settings.out)
    written = set(show_edit(settings, memo, [str(target)]))
    after = site_files(settings.out)
    assert {p for p in after if after[p] != before[p]} == written
    # Its page, the front page that carries its card, and the front page's feeds if they carry it.
    cards = {p.path for p in home if story in p.context["pager"].items}
    feeds = {"feed.xml", "feed.json"} if story in home[0].context["feed"] else set()
    assert feeds and written == {f"stories/{story.slug}/index.html", *cards, *feeds}
    for path in written:
        assert b"Council retitled ahead" in after[path] and story.title.encode() not in after[path], path
    build(settings, memo=memo)
    assert site_files(settings.out) == fresh_site(settings, tmp_path)


@pytest.mark.parametrize(
    "edit", ["broken", "new file", "new article", "deleted", "not a seed", "outside", "same bytes"]
)
def test_what_the_last_build_cannot_tell_is_left_to_the_build(
    built: tuple[Settings, BuildMemo], tmp_path: Path, edit: str
) -> None:
    settings, memo = built
    seeds = settings.seeds
    target = {
        "new file": seeds / "gen_new.txt",
        "not a seed": seeds / "notes.json",
        "outside": tmp_path / "gen_05.txt",
    }.get(edit, seeds / "gen_05.txt")
    if edit == "broken":
        target.write_text("---\ntitle: 'unclosed\n---\n", encoding="utf-8")
    elif edit == "deleted":
        target.unlink()
    elif edit == "same bytes":  # saved again unchanged: nothing to show
        target.write_bytes(target.read_bytes())
    elif edit == "new article":
        target.write_text(story_text(5, url="https://example.net/moved"), encoding="utf-8")
    else:
        target.write_text(story_text(5, title="Anything"), encoding="utf-8")
    before = site_files(settings.out)
    assert show_edit(settings, memo, [str(target)]) == ()
    assert site_files(settings.out) == before


def test_serve_shows_nothing_over_a_failed_build_and_warm_prepares_the_first_edit(tmp_path: Path) -> None:
    settings = settings_for(make_seeds(tmp_path / "seeds"), tmp_path / "site", search=False)
    build(settings)
    memo = BuildMemo()
    warm(settings, memo)  # what serve does when its first build finds the site up to date
    target = settings.seeds / "gen_02.txt"
    target.write_text(story_text(2) + "Warm note.\n", encoding="utf-8")
    assert show(settings, ServeState(), memo, [str(target)])
    assert any(b"Warm note." in data for data in site_files(settings.out).values())
    # With the last build failed, the site on disk is older than the memo's: no preview over it.
    target.write_text(story_text(2) + "Second note.\n", encoding="utf-8")
    assert not show(settings, ServeState(error="template error"), memo, [str(target)])
    assert not any(b"Second note." in data for data in site_files(settings.out).values())


def test_no_preview_while_another_build_holds_the_site(
    built: tuple[Settings, BuildMemo], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, memo = built
    before = site_files(settings.out)
    target = settings.seeds / "gen_05.txt"
    target.write_text(story_text(5) + "Held note.\n", encoding="utf-8")
    with OutputLock(settings.out.absolute()):
        assert not show(settings, ServeState(), memo, [str(target)])
    assert site_files(settings.out) == before
    assert "another build is writing" in capsys.readouterr().err
    assert show(settings, ServeState(), memo, [str(target)])  # once it is free
