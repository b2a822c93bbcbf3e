"""Server profiles: what each GPT-OSS server needs in a raw-completion request.

Every profile follows ``research/servers.md`` section 8: vLLM and SGLang are told to keep special tokens
(``skip_special_tokens: false``) and to stop on ``<|return|>``/``<|call|>``/``<|endoftext|>`` by id;
llama.cpp is sent ``preserved_tokens`` so control tokens, terminators included, appear in the text;
Ollama is used only through ``/api/generate`` with ``raw: true``. ``<|end|>`` is never a stop
(a Harmony completion holds several messages) and ``ignore_eos`` is never sent.

Request bodies are built in layers: profile defaults < per-profile config options < per-call
``-o KEY VALUE`` options. Dicts merge key by key; a JSON ``null`` removes a field.
Detection by probing lives in :mod:`gptoss_cli.servers.detect`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from gptoss_cli import errors
from gptoss_cli.harmony import tokens as T
from gptoss_cli.servers import hints
from gptoss_cli.servers.hints import DoctorHints, ServerNote
from gptoss_cli.servers.kinds import GENERIC_KIND, SERVER_KINDS, ServerKind
from gptoss_cli.servers.readers import (
    ContextSource,
    ModelSource,
    positive,
    read_llamacpp_props,
    read_lmstudio_loaded,
    read_lmstudio_models,
    read_max_model_len,
    read_ollama_tags,
)
from gptoss_cli.transport.client import CompletionRequest, EndpointKind, Finish, RetryPolicy, Timeouts

# What the Harmony layer says a server must stop on and keep in its output.
STOP_TOKEN_IDS: tuple[int, ...] = T.COMPLETION_STOP_TOKENS
HARMONY_CONTROL_TOKENS: tuple[str, ...] = T.CONTROL_TOKEN_TEXTS
_SAMPLING = {"temperature": 1.0, "top_p": 1.0}

# Top-level fields of Ollama's GenerateRequest; every other option goes into "options".
OLLAMA_TOP_LEVEL = frozenset(
    {"model", "prompt", "suffix", "system", "template", "context", "stream", "raw", "format", "keep_alive"}
    | {"images", "options", "think", "truncate", "shift", "logprobs", "top_logprobs"}
)
_OLLAMA_ALIASES = {"max_tokens": "num_predict"}
# llama.cpp's native /completion reads n_predict (it takes max_tokens too, as a fallback).
_ENDPOINT_ALIASES: Mapping[str, Mapping[str, str]] = {"llamacpp": {"max_tokens": "n_predict"}}


@dataclass(frozen=True)
class ServerProfile:
    """How to ask one kind of server for a raw Harmony completion."""

    kind: ServerKind
    title: str
    endpoint: EndpointKind
    token_id_prompts: bool
    """Whether ``prompt`` may be a list of token ids."""
    stop_token_ids: bool
    """Whether the server honours ``stop_token_ids``."""
    token_ids_out: bool
    """Whether the stream carries token ids (``return_token_ids`` and the like)."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    endpoint_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    refused_endpoints: Mapping[str, str] = field(default_factory=dict)
    """Endpoint kinds that cannot serve raw Harmony on this server, with the reason."""
    refused_fix: str | None = None
    """What to do instead of a refused endpoint."""
    owned_by: str | None = None
    """The ``owned_by`` of its ``/v1/models`` entries, which tells this kind (detection)."""
    server_header: str | None = None
    """Text in its ``Server`` response header (lower case) that tells this kind (detection)."""
    model_list: Literal["required", "optional"] | None = None
    """Whether gptoss reads ``GET /v1/models`` (to name the model and read the context): an error
    answer is an error (``required``), 404/405 means no list (``optional``), or it is not read."""
    other_models: ModelSource | None = None
    """Where the server lists its models when ``/v1/models`` does not (for ``doctor``)."""
    context: tuple[ContextSource, ...] = ()
    """Where the server reports its context length, tried in order (none: it does not, or the
    request itself sets it)."""
    context_option: tuple[str, ...] | None = None
    """The request field that sets the context (Ollama's ``options.num_ctx``), read from the body."""
    default_max_tokens: int | None = None
    """What the server generates when a request sets no limit: a number, or None for "until the
    context is full" (``docs/server-defaults.md`` cites each)."""
    context_fix: str | None = None
    """How to give this server a longer context (for cut-off messages and ``doctor``)."""
    eos_is_return: bool = False
    """Whether ``finish_reason: stop`` with no ``stop_reason`` means the primary EOS, ``<|return|>``."""
    notes: tuple[ServerNote, ...] = ()
    """Known limits for raw Harmony (see :func:`gptoss_cli.servers.detect.server_notes`)."""
    doctor: DoctorHints = hints.GENERIC
    """What ``doctor`` suggests for each problem, and how it probes this kind."""

    @property
    def generic(self) -> bool:
        """Whether this is the profile of a server detection could not name."""
        return self.kind == GENERIC_KIND

    def context_from_body(self, body: Mapping[str, Any]) -> int | None:
        """The context length the request itself sets (Ollama), or None."""
        value: Any = body
        for key in self.context_option or ():
            value = value.get(key) if isinstance(value, Mapping) else None
        return positive(value) if self.context_option else None

    def with_endpoint(self, endpoint: EndpointKind) -> ServerProfile:
        """The same profile on another endpoint kind; raises ServerError where that cannot work."""
        if endpoint in self.refused_endpoints:
            raise errors.ServerError(
                f"{self.title}: {self.refused_endpoints[endpoint]}", hint=self.refused_fix
            )
        return replace(self, endpoint=endpoint)

    def build_body(
        self,
        config_options: Mapping[str, Any] | None = None,
        call_options: Mapping[str, Any] | None = None,
        *,
        max_tokens: int | None = None,
    ) -> dict[str, Any]:
        """The request fields: defaults < config options < the limit < call options, checked."""
        layers: list[Mapping[str, Any]] = [self.defaults, self.endpoint_defaults.get(self.endpoint, {})]
        limit = {"max_tokens": max_tokens} if max_tokens is not None else None
        for options in (config_options, limit, call_options):
            if options:
                layers.append(self._shape(options))
        body = merge_body(*layers)
        check_body(body)
        return body

    def _shape(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Put user options where this server reads them (Ollama sampling options go in ``options``)."""
        shaped = dict(options)
        if isinstance(shaped.get("stop"), str):
            shaped["stop"] = [shaped["stop"]]  # llama.cpp reads ``stop`` only as an array
        aliases = _ENDPOINT_ALIASES.get(self.endpoint, {})
        for key, name in aliases.items():
            if key in shaped and name not in shaped:
                shaped[name] = shaped.pop(key)
        if self.endpoint != "ollama":
            return shaped
        out: dict[str, Any] = {}
        nested: dict[str, Any] = {}
        for key, value in shaped.items():
            name = _OLLAMA_ALIASES.get(key, key)
            (out if name in OLLAMA_TOP_LEVEL else nested)[name] = value
        if nested:
            out["options"] = merge_body(out.get("options") or {}, nested)
        return out

    def request(
        self,
        base_url: str,
        prompt: str | Sequence[int],
        *,
        model: str | None = None,
        api_key: str | None = None,
        config_options: Mapping[str, Any] | None = None,
        call_options: Mapping[str, Any] | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        max_tokens: int | None = None,
    ) -> CompletionRequest:
        """A ready-to-send request for this server; ``max_tokens`` goes where the server reads it."""
        if not isinstance(prompt, str) and not self.token_id_prompts:
            raise errors.UsageError(f"{self.title} does not take token-id prompts; send text")
        return CompletionRequest(
            base_url=base_url,
            prompt=prompt,
            model=model,
            endpoint=self.endpoint,
            body=self.build_body(config_options, call_options, max_tokens=max_tokens),
            api_key=api_key,
            timeouts=timeouts or Timeouts(),
            retry=retry or RetryPolicy(),
        )


PROFILES: Mapping[str, ServerProfile] = {
    "vllm": ServerProfile(
        kind="vllm",
        title="vLLM",
        endpoint="openai",
        token_id_prompts=True,
        stop_token_ids=True,
        token_ids_out=True,
        defaults={
            "skip_special_tokens": False,
            "spaces_between_special_tokens": False,
            "add_special_tokens": False,
            "include_stop_str_in_output": True,
            "stop_token_ids": list(STOP_TOKEN_IDS),
            "return_token_ids": True,
            "stream_options": {"include_usage": True},
            **_SAMPLING,
        },
        owned_by="vllm",
        model_list="required",
        context=(ContextSource("/v1/models", read_max_model_len),),
        default_max_tokens=16,
        context_fix="start vLLM with a larger --max-model-len",
        eos_is_return=True,
        doctor=hints.token_server("vllm", "vLLM"),
    ),
    "sglang": ServerProfile(
        kind="sglang",
        title="SGLang",
        endpoint="openai",
        token_id_prompts=True,
        stop_token_ids=True,
        token_ids_out=True,
        defaults={
            "skip_special_tokens": False,
            "no_stop_trim": True,
            "stop_token_ids": list(STOP_TOKEN_IDS),
            "return_token_ids": True,
            "stream_options": {"include_usage": True},
            **_SAMPLING,
        },
        owned_by="sglang",
        model_list="required",
        context=(ContextSource("/v1/models", read_max_model_len),),
        default_max_tokens=16,
        context_fix="start SGLang with a larger --context-length",
        doctor=hints.token_server("sglang", "SGLang"),
    ),
    "llamacpp": ServerProfile(
        kind="llamacpp",
        title="llama.cpp",
        endpoint="openai",
        token_id_prompts=True,
        stop_token_ids=False,
        token_ids_out=False,
        defaults={
            "preserved_tokens": list(HARMONY_CONTROL_TOKENS),
            **_SAMPLING,
            "top_k": 0,
            "min_p": 0.0,
        },
        endpoint_defaults={"llamacpp": {"return_tokens": True}},
        owned_by="llamacpp",
        server_header="llama.cpp",
        context=(ContextSource("/props", read_llamacpp_props),),
        default_max_tokens=None,
        context_fix="start llama-server with a larger -c (context size per slot: -c divided by -np)",
        doctor=hints.LLAMACPP,
    ),
    "ollama": ServerProfile(
        kind="ollama",
        title="Ollama",
        endpoint="ollama",
        token_id_prompts=False,
        stop_token_ids=False,
        token_ids_out=False,
        # truncate: false, or a prompt longer than num_ctx is cut silently (docs/server-defaults.md)
        defaults={"options": {"num_ctx": 16384, **_SAMPLING, "top_k": 0, "min_p": 0.0}, "truncate": False},
        refused_endpoints={
            "openai": "/v1/completions wraps the prompt in Ollama's own template and drops the analysis "
            "channel, so it cannot serve raw Harmony",
            "llamacpp": "Ollama has no /completion endpoint",
        },
        refused_fix="use Ollama's /api/generate (the ollama profile does) or another server",
        other_models=ModelSource("/api/tags", read_ollama_tags),
        context_option=("options", "num_ctx"),
        default_max_tokens=None,
        context_fix="raise num_ctx (-o num_ctx N, or num_ctx in the profile's [options])",
        notes=(
            ServerNote(
                "Ollama {version} runs llama-server without preserved tokens in raw mode: Harmony control "
                "tokens are dropped from the output; use Ollama < 0.30 or llama-server directly",
                since=(0, 30),
                fix="use Ollama < 0.30 or llama-server",
            ),
        ),
        doctor=hints.OLLAMA,
    ),
    "lmstudio": ServerProfile(
        kind="lmstudio",
        title="LM Studio",
        endpoint="openai",
        token_id_prompts=False,
        stop_token_ids=False,
        token_ids_out=False,
        defaults=dict(_SAMPLING),
        model_list="optional",
        context=(
            ContextSource("/api/v1/models", read_lmstudio_loaded),
            ContextSource("/api/v0/models", read_lmstudio_models),
        ),
        default_max_tokens=None,
        context_fix="load the model in LM Studio with a longer context length",
        notes=(
            ServerNote("LM Studio's handling of Harmony special tokens is unverified; run `gptoss doctor`"),
        ),
    ),
    "openai": ServerProfile(
        kind="openai",
        title="OpenAI-compatible server",
        endpoint="openai",
        token_id_prompts=False,
        stop_token_ids=False,
        token_ids_out=False,
        defaults=dict(_SAMPLING),
        model_list="optional",
        context=(ContextSource("/v1/models", read_max_model_len),),
        default_max_tokens=16,
        notes=(
            ServerNote(
                "unknown OpenAI-compatible server: hosted servers are often chat-only for gpt-oss; "
                "run `gptoss doctor` to check that raw completions keep the Harmony markers"
            ),
        ),
    ),
}


def get_profile(kind: str, *, endpoint: EndpointKind | None = None) -> ServerProfile:
    """The profile for a server kind (optionally on another endpoint); UsageError for an unknown kind."""
    profile = PROFILES.get(kind)
    if profile is None:
        raise errors.UsageError(
            f"unknown server kind {kind!r}", hint=f"use one of: {', '.join(SERVER_KINDS)}"
        )
    return profile if endpoint is None or endpoint == profile.endpoint else profile.with_endpoint(endpoint)


# --------------------------------------------------------------------------------------------- options


def parse_option_value(value: str) -> Any:
    """``-o KEY VALUE``: VALUE as JSON when it parses, else the string itself."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def parse_options(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn ``-o KEY VALUE`` pairs into request fields (later pairs win)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if not key:
            raise errors.UsageError("-o needs a non-empty KEY")
        out[key] = parse_option_value(value)
    return out


def merge_body(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Merge layers left to right: dicts merge recursively, other values replace, ``None`` removes."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if value is None:
                out.pop(key, None)
            elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
                out[key] = merge_body(out[key], value)
            elif isinstance(value, Mapping):
                out[key] = merge_body(value)
            else:
                out[key] = list(value) if isinstance(value, list) else value
    return out


_END = T.SPECIAL_TEXT[T.END]


def check_body(body: Mapping[str, Any]) -> None:
    """Refuse fields that break Harmony: ``<|end|>`` as a stop, ``ignore_eos``."""
    options = body.get("options")
    for fields in (body, options) if isinstance(options, Mapping) else (body,):
        if fields.get("ignore_eos") is True:
            raise errors.UsageError(
                "ignore_eos would run past <|return|>/<|call|> and corrupt the Harmony output",
                hint="drop -o ignore_eos",
            )
        stop_ids = fields.get("stop_token_ids")
        if isinstance(stop_ids, list) and T.END in stop_ids:
            raise errors.UsageError(
                f"stop_token_ids must not contain {T.END} ({_END}): a completion holds several messages",
                hint=f"use {list(STOP_TOKEN_IDS)}",
            )
        stop = fields.get("stop")
        if stop == _END or (isinstance(stop, list) and _END in stop):
            raise errors.UsageError(
                f"stop must not contain {_END}: a completion holds several messages", hint="drop it from stop"
            )


# ----------------------------------------------------------------------------------------- finish hint

FinishHint = Literal["call", "return", "length", "unknown"]
_TOKEN_HINTS: Mapping[int | str, FinishHint] = {
    T.CALL: "call",
    T.RETURN: "return",
    T.SPECIAL_TEXT[T.CALL]: "call",
    T.SPECIAL_TEXT[T.RETURN]: "return",
}


def finish_hint(finish: Finish, kind: str | None = None, *, text_tail: str = "") -> FinishHint:
    """Whether generation ended on ``<|call|>`` or ``<|return|>``, from the server's stop hints.

    Only a hint: the caller decides "tool call vs answer" from the last header's recipient first.
    Sources, in order: ``finish_reason: length``; vLLM ``stop_reason`` / SGLang ``matched_stop`` /
    llama.cpp ``stopping_word``; the last token id; a terminator left in the text; and on vLLM a
    ``stop`` with no ``stop_reason``, which means the primary EOS, ``<|return|>`` (``eos_is_return``).
    """
    if finish.reason == "length":
        return "length"
    for value in (finish.stop_reason, finish.last_token_id):
        if value is not None and not isinstance(value, bool):
            hint = _TOKEN_HINTS.get(value)
            if hint is not None:
                return hint
    tail = text_tail.rstrip()
    for token in (T.CALL, T.RETURN):
        if tail.endswith(T.SPECIAL_TEXT[token]):
            return _TOKEN_HINTS[token]
    profile = PROFILES.get(kind) if kind is not None else None
    eos_is_return = profile is not None and profile.eos_is_return
    if eos_is_return and finish.reason == "stop" and finish.stop_reason is None:
        return "return"
    return "unknown"
