"""Simulated GPT-OSS servers that behave like the real ones: defaults, validation, probe endpoints.

The replay builders in :mod:`tests.scripted_server` send a fixed transcript whatever the request
says; a test double like that passed while every real vLLM cut gptoss's answers at 16 tokens. The
servers here instead *apply the request* the way the real server does, starting from the real
server's defaults for every field gptoss might leave out, and generate from a scripted "model": the
token ids the model would produce. What each default is, and where the real server's source says so,
is in ``docs/server-defaults.md``; each :class:`Default` below carries that citation.

Use :func:`simulate` to install one on a :class:`~tests.scripted_server.ScriptedServer`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gptoss_cli.harmony.tokens import CALL, ENDOFTEXT, RETURN, get_tokenizer, is_special

from .scripted_server import DONE, RecordedRequest, Reply, ScriptedServer, event

MODEL_ID = "openai/gpt-oss-20b"
EOG_IDS = (RETURN, CALL, ENDOFTEXT)
"""gpt-oss's end-of-generation ids: ``eos_token_id`` of its generation_config.json (with the
``<|call|>`` commit on the HF repo) and llama.cpp's EOG set for the gpt-oss vocabulary."""


@dataclass(frozen=True)
class Default:
    """What a real server does with a field the request leaves out, and where its source says so."""

    name: str
    value: Any
    cite: str


# ---------------------------------------------------------------------------------------- the model


@dataclass
class ScriptedModel:
    """What the "model" generates: ``outputs`` in turn (the last repeats), each a list of token ids.

    Generation past the end of an output goes on with ``filler`` (a model that would keep talking),
    so a server's stop rules and limits, not the script, decide where the answer ends.
    """

    outputs: list[list[int]]
    filler: int = 13  # "."
    calls: int = 0

    def next_output(self) -> list[int]:
        out = self.outputs[min(self.calls, len(self.outputs) - 1)]
        self.calls += 1
        return out

    def generate(self) -> Iterator[int]:
        yield from self.next_output()
        while True:
            yield self.filler


def harmony_ids(text: str) -> list[int]:
    """Token ids of Harmony text, special tokens included (how tests write what the model says)."""
    return get_tokenizer().encode_with_specials(text)


class _Utf8:
    """Hold back an incomplete UTF-8 sequence between tokens, as every real server's detokenizer does."""

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, data: bytes) -> str:
        data = self.pending + data
        for cut in range(len(data), max(len(data) - 4, -1), -1):
            try:
                text = data[:cut].decode("utf-8")
            except UnicodeDecodeError:
                continue
            self.pending = data[cut:]
            return text
        self.pending = data
        return ""


def _token_text(token: int, decoder: _Utf8, *, render: bool) -> str:
    if is_special(token):
        return get_tokenizer().decode([token]) if render else ""
    return decoder.feed(get_tokenizer().token_bytes(token))


def _prompt_tokens(prompt: Any) -> list[int]:
    if isinstance(prompt, str):
        return harmony_ids(prompt)
    return list(prompt)


# ---------------------------------------------------------------------------------------- base


