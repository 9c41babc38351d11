"""`citeflow preview`: the rendered manuscript in a browser, re-rendered as it is edited.

A small HTTP server on 127.0.0.1 serves the HTML rendering (through the API, with the rules
for untrusted manuscripts) and a server-sent-events stream, ``/_citeflow/events``; a script
added to the page reloads it when a new rendering is ready. A watcher re-renders when the
manuscript, its bibliographies, its CSL style or the project configuration change. A render
error is shown in the page (and on stderr) until the next good rendering. Ctrl-C stops it.
"""

from __future__ import annotations

import html
import json
import mimetypes
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click

from ..errors import CiteflowError
from . import main
from ._output import error, say, warning

#: Seconds between two looks at the watched files.
POLL_SECONDS = 0.25
#: Seconds between keep-alive comments on an idle event stream.
KEEPALIVE_SECONDS = 10.0
#: The page's way back to the server: reload on each new rendering.
LIVE_SCRIPT = """(function () {
  var events = new EventSource("/_citeflow/events");
  var seen = null;
  events.onmessage = function (message) {
    if (seen !== null && message.data !== seen) { location.reload(); }
    seen = message.data;
  };
})();
"""
_SCRIPT_TAG = '<script src="/_citeflow/live.js"></script>'


@dataclass
class PreviewState:
    """The current rendering (or error) and who waits for the next one."""

    version: int = 0
    page: bytes = b""
    error: str | None = None
    folder: Path | None = None  # where the HTML and its files were written
    page_loads: int = 0
    listeners: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)
    stopping: bool = False

    def publish(self, page: bytes, error: str | None, folder: Path | None) -> None:
        with self.changed:
            self.page, self.error, self.folder = page, error, folder
            self.version += 1
            self.changed.notify_all()

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()


class Previewer:
    """Renders one manuscript to HTML whenever one of its inputs changes."""

    def __init__(self, manuscript: Path, csl: str | None, trusted: bool | None,
                 state: PreviewState) -> None:
        self.manuscript = manuscript
        self.csl = csl
        self.trusted = trusted
        self.state = state
        self.workdir = Path(tempfile.mkdtemp(prefix="citeflow-preview-"))
        self._stamps: dict[Path, tuple | None] = {}

    def inputs(self) -> list[Path]:
        """The manuscript, its bibliographies and style, and the configuration file."""
        from ..api import Project, load_manuscript

        watched = [self.manuscript]
        try:
            project = Project.find(self.manuscript)
            if project.config.path is not None:
                watched.append(project.config.path)
            document = load_manuscript(self.manuscript)
            watched += project.bibliography_paths(document, must_exist=False)
            from ..output.render import prepare

            job = prepare(self.manuscript, csl=self.csl, config=project.config,
                          allow_missing=True, trusted=self.trusted, manuscript=document)
            if job.style is not None:
                watched.append(Path(job.style))
        except CiteflowError:
            pass  # the rendering reports it; the manuscript and config are still watched
        for config in ("citeflow.toml", "pyproject.toml"):
            for folder in (self.manuscript.parent, *self.manuscript.parent.parents):
                if (folder / config).exists():
                    watched.append(folder / config)
                    break
        return list(dict.fromkeys(p.absolute() for p in watched))

    def render(self) -> None:
        """Render now and publish the page, or the error in its place."""
        from ..api import Project

        folder = Path(tempfile.mkdtemp(prefix="render-", dir=self.workdir))
        warnings: list[str] = []
        try:
            project = Project.find(self.manuscript)
            written = project.render(self.manuscript, formats=["html"], output_dir=folder,
                                     csl=self.csl, allow_missing=True, trusted=self.trusted,
                                     warn=lambda w: warnings.append(str(w)))
            page = next(p for p in written if p.suffix == ".html").read_bytes()
        except (CiteflowError, OSError) as exc:
            message = str(exc)
            error(message)
            self.state.publish(error_page(self.manuscript, message), message, None)
            return
        for text in dict.fromkeys(warnings):
            warning(text)
        self.state.publish(with_live_script(page), None, folder)
        say(f"rendered {self.manuscript} ({time.strftime('%H:%M:%S')})")

    def changed(self) -> bool:
        """True when a watched file changed (or appeared, or went away) since the last look."""
        now = {path: _stamp(path) for path in self.inputs()}
        before, self._stamps = self._stamps, now
        return bool(before) and now != before

    def watch(self) -> None:
        """Look at the inputs every POLL_SECONDS and render after a change, until stopped."""
        self.changed()
        while not self.state.stopping:
            time.sleep(POLL_SECONDS)
            if self.changed():
                self.render()
                self.changed()  # the inputs may differ now (a new bibliography)


