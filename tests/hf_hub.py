"""A local Hugging Face hub serving a few files, for `gptoss serve owner/name` (a real HTTP server).

It answers the three requests huggingface_hub 2.x makes to download a file, in the shapes that
library reads (installed source, ``huggingface_hub`` 2.4.0):

- ``GET /api/models/{repo}/tree/main`` (``hf_api.py`` ``_iter_repo_tree_pages``: a JSON list of
  ``{"type", "path", "size", "oid"}``, one page: no ``Link: rel=next`` header, ``utils/_pagination.py``);
- ``HEAD /{repo}/resolve/main/{file}`` (``file_download.py`` ``get_hf_file_metadata``: ``X-Repo-Commit``,
  ``ETag``, ``Content-Length``);
- ``GET`` of the same URL for the bytes, honouring ``Range`` (resumed downloads).
Point ``HF_ENDPOINT`` at :attr:`HubServer.url`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class HubServer:
    """Serves ``files`` (name -> local path) as the repository ``repo`` on 127.0.0.1."""

    def __init__(self, repo: str, files: dict[str, Path]) -> None:
        self.repo = repo
        self.files = files
        self.requests: list[tuple[str, str]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                self._answer(body=True)

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def _answer(self, *, body: bool) -> None:
                path = self.path.split("?", 1)[0]
                hub.requests.append((self.command, path))
                tree = f"/api/models/{hub.repo}/tree/main"
                resolve = f"/{hub.repo}/resolve/main/"
                if path == tree:
                    listing = [
                        {"type": "file", "path": name, "size": p.stat().st_size, "oid": _sha1(p)}
                        for name, p in hub.files.items()
                    ]
                    return self._send(200, json.dumps(listing).encode(), "application/json", {}, body)
                if path.startswith(resolve) and path[len(resolve) :] in hub.files:
                    data = hub.files[path[len(resolve) :]].read_bytes()
                    headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha256(data).hexdigest()}"'}
                    start = _range_start(self.headers.get("Range"))
                    if start:
                        headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                        return self._send(206, data[start:], "application/octet-stream", headers, body)
                    return self._send(200, data, "application/octet-stream", headers, body)
                error = json.dumps({"error": "Repository not found"}).encode()
                return self._send(404, error, "application/json", {"X-Error-Code": "RepoNotFound"}, body)

            def _send(self, status: int, data: bytes, kind: str, headers: dict[str, str], body: bool) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if body:
                    self.wfile.write(data)

        return Handler


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def _range_start(header: str | None) -> int:
    if not header or not header.startswith("bytes="):
        return 0
    return int(header[len("bytes=") :].split("-", 1)[0] or 0)
