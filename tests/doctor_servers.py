"""Scripted servers for ``gptoss doctor``: each function scripts one server persona on a ScriptedServer.

Doctor's requests, in order (see ``gptoss_cli/doctor/run.py``): ``GET /v1/models`` twice (reachability,
then detection), the detection probes, then POSTs to the profile's endpoint: the plain probe (again as
text when ids are refused), then the final and call probes. On llama.cpp those are forced with a
grammar, and a last forced final probe goes without ``preserved_tokens``. The wire formats follow
``research/llama-server.md`` and ``research/servers.md`` as ``tests/scripted_server.py`` does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gptoss_cli.doctor.probes import Forced, forced, plain_prompt
from gptoss_cli.harmony.tokens import CALL, RETURN

from .scripted_server import DONE, HARMONY_IDS, HARMONY_PIECES, Reply, ScriptedServer, Step, event

LLAMA_MODEL = "models/tiny-gpt-oss-f16.gguf"
VLLM_MODEL = "openai/gpt-oss-20b"
PLAIN = plain_prompt()
FORCED_RETURN: Forced = forced(RETURN)
FORCED_CALL: Forced = forced(CALL)
RANDOM = [" Sudden", "ly", ":[[", " sch", "lech", " jong", "ens", " arroz"] * 2


def models_list(*names: str, owned_by: str = "vllm", max_model_len: int | None = 8192) -> dict[str, Any]:
    """``GET /v1/models``; vLLM and SGLang list each model's ``max_model_len`` (docs/server-defaults.md)."""
    extra = {"max_model_len": max_model_len} if owned_by in ("vllm", "sglang") and max_model_len else {}
    return {
        "object": "list",
        "data": [{"id": n, "object": "model", "owned_by": owned_by, **extra} for n in names],
    }


def llama_events(texts: Sequence[str], finish: str = "stop", prompt_tokens: int = 74) -> Reply:
    """llama-server ``/v1/completions``: one event per token, a finish event with usage, ``[DONE]``."""
    head = {
        "created": 1,
        "model": LLAMA_MODEL,
        "system_fingerprint": "b0-unknown",
        "object": "text_completion",
    }
    steps: list[Step] = [
        event({"choices": [{"index": 0, "text": t, "logprobs": None, "finish_reason": None}], **head})
        for t in texts
    ]
    usage = {"completion_tokens": len(texts), "prompt_tokens": prompt_tokens, "total_tokens": 0}
    final = {"index": 0, "text": "", "logprobs": None, "finish_reason": finish}
    steps.append(event({"choices": [final], **head, "usage": usage, "timings": {}}))
    return Reply.sse([*steps, DONE])


def vllm_events(
    texts: Sequence[str],
    ids: Sequence[int] | None = None,
    *,
    finish: str = "stop",
    stop_reason: int | str | None = None,
    prompt_tokens: int = 74,
) -> Reply:
    """vLLM ``/v1/completions`` (return_token_ids, include_usage): the last piece carries the finish."""
    head = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": VLLM_MODEL}
    steps: list[Step] = []
    for i, text in enumerate(texts):
        choice: dict[str, Any] = {"index": 0, "text": text, "logprobs": None, "finish_reason": None}
        choice["stop_reason"] = None
        if ids is not None:
            choice["token_ids"] = [ids[i]]
        if i == len(texts) - 1:
            choice.update(finish_reason=finish, stop_reason=stop_reason)
        steps.append(event({**head, "choices": [choice]}))
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(texts), "total_tokens": 0}
    steps.append(event({**head, "choices": [], "usage": usage}))
    return Reply.sse([*steps, DONE])


def ollama_lines(texts: Sequence[str], prompt_tokens: int, done_reason: str = "stop") -> Reply:
    """Ollama ``/api/generate`` raw NDJSON (the EOS token is never sent)."""
    head = {"model": "gpt-oss:20b", "created_at": "2025-08-05T00:00:00Z"}
    steps: list[Step] = [json.dumps({**head, "response": t, "done": False}).encode() + b"\n" for t in texts]
    final = {**head, "response": "", "done": True, "done_reason": done_reason,
             "prompt_eval_count": prompt_tokens, "eval_count": len(texts)}  # fmt: skip
    steps.append(json.dumps(final).encode() + b"\n")
    return Reply.ndjson(steps)


