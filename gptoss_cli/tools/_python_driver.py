"""The child side of the python tool: one persistent namespace, one cell per request.

Run by path (``python -u _python_driver.py LIMIT``), standard library only, never imported by
the client. The client writes requests on the child's stdin and reads replies on its stdout, each
a frame: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. Before running anything
the driver moves those two pipes to private descriptors, points fd 0 at the null device and fds
1 and 2 at a capture pipe, so whatever a cell writes (``print``, C extensions, subprocesses)
becomes the cell's output and can never corrupt the framing.

A cell runs like a Jupyter cell: statements are executed, the value of a final expression is
echoed as its ``repr``, and an exception (``SystemExit`` and ``KeyboardInterrupt`` included) is
reported as a traceback with the driver's own frames left out.
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import linecache
import os
import struct
import sys
import threading
import traceback
import uuid
from typing import Any, BinaryIO

HEADER = struct.Struct(">I")
CHUNK = 65536
DRAIN_WAIT = 2.0  # seconds to wait for a cell's last output to come through the capture pipe


def read_frame(stream: BinaryIO) -> Any:
    """The next frame's JSON value, or None at end of stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    body = stream.read(length)
    if len(body) < length:
        return None
    return json.loads(body.decode("utf-8"))


def write_frame(stream: BinaryIO, value: Any) -> None:
    body = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


class Capture:
    """Everything written to fds 1 and 2, kept up to ``limit`` bytes per cell (the rest counted)."""

    def __init__(self, limit: int) -> None:
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._fd = read_fd
        self._limit = limit
        self._lock = threading.Lock()
        self._kept = bytearray()
        self._dropped = 0
        self._held = b""  # the tail that may be the start of the end marker
        self._marker = b""
        self._seen = threading.Event()
        threading.Thread(target=self._pump, name="capture", daemon=True).start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self._fd, CHUNK)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self._feed(chunk)

    def _feed(self, chunk: bytes) -> None:
        data = self._held + chunk
        self._held = b""
        marker = self._marker
        if marker:
            at = data.find(marker)
            if at < 0:
                cut = max(0, len(data) - len(marker) + 1)
                self._keep(data[:cut])
                self._held = data[cut:]
                return
            self._keep(data[:at])
            self._marker = b""
            self._seen.set()
            data = data[at + len(marker) :]  # written after the cell ended: the next cell's output
        self._keep(data)

    def _keep(self, data: bytes) -> None:
        room = max(0, self._limit - len(self._kept))
        self._kept += data[:room]
        self._dropped += max(0, len(data) - room)

    def collect(self) -> tuple[str, int]:
        """The cell's output and how many bytes were dropped, once everything written so far arrived."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # the cell closed or broke its own stream
                continue
        marker = b"\0gptoss-cell-end-" + uuid.uuid4().hex.encode() + b"\0"
        with self._lock:
            self._marker = marker
            self._seen.clear()
        try:
            os.write(1, marker)
        except OSError:  # the cell closed fd 1: nothing more will arrive through it
            pass
        else:
            self._seen.wait(DRAIN_WAIT)
        with self._lock:
            if self._marker:  # never came through (the cell moved fd 1 elsewhere)
                self._keep(self._held)
                self._held = b""
                self._marker = b""
            text = bytes(self._kept).decode("utf-8", "replace")
            dropped = self._dropped
            self._kept = bytearray()
            self._dropped = 0
        return text, dropped


def _text_stream(fd: int) -> io.TextIOWrapper:
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace", write_through=True)


def _format_exception(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def run_cell(
    code: str, namespace: dict[str, Any], filename: str, limit: int
) -> tuple[str | None, str | None]:
    """Run one cell: the repr of its final expression (or None), and its traceback (or None)."""
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        tree = ast.parse(code, filename, "exec")
        last: ast.Expression | None = None
        if tree.body and isinstance(final := tree.body[-1], ast.Expr):
            tree.body.pop()
            last = ast.Expression(final.value)
        body = compile(tree, filename, "exec")
        tail = compile(last, filename, "eval") if last is not None else None
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes in the source
        return None, "".join(traceback.format_exception_only(type(exc), exc))
    try:
        exec(body, namespace)
        if tail is None:
            return None, None
        value = eval(tail, namespace)
        if value is None:
            return None, None
        namespace["_"] = value
        text = repr(value)
    except BaseException as exc:  # the cell's failure is its output, as in Jupyter
        return None, _format_exception(exc)
    if len(text) > limit:
        text = f"{text[:limit]}... [repr cut: {len(text) - limit} more characters]"
    return text, None


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    capture = Capture(limit)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 (lives as long as the process)
    sys.stdout = _text_stream(1)
    sys.stderr = _text_stream(2)
    sys.path[0] = os.getcwd()  # as in Jupyter, modules in the working directory are importable
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    write_frame(replies, {"ready": True, "python": sys.version.split()[0], "cwd": os.getcwd()})
    count = 0
    while (request := read_frame(requests)) is not None:
        count += 1
        value, error = run_cell(str(request.get("code", "")), namespace, f"<cell {count}>", limit)
        output, dropped = capture.collect()
        write_frame(replies, {"output": output, "dropped": dropped, "value": value, "error": error})


if __name__ == "__main__":
    main()
