"""The browser built-in: open/find/search against a local HTTP server, local files and a search command."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gptoss_cli.harmony import BROWSER
from gptoss_cli.tools.browser import browser_namespace
from gptoss_cli.tools.registry import Namespace, Registry, Tool, ToolOutput

PAGE = """<!doctype html>
<html><head><title>The  Test Page</title><style>p { color: red }</style>
<script>document.write("<a href='/hidden'>hidden</a>")</script></head>
<body>
<h1>Harmony notes</h1>
<p>See the <a href="/other">other page</a>, the <a href="http://127.0.0.1:9/spec">spec</a>,
a <a href="#top">fragment</a> and <a href="mailto:x@y.z">mail</a>.</p>
<ul><li>alpha item</li><li>beta 【not a link】 item</li></ul>
<pre>
def f():
    return 1
</pre>
<p>Caf&eacute; &amp; more text.</p>
</body></html>
"""
OTHER = "<title>Other</title><p>The other page.</p>" + "".join(f"<p>line {i}</p>" for i in range(40))
ROUTES: dict[str, tuple[int, str, bytes]] = {
    "/page": (200, "text/html; charset=utf-8", PAGE.encode()),
    "/other": (200, "text/html", OTHER.encode()),
    "/plain": (200, "text/plain", b"first line\nsecond line\n"),
    "/image": (200, "image/png", b"\x89PNG\r\n\x1a\n\0\0"),
    "/broken": (500, "text/plain", b"oops"),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(2)
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/plain")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, ctype, body = ROUTES.get(self.path, (404, "text/html", b"<p>not found</p>"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(ConnectionError):  # /slow: the client gave up
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


class Browser:
    """The namespace's tools by name, closed after the test."""

    def __init__(self, ns: Namespace) -> None:
        self.ns = ns
        self.tools: dict[str, Tool] = {t.name: t for t in ns.tools}

    def __call__(self, name: str, **args: Any) -> ToolOutput:
        return self.tools[name].run(args)


@pytest.fixture
def browser() -> Iterator[Browser]:
    b = Browser(browser_namespace(http_timeout=1.0))
    yield b
    for tool in b.ns.tools:
        tool.close()


def _ok(out: ToolOutput) -> str:
    assert not out.error, out.text
    return out.text


def test_declaration_is_the_reference_without_search_unless_configured() -> None:
    plain = browser_namespace()
    assert plain.builtin and plain.name == "browser"
    assert [t.name for t in plain.tools] == ["open", "find"]
    assert plain.config() == dataclasses.replace(BROWSER, tools=BROWSER.tools[1:])
    assert plain.config().description == BROWSER.description
    searching = browser_namespace(search_command=["true"])
    assert [t.name for t in searching.tools] == ["search", "open", "find"]
    assert searching.config() == BROWSER
    registry = Registry()
    registry.add(searching)
    tool = registry.resolve("browser.open")
    assert tool is not None and tool.parameters == BROWSER.tools[1].parameters
    assert registry.system_namespaces() == (BROWSER,)
    registry.close()


def test_open_url_renders_numbered_lines_links_and_cursor(browser: Browser, site: str) -> None:
    text = _ok(browser("open", id=f"{site}/page"))
    header, scrollbar, blank, *lines = text.split("\n")
    assert header == f"[0] The Test Page ({site}/page)"
    assert scrollbar == f"**viewing lines [0 - {len(lines) - 1}] of {len(lines) - 1}**"
    assert blank == ""
    assert lines[0] == "L0: # Harmony notes"
    body = "\n".join(lines)
    assert "【0†other page】" in body  # same site: no domain
    assert "【1†spec†127.0.0.1:9】" in body  # another site: its domain too
    assert "fragment" in body and "【" not in body.split("fragment")[1].split("\n")[0]
    assert "* alpha item" in body and "〖not a link〗" in body
    assert "L" in body and "    return 1" in body  # <pre> keeps its indentation
    assert "Café & more text." in body
    assert "hidden" not in body and "color" not in body  # scripts and styles are dropped


