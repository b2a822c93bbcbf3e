"""A scripted HTTP server on 127.0.0.1 (a thread) that replays each GPT-OSS server's wire format.

Tests queue :class:`Reply` objects per path; each request takes the next one (a path with no reply left
answers 404). Every request is recorded (:attr:`ScriptedServer.requests`) so tests can assert on bodies.
A reply is a status, headers and a list of steps: ``bytes`` are written and flushed as one HTTP chunk,
:class:`Pause` sleeps, :data:`DISCONNECT` drops the connection mid-body, :class:`PingUntilGone` pings until
the client hangs up (setting :attr:`ScriptedServer.client_gone`).

The builders below (``vllm_stream``, ``sglang_stream``, ``llamacpp_stream``, ``llamacpp_native_stream``,
``ollama_stream``, ``json_error``...) follow the transcripts in ``research/llama-server.md`` and the
protocol notes in ``research/servers.md``.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Pause:
    """Sleep between two body steps."""

    seconds: float


@dataclass(frozen=True)
class _Disconnect:
    """Close the connection now, without the chunked terminator."""


DISCONNECT = _Disconnect()


@dataclass(frozen=True)
class PingUntilGone:
    """Send ``:`` pings every ``interval`` seconds until the client closes (at most ``limit`` seconds)."""

    interval: float = 0.02
    limit: float = 5.0


Step = bytes | Pause | _Disconnect | PingUntilGone


@dataclass
class Reply:
    """One scripted response."""

    status: int = 200
    steps: list[Step] = field(default_factory=list)
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds before the status line (a slow first byte, a queued request)."""
    chunked: bool = True

    @classmethod
    def json(cls, obj: Any, status: int = 200, **kw: Any) -> Reply:
        """A plain JSON answer with Content-Length."""
        body = json.dumps(obj).encode()
        return cls(status, [body], "application/json; charset=utf-8", chunked=False, **kw)

    @classmethod
    def sse(cls, steps: Sequence[Step], **kw: Any) -> Reply:
        """An SSE stream, one HTTP chunk per step."""
        return cls(200, list(steps), "text/event-stream", **kw)

    @classmethod
    def ndjson(cls, steps: Sequence[Step], **kw: Any) -> Reply:
        """An NDJSON stream (Ollama)."""
        return cls(200, list(steps), "application/x-ndjson", **kw)


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class ScriptedServer:
    """Real HTTP on 127.0.0.1 in a background thread, replaying queued replies per (method, path).

    The socket listens from construction on (pass ``port`` to reuse a known one); requests are served
    once :meth:`start` runs.
    """

    def __init__(self, port: int = 0) -> None:
        self._queues: dict[tuple[str, str], collections.deque[Reply]] = collections.defaultdict(
            collections.deque
        )
        self._lock = threading.Lock()
        self._responders: dict[tuple[str, str], Callable[[RecordedRequest], Reply]] = {}
        self.requests: list[RecordedRequest] = []
        self.client_gone = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True)

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def posts(self) -> list[RecordedRequest]:
        """The POST requests received (completions), leaving out the probes' GETs."""
        return [r for r in self.requests if r.method == "POST"]

    def start(self) -> ScriptedServer:
        """Serve in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, path: str, *replies: Reply, method: str = "POST") -> None:
        """Queue replies for ``method path``; each request takes the next one."""
        with self._lock:
            self._queues[(method, path)].extend(replies)

    def respond(self, path: str, responder: Callable[[RecordedRequest], Reply], method: str = "POST") -> None:
        """Answer ``method path`` by calling ``responder`` (when no scripted reply is queued for it)."""
        with self._lock:
            self._responders[(method, path)] = responder

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        return [r.path for r in self.requests]

    def _take(self, method: str, path: str, request: RecordedRequest) -> Reply | None:
        with self._lock:
            self.requests.append(request)
            queue = self._queues.get((method, path))
            if queue:
                return queue.popleft()
            responder = self._responders.get((method, path))
        return responder(request) if responder is not None else None


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server._take(method, path, RecordedRequest(method, path, headers, body))
            if reply is None:
                reply = Reply.json({"error": {"code": 404, "message": "File Not Found"}}, 404)
            self.close_connection = True
            try:
                self._write(reply)
            except (BrokenPipeError, ConnectionResetError):
                server.client_gone.set()

        def _write(self, reply: Reply) -> None:
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response_only(reply.status)
            headers = {"Server": "scripted", "Content-Type": reply.content_type, "Connection": "close"}
            headers.update(reply.headers)
            if reply.chunked:
                headers["Transfer-Encoding"] = "chunked"
            else:
                headers["Content-Length"] = str(sum(len(s) for s in reply.steps if isinstance(s, bytes)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.flush()
            for step in reply.steps:
                if isinstance(step, Pause):
                    time.sleep(step.seconds)
                elif isinstance(step, _Disconnect):
                    return
                elif isinstance(step, PingUntilGone):
                    self._ping_until_gone(step)
                    return
                else:
                    self._send(step, reply.chunked)
            if reply.chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        def _send(self, data: bytes, chunked: bool) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            self.wfile.flush()

        def _ping_until_gone(self, step: PingUntilGone) -> None:
            end = time.monotonic() + step.limit
            while time.monotonic() < end:
                self._send(b":\n\n", True)  # raises BrokenPipe/ConnectionReset once the client is gone
                time.sleep(step.interval)

    return Handler


# ------------------------------------------------------------------------------------------- builders

MODEL = "openai/gpt-oss-20b"
DONE = b"data: [DONE]\n\n"
PING = b":\n\n"

# Research transcript c06: the canonical "analysis then final" completion, one event per token.
HARMONY_PIECES = [
    "<|channel|>", "analysis", "<|message|>", "User", " asks", " ", "2", "+", "2", ".", " Answer", " is",
    " ", "4", ".", "<|end|>", "<|start|>", "assistant", "<|channel|>", "final", "<|message|>", "2", " +",
    " ", "2", " =", " ", "4", ".",
]  # fmt: skip
HARMONY_IDS = [
    200005, 35644, 200008, 1844, 31064, 220, 17, 10, 17, 13, 30985, 382, 220, 19, 13, 200007, 200006,
    173781, 200005, 17196, 200008, 17, 659, 220, 17, 314, 220, 19, 13,
]  # fmt: skip
HARMONY_TEXT = "".join(HARMONY_PIECES)
# The same completion as vLLM/SGLang send it with the default skip_special_tokens=True.
STRIPPED_PIECES = [p for p in HARMONY_PIECES if not p.startswith("<|")]
# Research transcript c03/c07: a tool call (ordinary-token ids here are placeholders).
TOOL_PIECES = [
    "<|channel|>", "comment", "ary", " to", "=", "functions", ".get", "_weather", " ", "<|constrain|>",
    "json", "<|message|>", '{"', "location", '":"', "Tokyo", '"}',
]  # fmt: skip
TOOL_IDS = [200005, 12, 13, 14, 15, 16, 17, 18, 220, 200003, 19, 200008, 20, 21, 22, 23, 24]
USAGE = {"prompt_tokens": 74, "completion_tokens": 29, "total_tokens": 103}


def event(payload: Any) -> bytes:
    """One ``data:`` event."""
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def error_line(message: str, code: int = 500) -> bytes:
    """llama.cpp's ``error: {...}`` SSE line."""
    return (
        b"error: " + json.dumps({"code": code, "message": message, "type": "server_error"}).encode() + b"\n\n"
    )


