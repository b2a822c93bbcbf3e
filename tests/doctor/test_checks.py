"""Doctor's verdicts and fixes per server kind, read from each kind's profile (pure functions).

``server`` is the profile of the kind detected, ``profile`` the one gptoss sends with (``--kind``).
The fixes name the kind's own flags, fields and ids; every string here is what doctor printed
before the fixes became profile data.
"""

from __future__ import annotations

import pytest

from gptoss_cli.doctor.checks import CALL_ENDS, RETURN_ENDS, content_fix, judge_stop, strip_fix
from gptoss_cli.doctor.probes import ProbeResult
from gptoss_cli.harmony.tokens import CALL, RETURN
from gptoss_cli.servers.profiles import PROFILES
from gptoss_cli.transport.client import Finish

GENERIC_STRIP = (
    "make the server keep special tokens in its output: vLLM/SGLang need skip_special_tokens=false "
    "(--kind vllm|sglang), llama-server needs --special"
)
GENERIC_STOP = (
    "make the server stop on token ids 200002 (<|return|>) and 200012 (<|call|>), e.g. stop_token_ids"
)


@pytest.mark.parametrize(
    ("server", "profile", "fix"),
    [
        ("vllm", "vllm", "this vLLM ignores skip_special_tokens=false: upgrade it, or check any proxy"),
        (
            "vllm",
            "openai",
            "send skip_special_tokens=false: use --kind vllm (or -o skip_special_tokens false)",
        ),
        ("sglang", "sglang", "this SGLang ignores skip_special_tokens=false: upgrade it, or check any proxy"),
        (
            "sglang",
            "lmstudio",
            "send skip_special_tokens=false: use --kind sglang (or -o skip_special_tokens false)",
        ),
        ("llamacpp", "llamacpp", "start llama-server with --special (this build ignores preserved_tokens)"),
        (
            "llamacpp",
            "openai",
            "start llama-server with --special, or use --kind llamacpp (it sends preserved_tokens)",
        ),
        (
            "ollama",
            "ollama",
            "Ollama 0.30 and later drop control tokens in raw mode: use an older Ollama or llama-server",
        ),
        ("lmstudio", "lmstudio", GENERIC_STRIP),
        ("openai", "openai", GENERIC_STRIP),
    ],
)
def test_strip_fix_names_the_servers_own_field(server: str, profile: str, fix: str) -> None:
    assert strip_fix(PROFILES[server], PROFILES[profile]) == fix


@pytest.mark.parametrize(
    ("server", "profile", "fix"),
    [
        ("vllm", "openai", "send token-id prompts: use --kind vllm"),
        ("llamacpp", "lmstudio", "send token-id prompts: use --kind llamacpp"),
        (
            "ollama",
            "ollama",
            "Ollama takes text prompts only: use llama-server, vLLM or SGLang, which take token ids",
        ),
        ("openai", "openai", "use a server that takes token-id prompts (llama-server, vLLM, SGLang)"),
        ("lmstudio", "lmstudio", "use a server that takes token-id prompts (llama-server, vLLM, SGLang)"),
    ],
)
def test_content_fix(server: str, profile: str, fix: str) -> None:
    assert content_fix(PROFILES[server], PROFILES[profile]) == fix


@pytest.mark.parametrize(
    ("server", "fix"),
    [
        (
            "vllm",
            "send stop_token_ids [200002, 200012, 199999] (the vllm profile does) and never ignore_eos; "
            "update the model's generation_config.json (<|call|> was added as an EOS token)",
        ),
        (
            "sglang",
            "send stop_token_ids [200002, 200012, 199999] (the sglang profile does) and never ignore_eos; "
            "update the model's generation_config.json (<|call|> was added as an EOS token)",
        ),
        (
            "llamacpp",
            "the GGUF does not end generation on <|return|>/<|call|>: convert it with a current llama.cpp",
        ),
        ("ollama", "update Ollama and re-pull the model: its gpt-oss config ends on <|return|> and <|call|>"),
        ("lmstudio", GENERIC_STOP),
        ("openai", GENERIC_STOP),
    ],
)
def test_generation_running_past_a_terminator(server: str, fix: str) -> None:
    result = ProbeResult("OK<|return|><|start|>assistant", Finish("length"), None, sent_ids=True)
    check = judge_stop(result, RETURN, PROFILES[server], PROFILES[server], forced=False, limit=32)
    assert (check.name, check.status, check.fix) == (RETURN_ENDS, "fail", fix)
    assert check.detail == "generation went on after <|return|>: '<|return|><|start|>assistant'"


@pytest.mark.parametrize(
    ("server", "status", "fix"),
    [
        ("vllm", "warn", "send skip_special_tokens=false and return_token_ids=true: use --kind vllm"),
        ("sglang", "warn", "send skip_special_tokens=false and return_token_ids=true: use --kind sglang"),
        ("llamacpp", "warn", "start llama-server with --special (this build ignores preserved_tokens)"),
        ("ollama", "ok", None),
        ("lmstudio", "warn", None),
        ("openai", "warn", None),
    ],
)
def test_a_stop_that_names_no_terminator(server: str, status: str, fix: str | None) -> None:
    """Generation stopped, but no text, stop reason or token id says on which terminator."""
    result = ProbeResult("{}", Finish("stop", "\n\n", "stop"), None, sent_ids=True)
    check = judge_stop(result, CALL, PROFILES[server], PROFILES[server], forced=False, limit=32)
    assert (check.name, check.status, check.fix) == (CALL_ENDS, status, fix)
    if server == "ollama":
        assert check.detail == (
            "generation stopped (stop); Ollama never says which terminator ended it, so gptoss reads the "
            "last header's recipient"
        )
    else:
        assert check.detail.startswith(
            "generation stopped (finish_reason stop) but <|call|> is not in the text"
        )


def test_vllms_stop_without_a_reason_is_its_primary_eos() -> None:
    """vLLM reports its primary EOS, <|return|>, as ``stop_reason: null``; other servers do not say so."""
    result = ProbeResult("OK", Finish("stop"), None, sent_ids=True)
    vllm = judge_stop(result, RETURN, PROFILES["vllm"], PROFILES["vllm"], forced=False, limit=32)
    assert (vllm.status, vllm.detail) == (
        "ok",
        "generation stopped on <|return|> (vLLM reports its primary EOS, <|return|>, as stop_reason null)",
    )
    sglang = judge_stop(result, RETURN, PROFILES["sglang"], PROFILES["sglang"], forced=False, limit=32)
    assert sglang.status == "warn"
