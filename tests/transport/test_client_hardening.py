"""Bad servers get clear errors (issue 11): wrong chunk field types, HTML or empty 200s, redirects,
401s, oversized lines and events, deep JSON; every printed URL is redacted."""

from __future__ import annotations

from typing import Any

import pytest

from gptoss_cli import errors
from gptoss_cli.transport.client import (
    CompletionRequest,
    EndpointKind,
    RetryPolicy,
    Timeouts,
    complete,
    get_json,
    redact_url,
)
from gptoss_cli.transport.sse import LineSplitter, SSEDecoder

from ..scripted_server import DONE, Reply, ScriptedServer, event, json_error

NO_RETRY = RetryPolicy(max_retries=0)
QUICK = Timeouts(connect=2.0, read=5.0)
V1 = "/v1/completions"


def _request(server: ScriptedServer, endpoint: EndpointKind = "openai") -> CompletionRequest:
    return CompletionRequest(server.url, "hi", endpoint=endpoint, retry=NO_RETRY, timeouts=QUICK)


def _fail(server: ScriptedServer, endpoint: EndpointKind = "openai") -> errors.GptossError:
    with pytest.raises(errors.GptossError) as info:
        complete(_request(server, endpoint))
    return info.value


@pytest.mark.parametrize(
    ("chunk", "field"),
    [
        ({"choices": [{"text": 42, "finish_reason": None}]}, "'text' is int"),
        ({"choices": [{"text": ["a"], "finish_reason": None}]}, "'text' is list"),
        ({"choices": [{"text": "a", "token_ids": "123", "finish_reason": None}]}, "'token_ids'"),
        ({"choices": [{"text": "a", "token_ids": [1, -5], "finish_reason": None}]}, "'token_ids'"),
        ({"choices": [{"text": "a", "token_ids": [1.5], "finish_reason": None}]}, "'token_ids'"),
        ({"choices": [{"text": "a", "token_ids": 0, "finish_reason": None}]}, "'token_ids'"),
        ({"choices": [{"text": "a", "token_ids": {}, "finish_reason": None}]}, "'token_ids'"),
    ],
)
def test_openai_chunk_fields_are_type_checked(
    scripted_server: ScriptedServer, chunk: dict[str, Any], field: str
) -> None:
    scripted_server.script(V1, Reply.sse([event(chunk), DONE]))
    error = _fail(scripted_server)
    assert isinstance(error, errors.ProtocolError)
    assert field in str(error) and scripted_server.url in str(error)


def test_llamacpp_and_ollama_fields_are_type_checked(scripted_server: ScriptedServer) -> None:
    scripted_server.script("/completion", Reply.sse([event({"content": {"x": 1}, "stop": False})]))
    assert "'content' is dict" in str(_fail(scripted_server, "llamacpp"))
    scripted_server.script("/completion", Reply.sse([event({"content": "a", "tokens": "12"})]))
    assert "'tokens'" in str(_fail(scripted_server, "llamacpp"))
    scripted_server.script("/api/generate", Reply.ndjson([b'{"response": 7, "done": false}\n']))
    assert "'response' is int" in str(_fail(scripted_server, "ollama"))


def test_a_200_with_an_html_page(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply(200, [b"<!doctype html><title>Login</title>"], "text/html"))
    error = _fail(scripted_server)
    assert isinstance(error, errors.ProtocolError)
    assert "HTML page, not a completion stream" in str(error) and "crash" not in str(error)
    assert error.hint is not None and "--base-url" in error.hint


def test_a_200_with_html_under_a_stream_content_type(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse([b"\n <html><body>proxy</body></html>"]))
    assert "HTML or XML, not a completion stream" in str(_fail(scripted_server))


def test_a_compressed_stream_is_decoded(scripted_server: ScriptedServer) -> None:
    # gptoss asks for identity, but a proxy may compress anyway: the body is then decoded, not raw
    import gzip

    from ..scripted_server import llamacpp_stream

    body = b"".join(llamacpp_stream(["<|channel|>final<|message|>", "hi", " there"]))
    scripted_server.script(V1, Reply.sse([gzip.compress(body)], headers={"Content-Encoding": "gzip"}))
    assert complete(_request(scripted_server)).text == "<|channel|>final<|message|>hi there"