# -------------------------------------------------------------------------------------------- llama.cpp


def llama_server(server: ScriptedServer, *completions: Reply, model: str = LLAMA_MODEL) -> None:
    """llama-server detection (``Server: llama.cpp``, ``/props``) and the given completions."""
    answer = models_list(model, owned_by="llamacpp")
    header = {"Server": "llama.cpp"}
    server.script(
        "/v1/models", Reply.json(answer, headers=header), Reply.json(answer, headers=header), method="GET"
    )
    # /props: detection, then the context length (default_generation_settings.n_ctx, the slot's context)
    props = {"build_info": "b6500-1a2b3c", "default_generation_settings": {"n_ctx": 4096}}
    server.script("/props", Reply.json(props), Reply.json(props), method="GET")
    server.script("/v1/completions", *completions)


def llama_good(server: ScriptedServer) -> None:
    """llama-server with ``--special``: every control token is rendered, terminators included."""
    llama_server(
        server,
        llama_events(RANDOM, "length", len(PLAIN.ids)),
        llama_events([FORCED_RETURN.text, "<|return|>"]),
        llama_events([FORCED_CALL.text, "<|call|>"]),
        llama_events([FORCED_RETURN.text, "<|return|>"]),
    )


def llama_no_special(server: ScriptedServer) -> None:
    """llama-server with default flags: terminators only through the request's ``preserved_tokens``."""
    llama_server(
        server,
        llama_events(RANDOM, "length", len(PLAIN.ids)),
        llama_events([FORCED_RETURN.text, "<|return|>"]),
        llama_events([FORCED_CALL.text, "<|call|>"]),
        llama_events([FORCED_RETURN.text, ""]),
    )


def strip_markers(text: str) -> str:
    for marker in ("<|channel|>", "<|message|>", "<|constrain|>", "<|start|>", "<|end|>"):
        text = text.replace(marker, "")
    return text


def llama_stripped(server: ScriptedServer) -> None:
    """A llama-server build where control tokens are CONTROL and ``preserved_tokens`` is ignored:
    without ``--special`` every marker is dropped from the text (oobabooga#7374, llama.cpp#15731)."""
    llama_server(
        server,
        llama_events(RANDOM, "length", len(PLAIN.ids)),
        llama_events([strip_markers(FORCED_RETURN.text), ""]),
        llama_events([strip_markers(FORCED_CALL.text), ""]),
        llama_events([strip_markers(FORCED_RETURN.text), ""]),
    )


# ------------------------------------------------------------------------------------------------- vLLM


def vllm_detection(server: ScriptedServer, *models: str) -> None:
    answer = models_list(*(models or (VLLM_MODEL,)))
    server.script("/v1/models", Reply.json(answer), Reply.json(answer), method="GET")
    server.script("/version", Reply.json({"version": "0.10.1"}), method="GET")


def vllm_good(server: ScriptedServer) -> None:
    """vLLM given skip_special_tokens=false, include_stop_str_in_output and return_token_ids."""
    vllm_detection(server)
    server.script(
        "/v1/completions",
        vllm_events(HARMONY_PIECES, HARMONY_IDS, finish="length", prompt_tokens=len(PLAIN.ids)),
        vllm_events(["OK", "<|return|>"], [5175, RETURN]),
        vllm_events(["{}", "<|call|>"], [12083, CALL], stop_reason=CALL),
    )


STRIPPED_TEXT = strip_markers("".join(HARMONY_PIECES))


def vllm_skipping(server: ScriptedServer, *, text_prompt_tokens: int) -> None:
    """vLLM with its default skip_special_tokens=True (what a generic client gets): markers vanish."""
    vllm_detection(server)
    stripped = [p for p in HARMONY_PIECES if not p.startswith("<|")]
    server.script(
        "/v1/completions",
        vllm_events(stripped, finish="length", prompt_tokens=text_prompt_tokens),
        vllm_events(["OK"]),
        vllm_events(["{}"], stop_reason=CALL),
    )


# ----------------------------------------------------------------------------------------------- Ollama


def ollama_detection(server: ScriptedServer, version: str = "0.11.4") -> None:
    answer = models_list("gpt-oss:20b", owned_by="library")
    server.script("/v1/models", Reply.json(answer), Reply.json(answer), method="GET")
    server.script("/api/version", Reply.json({"version": version}), method="GET")
