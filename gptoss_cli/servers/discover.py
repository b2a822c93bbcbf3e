"""Finding a local server when no base URL is configured (flags, environment and config say nothing).

The usual ports on 127.0.0.1 are asked at once (a thread each, a short timeout): 8000 vLLM,
8080 llama-server, 11434 Ollama, 1234 LM Studio, 30000 SGLang. The first, in that order, that lists
a gpt-oss model wins; failing that, the first that answers at all. The choice is cached
(``discovered.json`` in the cache dir) and reused while the port still accepts connections, so a
second run costs one TCP connect. A configured URL never reaches this module.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gptoss_cli import errors

HOST = "127.0.0.1"
PORTS: tuple[tuple[int, str], ...] = (
    (8000, "vLLM"),
    (8080, "llama-server"),
    (11434, "Ollama"),
    (1234, "LM Studio"),
    (30000, "SGLang"),
)
CACHE_FILE = "discovered.json"
TIMEOUT = 0.25
"""Seconds each port may take to answer: local servers answer in milliseconds."""


@dataclass(frozen=True, slots=True)
class Found:
    """A server found on a usual port."""

    base_url: str
    usual_for: str
    """The server that usually listens there (what gptoss says; the kind itself is probed later)."""
    gptoss_model: bool
    fresh: bool
    """True when found by probing now, False when taken from the cache."""


def find_server(cache_dir: Path | None, ports: Sequence[tuple[int, str]] | None = None) -> Found:
    """The local server to use; ServerError naming the ports when none answers."""
    ports = PORTS if ports is None else ports
    cached = _cached(cache_dir) if cache_dir is not None else None
    if cached is not None:
        return cached
    with ThreadPoolExecutor(max_workers=len(ports)) as pool:
        answers = list(pool.map(lambda p: _probe(p[0]), ports))
    found = [(port, name, gpt) for (port, name), gpt in zip(ports, answers, strict=True) if gpt is not None]
    if not found:
        listed = ", ".join(f"{port} ({name})" for port, name in ports)
        raise errors.ServerError(
            f"no server found on {HOST} (ports {listed}) and no base URL is configured",
            hint="start one with `gptoss serve MODEL` (a .gguf file, a checkpoint directory or a Hugging "
            "Face repo id such as ggml-org/gpt-oss-20b-GGUF), or pass --base-url URL",
        )
    port, name, gpt = next((f for f in found if f[2]), found[0])
    chosen = Found(f"http://{HOST}:{port}", name, gpt, fresh=True)
    if cache_dir is not None:
        _save(cache_dir, chosen)
    return chosen


def _probe(port: int) -> bool | None:
    """None: nothing answers on ``port``; else whether it lists a gpt-oss model."""
    for path in ("/v1/models", "/api/tags"):
        data = _get_json(port, path)
        if data is _CLOSED:
            return None
        if data is not None:
            return _lists_gptoss(data)
    return False  # it answers HTTP, but lists no models where gptoss looks


_CLOSED = object()


def _get_json(port: int, path: str) -> Any:
    """A small HTTP/1.0 GET with the standard library (httpx's import would cost more than the probe).

    ``_CLOSED`` when nothing accepts connections on the port; None for an answer that is not JSON.
    """
    try:
        sock = socket.create_connection((HOST, port), timeout=TIMEOUT)
    except OSError:
        return _CLOSED
    chunks: list[bytes] = []
    request = f"GET {path} HTTP/1.0\r\nHost: {HOST}:{port}\r\nAccept: application/json\r\n\r\n"
    try:
        with sock:
            sock.settimeout(TIMEOUT)
            sock.sendall(request.encode())
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
    except OSError:
        return None
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] != b"200":
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _lists_gptoss(data: Any) -> bool:
    entries: list[Any] = []
    if isinstance(data, Mapping):
        for key in ("data", "models"):
            if isinstance(data.get(key), list):
                entries.extend(data[key])
    for entry in entries:
        if isinstance(entry, Mapping):
            name = str(entry.get("id") or entry.get("name") or entry.get("model") or "").lower()
            if "gpt-oss" in name.replace("_", "-") or "gptoss" in name:
                return True
    return False


# ----------------------------------------------------------------------------------------------- cache


def _cached(cache_dir: Path) -> Found | None:
    try:
        data = json.loads((cache_dir / CACHE_FILE).read_text(encoding="utf-8"))
        url, name, gpt = data["base_url"], data["usual_for"], data["gptoss_model"]
        port = int(url.rsplit(":", 1)[1])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    try:
        socket.create_connection((HOST, port), timeout=TIMEOUT).close()
    except OSError:
        return None  # gone: probe again
    return Found(str(url), str(name), bool(gpt), fresh=False)


def _save(cache_dir: Path, found: Found) -> None:
    """Atomically (temp file + ``os.replace``); a cache that cannot be written is only a lost speed-up."""
    doc = {"base_url": found.base_url, "usual_for": found.usual_for, "gptoss_model": found.gptoss_model}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".discovered-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        os.replace(tmp, cache_dir / CACHE_FILE)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