@dataclass
class SimulatedServer:
    """One kind of server around a :class:`ScriptedModel`. Subclasses hold the kind's behaviour."""

    model: ScriptedModel
    context_length: int = 4096
    model_id: str = MODEL_ID
    bodies: list[dict[str, Any]] = field(default_factory=list)
    """Every completion request body received (after JSON parsing)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    DEFAULTS: ClassVar[Mapping[str, Default]] = {}

    def default(self, name: str) -> Any:
        return self.DEFAULTS[name].value

    def install(self, server: ScriptedServer) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _record(self, request: RecordedRequest) -> dict[str, Any] | Reply:
        try:
            body = request.json()
        except ValueError:
            return self.error(400, "the request body is not JSON")
        if not isinstance(body, dict):
            return self.error(400, "the request body is not a JSON object")
        with self._lock:
            self.bodies.append(body)
        return body

    def error(self, status: int, message: str) -> Reply:
        return Reply.json({"error": {"message": message, "type": "BadRequestError", "code": status}}, status)


# ---------------------------------------------------------------------------------------- vLLM

_V = "vllm 0.32.0"
_VP = f"{_V} vllm/entrypoints/openai/completion/protocol.py"


@dataclass
class VLLM(SimulatedServer):
    """vLLM's OpenAI server: ``/v1/completions``, ``/v1/models``, ``/version``, ``/health``."""

    version: str = "0.32.0"
    owned_by: str = "vllm"
    DEFAULTS: ClassVar[Mapping[str, Default]] = {
        d.name: d
        for d in (
            Default("max_tokens", 16, f"{_VP}:63 (null becomes it too: :432-436)"),
            Default("skip_special_tokens", True, f"{_VP}:86"),
            Default("spaces_between_special_tokens", True, f"{_VP}:87"),
            Default("include_stop_str_in_output", False, f"{_VP}:83"),
            Default("stop_token_ids", [], f"{_VP}:82"),
            Default("return_token_ids", False, f"{_VP}:171"),
            Default(
                "context_clamp",
                True,
                f"{_V} vllm/entrypoints/serve/utils/api_utils.py:169-200 (max_tokens is capped at "
                "max_model_len minus the prompt; a longer prompt is refused)",
            ),
            Default(
                "extra_fields",
                "ignored",
                f"{_V} vllm/entrypoints/serve/engine/protocol.py:39 (extra='allow', logged and ignored)",
            ),
            Default(
                "max_model_len",
                "listed",
                f"{_V} vllm/entrypoints/openai/models/serving.py:66-71 (GET /v1/models)",
            ),
            Default("version_path", "/version", f"{_V} vllm/entrypoints/serve/instrumentator/basic.py:53"),
            Default(
                "eos",
                "generation_config",
                f"{_V} vllm/sampling_params.py:775-795 (the primary EOS and generation_config's "
                "eos_token_id list stop generation; stop_reason is None for the primary EOS)",
            ),
        )
    }
    primary_eos: int = RETURN

    def install(self, server: ScriptedServer) -> None:
        server.respond("/v1/completions", self.completions)
        server.respond("/v1/models", self.models, method="GET")
        server.respond("/version", lambda _r: Reply.json({"version": self.version}), method="GET")
        server.respond("/health", lambda _r: Reply.json({}), method="GET")

    def models(self, _request: RecordedRequest) -> Reply:
        entry = {
            "id": self.model_id,
            "object": "model",
            "created": 1,
            "owned_by": self.owned_by,
            "root": self.model_id,
            "parent": None,
            "max_model_len": self.context_length,
            "permission": [],
        }
        return Reply.json({"object": "list", "data": [entry]})

    def error(self, status: int, message: str) -> Reply:
        # ErrorResponse{error: ErrorInfo{message, type, param, code}}: protocol.py:79-87
        info = {"message": message, "type": "BadRequestError", "param": None, "code": status}
        return Reply.json({"error": info}, status)

    def completions(self, request: RecordedRequest) -> Reply:
        body = self._record(request)
        if isinstance(body, Reply):
            return body
        prompt = body.get("prompt")
        if not (
            isinstance(prompt, str)
            or (isinstance(prompt, list) and all(isinstance(t, int) and t >= 0 for t in prompt))
        ):
            return self.error(400, "prompt: Input should be a valid string or list of integers")
        model = body.get("model")
        if model is not None and model != self.model_id:
            return self.error(404, f"The model `{model}` does not exist.")
        prompt_len = len(_prompt_tokens(prompt))
        limit = self.check_limit(body, prompt_len)
        if isinstance(limit, Reply):
            return limit
        skip = body.get("skip_special_tokens", self.default("skip_special_tokens"))
        include_stop = self.keeps_stop(body)
        stops = {self.primary_eos, *EOG_IDS, *(body.get("stop_token_ids") or [])}
        with_ids = bool(body.get("return_token_ids", self.default("return_token_ids")))
        events, finish, stop_reason, n = self._generate(limit, stops, skip=skip, include_stop=include_stop)
        usage = {"prompt_tokens": prompt_len, "completion_tokens": n, "total_tokens": prompt_len + n}
        if not body.get("stream"):
            text = "".join(t for t, _ in events)
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
            choice[self.stop_field] = stop_reason
            if with_ids:
                choice["token_ids"] = [i for _, ids in events for i in ids]
            return Reply.json(
                {"id": "cmpl-sim", "object": "text_completion", "choices": [choice], "usage": usage}
            )
        return Reply.sse(self._stream(events, finish, stop_reason, usage, body, prompt, with_ids))

    stop_field: ClassVar[str] = "stop_reason"

    def check_limit(self, body: Mapping[str, Any], prompt_len: int) -> Reply | int:
        """The number of tokens to generate, or the server's refusal (api_utils.py:169-205)."""
        if prompt_len > self.context_length:
            return self.error(
                400,
                f"Input length ({prompt_len}) exceeds model's maximum context length "
                f"({self.context_length}).",
            )
        asked = body.get("max_tokens")
        limit = self.default("max_tokens") if asked is None else asked
        if not isinstance(limit, int) or limit < 1:
            return self.error(400, "max_tokens must be at least 1")
        if limit > self.context_length:
            return self.error(
                400, f"max_tokens ({limit}) is greater than the context ({self.context_length})"
            )
        return min(limit, self.context_length - prompt_len)

    def stop_reason(self, token: int) -> int | None:
        """``stop_reason`` for a stop id: None for the primary EOS (sampling_params.py:775-795)."""
        return None if token == self.primary_eos else token

    def keeps_stop(self, body: Mapping[str, Any]) -> bool:
        """Whether the stop token's text stays in the output."""
        return bool(body.get("include_stop_str_in_output", self.default("include_stop_str_in_output")))

    def _generate(
        self, limit: int, stops: set[int], *, skip: bool, include_stop: bool
    ) -> tuple[list[tuple[str, list[int]]], str, int | None, int]:
        decoder = _Utf8()
        events: list[tuple[str, list[int]]] = []
        for n, token in enumerate(self.model.generate(), 1):
            if n > limit:
                return events, "length", None, n - 1
            if token in stops:
                # the stop token's text is kept only with include_stop_str_in_output (detokenizer.py)
                text = _token_text(token, decoder, render=not skip) if include_stop else ""
                events.append((text, [token]))
                return events, "stop", self.stop_reason(token), n
            events.append((_token_text(token, decoder, render=not skip), [token]))
        raise AssertionError("unreachable: the scripted model never ends")

    def _stream(
        self,
        events: list[tuple[str, list[int]]],
        finish: str,
        stop_reason: int | None,
        usage: dict[str, int],
        body: Mapping[str, Any],
        prompt: Any,
        with_ids: bool,
    ) -> list[bytes]:
        head = {"id": "cmpl-sim", "object": "text_completion", "created": 1, "model": self.model_id}
        out: list[bytes] = []
        events = events or [("", [])]  # the finish still comes in a chunk of its own
        for i, (text, ids) in enumerate(events):
            last = i == len(events) - 1
            choice: dict[str, Any] = {"index": 0, "text": text, "logprobs": None}
            choice["finish_reason"] = finish if last else None
            choice[self.stop_field] = stop_reason if last else None
            if with_ids:
                choice["token_ids"] = ids
                if i == 0:
                    choice["prompt_token_ids"] = _prompt_tokens(prompt)
            out.append(event({**head, "choices": [choice]}))
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            out.append(event({**head, "choices": [], "usage": usage}))
        return [*out, DONE]


