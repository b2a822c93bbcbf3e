"""``-f/--file PATH|URL|-`` (``ask``) and ``/file`` (chat): text put into the user's message, named.

A file is read as UTF-8 text (a binary file is refused); a URL is fetched (HTML becomes the same
readable text the browser tool shows the model, links as plain text); ``-`` is standard input. Each
attachment is written before the question as its name and a code fence long enough that no backtick
run inside it can close the fence early. One attachment may be at most :data:`MAX_BYTES` bytes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx

from gptoss_cli import errors

MAX_BYTES = 1_000_000
TIMEOUT = 30.0
_TICKS = re.compile(r"`{3,}")


@dataclass(frozen=True, slots=True)
class Attachment:
    """The text of one ``-f`` argument and the name it is shown under."""

    name: str
    text: str


def read_attachment(spec: str, *, stdin_text: str | None = None) -> Attachment:
    """Read ``spec``: ``-`` (standard input), an http(s) URL, or a path."""
    if spec == "-":
        text = stdin_text if stdin_text is not None else sys.stdin.read()
        return Attachment("stdin", text)
    if urlparse(spec).scheme.lower() in ("http", "https"):
        return Attachment(spec, _fetch(spec))
    return Attachment(spec, _read_file(Path(spec).expanduser(), spec))


def compose(question: str, attachments: Sequence[Attachment]) -> str:
    """The user's message: each attachment, named and fenced, then the question."""
    parts = []
    for item in attachments:
        longest = max((len(run) for run in _TICKS.findall(item.text)), default=2)
        fence = "`" * max(3, longest + 1)
        parts.append(f"`{item.name}`:\n{fence}\n{item.text.rstrip(chr(10))}\n{fence}")
    if question:
        parts.append(question)
    return "\n\n".join(parts)


def _too_big(name: str) -> errors.UsageError:
    return errors.UsageError(
        f"-f {name}: more than {MAX_BYTES:,} bytes", hint="attach a smaller file, or an excerpt (head, grep)"
    )


def _read_file(path: Path, name: str) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise errors.UsageError(f"-f {name}: no such file") from None
    except IsADirectoryError:
        raise errors.UsageError(
            f"-f {name}: is a directory", hint="attach the files in it one by one"
        ) from None
    except OSError as exc:
        raise errors.UsageError(f"-f {name}: cannot read it: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise _too_big(name)
    if b"\0" in data[:8192]:
        raise errors.UsageError(f"-f {name}: not a text file", hint="attach text (source, logs, Markdown...)")
    return data.decode("utf-8", "replace")


def _fetch(url: str) -> str:
    from gptoss_cli.tools.pages import html_text
    from gptoss_cli.transport.client import redact_url

    shown = redact_url(url)
    body = bytearray()
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=TIMEOUT) as response:
            if response.status_code >= 400:
                raise errors.TransportError(f"-f {shown}: HTTP {response.status_code}", url=shown)
            media = response.headers.get("content-type", "").split(";")[0].strip().lower()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise _too_big(shown)
            encoding = response.charset_encoding or "utf-8"
            final = str(response.url)
    except httpx.TimeoutException as exc:
        raise errors.TimeoutError(f"-f {shown}: no answer in {TIMEOUT:g} s", url=shown) from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise errors.ConnectError(f"-f {shown}: {exc or type(exc).__name__}", url=shown) from exc
    if b"\0" in body[:8192]:
        raise errors.UsageError(f"-f {shown}: not a text page")
    text = bytes(body).decode(encoding, "replace")
    if media in ("text/html", "application/xhtml+xml") or text[:1024].lstrip().lower().startswith(
        ("<!doctype html", "<html")
    ):
        return html_text(text, final)
    return text