def test_links_scrolling_and_cursors(browser: Browser, site: str) -> None:
    _ok(browser("open", id=f"{site}/page"))
    other = _ok(browser("open", id=0))
    assert other.startswith(f"[1] Other ({site}/other)\n")
    scrolled = _ok(browser("open", loc=10, num_lines=3))
    assert scrolled.startswith(f"[2] Other ({site}/other)\n**viewing lines [10 - 12] of ")
    assert scrolled.split("\n")[3:] == ["L10: line 4", "L11: ", "L12: line 5"]
    back = browser("open", cursor=0, id=1)  # a link on an earlier page, by cursor (nobody listens there)
    assert back.error and back.text.startswith("Error fetching URL `http://127.0.0.1:9/spec`")
    err = browser("open", id=99, cursor=0)
    assert err.error and err.text == "Invalid link id `99`. Valid link ids on this page: 0-1."


def test_viewport_is_limited_by_max_chars(site: str) -> None:
    b = Browser(browser_namespace(max_chars=120))
    text = _ok(b("open", id=f"{site}/other"))
    assert "**viewing lines [0 - " in text
    shown = [line for line in text.split("\n") if line.startswith("L")]
    assert 1 <= len(shown) < 20
    assert f"**viewing lines [0 - {len(shown) - 1}] of " in text
    b.tools["open"].close()


def test_find_shows_matches_and_opens_them(browser: Browser, site: str) -> None:
    _ok(browser("open", id=f"{site}/other"))
    found = _ok(browser("find", pattern="LINE 3"))  # case-insensitive, as the reference
    assert found.startswith(
        f"[1] Find results for text: `LINE 3` in `Other` ({site}/other/find?pattern=LINE 3)"
    )
    assert "L0: # 【0†match at L" in found
    assert "line 3" in found and "line 30" in found
    match_line = int(found.split("match at L")[1].split("】")[0])
    opened = _ok(browser("open", id=0))
    assert opened.startswith(f"[2] Other ({site}/other)\n**viewing lines [{match_line - 4} - ")
    refused = browser("find", pattern="x", cursor=1)
    assert refused.error and "Cannot run `find` on search results page or find results page" in refused.text
    none = _ok(browser("find", pattern="zebra", cursor=0))
    assert "No `find` results for pattern: `zebra`" in none


def test_view_source_and_plain_text_and_redirects(browser: Browser, site: str) -> None:
    source = _ok(browser("open", id=f"{site}/page", view_source=True))
    assert source.startswith(f"[0] 127.0.0.1:{site.rsplit(':', 1)[1]} (view-source:{site}/page)")
    assert "<a href=" in source
    plain = _ok(browser("open", id=f"{site}/moved"))
    assert plain.startswith(f"[1] 127.0.0.1:{site.rsplit(':', 1)[1]} ({site}/plain)")
    assert plain.endswith("L0: first line\nL1: second line\nL2: ")


def test_http_failures_are_tool_errors(browser: Browser, site: str) -> None:
    missing = browser("open", id=f"{site}/nowhere")
    assert missing.error and missing.text == f"Error fetching URL `{site}/nowhere`: HTTP 404 Not Found"
    broken = browser("open", id=f"{site}/broken")
    assert broken.error and "HTTP 500" in broken.text
    image = browser("open", id=f"{site}/image")
    assert image.error and "not a text page (content-type image/png)" in image.text
    slow = browser("open", id=f"{site}/slow")
    assert slow.error and "timed out after 1 s" in slow.text
    refused = browser("open", id="http://127.0.0.1:9/")
    assert refused.error and refused.text.startswith("Error fetching URL `http://127.0.0.1:9/`:")
    other = browser("open", id="ftp://127.0.0.1/file")
    assert other.error and "only http(s) URLs and local files" in other.text


