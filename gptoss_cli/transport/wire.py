"""Decoders for each server's streamed completion body (stdlib only): bytes in, typed events out.

- :func:`decode_openai`: ``/v1/completions`` SSE (vLLM, SGLang, llama.cpp, LM Studio, hosted), ending
  in ``data: [DONE]``; a plain JSON body (a server that ignored ``stream``) is read as one chunk.
- :func:`decode_llamacpp`: llama.cpp's native ``/completion`` SSE, ending in ``"stop": true``.
- :func:`decode_ollama`: Ollama's ``/api/generate`` NDJSON, ending in ``"done": true``.

A stream that ends without its end marker raises :class:`~gptoss_cli.errors.StreamError` after every
event that did arrive has been yielded; an error event (``data: {"error": ...}`` or llama.cpp's
``error: {...}`` line) raises StreamError with the server's message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple

from gptoss_cli import errors
from gptoss_cli.bounds import EVENT_SIZE, JSON_DEPTH
from gptoss_cli.transport.sse import DONE, LineSplitter, SSEDecoder, SSEEvent

__all__ = [
    "Finish",
    "StreamEvent",
    "TextDelta",
    "Usage",
    "decode_llamacpp",
    "decode_ollama",
    "decode_openai",
    "error_message",
]


class TextDelta(NamedTuple):
    """A piece of completion text, with the token ids behind it when the server sends them.

    ``text`` may be empty when only ids arrived (an end-of-generation token the server does not render).
    An immutable NamedTuple rather than a frozen dataclass: one is made per token, at half the cost.
    """

    text: str
    token_ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the server reported them."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cached_tokens: int | None = None
    """Prompt tokens the server reused from its cache, where it says (vLLM/SGLang
    ``prompt_tokens_details.cached_tokens``, llama.cpp ``timings.cache_n``)."""


@dataclass(frozen=True, slots=True)
class Finish:
    """The end of generation: ``reason`` is ``"stop"``, ``"length"`` or the server's own word.

    ``stop_reason`` is the raw hint: vLLM ``stop_reason``, SGLang ``matched_stop`` (token id or string),
    llama.cpp ``stopping_word``. ``stop_type`` is llama.cpp's ``eos``/``word``/``limit`` or Ollama's
    ``done_reason``. ``last_token_id`` is the last token id seen in the stream, if any.
    """

    reason: str
    stop_reason: int | str | None = None
    stop_type: str | None = None
    last_token_id: int | None = None
    usage: Usage | None = None


StreamEvent = TextDelta | Usage | Finish


def error_message(data: Any) -> str | None:
    """The server's message in an error JSON: ``error.message``, ``error``, ``message`` or ``detail``."""
    if not isinstance(data, dict):
        return str(data)[:300] if data is not None else None
    err = data.get("error")
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        return str(err["message"])
    if isinstance(err, str):
        return err
    for key in ("message", "detail"):
        value = data.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and value:  # FastAPI validation errors
            return "; ".join(str(v.get("msg", v)) if isinstance(v, dict) else str(v) for v in value)
    return json.dumps(data)[:300]


def sse_events(chunks: Iterable[bytes], *, whole_json: bool = False, url: str = "") -> Iterator[SSEEvent]:
    """SSE events of a body; with ``whole_json`` the body is one JSON document, read as one event.

    Lazy, as a generator would be, but chained in C: no Python frame is resumed per event here.
    """
    where = url or "the stream"
    if whole_json:
        return _whole_json(chunks, where)
    decoder = SSEDecoder(where)
    return chain.from_iterable(chain(map(decoder.feed, chunks), _closing(decoder)))


def _closing(decoder: SSEDecoder) -> Iterator[list[SSEEvent]]:
    yield decoder.close()  # at the end of the body, not before


