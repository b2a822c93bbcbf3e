"""The project's own transport, server detection and llamacpp profile against a real llama-server.

The forced completion's grammar and logit bias reach the server the way a user passes them,
as ``-o KEY VALUE`` pairs (``servers.parse_options``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gptoss_cli.harmony.parser import parse_text
from gptoss_cli.harmony.types import TextContent
from gptoss_cli.servers.detect import detect_server
from gptoss_cli.servers.profiles import finish_hint, get_profile, parse_options
from gptoss_cli.transport.client import complete

from .grammar import Forced, force_text
from .server import LlamaServer
from .test_llama_server import ANSWER, CALL_IN_CHANNEL, CALL_IN_ROLE, PROMPT, TOOL_PROMPT, ids


def as_options(forced: Forced) -> dict[str, Any]:
    """The forced fields as the CLI would get them: ``-o grammar '...' -o logit_bias '{...}'``."""
    pairs = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in forced.fields.items()]
    return parse_options(pairs)


@pytest.fixture(params=["special", "no-special"])
def server(request: pytest.FixtureRequest) -> LlamaServer:
    name = "good_server" if request.param == "special" else "no_special_server"
    result: LlamaServer = request.getfixturevalue(name)
    return result


def test_detects_llamacpp(server: LlamaServer) -> None:
    info = detect_server(server.base_url)
    assert info.kind == "llamacpp"


@pytest.mark.parametrize(
    ("prompt", "completion", "hint"),
    [(PROMPT, ANSWER, "return"), (TOOL_PROMPT, CALL_IN_ROLE, "call"), (TOOL_PROMPT, CALL_IN_CHANNEL, "call")],
    ids=["analysis-final", "call-role-recipient", "call-channel-recipient"],
)
def test_llamacpp_profile_gets_exact_harmony(
    server: LlamaServer, prompt: str, completion: str, hint: str
) -> None:
    """The profile's ``preserved_tokens`` make the terminator show on either server."""
    forced = force_text(completion)
    request = get_profile("llamacpp").request(server.base_url, ids(prompt), call_options=as_options(forced))
    result = complete(request)
    assert result.text == completion
    assert result.finish.reason == "stop"
    assert finish_hint(result.finish, "llamacpp", text_tail=result.text) == hint
    assert result.usage is not None and result.usage.completion_tokens == len(ids(completion))


def test_parsed_tool_call(no_special_server: LlamaServer) -> None:
    forced = force_text(CALL_IN_ROLE)
    request = get_profile("llamacpp").request(
        no_special_server.base_url, ids(TOOL_PROMPT), call_options=as_options(forced)
    )
    messages = parse_text(complete(request).text, strict=True)
    assert [m.channel for m in messages] == ["analysis", "commentary"]
    call = messages[-1]
    assert call.recipient == "functions.get_weather"
    assert call.content_type == "<|constrain|>json"
    part = call.content[0]
    assert isinstance(part, TextContent)
    assert json.loads(part.text) == {"location": "Paris"}


def test_native_completion_endpoint_returns_token_ids(no_special_server: LlamaServer) -> None:
    """On /completion the stream carries ids, the hidden terminator's included."""
    forced = force_text(ANSWER)
    profile = get_profile("llamacpp", endpoint="llamacpp")
    request = profile.request(no_special_server.base_url, ids(PROMPT), call_options=as_options(forced))
    result = complete(request)
    assert result.token_ids == tuple(ids(ANSWER))
    assert result.text == ANSWER
