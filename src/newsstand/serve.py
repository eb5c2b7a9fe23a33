"""`newsstand serve`: build, serve the site on this machine, rebuild on change, reload the browser.

The HTTP side is a small WSGI app of our own inside livereload's server: it serves only
files inside the output folder, and while the last rebuild failed it shows the error
on every page it serves, above the last good site.
"""

from __future__ import annotations

import html
import io
import logging
import mimetypes
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .build import BuildError, BuildMemo, build, show_edit, warm
from .config import ConfigError, Settings
from .theme import watched
from .write import WriteError

log = logging.getLogger("newsstand.serve")

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class ServeState:
    """What the server knows about the last build: the error to show, if it failed."""

    error: str | None = None
    problems: tuple[str, ...] = ()  # of the last build that ran: files or items it left out
    fingerprint: tuple[tuple[str, int, int], ...] = ()  # of the inputs, where the build keeps no record
    built: bool = False  # a build has run


def inputs_fingerprint(settings: Settings, config: Path | None) -> tuple[tuple[str, int, int], ...]:
    """Path, size and mtime of every input, to tell a real change from a repeated event."""
    seen: list[tuple[str, int, int]] = []
    for folder in (settings.seeds, *watched(settings)):
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names):
                try:
                    st = os.stat(os.path.join(root, name))
                except OSError:
                    continue
                seen.append((os.path.join(root, name), st.st_size, st.st_mtime_ns))
    if config is not None and config.exists():
        st = config.stat()
        seen.append((str(config), st.st_size, st.st_mtime_ns))
    return tuple(seen)


def rebuild(
    settings: Settings,
    state: ServeState,
    config: Path | None,
    load: Callable[[], Settings] | None,
    memo: BuildMemo | None = None,
) -> bool:
    """Build once if any input changed since the last build; True when a build ran.

    `memo` carries what one build read and merged over to the next (see BuildMemo). Whether anything
    changed is the build's own question (its record of the last build: incremental.LastBuild), not asked here
    again: walking and stat'ing every input twice a rebuild was half a second at 100k stories."""
    started = time.perf_counter()
    try:
        current = load() if load else settings
        if not current.use_cache:  # a build without its record of the last one cannot tell
            fingerprint = inputs_fingerprint(current, config)
            if fingerprint == state.fingerprint:
                return False
            state.fingerprint = fingerprint
        result = build(current, memo=memo)
    except (BuildError, WriteError, ConfigError) as err:
        state.error = str(err)
        state.problems = tuple(str(p) for p in getattr(err, "problems", ()))
        print(f"newsstand: build failed, still serving the last good site: {err}", file=sys.stderr)
        return True
    except Exception as err:  # a bug must not take the preview down with it
        # Nor be carried into the next build. The errors above (config, templates, writing) come only
        # before reading or after merging, when the memo is whole: keeping it then keeps the rebuild
        # after the fix fast.
        if memo is not None:
            memo.clear()
        state.error = f"{type(err).__name__}: {err}"
        log.exception("build crashed")
        return True
    if "unchanged" in result.timings and state.built and state.error is None:
        return False  # a repeated event, or an edit undone: the site is what the inputs make
    state.built = True
    state.error = None
    state.problems = tuple(str(p) for p in result.problems)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    print(f"rebuilt in {time.perf_counter() - started:.2f} s: {result.summary()}")
    return True


def show(settings: Settings, state: ServeState, memo: BuildMemo, paths: list[str]) -> bool:
    """Show an edit of story files at once where an editor looks (see preview), before the rebuild; True if it did."""
    if state.error:  # the site on disk is not the last build's: a preview would mix the two
        return False
    started = time.perf_counter()
    try:
        written = show_edit(settings, memo, paths)
    except WriteError as err:  # another build holds the site, say: the rebuild will say more
        print(f"newsstand: the edit is not shown ahead of the rebuild: {err}", file=sys.stderr)
        return False
    except Exception:  # only a head start: the rebuild that follows shows the edit, or its error
        log.exception("showing the edit ahead of the rebuild failed")
        return False
    if written:
        print(
            f"shown in {1000 * (time.perf_counter() - started):.0f} ms: {', '.join(written)} (the rest of the site follows)"
        )
    return bool(written)