def _whole_json(chunks: Iterable[bytes], where: str) -> Iterator[SSEEvent]:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > EVENT_SIZE.value:
            raise EVENT_SIZE.error(where, "the JSON body")
    yield SSEEvent(body.decode("utf-8", "replace"), "json")


def _load(data: str, url: str, event: str = "message") -> dict[str, Any]:
    """Parse one event's JSON; raise StreamError for an error event or ``{"error": ...}``."""
    try:
        obj = json.loads(data)
    except RecursionError:
        raise JSON_DEPTH.error(url, "a chunk's JSON nesting") from None
    except ValueError as exc:
        if event == "error":
            raise errors.StreamError(f"{url} reported an error mid-stream: {data[:300]}", url=url) from exc
        raise errors.ProtocolError(f"{url} sent an event that is not JSON: {data[:200]!r}", url=url) from exc
    if not isinstance(obj, dict):
        raise errors.ProtocolError(f"{url} sent an event that is not a JSON object: {data[:200]!r}", url=url)
    if event == "error" or "error" in obj:
        raise errors.StreamError(f"{url} reported an error mid-stream: {error_message(obj)}", url=url)
    # No depth walk here (it cost more per token than the rest of decoding): the decoders read a few
    # named fields and never recurse, and a chunk too deep for json itself is the RecursionError above.
    return obj


def _unexpected(url: str, data: str) -> errors.ProtocolError:
    return errors.ProtocolError(f"{url} sent an unexpected chunk: {data[:200]!r}", url=url)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any, name: str, url: str, data: str) -> str:
    """A chunk's text field, which must be a string (or absent/null)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.ProtocolError(
            f"{url} sent a chunk whose {name!r} is {type(value).__name__}, not a string: {data[:200]!r}",
            url=url,
            hint="the server is not speaking the completions protocol gptoss expects; check --kind",
        )
    return value


def _ids(value: Any, name: str, url: str, data: str) -> tuple[int, ...] | None:
    """A chunk's token ids, which must be a list of non-negative integers (or absent/null/empty)."""
    if value is None or value == []:
        return None
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value
    ):
        raise errors.ProtocolError(
            f"{url} sent a chunk whose {name!r} is not a list of token ids: {data[:200]!r}",
            url=url,
            hint="the server is not speaking the completions protocol gptoss expects; check --kind",
        )
    return tuple(value)


def _usage(raw: Any, timings: Any = None) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    details = raw.get("prompt_tokens_details")
    cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else None
    if cached is None and isinstance(timings, dict):
        cached = _int(timings.get("cache_n"))  # llama-server's final chunk
    return Usage(
        _int(raw.get("prompt_tokens")),
        _int(raw.get("completion_tokens")),
        _int(raw.get("total_tokens")),
        cached,
    )


def _counts(prompt: Any, completion: Any, cached: Any = None) -> Usage:
    p, c = _int(prompt), _int(completion)
    return Usage(p, c, p + c if p is not None and c is not None else None, _int(cached))


def _choice_ids(choice: dict[str, Any], url: str, data: str) -> tuple[int, ...] | None:
    """Ids of a choice: ``token_ids`` (vLLM/SGLang), logprobs ``id`` (llama.cpp), ``token_id:N`` (vLLM)."""
    ids = _ids(choice.get("token_ids"), "token_ids", url, data)
    if ids:
        return ids
    logprobs = choice.get("logprobs")
    if not logprobs:
        return None
    content = logprobs.get("content")
    if content:
        found = [entry["id"] for entry in content if "id" in entry]
        return _ids(found, "logprobs.content[].id", url, data)
    tokens = logprobs.get("tokens")
    if tokens and isinstance(tokens[0], str) and tokens[0].startswith("token_id:"):
        return _ids([int(token[9:]) for token in tokens], "logprobs.tokens", url, data)
    return None


