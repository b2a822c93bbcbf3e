"""The built-in ``browser`` tool: ``open``, ``find`` and (when configured) ``search``.

It follows the display and citation conventions of openai/gpt-oss's simple browser, which the
model was trained on: every display starts with its cursor, ``[3] Title (url)``, then a
scrollbar line and the page's lines numbered ``L0: ...`` (wrapped at 80 columns); links read
``【{id}†{text}】`` (``【{id}†{text}†{domain}】`` when they leave the page's site), and the model
cites ``【{cursor}†L{start}-L{end}】``. Every ``open``, ``find`` and ``search`` pushes a new
cursor on the page stack.

``open`` reads http(s) URLs with httpx (redirects followed, ``http_timeout`` per request and
overall, at most ``max_bytes`` read, text types only) and local files (``file://`` URLs or
paths, text only). HTML becomes readable text with the standard library's ``html.parser``.
``search`` runs the configured command, never through a shell: the query is one argv element
(replacing ``{query}`` where an element contains it, else appended), and stdout is read as JSON
(a list, ``{"results": [...]}`` or JSON lines with ``title``/``url``/``snippet``) or as plain text
(one result per line, its first URL the link). Failures come back as ``ToolOutput(error=True)``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse
from urllib.request import url2pathname

import httpx

from gptoss_cli import __version__
from gptoss_cli.harmony import BROWSER, ToolDescription
from gptoss_cli.tools.pages import (
    _HTML_TYPES,
    _default_title,
    _html_page,
    _is_text,
    _link,
    _looks_html,
    _Page,
    _strip_links,
    _text_page,
    _wrap,
)
from gptoss_cli.tools.registry import Approval, Namespace, ToolOutput

__all__ = ["browser_namespace"]

USER_AGENT = f"gptoss-cli/{__version__} (browser tool)"
FIND_CONTEXT_LINES = 4
FIND_MAX_RESULTS = 50
_URL = re.compile(r"https?://[^\s<>\"'】]+")


class _Fail(Exception):
    """A failure to tell the model (the text is the whole message)."""


class _Browser:
    """The page stack and everything the three tools share (one per session)."""

    def __init__(
        self, search_command: Sequence[str] | None, http_timeout: float, max_chars: int, max_bytes: int
    ) -> None:
        self.search_command = list(search_command) if search_command else None
        self.http_timeout = http_timeout
        self.max_chars = max_chars
        self.max_bytes = max_bytes
        self.stack: list[_Page] = []
        self.cache: dict[str, _Page] = {}
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def call(self, function: str, arguments: Any) -> ToolOutput:
        if arguments is None or arguments == "":
            arguments = {}
        if not isinstance(arguments, Mapping):
            return ToolOutput(f"browser.{function} expects a JSON object of arguments.", error=True)
        with self._lock:
            try:
                if function == "open":
                    return ToolOutput(self.open(arguments))
                if function == "find":
                    return ToolOutput(self.find(arguments))
                return ToolOutput(self.search(arguments))
            except _Fail as exc:
                return ToolOutput(str(exc), error=True)

    # open ------------------------------------------------------------------------------------------

    def open(self, args: Mapping[str, Any]) -> str:
        target = args.get("id", -1)
        view_source = bool(args.get("view_source", False))
        num_lines = _int(args.get("num_lines", -1), "num_lines")
        loc = _int(args.get("loc", -1), "loc")
        match: int | None = None
        if isinstance(target, str) and not target.strip().lstrip("-").isdigit():
            page = self.load(target.strip(), view_source)
        else:
            current = self.page(_int(args.get("cursor", -1), "cursor"))
            link = _int(target, "id")
            if link >= 0:
                if link not in current.links:
                    raise _Fail(f"Invalid link id `{link}`." + _valid_ids(current))
                url = current.links[link]
                match = current.snippets.get(link)
                cached = None if view_source else self.cache.get(url)
                page = cached or self.load(url, view_source)
            elif view_source:
                if current.kind != "page":
                    raise _Fail("A results page has no source to view.")
                page = self.load(current.url, True)
            else:
                page = current  # scrolling: the same page under a new cursor
        if loc < 0:  # from a find result: a few lines above the match, as the reference does
            loc = 0 if match is None else match - FIND_CONTEXT_LINES if match > FIND_CONTEXT_LINES else match
        return self.show(page, loc, num_lines)

    def load(self, target: str, view_source: bool) -> _Page:
        scheme = urlparse(target).scheme.lower()
        if scheme in ("http", "https"):
            source, media, url = self.fetch(target)
        elif scheme in ("file", "") or (len(scheme) == 1 and target[1:3] in (":\\", ":/")):
            source, media, url = self.read_file(target)
        else:
            raise _Fail(f"Cannot open `{target}`: only http(s) URLs and local files are supported.")
        if view_source:
            page = _text_page(source, f"view-source:{url}", _default_title(url))
        elif media in _HTML_TYPES or (not media and _looks_html(source)):
            page = _html_page(source, url)
        else:
            page = _text_page(source, url)
        self.cache[page.url] = page
        return page

    def fetch(self, url: str) -> tuple[str, str, str]:
        if self._client is None:
            self._client = httpx.Client(
                follow_redirects=True, timeout=self.http_timeout, headers={"User-Agent": USER_AGENT}
            )
        deadline = time.monotonic() + self.http_timeout
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise _Fail(
                        f"Error fetching URL `{url}`: HTTP {response.status_code} {response.reason_phrase}"
                    )
                media = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if media and not _is_text(media):
                    raise _Fail(f"Error fetching URL `{url}`: not a text page (content-type {media}).")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes or time.monotonic() > deadline:
                        break
                final_url, encoding = str(response.url), response.charset_encoding or "utf-8"
        except httpx.TimeoutException as exc:
            raise _Fail(f"Error fetching URL `{url}`: timed out after {self.http_timeout:g} s.") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _Fail(f"Error fetching URL `{url}`: {exc or type(exc).__name__}") from exc
        if time.monotonic() > deadline:
            raise _Fail(f"Error fetching URL `{url}`: timed out after {self.http_timeout:g} s.")
        if not media and b"\0" in body[:8192]:
            raise _Fail(f"Error fetching URL `{url}`: not a text page.")
        return _decode(bytes(body), encoding, self.max_bytes), media, final_url

    def read_file(self, target: str) -> tuple[str, str, str]:
        parsed = urlparse(target)
        path = Path(url2pathname(parsed.path)) if parsed.scheme == "file" else Path(target).expanduser()
        path = path.absolute()
        if path.is_dir():
            return self._listing(path), "text/html", path.as_uri() + "/"
        try:
            with path.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except FileNotFoundError:
            hint = " (for a web page, give a full URL starting with https://)" if "/" not in target else ""
            raise _Fail(f"No such file: `{path}`{hint}.") from None
        except OSError as exc:
            raise _Fail(f"Cannot read `{path}`: {exc.strerror or exc}.") from exc
        if b"\0" in data[:8192]:
            raise _Fail(f"`{path}` is not a text file.")
        suffix = path.suffix.lower()
        media = "text/html" if suffix in (".html", ".htm", ".xhtml") else "text/plain" if suffix else ""
        return _decode(data, "utf-8", self.max_bytes), media, path.as_uri()

    def _listing(self, path: Path) -> str:
        try:
            entries = sorted(path.iterdir(), key=lambda p: p.name)
        except OSError as exc:
            raise _Fail(f"Cannot list `{path}`: {exc.strerror or exc}.") from exc
        items = "".join(
            f'<li><a href="{quote(p.name)}{"/" * p.is_dir()}">{_escape(p.name)}</a></li>' for p in entries
        )
        return f"<title>{_escape(str(path))}</title><ul>{items}</ul>"

    # find ------------------------------------------------------------------------------------------

    def find(self, args: Mapping[str, Any]) -> str:
        pattern = args.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            raise _Fail("`pattern` must be a non-empty string.")
        page = self.page(_int(args.get("cursor", -1), "cursor"))
        if page.kind != "page":
            raise _Fail("Cannot run `find` on search results page or find results page")
        lines = [_strip_links(line) for line in page.lines]
        needle = pattern.lower()
        chunks: list[str] = []
        result = _Page(
            f"{page.url}/find?pattern={quote(pattern)}",
            f"Find results for text: `{pattern}` in `{page.title}`",
            [],
            kind="find",
        )
        index = 0
        while index < len(lines) and len(chunks) < FIND_MAX_RESULTS:
            if needle not in lines[index].lower():
                index += 1
                continue
            n = len(chunks)
            snippet = "\n".join(lines[index : index + FIND_CONTEXT_LINES])
            chunks.append(f"# 【{n}†match at L{index}】\n{snippet}")
            result.links[n] = page.url
            result.snippets[n] = index
            index += FIND_CONTEXT_LINES
        result.lines = _wrap("\n\n".join(chunks) if chunks else f"No `find` results for pattern: `{pattern}`")
        return self.show(result, 0, -1)

    # search ----------------------------------------------------------------------------------------

    def search(self, args: Mapping[str, Any]) -> str:
        query = args.get("query")
        if not isinstance(query, str) or not query.strip():
            raise _Fail("`query` must be a non-empty string.")
        topn = max(1, min(_int(args.get("topn", 10), "topn"), 50))
        command = self.search_command or []
        if any("{query}" in part for part in command):
            argv = [part.replace("{query}", query) for part in command]
        else:
            argv = [*command, query]
        failed = f"Error during search for `{query}`:"
        try:
            done = subprocess.run(
                argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=self.http_timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise _Fail(f"{failed} timed out after {self.http_timeout:g} s.") from exc
        except OSError as exc:
            raise _Fail(f"{failed} cannot run {argv[0]!r}: {exc.strerror or exc}.") from exc
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip()[-500:]
            raise _Fail(f"{failed} the search command exited with code {done.returncode}: {err}")
        results = _parse_results(done.stdout.decode("utf-8", "replace"))[:topn]
        items = []
        for n, (title, url, snippet) in enumerate(results):
            items.append(f"  * {_link(n, title.replace('†', '‡'), url, '')} {snippet}".rstrip())
        text = "# Search Results\n\n" + "\n".join(items) if items else f"No results for `{query}`."
        page = _Page("", query, _wrap(text), {n: url for n, (_, url, _) in enumerate(results)}, kind="search")
        return self.show(page, 0, -1)

    # the stack and the display ---------------------------------------------------------------------

    def page(self, cursor: int) -> _Page:
        if not self.stack:
            raise _Fail("No pages to access!")
        if cursor < 0 or cursor == len(self.stack) - 1:
            return self.stack[-1]
        if cursor >= len(self.stack):
            raise _Fail(
                f"Cursor `{cursor}` is out of range. Available cursor indices: [0 - {len(self.stack) - 1}]."
            )
        return self.stack[cursor]

    def show(self, page: _Page, loc: int, num_lines: int) -> str:
        total = len(page.lines)
        if loc >= total:
            raise _Fail(f"Invalid location parameter: `{loc}`. Cannot exceed page maximum of {total - 1}.")
        self.stack.append(page)
        cursor = len(self.stack) - 1
        end, size = loc, 0
        limit = total if num_lines <= 0 else min(total, loc + num_lines)
        while end < limit:
            size += len(page.lines[end]) + len(f"L{end}: \n")
            if size > self.max_chars and end > loc:
                break
            end += 1
        body = "\n".join(f"L{i}: {page.lines[i]}" for i in range(loc, end))
        header = page.title + (f" ({unquote(page.url)})" if page.url else "")
        return f"[{cursor}] {header}\n**viewing lines [{loc} - {end - 1}] of {total - 1}**\n\n{body}"

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _Fail(f"`{name}` should be an integer, not a boolean.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if value is None:
        return -1
    raise _Fail(f"`{name}` should be an integer, not `{value!r}`.")


def _valid_ids(page: _Page) -> str:
    if not page.links:
        return " The page has no links."
    return f" Valid link ids on this page: 0-{max(page.links)}."


def _decode(data: bytes, encoding: str, limit: int) -> str:
    try:
        text = data[:limit].decode(encoding, "replace")
    except LookupError:  # a charset Python does not know
        text = data[:limit].decode("utf-8", "replace")
    if len(data) > limit:
        text += f"\n[cut: the rest of the document (over {limit} bytes) is not shown]"
    return text


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _parse_results(output: str) -> list[tuple[str, str, str]]:
    """(title, url, snippet) from a search command's stdout: JSON, JSON lines, or plain lines."""
    records: list[Any] | None = None
    try:
        whole = json.loads(output)
    except ValueError:
        whole = None
    if isinstance(whole, dict):
        whole = whole.get("results")
    if isinstance(whole, list):
        records = whole
    else:
        try:
            records = [json.loads(line) for line in output.splitlines() if line.strip()]
        except ValueError:
            records = None
    results: list[tuple[str, str, str]] = []
    if records is not None and all(isinstance(r, dict) for r in records):
        for r in records:
            url = str(_first(r, "url", "link", "href") or "")
            title = str(_first(r, "title", "name") or url)
            snippet = str(_first(r, "snippet", "description", "summary", "content") or "")
            if url:
                results.append((_one_line(title, 200), url, _one_line(snippet, 300)))
        return results
    for line in output.splitlines():
        found = _URL.search(line)
        if found:
            title = _one_line(line.replace(found.group(0), " "), 200).strip(" -|:") or found.group(0)
            results.append((title, found.group(0), ""))
    return results


