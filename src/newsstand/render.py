"""Pages → bytes: the Jinja environment, its filters, and the one rule for links between pages."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import jinja2
from markupsafe import Markup

from . import pages as plan_helpers
from .config import Settings
from .pages import Page, Site


def relative_url(from_url: str, to_url: str, pretty: bool) -> str:
    """A link from the page at `from_url` to `to_url`, both relative to the site root.

    Links are relative so the site works under any sub-path and from the file system;
    without a base URL (`pretty` False) directory links name their `index.html`, because
    a browser opening files does not look for one.
    """
    if not pretty and (to_url == "" or to_url.endswith("/")):
        to_url += "index.html"
    from_dir = from_url if from_url == "" or from_url.endswith("/") else posixpath.dirname(from_url) + "/"
    if from_dir in ("", "/"):
        return to_url or "./"
    return "../" * (from_dir.rstrip("/").count("/") + 1) + to_url


def json_text(data: Any) -> str:
    """JSON safe to serve and to embed in a <script>: '<' never appears raw, so no '</script>' or '<!--'."""
    return json.dumps(data, ensure_ascii=False, indent=1).replace("<", "\\u003c").replace(">", "\\u003e").replace(
        "&", "\\u0026"
    )


class Renderer:
    def __init__(self, settings: Settings, site: Site) -> None:
        self.settings = settings
        self.site = site
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(settings.templates)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        zone = settings.zone
        self.env.filters.update(
            date=lambda d, fmt="%-d %B %Y, %H:%M": d.astimezone(zone).strftime(fmt),
            isodate=lambda d: d.astimezone(zone).isoformat(),
            json=lambda v: Markup(json_text(v)),
        )
        self.env.globals.update(
            site=site,
            settings=settings,
            url=self._url,
            absolute_url=self._absolute,
            story_url=plan_helpers.story_url,
            topic_url=plan_helpers.topic_url,
            provider_url=plan_helpers.provider_url,
            story_topics=plan_helpers.story_topics,
            story_providers=plan_helpers.story_providers,
            more_coverage=plan_helpers.more_coverage,
        )

    @jinja2.pass_context
    def _url(self, ctx: jinja2.runtime.Context, target: str) -> str:
        page: Page = ctx["page"]
        if page.kind == "notfound" and self.settings.base_url:
            # 404.html is served for missing paths at any depth: only absolute links work there.
            return self._absolute(target)
        return relative_url(page.url, target, pretty=bool(self.settings.base_url))

    def _absolute(self, target: str) -> str:
        """The full URL of a page, for canonical links and feeds; relative when no base URL is set."""
        return self.settings.base_url + target if self.settings.base_url else target

    def render(self, page: Page) -> bytes:
        if page.kind == "data":
            return (json_text(page.context["data"]) + "\n").encode("utf-8")
        template = self.env.get_template(page.template)
        return template.render(page=page, **page.context).encode("utf-8")


def render_all(pages: Iterable[Page], settings: Settings, site: Site) -> Iterator[tuple[str, bytes]]:
    renderer = Renderer(settings, site)
    for page in pages:
        yield page.path, renderer.render(page)


def static_files(files: Mapping[str, bytes]) -> Iterator[tuple[str, bytes]]:
    """Theme assets, copied under static/."""
    for name in sorted(files):
        yield f"static/{name}", files[name]
