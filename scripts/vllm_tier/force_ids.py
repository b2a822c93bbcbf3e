"""A vLLM (V1) logits processor that makes a random-weight model emit exact token ids, for the vLLM tier.

Loaded by the tier's server with ``--logits-processors force_ids:ForceIds`` and this directory on
``PYTHONPATH`` (it runs inside vLLM's engine process, so it imports vLLM and torch, never gptoss).
At each step of a forced request every logit but the next forced id's is set to -inf, so any sampler
setting picks that id: the completion is exactly the given ids, real special tokens (``<|channel|>``
200005, ``<|message|>`` 200008, ``<|call|>`` 200012, ``<|return|>`` 200002 ...) included, and vLLM
detokenizes, streams, counts and stops on them as it would for a trained gpt-oss.

Which ids, per request:

* ``vllm_xargs: {"force_ids": [200005, 17196, ...]}`` in the request body (vLLM hands ``vllm_xargs``
  to ``SamplingParams.extra_args``). A string works too: ``"200005,17196"`` or ``"[200005, 17196]"``.
  A malformed value is refused with HTTP 400 (``validate_params``).
* ``vllm_xargs: {"force_replies": "[{\"prompt_suffix\": [ids], \"ids\": [ids]}, ...]"}`` (a JSON
  string: vLLM takes no nested lists in ``vllm_xargs``): the ids of the entry whose ``prompt_suffix``
  the prompt ends with (the longest wins). A client that sends the same options on every request
  (gptoss does, through ``-o``) then gets a different completion at each step of a tool loop.
* otherwise, if the server was started with ``GPTOSS_VLLM_REPLIES=FILE`` (a JSON list in the same
  form): the entry matching the prompt's end. The tier lists the prompts of ``gptoss doctor``'s
  probes there, so the random model answers them as a trained gpt-oss would.
* otherwise the request is left alone.

After the forced ids run out: if the last one is one of the request's stop ids (``<|return|>``,
``<|call|>`` ... from the request or generation_config.json), it is forced again (vLLM normally stops
on it first); if not, the model samples freely again and the request's own limit ends it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import torch
from vllm import SamplingParams
from vllm.v1.sample.logits_processor import AdapterLogitsProcessor

ARG = "force_ids"
REPLIES_ARG = "force_replies"
REPLIES_ENV = "GPTOSS_VLLM_REPLIES"
Replies = list[tuple[tuple[int, ...], list[int]]]


def parse_ids(value: Any) -> list[int]:
    """``force_ids`` as a list of ints (a list, a JSON list in a string, or a comma list)."""
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else [p for p in text.split(",") if p.strip()]
    if not isinstance(value, list) or not value:
        raise ValueError(f"vllm_xargs.{ARG} must be a non-empty list of token ids")
    ids: list[int] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float | str):
            raise ValueError(f"vllm_xargs.{ARG}: {item!r} is not a token id")
        token = int(item)
        if token < 0 or float(item) != token:
            raise ValueError(f"vllm_xargs.{ARG}: {item!r} is not a token id")
        ids.append(token)
    return ids


def parse_replies(entries: Any) -> Replies:
    """(prompt suffix, ids) pairs from ``[{"prompt_suffix": [...], "ids": [...]}]``, longest suffix first."""
    if isinstance(entries, str):
        entries = json.loads(entries)
    if not isinstance(entries, list):
        raise ValueError(f"vllm_xargs.{REPLIES_ARG} must be a JSON list of {{prompt_suffix, ids}}")
    replies: Replies = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("prompt_suffix"), list):
            raise ValueError(f"vllm_xargs.{REPLIES_ARG}: {entry!r} is not {{prompt_suffix, ids}}")
        replies.append((tuple(parse_ids(entry["prompt_suffix"])), parse_ids(entry.get("ids"))))
    return sorted(replies, key=lambda r: -len(r[0]))


def load_replies() -> Replies:
    """The server's replies from ``$GPTOSS_VLLM_REPLIES`` (none when it is unset)."""
    path = os.environ.get(REPLIES_ENV)
    if not path:
        return []
    with open(path, encoding="utf-8") as f:
        return parse_replies(json.load(f))


def match(replies: Replies, prompt_ids: list[int]) -> list[int] | None:
    """The ids of the reply whose suffix ends ``prompt_ids`` (replies are longest first)."""
    for suffix, ids in replies:
        if len(prompt_ids) >= len(suffix) and tuple(prompt_ids[len(prompt_ids) - len(suffix) :]) == suffix:
            return ids
    return None


class ForceIds(AdapterLogitsProcessor):
    """Forces the ids of ``vllm_xargs.force_ids`` (or of a server reply) one per step."""

    def __init__(self, vllm_config: Any, device: torch.device, is_pin_memory: bool) -> None:
        super().__init__(vllm_config, device, is_pin_memory)
        self.replies = load_replies()

    @classmethod
    def validate_params(cls, sampling_params: SamplingParams) -> None:
        extra = sampling_params.extra_args or {}
        if ARG in extra:
            parse_ids(extra[ARG])
        if REPLIES_ARG in extra:
            parse_replies(extra[REPLIES_ARG])

    def is_argmax_invariant(self) -> bool:
        return False  # it decides the argmax

    def new_req_logits_processor(
        self, params: SamplingParams
    ) -> Callable[[list[int], list[int], torch.Tensor], torch.Tensor] | None:
        extra = params.extra_args or {}
        fixed = parse_ids(extra[ARG]) if ARG in extra else None
        replies = (
            [*parse_replies(extra[REPLIES_ARG]), *self.replies] if REPLIES_ARG in extra else self.replies
        )
        if fixed is None and not replies:
            return None
        stops = set(params.all_stop_token_ids or ())
        chosen: list[list[int] | None] = [fixed]
        decided = [fixed is not None]

        def force(prompt_ids: list[int], output_ids: list[int], logits: torch.Tensor) -> torch.Tensor:
            if not decided[0]:
                decided[0] = True
                chosen[0] = match(replies, prompt_ids)
            ids = chosen[0]
            if ids is None:
                return logits
            step = len(output_ids)
            if step < len(ids):
                token = ids[step]
            elif ids[-1] in stops:
                token = ids[-1]
            else:
                return logits
            if token >= logits.shape[-1]:
                return logits  # out of the model's vocabulary: nothing sensible to force
            logits.fill_(float("-inf"))
            logits[token] = 0.0
            return logits

        return force