# ---------------------------------------------------------------------------------------- SGLang


_S = "sglang 0.5.23"


@dataclass
class SGLang(VLLM):
    """SGLang's OpenAI server: vLLM's request shape with stricter limits and flat errors."""

    version: str = "0.5.23"
    owned_by: str = "sglang"
    stop_field: ClassVar[str] = "matched_stop"
    DEFAULTS: ClassVar[Mapping[str, Default]] = {
        d.name: d
        for d in (
            Default("max_tokens", 16, f"{_S} sglang/srt/entrypoints/openai/protocol.py:378 (null: 400)"),
            Default("skip_special_tokens", True, f"{_S} sglang/srt/entrypoints/openai/protocol.py:408"),
            Default("no_stop_trim", False, f"{_S} sglang/srt/managers/detokenizer_manager.py:194-226"),
            Default("return_token_ids", False, f"{_S} sglang/srt/entrypoints/openai/protocol.py:394"),
            Default(
                "context_clamp",
                False,
                f"{_S} sglang/srt/managers/tokenizer_manager.py:1338-1377 (prompt + max_tokens over the "
                "context: 400; a prompt must be shorter than the context)",
            ),
            Default(
                "max_model_len",
                "listed",
                f"{_S} sglang/srt/entrypoints/http_server.py:1993-2022 (/v1/models)",
            ),
            Default("version_path", "/server_info", f"{_S} sglang/srt/entrypoints/http_server.py:853-893"),
            Default(
                "matched_stop",
                "every stop id",
                f"{_S} sglang/srt/managers/schedule_batch.py:284-294 (the primary EOS too)",
            ),
        )
    }

    def install(self, server: ScriptedServer) -> None:
        server.respond("/v1/completions", self.completions)
        server.respond("/v1/models", self.models, method="GET")
        info = {"version": self.version, "model_path": self.model_id, "context_length": self.context_length}
        for path in ("/server_info", "/get_server_info"):  # the second is the deprecated alias
            server.respond(path, lambda _r: Reply.json(info), method="GET")
        server.respond("/health", lambda _r: Reply.json({}), method="GET")

    def error(self, status: int, message: str) -> Reply:
        # flat, not nested: protocol.py:106-111, serving_base.py:205-221
        return Reply.json(
            {"object": "error", "message": message, "type": "BadRequestError", "param": None, "code": status},
            status,
        )

    def keeps_stop(self, body: Mapping[str, Any]) -> bool:
        return bool(body.get("no_stop_trim", self.default("no_stop_trim")))

    def check_limit(self, body: Mapping[str, Any], prompt_len: int) -> Reply | int:
        asked = body.get("max_tokens", self.default("max_tokens"))
        if not isinstance(asked, int) or isinstance(asked, bool):
            return self.error(400, "max_tokens: Input should be a valid integer")
        if asked <= 0:
            return self.error(400, "max_tokens must be positive")
        if prompt_len >= self.context_length:
            return self.error(
                400,
                f"The input ({prompt_len} tokens) is longer than the model's context length "
                f"({self.context_length} tokens).",
            )
        if prompt_len + asked > self.context_length:
            return self.error(
                400,
                "Requested token count exceeds the model's maximum context length of "
                f"{self.context_length} tokens.",
            )
        return asked

    def stop_reason(self, token: int) -> int | None:
        return token