def data_error(message: str, code: int = 500) -> bytes:
    """A mid-stream ``data: {"error": ...}`` event (llama.cpp transcript c05s, vLLM, SGLang)."""
    return event({"error": {"code": code, "message": message, "type": "server_error"}})


def json_error(status: int, message: str, shape: str = "openai", **kw: Any) -> Reply:
    """A pre-stream error answer in one of the servers' shapes."""
    bodies: dict[str, Any] = {
        "openai": {"error": {"code": status, "message": message, "type": "invalid_request_error"}},
        "vllm": {
            "object": "error",
            "message": message,
            "type": "BadRequestError",
            "param": None,
            "code": status,
        },
        "ollama": {"error": message},
        "fastapi": {"detail": message},
    }
    return Reply.json(bodies[shape], status, **kw)


def _choice(text: str, **extra: Any) -> dict[str, Any]:
    return {"index": 0, "text": text, "logprobs": None, "finish_reason": None, **extra}


def vllm_stream(
    pieces: Sequence[str] = HARMONY_PIECES,
    ids: Sequence[int] | None = HARMONY_IDS,
    *,
    finish_reason: str = "stop",
    stop_reason: int | str | None = None,
    final_ids: Sequence[int] = (),
    usage: dict[str, int] | None = USAGE,
    done: bool = True,
) -> list[Step]:
    """vLLM ``/v1/completions`` with ``return_token_ids``: the last piece carries the finish; then usage."""
    head = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": MODEL}
    steps: list[Step] = []
    for i, piece in enumerate(pieces):
        extra: dict[str, Any] = {"stop_reason": None}
        if ids is not None:
            extra["token_ids"] = [ids[i], *(final_ids if i == len(pieces) - 1 else ())]
        if i == 0:
            extra["prompt_token_ids"] = [200006, 1428, 200008]
        if i == len(pieces) - 1:
            extra.update(finish_reason=finish_reason, stop_reason=stop_reason)
        steps.append(event({**head, "choices": [_choice(piece, **extra)]}))
    if usage is not None:
        steps.append(event({**head, "choices": [], "usage": usage}))
    if done:
        steps.append(DONE)
    return steps


