"""Which server is behind a base URL: probed once, cached per URL in a small JSON file, overridable.

Probes, cheapest and most telling first (each a GET; 404s and non-JSON answers are skipped):

============================  =====================================================================
``/v1/models``                ``owned_by`` ``vllm``/``sglang``/``llamacpp``; ``Server: llama.cpp``
                              (each profile's ``owned_by`` and ``server_header``)
``/api/version``              ``{"version": ...}`` alone: Ollama
``/props``                    ``default_generation_settings`` / ``build_info``: llama.cpp
``/get_server_info``          ``version`` with server args (``model_path``): SGLang
``/version``                  ``{"version": ...}``: vLLM
``/api/v0/models``            entries with ``publisher``/``arch``/``state``: LM Studio
============================  =====================================================================

Nothing telling means the generic ``openai`` profile.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gptoss_cli import errors
from gptoss_cli.servers.hints import ServerNote
from gptoss_cli.servers.kinds import GENERIC_KIND, SERVER_KINDS
from gptoss_cli.servers.profiles import PROFILES, ServerProfile
from gptoss_cli.transport.client import (
    PROBE_TIMEOUTS,
    HTTPClient,
    JSONResponse,
    ModelInfo,
    Timeouts,
    get_json,
    make_client,
    normalize_base_url,
)

CACHE_FILE = "servers.json"
CACHE_MAX_AGE = 24 * 3600.0
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class ServerInfo:
    """What is known about the server at a base URL, and how it was learnt (``source``)."""

    base_url: str
    kind: str
    version: str | None = None
    source: str = ""
    detected_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "base_url": self.base_url,
            "kind": self.kind,
            "version": self.version,
            "source": self.source,
            "detected_at": self.detected_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServerInfo:
        """The inverse of :meth:`to_dict`; ValueError when the data is not one."""
        kind, base = data.get("kind"), data.get("base_url")
        version, source, when = data.get("version"), data.get("source", ""), data.get("detected_at", 0.0)
        if kind not in SERVER_KINDS or not isinstance(base, str):
            raise ValueError(f"not a server entry: {data!r}")
        if not isinstance(version, str | None) or not isinstance(source, str):
            raise ValueError(f"not a server entry: {data!r}")
        if not isinstance(when, int | float):
            raise ValueError(f"not a server entry: {data!r}")
        return cls(base, str(kind), version, source, float(when))


Probe = Callable[[JSONResponse], tuple[str, str | None] | None]


def _from_models(answer: JSONResponse) -> tuple[str, str | None] | None:
    header = answer.headers.get("server", "").lower()
    for profile in PROFILES.values():
        if profile.server_header is not None and profile.server_header in header:
            return profile.kind, None
    data = answer.data.get("data") if isinstance(answer.data, dict) else None
    owners = {m.get("owned_by") for m in data if isinstance(m, dict)} if isinstance(data, list) else set()
    for profile in PROFILES.values():
        if profile.owned_by is not None and profile.owned_by in owners:
            return profile.kind, None
    return None


def _version_only(kind: str) -> Probe:
    def probe(answer: JSONResponse) -> tuple[str, str | None] | None:
        data = answer.data
        if isinstance(data, dict) and set(data) == {"version"} and isinstance(data["version"], str):
            return kind, data["version"]
        return None

    return probe


def _from_props(answer: JSONResponse) -> tuple[str, str | None] | None:
    data = answer.data
    if isinstance(data, dict) and ("default_generation_settings" in data or "build_info" in data):
        build = data.get("build_info")
        return "llamacpp", build if isinstance(build, str) else None
    return None


def _from_sglang_info(answer: JSONResponse) -> tuple[str, str | None] | None:
    data = answer.data
    if isinstance(data, dict) and "model_path" in data and isinstance(data.get("version"), str):
        return "sglang", data["version"]
    return None


def _from_lmstudio(answer: JSONResponse) -> tuple[str, str | None] | None:
    data = answer.data.get("data") if isinstance(answer.data, dict) else None
    if isinstance(data, list) and any(
        isinstance(m, dict) and {"publisher", "arch", "state"} & set(m) for m in data
    ):
        return "lmstudio", None
    return None


PROBES: tuple[tuple[str, Probe], ...] = (
    ("/v1/models", _from_models),
    ("/api/version", _version_only("ollama")),
    ("/props", _from_props),
    ("/get_server_info", _from_sglang_info),
    ("/version", _version_only("vllm")),
    ("/api/v0/models", _from_lmstudio),
)
_VERSION_PATHS: Mapping[str, tuple[str, Probe]] = {
    "vllm": ("/version", _version_only("vllm")),
    "sglang": ("/get_server_info", _from_sglang_info),
    "llamacpp": ("/props", _from_props),
}


def detect_server(
    base_url: str,
    *,
    api_key: str | None = None,
    timeouts: Timeouts = PROBE_TIMEOUTS,
    client: HTTPClient | None = None,
) -> ServerInfo:
    """Probe ``base_url`` and say which server it is. Raises when the first probe cannot connect."""
    root = normalize_base_url(base_url)
    http = client if client is not None else make_client(timeouts, url=root)
    try:
        found: tuple[str, str | None] | None = None
        source = ""
        for index, (path, probe) in enumerate(PROBES):
            answer = _try(http, root + path, api_key, timeouts, must_connect=index == 0)
            found = probe(answer) if answer is not None else None
            if found is not None:
                source = path
                break
        if found is None:
            return ServerInfo(root, GENERIC_KIND, None, "no server-specific endpoint answered", time.time())
        kind, version = found
        if version is None and kind in _VERSION_PATHS and source != _VERSION_PATHS[kind][0]:
            path, probe = _VERSION_PATHS[kind]
            answer = _try(http, root + path, api_key, timeouts, must_connect=False)
            extra = probe(answer) if answer is not None else None
            if extra is not None and extra[0] == kind:
                version = extra[1]
        return ServerInfo(root, kind, version, source, time.time())
    finally:
        if client is None:
            http.close()


def _try(
    http: HTTPClient, url: str, api_key: str | None, timeouts: Timeouts, *, must_connect: bool
) -> JSONResponse | None:
    """One probe; None when the endpoint is missing or unreadable."""
    try:
        return get_json(url, api_key=api_key, timeouts=timeouts, client=http)
    except (errors.ConnectError, errors.TimeoutError):
        if must_connect:
            raise
        return None
    except (errors.HTTPStatusError, errors.ProtocolError, errors.StreamError):
        return None


# ----------------------------------------------------------------------------------------------- cache


def load_cache(cache_dir: Path) -> dict[str, ServerInfo]:
    """The cached entries by base URL; an unreadable or foreign file counts as empty."""
    try:
        raw = json.loads((cache_dir / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = raw.get("servers") if isinstance(raw, dict) and raw.get("format") == _CACHE_FORMAT else None
    out: dict[str, ServerInfo] = {}
    for key, value in (entries or {}).items():
        try:
            out[key] = ServerInfo.from_dict(value)
        except (ValueError, AttributeError):
            continue  # a stale or hand-edited entry is simply probed again
    return out


def save_cache(cache_dir: Path, entries: Mapping[str, ServerInfo]) -> None:
    """Write the cache atomically (temp file + ``os.replace``)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    doc = {"format": _CACHE_FORMAT, "servers": {k: v.to_dict() for k, v in sorted(entries.items())}}
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".servers-", suffix=".json.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")
        os.replace(tmp, cache_dir / CACHE_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def forget_server(cache_dir: Path, base_url: str) -> None:
    """Drop a base URL from the cache (after the server there changed)."""
    entries = load_cache(cache_dir)
    if entries.pop(normalize_base_url(base_url), None) is not None:
        save_cache(cache_dir, entries)


def resolve_server(
    base_url: str,
    *,
    cache_dir: Path | None,
    kind: str | None = None,
    api_key: str | None = None,
    refresh: bool = False,
    max_age: float = CACHE_MAX_AGE,
    timeouts: Timeouts = PROBE_TIMEOUTS,
    client: HTTPClient | None = None,
) -> ServerInfo:
    """The server at ``base_url``: ``kind`` from config wins; else a fresh cache entry; else a probe."""
    root = normalize_base_url(base_url)
    if kind is not None:
        if kind not in SERVER_KINDS:
            raise errors.UsageError(
                f"unknown server kind {kind!r}", hint=f"use one of: {', '.join(SERVER_KINDS)}"
            )
        return ServerInfo(root, kind, None, "configured")
    entries = load_cache(cache_dir) if cache_dir is not None else {}
    cached = entries.get(root)
    if cached is not None and not refresh and time.time() - cached.detected_at < max_age:
        return cached
    info = detect_server(root, api_key=api_key, timeouts=timeouts, client=client)
    if cache_dir is not None:
        entries[root] = info
        try:
            save_cache(cache_dir, entries)
        except OSError as exc:
            raise errors.StoreError(f"cannot write the server cache: {exc}", path=str(cache_dir)) from exc
    return info


def server_notes(info: ServerInfo) -> list[ServerNote]:
    """The notes of the detected server's profile that apply to its version (a versioned note needs one)."""
    profile = PROFILES.get(info.kind)
    return [note for note in (profile.notes if profile is not None else ()) if note.applies(info.version)]


def server_warnings(info: ServerInfo) -> list[str]:
    """Known limits of the detected server for raw Harmony (for ``doctor`` and startup)."""
    return [note.say(info.version) for note in server_notes(info)]


# -------------------------------------------------------------------------------------- context length


def context_length(
    base_url: str,
    profile: ServerProfile,
    model: str | None,
    *,
    api_key: str | None = None,
    models: list[ModelInfo] | None = None,
    timeouts: Timeouts = PROBE_TIMEOUTS,
    client: HTTPClient | None = None,
) -> int | None:
    """The server's context length as it reports it (``profile.context``), or None when it does not say.

    ``models`` is a ``/v1/models`` listing already fetched (vLLM and SGLang read it from there). A
    server that does not answer the probe is not an error here: the request itself will say more.
    """
    for source in profile.context:
        if source.path == "/v1/models" and models is not None:
            chosen = [m for m in models if m.id == model] if model is not None else models
            if len(chosen) == 1 and chosen[0].context_length is not None:
                return chosen[0].context_length
            continue
        answer = _try_context(normalize_base_url(base_url) + source.path, api_key, timeouts, client)
        length = source.read(answer.data, model) if answer is not None else None
        if length is not None:
            return length
    return None


def _try_context(
    url: str, api_key: str | None, timeouts: Timeouts, client: HTTPClient | None
) -> JSONResponse | None:
    try:
        return get_json(url, api_key=api_key, timeouts=timeouts, client=client)
    except errors.TransportError:
        return None