_L = "llama.cpp 11434.0.0"
_Run = tuple[list[tuple[str, int]], str, int, int]
"""What llama-server generated: (text, id) pieces, the finish reason, prompt and completion token counts."""


@dataclass
class LlamaServer(SimulatedServer):
    """llama-server: ``/v1/completions`` and native ``/completion``, ``/props``, ``/v1/models``."""

    special: bool = False
    """The server's ``--special`` flag (off by default): control tokens rendered in the text."""
    slots: int = 1
    last_prompt: list[int] = field(default_factory=list)
    """The slot's cached prompt: the next request reuses its common prefix (``timings.cache_n``)."""
    DEFAULTS: ClassVar[Mapping[str, Default]] = {
        d.name: d
        for d in (
            Default(
                "n_predict",
                -1,
                f"{_L} tools/server/server-schema.cpp:530 (max_tokens is an alias: :44-48; -1 runs to the "
                "end of the slot's context)",
            ),
            Default(
                "special",
                False,
                f"{_L} tools/server/server-context.cpp:4130-4133 (control tokens only with --special or "
                "preserved_tokens)",
            ),
            Default(
                "context_per_slot",
                "n_ctx / slots",
                f"{_L} tools/server/server-context.cpp:4955-4963 (/props default_generation_settings.n_ctx)",
            ),
            Default(
                "prompt_over_context",
                400,
                f"{_L} tools/server/server-context.cpp:3418-3425 (exceed_context_size_error)",
            ),
            Default("stream", False, f"{_L} tools/server/server-schema.cpp:519-571"),
            Default("stop_token_ids", "ignored", f"{_L} tools/server/server-schema.cpp:487-503"),
        )
    }

    def install(self, server: ScriptedServer) -> None:
        server.respond("/v1/completions", self.completions)
        server.respond("/completion", self.native)
        server.respond("/props", self.props, method="GET")
        server.respond("/v1/models", self.models, method="GET")
        server.respond("/health", lambda _r: Reply.json({"status": "ok"}), method="GET")

    def _headers(self) -> dict[str, str]:
        return {"Server": "llama.cpp"}

    def props(self, _request: RecordedRequest) -> Reply:
        settings = {"n_ctx": self.context_length // self.slots, "params": {"n_predict": -1}}
        data = {"default_generation_settings": settings, "total_slots": self.slots, "build_info": "b7000-sim"}
        return Reply.json(data, headers=self._headers())

    def models(self, _request: RecordedRequest) -> Reply:
        meta = {"n_ctx": self.context_length // self.slots, "n_ctx_train": 131072}
        entry = {"id": self.model_id, "object": "model", "created": 1, "owned_by": "llamacpp", "meta": meta}
        return Reply.json({"object": "list", "data": [entry]}, headers=self._headers())

    def _reuse(self, prompt: list[int]) -> int:
        """Prompt tokens taken from the slot's cache: the prefix shared with the previous prompt."""
        shared = 0
        for a, b in zip(prompt, self.last_prompt, strict=False):
            if a != b:
                break
            shared += 1
        self.last_prompt = prompt
        return shared

    def _too_long(self, body: Mapping[str, Any]) -> Reply | None:
        prompt_len = len(_prompt_tokens(body.get("prompt", "")))
        n_ctx = self.context_length // self.slots
        if prompt_len < n_ctx:
            return None
        message = (
            f"request ({prompt_len} tokens) exceeds the available context size ({n_ctx} tokens), "
            "try increasing it"
        )
        error = {"code": 400, "message": message, "type": "exceed_context_size_error",
                 "n_prompt_tokens": prompt_len, "n_ctx": n_ctx}  # fmt: skip
        return Reply.json({"error": error}, 400, headers=self._headers())

    def _run(self, body: Mapping[str, Any]) -> _Run:
        prompt_len = len(_prompt_tokens(body.get("prompt", "")))
        n_ctx = self.context_length // self.slots
        n_predict = body.get("n_predict", body.get("max_tokens", -1))
        room = n_ctx - prompt_len
        limit = room if not isinstance(n_predict, int) or n_predict < 0 else min(n_predict, room)
        preserved = set(body.get("preserved_tokens") or [])
        decoder = _Utf8()
        out: list[tuple[str, int]] = []
        for token in self.model.generate():
            if len(out) >= limit:
                return out, "length", prompt_len, len(out)
            text_of = get_tokenizer().decode([token]) if is_special(token) else None
            render = self.special or (text_of in preserved)
            out.append((_token_text(token, decoder, render=render), token))
            if token in EOG_IDS:
                return out, "stop", prompt_len, len(out)
        raise AssertionError("unreachable")

    def _accept(self, request: RecordedRequest) -> Reply | tuple[dict[str, Any], _Run]:
        """The request's body and what the model generated, or the server's refusal."""
        body = self._record(request)
        if isinstance(body, Reply):
            return body
        refused = self._too_long(body)
        return refused if refused is not None else (body, self._run(body))

    def completions(self, request: RecordedRequest) -> Reply:
        accepted = self._accept(request)
        if isinstance(accepted, Reply):
            return accepted
        body, (pieces, finish, prompt_len, n) = accepted
        head = {"created": 1, "model": self.model_id, "object": "text_completion", "id": "cmpl-sim"}
        steps = [
            event({"choices": [{"index": 0, "text": t, "logprobs": None, "finish_reason": None}], **head})
            for t, _ in pieces
        ]
        usage = {"completion_tokens": n, "prompt_tokens": prompt_len, "total_tokens": prompt_len + n}
        reused = self._reuse(_prompt_tokens(body.get("prompt", "")))
        timings = {"cache_n": reused}  # and in usage, as research/llama-server.md's transcript shows
        usage["prompt_tokens_details"] = {"cached_tokens": reused}  # type: ignore[assignment]
        if not body.get("stream"):  # stream defaults to false (server-task.cpp params_from_json_cmpl)
            text = "".join(t for t, _ in pieces)
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
            return Reply.json({"choices": [choice], **head, "usage": usage}, headers=self._headers())
        final = {"index": 0, "text": "", "logprobs": None, "finish_reason": finish}
        steps.append(event({"choices": [final], **head, "usage": usage, "timings": timings}))
        return Reply.sse([*steps, DONE], headers=self._headers())

    def native(self, request: RecordedRequest) -> Reply:
        accepted = self._accept(request)
        if isinstance(accepted, Reply):
            return accepted
        body, (pieces, finish, prompt_len, n) = accepted
        tokens = bool(body.get("return_tokens"))
        steps = [event({"index": 0, "content": t, "tokens": [i] if tokens else [], "stop": False})
                 for t, i in pieces]  # fmt: skip
        stop_type = "limit" if finish == "length" else "eos"
        steps.append(event({"index": 0, "content": "", "stop": True, "stop_type": stop_type,
                            "tokens_predicted": n, "tokens_evaluated": prompt_len}))  # fmt: skip
        return Reply.sse(steps, headers=self._headers())


# ---------------------------------------------------------------------------------------- Ollama


_O = "ollama fb30760"


@dataclass
class Ollama(SimulatedServer):
    """Ollama ``/api/generate`` with ``raw: true``: control tokens decoded, end tokens never sent."""

    version: str = "0.29.0"
    default_num_ctx: int = 4096
    model_id: str = "gpt-oss:20b"
    truncated: list[int] = field(default_factory=list)
    """Prompt lengths Ollama cut silently (a prompt over num_ctx without ``truncate: false``)."""
    DEFAULTS: ClassVar[Mapping[str, Default]] = {
        d.name: d
        for d in (
            Default(
                "num_predict",
                "10 x num_ctx",
                f"{_O} api/types.go:1099; llm/llama_server.go:79,106-118 (-1 becomes 10 x num_ctx, "
                "with context shift on: server/sched.go:129-147)",
            ),
            Default(
                "num_ctx",
                4096,
                f"{_O} server/routes.go:129-147,2042-2057 (4096 below 23 GiB of VRAM; OLLAMA_CONTEXT_LENGTH)",
            ),
            Default(
                "truncate",
                True,
                f"{_O} llm/llama_server.go:279-321 (a prompt over num_ctx keeps its first 4 tokens and about "
                "half of the rest)",
            ),
            Default(
                "eos_sent", False, f"{_O} llm/llama_server.go:1417-1421 (no preserved tokens in raw mode)"
            ),
            Default("error_shape", "string", f"{_O} server/routes.go:247-304 ({{'error': '<string>'}})"),
            Default("version_path", "/api/version", f"{_O} server/routes.go:1879-1880"),
        )
    }

    def install(self, server: ScriptedServer) -> None:
        server.respond("/api/generate", self.generate)
        server.respond("/api/version", lambda _r: Reply.json({"version": self.version}), method="GET")
        tags = {"models": [{"name": self.model_id, "model": self.model_id}]}
        server.respond("/api/tags", lambda _r: Reply.json(tags), method="GET")

    def generate(self, request: RecordedRequest) -> Reply:
        body = self._record(request)
        if isinstance(body, Reply):
            return body
        if body.get("model") not in (self.model_id, None):
            return Reply.json({"error": f"model '{body.get('model')}' not found"}, 404)
        options = body.get("options") or {}
        num_ctx = options.get("num_ctx") or self.default_num_ctx
        prompt_len = len(_prompt_tokens(body.get("prompt", "")))
        if prompt_len >= num_ctx and body.get("truncate", True) is not False:
            self.truncated.append(prompt_len)
            prompt_len = 4 + (prompt_len - 4) // 2
        num_predict = options.get("num_predict")
        if not isinstance(num_predict, int) or num_predict < 0:
            num_predict = 10 * num_ctx  # context shift lets it run past the context
        decoder = _Utf8()
        head = {"model": self.model_id, "created_at": "2026-01-01T00:00:00Z"}
        steps: list[bytes] = []
        n = 0
        reason = "length"
        for token in self.model.generate():
            if n >= num_predict:
                break
            n += 1
            if token in EOG_IDS:  # the end token stops generation and is not sent
                reason = "stop"
                break
            text = _token_text(token, decoder, render=True)
            steps.append(json.dumps({**head, "response": text, "done": False}).encode() + b"\n")
        final = {**head, "response": "", "done": True, "done_reason": reason,
                 "prompt_eval_count": prompt_len, "eval_count": n}  # fmt: skip
        steps.append(json.dumps(final).encode() + b"\n")
        return Reply.ndjson(steps)


SIMULATORS: Mapping[str, Callable[..., SimulatedServer]] = {
    "vllm": VLLM,
    "sglang": SGLang,
    "llamacpp": LlamaServer,
    "ollama": Ollama,
}


def simulate(server: ScriptedServer, kind: str, outputs: Sequence[list[int]], **kw: Any) -> SimulatedServer:
    """Install a simulated server of ``kind`` generating ``outputs`` in turn; returns it."""
    sim = SIMULATORS[kind](ScriptedModel([list(o) for o in outputs]), **kw)
    sim.install(server)
    return sim
