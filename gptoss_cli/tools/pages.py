"""Pages for the browser tool: HTML and plain text as numbered, wrapped lines with numbered links.

The display conventions are those of openai/gpt-oss's simple browser, which the model was trained
on: links read ``【{id}†{text}】`` (``【{id}†{text}†{domain}】`` when they leave the page's site).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse
from urllib.request import url2pathname

WRAP = 80
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript", "application/xhtml+xml")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SKIP_TAGS = frozenset(re.findall(r"\w+", "script style noscript template svg math iframe object select"))
# Tags that break the line, and those that also leave a blank line (paragraphs).
_LINE_TAGS = frozenset(
    re.findall(r"\w+", "div section article header footer nav main aside li dt dd tr br form details summary")
)
_PARAGRAPH_TAGS = frozenset(re.findall(r"\w+", "p ul ol dl table pre blockquote figure hr h1 h2 h3 h4 h5 h6"))
_LINK = re.compile(r"【\d+†(?P<content>[^†】]+)(?:†[^†】]+)?】")
_PARTIAL_START = re.compile(r"^[^【】]*】")
_PARTIAL_END = re.compile(r"【\d*(?:†(?P<content>[^†】]*)(?:†[^†】]*)?)?$")
_PRE_SPACE, _PRE_TAB = "\ue000", "\ue001"  # private-use stand-ins for whitespace inside <pre>


@dataclass
class _Page:
    url: str
    title: str
    lines: list[str]
    links: dict[int, str] = field(default_factory=dict)
    kind: str = "page"  # or "search", "find": results pages, which `find` refuses
    snippets: dict[int, int] = field(default_factory=dict)  # find results: link id -> line of the match


# --- HTML to text -----------------------------------------------------------------------------------


class _HtmlText(HTMLParser):
    """Readable text from HTML, links replaced by ``【id†text】`` markers (their URLs in ``links``)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.base_domain = urlparse(base_url).netloc
        self.links: dict[int, str] = {}
        self._ids: dict[str, int] = {}
        self.title = ""
        self._out: list[str] = []
        self._pending = 0  # newlines owed before the next text (the largest break asked for)
        self._skip = 0
        self._pre = 0
        self._in_title = False
        self._link: tuple[str, list[str]] | None = None
        self._images = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        if self._skip:
            return
        if tag == "title":
            self._in_title = True
        elif tag == "a" and self._link is None:
            self._link = (dict(attrs).get("href") or "", [])
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            self._text(f"[Image {self._images}: {alt}]" if alt else f"[Image {self._images}]")
            self._images += 1
        elif tag in ("td", "th"):
            self._text(" ")
        elif tag in _LINE_TAGS or tag in _PARAGRAPH_TAGS:
            self._break(2 if tag in _PARAGRAPH_TAGS else 1)
            if tag == "pre":
                self._pre += 1
            elif tag == "li":
                self._emit("* ")
            elif tag[0] == "h" and tag[1:].isdigit():
                self._emit("#" * int(tag[1:]) + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag == "title":
            self._in_title = False
        elif tag == "a" and self._link is not None:
            href, parts = self._link
            self._link = None
            self._emit(self._marker(href, re.sub(r"\s+", " ", "".join(parts)).strip()))
        elif tag in _PARAGRAPH_TAGS:
            self._pre = max(0, self._pre - (tag == "pre"))
            self._break(2)
        elif tag in _LINE_TAGS:
            self._break(1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        data = data.replace("【", "〖").replace("】", "〗")
        if self._in_title:
            self.title += data
        else:
            self._text(data)

    def _text(self, data: str) -> None:
        if self._pre:  # kept as written: protect its spaces from the final strip
            if self._pending and data.startswith("\n"):
                data = data[1:]  # the newline right after <pre> is not content
            data = data.replace(" ", _PRE_SPACE).replace("\t", _PRE_TAB)
        else:
            data = re.sub(r"\s+", " ", data)
            if data == " " and (self._pending or not self._out):
                return
        if self._link is not None:
            self._link[1].append(data)
        else:
            self._emit(data)

    def _emit(self, text: str) -> None:
        if self._pending and self._out:
            self._out.append("\n" * self._pending)
        self._pending = 0
        self._out.append(text)

    def _break(self, newlines: int) -> None:
        if self._link is not None:
            self._link[1].append(" ")
        else:
            self._pending = max(self._pending, newlines)

    def _marker(self, href: str, text: str) -> str:
        """The link as the model sees it; plain text for anchors, mailto: and friends, or no text."""
        text = text.replace("†", "‡")
        if not text or not href or href.startswith(("#", "mailto:", "javascript:", "tel:", "data:")):
            return text
        url = urljoin(self.base_url, href).split("#")[0]
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https", "file"):
            return text
        link_id = self._ids.setdefault(url, len(self._ids))
        self.links[link_id] = url
        return _link(link_id, text, url, self.base_domain)

    def text(self) -> str:
        if self._link is not None:  # an <a> never closed
            self.handle_endtag("a")
        lines = (line.strip() for line in "".join(self._out).split("\n"))
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
        return text.replace(_PRE_SPACE, " ").replace(_PRE_TAB, "\t")


def _link(link_id: int, text: str, url: str, base_domain: str) -> str:
    """``【id†text】``, with ``†domain`` when the link leaves the page's site."""
    domain = urlparse(url).netloc
    return f"【{link_id}†{text}】" if domain == base_domain else f"【{link_id}†{text}†{domain}】"


def _html_page(html: str, url: str) -> _Page:
    parser = _HtmlText(url)
    parser.feed(html)
    parser.close()
    title = re.sub(r"\s+", " ", parser.title).strip() or _default_title(url)
    return _Page(url, title, _wrap(parser.text()), parser.links)


def _text_page(text: str, url: str, title: str | None = None) -> _Page:
    text = text.replace("【", "〖").replace("】", "〗")
    return _Page(url, title or _default_title(url), _wrap(text))


def _default_title(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(url2pathname(parsed.path)).name or url
    return parsed.netloc or url


def _wrap(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.split("\n"):
        lines.extend(
            textwrap.wrap(line, width=WRAP, replace_whitespace=False, drop_whitespace=False) if line else [""]
        )
    return lines or [""]


def _strip_links(line: str) -> str:
    line = _PARTIAL_START.sub("", line)
    line = _PARTIAL_END.sub(lambda m: m.group("content") or "", line)
    return _LINK.sub(lambda m: m.group("content"), line)


def _is_text(media: str) -> bool:
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))


def _looks_html(text: str) -> bool:
    head = text[:1024].lstrip().lower()
    return head.startswith(("<!doctype html", "<html"))


# --- the browser ------------------------------------------------------------------------------------


def html_text(html: str, url: str) -> str:
    """A page's readable text, as the browser tool shows it, with its links as plain text (for ``-f``)."""
    page = _html_page(html, url)
    body = "\n".join(_strip_links(line) for line in page.lines).strip("\n")
    return f"# {page.title}\n\n{body}" if page.title else body