def test_a_200_with_an_empty_body(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, Reply.sse([]))
    error = _fail(scripted_server)
    assert "empty body" in str(error) and "crash" not in str(error)


def test_a_redirect_names_where_it_goes(scripted_server: ScriptedServer) -> None:
    target = "https://user:pw@example.com/v1/completions?token=abc"
    scripted_server.script(V1, Reply(302, [], "text/plain", headers={"Location": target}))
    error = _fail(scripted_server)
    assert isinstance(error, errors.HTTPStatusError) and error.status == 302
    assert (
        error.hint
        == "it redirects to https://example.com/v1/completions?token=<redacted>: use that as --base-url"
    )


def test_the_401_hint_names_real_ways_to_give_a_key(scripted_server: ScriptedServer) -> None:
    scripted_server.script(V1, json_error(401, "no key"))
    hint = _fail(scripted_server).hint or ""
    assert "--api-key-env" in hint and "GPTOSS_API_KEY" in hint
    assert "--api-key " not in hint + " " and "--api-key)" not in hint


def test_an_endless_line_is_refused_with_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPTOSS_MAX_LINE_BYTES", "1000")
    splitter = LineSplitter("http://h/v1/completions")
    splitter.feed(b"data: " + b"x" * 900)
    with pytest.raises(errors.LimitError) as info:
        splitter.feed(b"x" * 200)
    assert "stream line size limit (1,000 bytes)" in str(info.value)
    assert info.value.hint == "raise it with GPTOSS_MAX_LINE_BYTES=N if this is expected"
    with pytest.raises(errors.LimitError):
        LineSplitter().feed(b"y" * 1001 + b"\n")


def test_a_long_line_in_small_pieces_is_kept_whole() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: ")
    for _ in range(2048):
        assert decoder.feed(b"abcd" * 256) == []
    (whole,) = decoder.feed(b"\r\n\r\n")
    assert whole.data == "abcd" * 256 * 2048


def test_an_oversized_event_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPTOSS_MAX_EVENT_CHARS", "100")
    decoder = SSEDecoder()
    with pytest.raises(errors.LimitError) as info:
        decoder.feed(b"data: " + b"a" * 60 + b"\ndata: " + b"b" * 60 + b"\n")
    assert "GPTOSS_MAX_EVENT_CHARS" in (info.value.hint or "")


def test_a_deeply_nested_chunk_is_a_limit_error(scripted_server: ScriptedServer) -> None:
    deep = b"data: " + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"\n\n"
    scripted_server.script(V1, Reply.sse([deep, DONE]))
    error = _fail(scripted_server)
    assert isinstance(error, errors.LimitError) and "JSON nesting depth" in str(error)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "http://user:secret@host:8000/v1?api_key=sk-1&x=2#frag",
            "http://host:8000/v1?api_key=<redacted>&x=2",
        ),
        (
            "https://h/v1?key=abc&model=m&access_token=t",
            "https://h/v1?key=<redacted>&model=m&access_token=<redacted>",
        ),
        ("http://[::1]:8000/v1", "http://[::1]:8000/v1"),
        ("http://u:p@host:99999/x?sig=1", "http://host:99999/x"),
        ("http://h/v1?flag", "http://h/v1?flag"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_errors_never_show_credentials(scripted_server: ScriptedServer) -> None:
    url = scripted_server.url.replace("http://", "http://me:hunter2@") + "/v1/models?api_key=sk-LEAK"
    scripted_server.script("/v1/models", json_error(500, "boom"), method="GET")
    with pytest.raises(errors.HTTPStatusError) as info:
        get_json(url)
    text = f"{info.value} {info.value.hint} {info.value.url}"
    assert "hunter2" not in text and "sk-LEAK" not in text and "api_key=<redacted>" in text
