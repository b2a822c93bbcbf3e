"""URLs as gptoss prints them (standard library only, so that any layer can use it without httpx)."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

__all__ = ["REDACTED", "redact_url"]

_SECRET_PARAM = re.compile(r"key|token|secret|passw|auth|sig|credential|session", re.IGNORECASE)
REDACTED = "<redacted>"


def redact_url(url: str) -> str:
    """``url`` safe to print: no user info, no fragment, and the value of every query parameter
    whose name looks like a secret (``api_key``, ``token``, ``sig``...) replaced by ``<redacted>``.

    Every URL gptoss prints (errors, ``doctor``, notices) goes through here.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        # unparsable: keep only what cannot be a credential
        bare = text.split("#", 1)[0].split("?", 1)[0]
        scheme, sep, rest = bare.rpartition("://")
        return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}"
    if not parts.scheme and not parts.netloc:
        return text.split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    pairs = [pair.partition("=") for pair in parts.query.split("&") if pair]
    query = "&".join(
        f"{name}={REDACTED}" if _SECRET_PARAM.search(unquote_plus(name)) else f"{name}{eq}{value}"
        for name, eq, value in pairs
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