def _warm(settings: Settings, memo: BuildMemo) -> None:
    try:
        warm(settings, memo)
    except Exception:  # only a head start: the next build reads what it needs anyway
        memo.clear()
        log.exception("reading the seeds ahead of the first edit failed")


class _Ready(threading.Event):
    """Set once watchfiles asks whether to stop: it asks only after it has set up its watches."""

    def is_set(self) -> bool:
        if not super().is_set():
            self.set()
        return False


def _banner(state: ServeState) -> bytes:
    """What is wrong, on top of every page: a failed build, or the seeds the last build left out."""
    if state.error:
        head, text, colour = "Build failed", "showing the last good site.\n" + state.error, "#b3261e"
        if state.problems:
            text += "\n" + "\n".join(state.problems)
    else:
        count = len(state.problems)
        head, colour = f"{count} problem{'s' if count != 1 else ''} in the seeds", "#8a5300"
        text = "the files or items named are left out of the site.\n" + "\n".join(state.problems)
    return (
        f'<div id="newsstand-build-error" role="alert" style="position:sticky;top:0;z-index:99999;'
        f'background:{colour};color:#fff;font:14px/1.4 monospace;padding:12px 16px;white-space:pre-wrap">'
        f"<strong>{head}</strong> — {html.escape(text)}</div>"
    ).encode()


_CSP_META = re.compile(rb'<meta http-equiv="Content-Security-Policy"[^>]*>\n?', re.IGNORECASE)