def test_bad_arguments_and_empty_stack(browser: Browser, site: str) -> None:
    empty = browser("open")
    assert empty.error and empty.text == "No pages to access!"
    assert browser("find", pattern="x").text == "No pages to access!"
    assert browser.tools["open"].run([1, 2]).error
    _ok(browser("open", id=f"{site}/plain"))
    assert browser("open", id=True).error
    assert browser("open", loc="far").error
    far = browser("open", loc=50)
    assert far.error and far.text == "Invalid location parameter: `50`. Cannot exceed page maximum of 2."
    cursor = browser("open", cursor=7, loc=0)
    assert cursor.error and cursor.text == "Cursor `7` is out of range. Available cursor indices: [0 - 0]."
    assert browser("find", pattern="").error
    assert _ok(browser("open", loc=1.0)).startswith("[1] ")  # integral floats are integers


def test_local_files_and_directories(browser: Browser, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("one\ntwo 【x】\n", encoding="utf-8")
    (tmp_path / "page.html").write_text('<title>Local</title><p><a href="notes.txt">the notes</a></p>')
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2binary")
    text = _ok(browser("open", id=str(tmp_path / "notes.txt")))
    assert text.startswith(f"[0] notes.txt ({(tmp_path / 'notes.txt').as_uri()})")
    assert "L1: two 〖x〗" in text
    html = _ok(browser("open", id=(tmp_path / "page.html").as_uri()))
    assert html.startswith("[1] Local (") and "L0: 【0†the notes】" in html
    assert _ok(browser("open", id=0)).startswith("[2] notes.txt")
    listing = _ok(browser("open", id=str(tmp_path)))
    assert "【0†blob.bin】" in listing and "【2†page.html】" in listing
    binary = browser("open", id=str(tmp_path / "blob.bin"))
    assert binary.error and "is not a text file" in binary.text
    missing = browser("open", id="example.com")
    assert missing.error and "No such file" in missing.text and "https://" in missing.text


SEARCH_JSON = (
    "import json, sys\n"
    "q, site = sys.argv[1], sys.argv[2]\n"
    "for i in range(3):\n"
    "    hit = {'title': f'Hit {i} for {q}', 'url': f'{site}/other', 'snippet': f'snippet {i}'}\n"
    "    print(json.dumps(hit))\n"
)


def test_search_runs_the_command_without_a_shell(tmp_path: Path, site: str) -> None:
    script = tmp_path / "search.py"
    script.write_text(SEARCH_JSON)
    b = Browser(browser_namespace(search_command=[sys.executable, str(script), "{query}", site]))
    query = "cats; echo $HOME `id`"
    text = _ok(b("search", query=query, topn=2))
    host = site.split("//")[1]
    assert text.split("\n") == [
        f"[0] {query}",
        "**viewing lines [0 - 3] of 3**",
        "",
        "L0: # Search Results",
        "L1: ",
        f"L2:   * 【0†Hit 0 for {query}†{host}】 snippet 0",
        f"L3:   * 【1†Hit 1 for {query}†{host}】 snippet 1",
    ]
    assert _ok(b("open", id=1)).startswith(f"[1] Other ({site}/other)")
    refused = b("find", pattern="Hit", cursor=0)
    assert refused.error
    b.tools["search"].close()


def test_search_reads_plain_text_and_reports_failures(tmp_path: Path) -> None:
    plain = [sys.executable, "-c", "import sys; print('Result one - https://a.example/1'); print('no url')"]
    b = Browser(browser_namespace(search_command=plain))
    text = _ok(b("search", query="q"))
    assert "L2:   * 【0†Result one†a.example】" in text
    no_key = [sys.executable, "-c", "import sys; sys.exit('no key')"]
    failing = Browser(browser_namespace(search_command=no_key))
    out = failing("search", query="q")
    assert out.error and "exited with code 1" in out.text and "no key" in out.text
    missing = Browser(browser_namespace(search_command=[str(tmp_path / "nope")]))
    assert missing("search", query="q").error
    assert b("search", query="  ").error
