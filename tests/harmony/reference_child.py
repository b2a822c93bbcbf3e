"""Serve a reference Harmony library over JSON lines on stdin/stdout (run by a reference's own venv).

oss-harmony and openai-harmony install the same module, ``openai_harmony``, so one of them is
asked through this child process, started with the Python of a venv holding it. Standard library
and ``openai_harmony`` only: this file never imports gptoss.

One request per line, one answer per line, in order::

    {"op": "render", "kind": "completion"|"conversation"|"training", "conversation_json": "...",
     "next_role": "assistant", "drop": true}         -> {"outcome": ["ok", [[ids...], "text"]]}
    {"op": "parse", "tokens": [...], "role": "assistant"|null}   -> {"outcome": ["ok", [messages]]}
    {"op": "steps", "tokens": [...], "role": ...}               -> {"steps": [[...], ...]}
    {"op": "builtins"}                                           -> {"browser": {...}, "python": {...}}
    {"op": "version"}                                            -> {"version": "0.0.11", "name": ...}

An outcome is ``["ok", value]``, ``["error", message]`` (the library refused) or
``["unreadable", null]`` (serde could not read the JSON), as the differential tests compare them.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
from typing import Any

import openai_harmony as oh

ENC = oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS)
RENDER = {
    "completion": ENC._inner.render_conversation_for_completion,
    "conversation": ENC._inner.render_conversation,
    "training": ENC._inner.render_conversation_for_training,
}


def _normalise(message: dict[str, Any]) -> dict[str, Any]:
    """A message of the core's JSON in ``Message.to_dict()`` form."""
    content = message["content"]
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    out: dict[str, Any] = {"role": message["role"], "name": message.get("name"), "content": content}
    for key in ("channel", "recipient", "content_type"):
        if message.get(key) is not None:
            out[key] = message[key]
    return out


def render(req: dict[str, Any]) -> list[Any]:
    kwargs: dict[str, Any] = {
        "conversation_json": req["conversation_json"],
        "config": {"auto_drop_analysis": req["drop"]},
    }
    if req["kind"] == "completion":
        kwargs["next_turn_role"] = req["next_role"]
    try:
        tokens = RENDER[req["kind"]](**kwargs)
    except ValueError:
        return ["unreadable", None]
    except RuntimeError as exc:
        return ["error", str(exc)]
    return ["ok", [tokens, ENC.decode(tokens)]]


def parse(req: dict[str, Any]) -> list[Any]:
    try:
        raw = ENC._inner.parse_messages_from_completion_tokens(req["tokens"], req["role"], True)
    except RuntimeError as exc:
        return ["error", str(exc)]
    return ["ok", [_normalise(m) for m in json.loads(raw)]]


def steps(req: dict[str, Any]) -> list[Any]:
    role = req["role"]
    parser = oh.StreamableParser(ENC, oh.Role(role) if role else None, strict=True)
    out: list[Any] = []
    for token in req["tokens"]:
        try:
            parser.process(token)
        except RuntimeError as exc:
            out.append(["error", str(exc)])
            return out
        current_role = parser.current_role
        out.append(
            [
                parser.state.value,
                current_role.value if current_role is not None else None,
                parser.current_channel,
                parser.current_recipient,
                parser.current_content_type,
                parser.last_content_delta,
                parser.current_content,
            ]
        )
    try:
        parser.process_eos()
    except RuntimeError as exc:
        out.append(["error", str(exc)])
    else:
        out.append(["done", [_normalise(m) for m in json.loads(parser._inner.messages)]])
    return out


def answer(req: dict[str, Any]) -> dict[str, Any]:
    op = req["op"]
    if op == "render":
        return {"outcome": render(req)}
    if op == "parse":
        return {"outcome": parse(req)}
    if op == "steps":
        return {"steps": steps(req)}
    if op == "builtins":
        return {
            "browser": oh.ToolNamespaceConfig.browser().model_dump(),
            "python": oh.ToolNamespaceConfig.python().model_dump(),
        }
    if op == "version":
        for name in ("oss-harmony", "openai-harmony"):
            try:
                return {"name": name, "version": importlib.metadata.version(name)}
            except importlib.metadata.PackageNotFoundError:
                continue
        return {"name": None, "version": None}
    return {"fatal": f"unknown op {op!r}"}


def main() -> None:
    for line in sys.stdin:
        try:
            reply = answer(json.loads(line))
        except Exception as exc:  # a bug in the request: reported to the parent, which fails the test
            reply = {"fatal": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