def sglang_stream(
    pieces: Sequence[str] = HARMONY_PIECES,
    ids: Sequence[int] | None = HARMONY_IDS,
    *,
    finish_reason: str = "stop",
    matched_stop: int | str | None = 200002,
    usage: dict[str, int] | None = USAGE,
) -> list[Step]:
    """SGLang ``/v1/completions``: a separate finish chunk with ``matched_stop``, then a usage chunk."""
    head = {"id": "c1", "object": "text_completion", "created": 1, "model": MODEL}
    steps: list[Step] = []
    for i, piece in enumerate(pieces):
        extra = {"matched_stop": None, **({"token_ids": [ids[i]]} if ids is not None else {})}
        steps.append(event({**head, "choices": [_choice(piece, **extra)]}))
    last = _choice("", matched_stop=matched_stop)
    last["finish_reason"] = finish_reason
    steps.append(event({**head, "choices": [last]}))
    if usage is not None:
        steps.append(event({**head, "choices": [], "usage": usage}))
    return [*steps, DONE]


def llamacpp_stream(
    pieces: Sequence[str] = HARMONY_PIECES,
    *,
    finish_reason: str = "stop",
    terminator: str = "",
    logprob_ids: Sequence[int] | None = None,
    done: bool = True,
) -> list[Step]:
    """llama-server ``/v1/completions`` (transcripts b02, c06): one event per token, then a finish event
    with ``text: ""``, usage and timings. ``terminator`` is the EOG token's own event (``""`` on a
    default server, ``"<|return|>"`` with preserved_tokens)."""
    head = {"created": 1, "model": "models/tiny-gpt-oss-f16.gguf", "system_fingerprint": "b0-unknown"}
    tail = {"object": "text_completion", "id": "chatcmpl-794P"}
    steps: list[Step] = []
    texts = [*pieces, terminator]
    for i, piece in enumerate(texts):
        choice = _choice(piece)
        if logprob_ids is not None:
            choice["logprobs"] = {
                "content": [{"id": logprob_ids[i], "token": piece, "bytes": [], "logprob": -1.0}]
            }
        steps.append(event({"choices": [choice], **head, **tail}))
    final = _choice("")
    final["finish_reason"] = finish_reason
    usage = {"completion_tokens": len(texts), "prompt_tokens": 74, "total_tokens": 74 + len(texts)}
    steps.append(event({"choices": [final], **head, **tail, "usage": usage, "timings": {"cache_n": 69}}))
    if done:
        steps.append(DONE)
    return steps


def llamacpp_native_stream(
    pieces: Sequence[str] = HARMONY_PIECES,
    ids: Sequence[int] = HARMONY_IDS,
    *,
    eog: int | None = 200002,
    stop_type: str = "eos",
    stopping_word: str = "",
) -> list[Step]:
    """llama-server native ``/completion`` (transcript c08): ``content``/``tokens``, a ``stop: true`` end,
    no ``[DONE]``."""
    steps: list[Step] = []
    pairs = [*zip(pieces, ids, strict=True), *([("", eog)] if eog is not None else [])]
    for n, (piece, token) in enumerate(pairs, 1):
        steps.append(
            event(
                {"index": 0, "content": piece, "tokens": [token], "stop": False, "id_slot": -1,
                 "tokens_predicted": n, "tokens_evaluated": 74}
            )
        )  # fmt: skip
    final = {"index": 0, "content": "", "tokens": [], "id_slot": 0, "stop": True, "model": "tiny",
             "tokens_predicted": len(pairs), "tokens_evaluated": 74, "stop_type": stop_type,
             "stopping_word": stopping_word, "timings": {}}  # fmt: skip
    return [*steps, event(final)]


def ollama_stream(
    pieces: Sequence[str] = HARMONY_PIECES, *, done_reason: str = "stop", done: bool = True
) -> list[Step]:
    """Ollama ``/api/generate`` raw NDJSON: ``response`` pieces, then ``done: true`` with counts."""
    head = {"model": "gpt-oss:20b", "created_at": "2025-08-05T00:00:00Z"}
    steps: list[Step] = [json.dumps({**head, "response": p, "done": False}).encode() + b"\n" for p in pieces]
    if done:
        final = {**head, "response": "", "done": True, "done_reason": done_reason, "total_duration": 1,
                 "prompt_eval_count": 74, "eval_count": len(pieces)}  # fmt: skip
        steps.append(json.dumps(final).encode() + b"\n")
    return steps


def merged(steps: Sequence[Step]) -> list[Step]:
    """All byte steps in one HTTP chunk (events merged into one read)."""
    return [b"".join(s for s in steps if isinstance(s, bytes))]


def split_every(steps: Sequence[Step], n: int) -> list[Step]:
    """The body re-cut into ``n``-byte HTTP chunks (events and markers split across reads)."""
    blob = b"".join(s for s in steps if isinstance(s, bytes))
    return [blob[i : i + n] for i in range(0, len(blob), n)]


def iter_texts(steps: Sequence[Step]) -> Iterator[str]:
    """The ``text`` of each OpenAI-style event (for building expectations)."""
    for step in steps:
        if isinstance(step, bytes) and step.startswith(b"data: {"):
            obj = json.loads(step[6:])
            for choice in obj.get("choices", []):
                yield choice.get("text", "")