def site_app(root: Path, state: ServeState) -> Wsgi:
    """A WSGI app serving files under `root` only: no traversal, no symlinks that lead out."""
    root = root.absolute()

    def respond(
        start: Callable[..., Any], status: str, body: bytes, ctype: str, extra: list[tuple[str, str]] | None = None
    ) -> list[bytes]:
        headers = [
            ("Content-Type", ctype),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            *(extra or []),
        ]
        start(status, headers)
        return [body]

    def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        raw = environ.get("PATH_INFO", "/") or "/"
        if isinstance(raw, bytes):
            raw = raw.decode("latin-1")
        # WSGI hands over the path percent-decoded (as latin-1); undo that to see the real characters.
        try:
            path = raw.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            path = raw
        parts = [p for p in path.split("/") if p]
        if any(p in ("..", ".") or "\x00" in p or "\\" in p for p in parts):
            return respond(start, "403 Forbidden", b"forbidden\n", "text/plain; charset=utf-8")
        target = root.joinpath(*parts) if parts else root
        resolved_root = root.resolve()
        try:
            resolved = target.resolve()
        except (OSError, RuntimeError):
            resolved = None
        if resolved is None or (resolved != resolved_root and resolved_root not in resolved.parents):
            return respond(start, "403 Forbidden", b"forbidden\n", "text/plain; charset=utf-8")
        if resolved.is_dir():
            if not path.endswith("/"):
                # Built from the checked segments only: never '//host' (an open redirect) nor a raw header.
                location = "/" + "/".join(quote(p, safe="") for p in parts) + "/"
                return respond(start, "301 Moved Permanently", b"", "text/plain", [("Location", location)])
            resolved = resolved / "index.html"
        status = "200 OK"
        if not resolved.is_file():
            status, resolved = "404 Not Found", resolved_root / "404.html"
        try:
            body = resolved.read_bytes()
        except OSError:
            body, resolved = b"not found\n", Path("404.txt")
        ctype = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/json", "application/javascript"):
            ctype += "; charset=utf-8"
        if ctype.startswith("text/html"):
            # The preview's live reload and error banner are inline script and style, which the pages' own
            # Content-Security-Policy refuses: the preview serves its pages without it (the built files keep it).
            body = _CSP_META.sub(b"", body, count=1)
        if (state.error or state.problems) and ctype.startswith("text/html"):
            marker = body.find(b"<body")
            at = body.find(b">", marker) + 1 if marker >= 0 else 0
            body = body[:at] + _banner(state) + body[at:]
        return respond(start, status, body, ctype)

    return app


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    config: Path | None = None,
    load: Callable[[], Settings] | None = None,
) -> int:
    import watchfiles
    from livereload import Server
    from livereload.handlers import LiveReloadHandler
    from livereload.watcher import get_watcher_class
    from tornado.ioloop import IOLoop

    class Watcher(get_watcher_class()):  # type: ignore[misc]
        """File events from the system (inotify, through watchfiles), not livereload's polling: that
        walked and statted every watched file every 0.8 s (10,000 seeds: a tenth of a core while idle)
        and saw an edit up to 0.8 s late."""

        _changes: list[tuple[str, float | None]]  # livereload's, untyped

        def examine(self) -> tuple[str | None, float | None]:
            # livereload queues a reload of every open page just after it starts ("__livereload__"). A
            # preview that has just started has nothing new to show, and that reload, landing while the
            # reader clicks a link, cancels the click.
            self._changes = [c for c in self._changes if c[0] != "__livereload__"]
            return super().examine()  # type: ignore[no-any-return]

        def start(self, callback: Callable[[], None]) -> bool:
            loop = IOLoop.current()
            folders = [path for path in self._tasks if os.path.exists(path)]
            # Events name absolute paths; the folders may have been given relative to the working folder.
            tasks = {os.path.abspath(path): item["func"] for path, item in self._tasks.items()}

            def reload(path: str) -> None:  # on the server's loop: livereload's own tasks run there
                self._changes.append((path, None))
                callback()  # livereload reloads the open pages

            one_at_a_time = threading.Lock()

            def changed(paths: list[str]) -> None:
                # On the watching thread, not the server's loop: the server goes on serving pages while the
                # site is rebuilt (and events that come meanwhile wait in watchfiles for the next batch).
                hit = [
                    task
                    for where, task in tasks.items()
                    if any(p == where or p.startswith(where + os.sep) for p in paths)
                ]
                with one_at_a_time:
                    for task in dict.fromkeys(hit):  # every folder has the same rebuild: once per batch
                        try:
                            task(paths, lambda: loop.add_callback(reload, paths[0]))
                        except Exception:  # one bad batch must not stop the watching
                            log.exception("handling a change failed")

            ready = _Ready()

            def events() -> None:
                # The system's events; where they fail (inotify's limit on watched folders), polling.
                for polling in (None, True):
                    try:
                        for batch in watchfiles.watch(
                            *folders, step=20, force_polling=polling, raise_interrupt=False, stop_event=ready
                        ):
                            changed(sorted(path for _, path in batch))
                        return
                    except Exception as err:  # a preview that stops seeing edits must say so
                        then = "; polling instead" if polling is None else "; edits are no longer seen"
                        print(f"newsstand: watching for changes failed: {err}{then}", file=sys.stderr)
                ready.set()

            threading.Thread(target=events, name="newsstand-watch", daemon=True).start()
            # The server already listens: an edit made before the watches exist has no event. So the server
            # waits for them, then looks once for what changed since the first build.
            ready.wait(10)
            threading.Thread(target=changed, args=(list(tasks),), name="newsstand-catch-up", daemon=True).start()
            return True

    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"newsstand: warning: serving on {host}: other machines can reach this preview", file=sys.stderr)
    settings = replace(settings, strict=False)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # each rebuild's line as it happens, even into a file or pipe
    state = ServeState()
    memo = BuildMemo()
    rebuild(settings, state, config, load, memo)
    # A site already up to date was not read: read it now, in the background, so the first edit is as
    # quick as the next ones. Every rebuild waits for this first.
    warming = threading.Thread(target=_warm, args=(settings, memo), name="newsstand-warm", daemon=True)
    warming.start()
    # livereload drops reloads within 3 s of the previous one; an editor saving twice must see both.
    LiveReloadHandler.DEFAULT_RELOAD_TIME = 0
    server = Server(app=site_app(settings.out, state), watcher=Watcher())

    def on_change(paths: list[str], reload: Callable[[], None]) -> None:
        warming.join()
        if show(settings, state, memo, paths):
            reload()
        if rebuild(settings, state, config, load, memo):
            reload()

    for folder in (settings.seeds, *watched(settings)):
        server.watch(str(folder), on_change)
    if config is not None:
        server.watch(str(config), on_change)
    print(f"Serving {settings.out} on http://{host}:{port}/ (Ctrl-C to stop)")
    server.serve(port=port, host=host, debug=False, restart_delay=0)
    return 0