def _first(record: Mapping[str, Any], *keys: str) -> Any:
    return next((record[k] for k in keys if record.get(k)), None)


def _one_line(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text).strip().replace("【", "〖").replace("】", "〗")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the tools --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BrowserTool:
    """One of ``browser.open``/``find``/``search``; all three share one :class:`_Browser`."""

    spec: ToolDescription
    browser: _Browser
    approve: Approval = "ask"

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return self.spec.description

    @property
    def parameters(self) -> Mapping[str, Any] | None:
        return self.spec.parameters

    def run(self, arguments: Any) -> ToolOutput:
        return self.browser.call(self.spec.name, arguments)

    def close(self) -> None:
        self.browser.close()


def browser_namespace(
    *,
    search_command: list[str] | None = None,
    http_timeout: float = 20.0,
    max_chars: int = 5000,
    max_bytes: int = 5_000_000,
    approve: Approval = "ask",
) -> Namespace:
    """The ``browser`` built-in with the reference's declaration (``search`` only with a command)."""
    browser = _Browser(search_command, http_timeout, max_chars, max_bytes)
    specs = tuple(t for t in BROWSER.tools if search_command or t.name != "search")
    tools = tuple(BrowserTool(spec, browser, approve) for spec in specs)
    declaration = dataclasses.replace(BROWSER, tools=specs)
    return Namespace("browser", tools, BROWSER.description, builtin=True, declaration=declaration)