def decode_openai(chunks: Iterable[bytes], url: str, *, whole_json: bool = False) -> Iterator[StreamEvent]:
    """Events of a ``/v1/completions`` stream (only the first choice is read).

    Runs once per token: what only the last chunk needs (the finish, its hint, usage) is read only
    there, and a chunk of text alone (no ids, no logprobs) takes no function call but json's.
    """
    last_id: int | None = None
    for event in sse_events(chunks, whole_json=whole_json, url=url):
        data = event.data
        if data == DONE:
            return
        obj = _load(data, url, event.event)
        ids = reason = usage = None
        try:
            choices = obj.get("choices")
            if choices:
                choice = choices[0]
                text = choice.get("text")
                if type(text) is not str:
                    text = _text(text, "text", url, data)
                if choice.get("token_ids") is not None or choice.get("logprobs"):
                    ids = _choice_ids(choice, url, data)
                    if ids:
                        last_id = ids[-1]
                reason = choice.get("finish_reason")
                if reason:
                    hint = choice.get("stop_reason")
                    if hint is None:
                        hint = choice.get("matched_stop")
                    if not isinstance(hint, int | str) or isinstance(hint, bool):
                        hint = None
                    usage = _usage(obj.get("usage"), obj.get("timings"))
            else:
                text, usage = "", _usage(obj.get("usage"), obj.get("timings"))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise _unexpected(url, data) from exc
        if text or ids:
            yield TextDelta(text, ids)
        if reason:
            yield Finish(str(reason), hint, None, last_id, usage)
        elif usage is not None:
            yield usage  # a usage-only final chunk (vLLM/SGLang with include_usage)
        if event.event == "json":
            return
    raise errors.StreamError(
        f"the stream from {url} ended without [DONE]",
        url=url,
        hint="the server may have crashed; see its log",
    )


def decode_llamacpp(chunks: Iterable[bytes], url: str) -> Iterator[StreamEvent]:
    """Events of a llama.cpp native ``/completion`` stream (``content``, ``tokens``, ``stop``)."""
    last_id: int | None = None
    for event in sse_events(chunks, url=url):
        if event.data == DONE:
            break
        obj = _load(event.data, url, event.event)
        text = _text(obj.get("content"), "content", url, event.data)
        ids = _ids(obj.get("tokens"), "tokens", url, event.data)
        if ids:
            last_id = ids[-1]
        if text or ids:
            yield TextDelta(text, ids)
        if obj.get("stop"):
            stop_type = obj.get("stop_type")
            usage = _counts(
                obj.get("tokens_evaluated"), obj.get("tokens_predicted"), obj.get("tokens_cached")
            )
            word = obj.get("stopping_word") or None
            word = word if isinstance(word, str) else None
            stop_type = stop_type if isinstance(stop_type, str) else None
            reason = "length" if stop_type == "limit" else "stop"
            yield Finish(reason, word, stop_type, last_id, usage)
            return
    raise errors.StreamError(f"the stream from {url} ended without a final stop event", url=url)


def decode_ollama(chunks: Iterable[bytes], url: str) -> Iterator[StreamEvent]:
    """Events of an Ollama ``/api/generate`` NDJSON stream (``response``, ``done``, ``done_reason``)."""
    splitter = LineSplitter(url)
    for chunk in _with_end(chunks):
        lines = splitter.feed(chunk) if chunk is not None else splitter.close()
        for line in lines:
            if not line.strip():
                continue
            obj = _load(line, url)
            text = _text(obj.get("response"), "response", url, line)
            if text:
                yield TextDelta(text)
            if obj.get("done"):
                raw = obj.get("done_reason")
                reason = str(raw) if raw else "stop"
                usage = _counts(obj.get("prompt_eval_count"), obj.get("eval_count"))
                yield Finish(reason, None, str(raw) if raw else None, None, usage)
                return
    raise errors.StreamError(f"the stream from {url} ended without done", url=url)


def _with_end(chunks: Iterable[bytes]) -> Iterator[bytes | None]:
    yield from chunks
    yield None
