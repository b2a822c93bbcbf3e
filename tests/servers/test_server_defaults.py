"""gptoss against simulated servers that apply each real server's defaults (``docs/server-defaults.md``).

Each default gets two tests: the *control* shows the simulated server does what the real one does to a
request that leaves the field out (so this double would have failed where the real server failed), and
the gptoss test shows ``gptoss ask`` getting the whole answer anyway.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from gptoss_cli.harmony.tokens import CALL, RETURN, get_tokenizer

from ..cli.runner import run
from ..scripted_server import ScriptedServer
from ..server_sims import VLLM, LlamaServer, Ollama, SimulatedServer, harmony_ids, simulate

LONG_REASONING = " ".join(f"step{i}" for i in range(120))
LONG_FINAL = " ".join(f"word{i}" for i in range(150))
LONG = [
    *harmony_ids(
        f"<|channel|>analysis<|message|>SECRET {LONG_REASONING}<|end|>"
        f"<|start|>assistant<|channel|>final<|message|>{LONG_FINAL}"
    ),
    RETURN,
]


def _ask(server: ScriptedServer, *extra: str, kind: str | None = None) -> Any:
    args = ["ask", "Tell me a long story", "-n", "--base-url", server.url, *extra]
    return run([*args, "--kind", kind] if kind else args)


def _raw_post(server: ScriptedServer, path: str, body: dict[str, Any]) -> Any:
    return httpx.post(server.url + path, json=body, timeout=10).json()


def _tokens(text: str) -> int:
    return len(get_tokenizer().encode(text))


# ------------------------------------------------------------------------------ vLLM and SGLang


@pytest.mark.parametrize("kind", ["vllm", "sglang"])
def test_control_a_request_without_max_tokens_gets_16_tokens(
    scripted_server: ScriptedServer, kind: str
) -> None:
    simulate(scripted_server, kind, [LONG])
    answer = _raw_post(scripted_server, "/v1/completions", {"prompt": [200006, 1428, 200008]})
    assert answer["usage"]["completion_tokens"] == 16
    assert answer["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize("kind", ["vllm", "sglang"])
def test_gptoss_gets_the_whole_long_answer(scripted_server: ScriptedServer, kind: str) -> None:
    sim = simulate(scripted_server, kind, [LONG])
    result = _ask(scripted_server)  # the kind is detected, as a user's first run would
    assert result.code == 0, result.stderr
    assert result.out == LONG_FINAL + "\n"
    assert "SECRET" not in result.out
    body = sim.bodies[-1]
    # the room left in the context the server reported on /v1/models
    assert body["max_tokens"] == sim.context_length - len(body["prompt"])


@pytest.mark.parametrize("kind", ["vllm", "sglang"])
def test_control_default_skip_special_tokens_strips_the_markers(
    scripted_server: ScriptedServer, kind: str
) -> None:
    simulate(scripted_server, kind, [LONG])
    answer = _raw_post(scripted_server, "/v1/completions", {"prompt": [200006], "max_tokens": 400})
    text = answer["choices"][0]["text"]
    assert "<|channel|>" not in text and text.startswith("analysisSECRET")


@pytest.mark.parametrize("kind", ["vllm", "sglang"])
def test_gptoss_keeps_the_markers_and_the_terminator(scripted_server: ScriptedServer, kind: str) -> None:
    sim = simulate(scripted_server, kind, [LONG])
    result = _ask(scripted_server, "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.out)
    assert data["final"] == LONG_FINAL and data["finish_reason"] == "stop"
    assert data["limit"]["source"] == "context"
    assert sim.bodies[-1]["skip_special_tokens"] is False


def test_control_call_ends_generation_with_its_id_as_stop_reason(scripted_server: ScriptedServer) -> None:
    call = [*harmony_ids('<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"a":1}'), CALL]
    simulate(scripted_server, "vllm", [call])
    body = {"prompt": [200006], "max_tokens": 100, "skip_special_tokens": False}
    choice = _raw_post(scripted_server, "/v1/completions", body)["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["stop_reason"] == CALL
    assert not choice["text"].endswith("<|call|>")  # include_stop_str_in_output defaults to false


def test_a_prompt_that_fills_the_context_is_refused_before_sending(scripted_server: ScriptedServer) -> None:
    sim = simulate(scripted_server, "vllm", [LONG], context_length=60)
    result = _ask(scripted_server)
    assert result.code == 1
    assert "fills the server's 60-token context" in result.stderr
    assert "--max-model-len" in result.stderr
    assert sim.bodies == []  # nothing was sent
    assert "Traceback" not in result.stderr


def test_config_max_tokens_caps_and_the_cut_off_names_it(scripted_server: ScriptedServer, home: Path) -> None:
    sim = simulate(scripted_server, "vllm", [LONG])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[profiles.sim]\nbase_url = "{scripted_server.url}"\nmax_tokens = 40\n', encoding="utf-8"
    )
    result = run(["ask", "Tell me", "-n", "--profile", "sim"])
    assert sim.bodies[-1]["max_tokens"] == 40
    assert result.code == 1
    assert "cut off by the generation limit of 40 tokens (max_tokens in the config)" in result.stderr
    assert "-o max_tokens N" in result.stderr


def test_option_max_tokens_wins(scripted_server: ScriptedServer) -> None:
    sim = simulate(scripted_server, "vllm", [LONG])
    result = _ask(scripted_server, "-o", "max_tokens", "20")
    assert sim.bodies[-1]["max_tokens"] == 20
    assert result.code == 1 and "20 tokens (-o max_tokens)" in result.stderr


def test_context_cut_says_how_to_raise_the_context(scripted_server: ScriptedServer) -> None:
    simulate(scripted_server, "vllm", [LONG], context_length=200)
    result = _ask(scripted_server)
    assert result.code == 1
    assert "the room left in the server's 200-token context" in result.stderr
    assert "--max-model-len" in result.stderr


def test_stats_show_the_limit_in_force(scripted_server: ScriptedServer) -> None:
    sim = simulate(scripted_server, "vllm", [LONG])
    result = _ask(scripted_server, "--stats")
    assert result.code == 0, result.stderr
    room = sim.context_length - len(sim.bodies[-1]["prompt"])
    assert f"limit {room:,} tokens (the room left in the server's 4,096-token context" in result.stderr


def test_a_model_the_server_does_not_serve_is_named(scripted_server: ScriptedServer) -> None:
    simulate(scripted_server, "vllm", [LONG])
    result = _ask(scripted_server, "--model", "nope", "--kind", "vllm")
    assert result.code == 1
    assert "nope" in result.stderr and "Traceback" not in result.stderr


# ------------------------------------------------------------------------------------- llama.cpp


def test_control_llama_server_hides_control_tokens_without_special(scripted_server: ScriptedServer) -> None:
    simulate(scripted_server, "llamacpp", [LONG])
    answer = _raw_post(scripted_server, "/v1/completions", {"prompt": [200006], "n_predict": 30})
    assert "<|channel|>" not in answer["choices"][0]["text"]


def test_gptoss_on_llama_server_gets_the_whole_answer(scripted_server: ScriptedServer) -> None:
    sim = simulate(scripted_server, "llamacpp", [LONG], slots=2, context_length=8192)
    result = _ask(scripted_server)
    assert result.code == 0, result.stderr
    assert result.out == LONG_FINAL + "\n"
    body = sim.bodies[-1]
    assert body["max_tokens"] == 4096 - len(body["prompt"])  # the slot's context, from /props
    assert "<|channel|>" in body["preserved_tokens"]


def test_gptoss_refuses_a_prompt_over_the_llama_slot_context(scripted_server: ScriptedServer) -> None:
    sim = simulate(scripted_server, "llamacpp", [LONG], slots=4, context_length=200)
    result = _ask(scripted_server)
    assert result.code == 1 and "fills the server's 50-token context" in result.stderr
    assert "-np" in result.stderr and sim.bodies == []


def test_llama_native_endpoint_reads_n_predict(scripted_server: ScriptedServer) -> None:
    from gptoss_cli.servers.profiles import get_profile
    from gptoss_cli.transport.client import complete

    sim = simulate(scripted_server, "llamacpp", [LONG])
    profile = get_profile("llamacpp", endpoint="llamacpp")
    request = profile.request(scripted_server.url, [200006, 1428, 200008], max_tokens=25)
    completion = complete(request)
    assert sim.bodies[-1]["n_predict"] == 25 and "max_tokens" not in sim.bodies[-1]
    assert completion.finish.reason == "length"


# ----------------------------------------------------------------------------------------- Ollama


def test_control_ollama_without_num_predict_runs_past_the_context(scripted_server: ScriptedServer) -> None:
    short = harmony_ids("<|channel|>analysis<|message|>and so on")  # a model that never ends its message
    sim = simulate(scripted_server, "ollama", [short], default_num_ctx=50)
    body = {"model": "gpt-oss:20b", "prompt": "<|start|>user<|message|>hi<|end|>", "raw": True}
    lines = httpx.post(scripted_server.url + "/api/generate", json=body, timeout=10).text.splitlines()
    last = json.loads(lines[-1])
    assert last["done_reason"] == "length" and last["eval_count"] == 500  # 10 x num_ctx
    assert isinstance(sim, SimulatedServer)


def test_control_ollama_cuts_a_long_prompt_silently(scripted_server: ScriptedServer) -> None:
    sim = simulate(scripted_server, "ollama", [LONG], default_num_ctx=50)
    body = {"model": "gpt-oss:20b", "prompt": "<|start|>user<|message|>" + " x" * 80, "raw": True}
    httpx.post(scripted_server.url + "/api/generate", json=body, timeout=10)
    assert isinstance(sim, Ollama) and sim.truncated


def test_gptoss_refuses_a_prompt_over_ollamas_num_ctx(scripted_server: ScriptedServer) -> None:
    sim = simulate(scripted_server, "ollama", [LONG])
    result = _ask(scripted_server, "--model", "gpt-oss:20b", "-o", "num_ctx", "60")
    assert result.code == 1 and "fills the server's 60-token context" in result.stderr
    assert "num_ctx" in result.stderr and sim.bodies == []


def test_gptoss_on_ollama_sends_num_ctx_and_num_predict(scripted_server: ScriptedServer) -> None:
    sim = simulate(scripted_server, "ollama", [LONG])
    result = _ask(scripted_server, "--model", "gpt-oss:20b")
    assert result.code == 0, result.stderr
    assert result.out == LONG_FINAL + "\n"
    options = sim.bodies[-1]["options"]
    prompt_tokens = len(harmony_ids(sim.bodies[-1]["prompt"]))
    assert sim.bodies[-1]["truncate"] is False
    assert options["num_ctx"] == 16384
    assert options["num_predict"] == 16384 - prompt_tokens


def test_every_simulated_default_is_cited_in_the_document() -> None:
    from ..server_sims import SGLang

    doc = (Path(__file__).resolve().parent.parent.parent / "docs" / "server-defaults.md").read_text(
        encoding="utf-8"
    )
    sims = (
        (VLLM, "vllm 0.32.0 "),
        (SGLang, "sglang 0.5.23 "),
        (LlamaServer, "llama.cpp 11434.0.0 "),
        (Ollama, "ollama fb30760 "),
    )
    for sim, prefix in sims:
        for default in sim.DEFAULTS.values():
            assert default.cite.startswith(prefix), default
            path = default.cite[len(prefix) :].split(":", 1)[0]
            assert path in doc, f"{default.name}: {path} is not cited in docs/server-defaults.md"
    assert _tokens("word1 word2") > 0


# ----------------------------------------------------------------------------------------- doctor


def _doctor(server: ScriptedServer, **kw: Any) -> Any:
    from gptoss_cli.doctor.run import DoctorOptions, run_doctor

    return run_doctor(DoctorOptions(server.url, **kw))


def test_doctor_shows_the_limit_and_what_the_server_would_do_without_it(
    scripted_server: ScriptedServer,
) -> None:
    from gptoss_cli.doctor.checks import LIMIT

    simulate(scripted_server, "vllm", [LONG])
    check = _doctor(scripted_server).check(LIMIT)
    assert check.status == "ok"
    assert "the room left in the server's 4,096-token context" in check.detail
    assert "without a limit vLLM would stop after 16 tokens" in check.detail


def test_doctor_fails_a_server_whose_context_would_cut_answers(scripted_server: ScriptedServer) -> None:
    from gptoss_cli.doctor.checks import LIMIT

    simulate(scripted_server, "vllm", [LONG], context_length=200)
    report = _doctor(scripted_server)
    check = report.check(LIMIT)
    assert check.status == "fail" and "a 200-token answer would be cut" in check.detail
    assert check.fix is not None and "--max-model-len" in check.fix
    assert not report.ok


def test_doctor_fails_a_config_cap_that_would_cut_answers(scripted_server: ScriptedServer) -> None:
    from gptoss_cli.doctor.checks import LIMIT

    simulate(scripted_server, "sglang", [LONG])
    check = _doctor(scripted_server, max_tokens=100).check(LIMIT)
    assert check.status == "fail" and "100 tokens (max_tokens in the config)" in check.detail
    assert check.fix is not None and "-o max_tokens" in check.fix


def test_doctor_never_prints_credentials_from_the_url(scripted_server: ScriptedServer) -> None:
    simulate(scripted_server, "vllm", [LONG])
    url = scripted_server.url.replace("http://", "http://alice:s3cr3t-pass@")
    result = run(["doctor", "--base-url", url, "--json"])
    assert "s3cr3t" not in result.out and "s3cr3t" not in result.stderr
    assert json.loads(result.out)["server"]["kind"] == "vllm"


def test_a_base_url_with_a_query_string_is_refused_clearly(scripted_server: ScriptedServer) -> None:
    simulate(scripted_server, "vllm", [LONG])
    for command in (["doctor"], ["ask", "hi", "-n"]):
        result = run([*command, "--base-url", scripted_server.url + "/v1?api_key=SECRETKEY"])
        assert result.code in (1, 2)
        assert "query string" in result.stderr and "SECRETKEY" not in result.stderr
        assert "Traceback" not in result.stderr


def test_stats_separate_start_up_from_the_server_and_show_the_cache(scripted_server: ScriptedServer) -> None:
    """--stats (issue 12): the client's start-up apart from the time after the request, tokens/s on
    each side, and the prompt tokens llama-server reused from its cache on a continued conversation."""
    simulate(scripted_server, "llamacpp", [LONG])
    first = run(["ask", "Tell me", "--stats", "--base-url", scripted_server.url])
    assert first.code == 0, first.stderr
    stats = first.stderr.strip().splitlines()[-1]
    assert re.search(r"client start-up \d+\.\d\ds · first token \d+\.\d\ds after the request", stats), stats
    assert re.search(r"analysis \d+ tok at [\d.]+ tok/s · final \d+ tok at [\d.]+ tok/s", stats), stats
    assert "0 prompt tok cached" in stats
    again = run(["ask", "And then?", "-c", "--stats", "--base-url", scripted_server.url])
    cached = re.search(r"([\d,]+) prompt tok cached", again.stderr)
    assert cached is not None and int(cached.group(1).replace(",", "")) > 50, again.stderr