def _stamp(path: Path) -> tuple | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def with_live_script(page: bytes) -> bytes:
    """The page with the reload script before ``</body>`` (or at the end)."""
    tag = _SCRIPT_TAG.encode()
    index = page.lower().rfind(b"</body>")
    return page[:index] + tag + page[index:] if index >= 0 else page + tag


def error_page(manuscript: Path, message: str) -> bytes:
    """A page naming the render error; it reloads once the manuscript renders again."""
    body = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>citeflow: error</title>"
            f"</head><body><h1>citeflow could not render {html.escape(manuscript.name)}</h1>"
            f"<pre id=\"citeflow-error\" style=\"white-space: pre-wrap; color: #a00\">"
            f"{html.escape(message)}</pre><p>Fix the file and save: this page reloads.</p>"
            f"{_SCRIPT_TAG}</body></html>")
    return body.encode("utf-8")


def make_handler(state: PreviewState, manuscript: Path):
    """The request handler: the page, the live script, the event stream, the page's files."""
    root = manuscript.parent.resolve()

    class Handler(BaseHTTPRequestHandler):
        server_version = "citeflow-preview"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args) -> None:
            return

        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            if path in ("/", "/index.html"):
                with state.changed:
                    state.page_loads += 1
                    page = state.page
                self._send(200, page, "text/html; charset=utf-8")
            elif path == "/_citeflow/live.js":
                self._send(200, LIVE_SCRIPT.encode(), "text/javascript; charset=utf-8")
            elif path == "/_citeflow/status":
                with state.changed:
                    data = {"version": state.version, "error": state.error,
                            "page_loads": state.page_loads, "listeners": state.listeners}
                self._send(200, json.dumps(data).encode(), "application/json")
            elif path == "/_citeflow/events":
                self._events()
            else:
                self._file(path)

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _file(self, path: str) -> None:
            """A file the page refers to (an image): from the rendering's folder, else the
            manuscript's folder; never outside them."""
            with state.changed:
                folders = [f for f in (state.folder, root) if f is not None]
            for folder in folders:
                base = folder.resolve()
                target = (base / path.lstrip("/")).resolve()
                if (target == base or base in target.parents) and target.is_file():
                    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                    self._send(200, target.read_bytes(), kind)
                    return
            self._send(404, b"not found", "text/plain; charset=utf-8")

        def _events(self) -> None:
            """Server-sent events: the rendering's version now, then on each change."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            with state.changed:
                state.listeners += 1
                sent = -1
            try:
                while True:
                    with state.changed:
                        if state.version == sent and not state.stopping:
                            state.changed.wait(KEEPALIVE_SECONDS)
                        if state.stopping:
                            return
                        version = state.version
                    message = f"data: {version}\n\n" if version != sent else ": keep-alive\n\n"
                    self.wfile.write(message.encode())
                    self.wfile.flush()
                    sent = version
            except (BrokenPipeError, ConnectionResetError, OSError):
                return
            finally:
                with state.changed:
                    state.listeners -= 1

    return Handler


@main.command()
@click.argument("manuscript", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=4321, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.option("--csl", default=None, metavar="NAME|PATH",
              help="CSL style name or .csl file; overrides front matter and citeflow.toml.")
@click.option("--trusted", is_flag=True,
              help="Keep the manuscript's raw HTML and JavaScript (dropped by default); see "
                   "docs/security.md.")
def preview(manuscript: Path, port: int, csl: str | None, trusted: bool) -> None:
    """Serve MANUSCRIPT as HTML on http://127.0.0.1:PORT/ and reload it on every change.

    The page re-renders when the manuscript, its bibliographies, its CSL style or the
    project configuration change; a render error is shown in the page until fixed.
    Ctrl-C stops the server.
    """
    if not manuscript.is_file():
        raise CiteflowError("manuscript not found", manuscript)
    state = PreviewState()
    previewer = Previewer(manuscript, csl, trusted or None, state)
    previewer.render()
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(state, manuscript))
    except OSError as exc:
        raise CiteflowError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc} "
                            "(choose another --port)") from exc
    server.daemon_threads = True
    watcher = threading.Thread(target=previewer.watch, name="citeflow-watch", daemon=True)
    watcher.start()
    address = f"http://127.0.0.1:{server.server_address[1]}/"
    click.echo(f"Previewing {manuscript} at {address} (Ctrl-C to stop)")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        state.stop()
        server.server_close()
        watcher.join(timeout=2)
        _remove_tree(previewer.workdir)
    say("preview stopped")


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
