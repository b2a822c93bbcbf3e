"""``gptoss doctor`` through the real CLI: the table on stdout, one verdict line on stderr, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..doctor.test_doctor import closed_port_url
from ..doctor_servers import llama_good, llama_stripped, ollama_detection, vllm_good
from ..scripted_server import ScriptedServer, json_error
from .runner import run


def test_good_server_exits_zero_with_a_table(scripted_server: ScriptedServer) -> None:
    llama_good(scripted_server)
    result = run(["doctor", "--base-url", scripted_server.url])
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["CHECK", "STATUS", "DETAIL"]
    rows = {line[:20].strip(): line[20:28].strip() for line in lines[1:] if line[:1] != " "}
    assert rows == {
        "reachable": "ok", "auth": "ok", "server": "ok", "models": "ok", "generation limit": "ok",
        "token-id prompts": "ok",
        "control tokens": "ok", "<|return|> ends": "ok", "<|call|> ends": "ok", "<|end|> in content": "ok",
        "llama --special": "ok", "first token": "ok", "tokens/s": "ok",
    }  # fmt: skip
    assert "fix:" not in result.out
    assert "\x1b[" not in result.out
    assert (
        result.stderr == f"gptoss doctor: {scripted_server.url} can serve Harmony (llama.cpp b6500-1a2b3c)\n"
    )


def test_misconfigured_server_exits_one_with_the_fix_beside_the_failure(
    scripted_server: ScriptedServer,
) -> None:
    llama_stripped(scripted_server)
    result = run(["doctor", "--base-url", scripted_server.url])
    assert result.code == 1
    lines = result.out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("control tokens"))
    assert lines[at].split()[:3] == ["control", "tokens", "fail"]
    assert (
        lines[at + 1].strip()
        == "fix: start llama-server with --special (this build ignores preserved_tokens)"
    )
    assert lines[at + 1].startswith(" " * 28)  # under the detail column
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"gptoss doctor: {scripted_server.url} cannot serve Harmony: control tokens:"
    )


def test_json_report(scripted_server: ScriptedServer) -> None:
    vllm_good(scripted_server)
    result = run(["doctor", "--base-url", scripted_server.url, "--json"])
    assert result.code == 0
    report = json.loads(result.out)
    assert report["can_serve_harmony"] is True
    assert report["server"] == {
        "kind": "vllm",
        "version": "0.10.1",
        "profile": "vllm",
        "model": "openai/gpt-oss-20b",
    }
    assert [c["name"] for c in report["checks"]][:4] == ["reachable", "auth", "server", "models"]
    assert {c["status"] for c in report["checks"]} == {"ok"}
    assert set(report["checks"][0]) == {"name", "status", "detail", "fix"}


def test_ollama_v1_completions_refused(scripted_server: ScriptedServer) -> None:
    ollama_detection(scripted_server)
    result = run(["doctor", "--base-url", scripted_server.url, "--kind", "openai", "--json"])
    assert result.code == 1
    checks = {c["name"]: c for c in json.loads(result.out)["checks"]}
    assert checks["server"]["status"] == "fail"
    assert checks["server"]["fix"] == (
        "this server's /v1/completions cannot serve Harmony: use /api/generate (--kind ollama)"
    )


def test_server_down_names_the_url() -> None:
    url = closed_port_url()
    result = run(["doctor", "--base-url", url])
    assert result.code == 1
    assert f"cannot connect to {url}/v1/models" in result.out
    assert result.stderr.startswith(
        f"gptoss doctor: {url} cannot serve Harmony: reachable: cannot connect to {url}"
    )


def test_base_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, scripted_server: ScriptedServer
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("GPTOSS_BASE_URL", scripted_server.url)  # GPTOSS_* wins over OPENAI_*
    vllm_good(scripted_server)
    result = run(["doctor"])
    assert result.code == 0
    assert scripted_server.url in result.stderr


def test_api_key_from_the_named_variable(
    monkeypatch: pytest.MonkeyPatch, scripted_server: ScriptedServer
) -> None:
    monkeypatch.setenv("GPTOSS_API_KEY", "sk-default")
    monkeypatch.setenv("MY_SERVER_KEY", "sk-mine-456")
    scripted_server.script("/v1/models", json_error(401, "Invalid API key"), method="GET")
    result = run(["doctor", "--base-url", scripted_server.url, "--api-key-env", "MY_SERVER_KEY"])
    assert result.code == 1
    assert scripted_server.requests[0].headers["authorization"] == "Bearer sk-mine-456"
    assert "fix: the key in $MY_SERVER_KEY was refused: check it" in result.out
    assert "sk-mine-456" not in result.out + result.stderr


def test_default_key_variable(monkeypatch: pytest.MonkeyPatch, scripted_server: ScriptedServer) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    vllm_good(scripted_server)
    result = run(["doctor", "--base-url", scripted_server.url, "--json"])
    assert result.code == 0
    checks = {c["name"]: c for c in json.loads(result.out)["checks"]}
    assert checks["auth"]["detail"] == "the key in $OPENAI_API_KEY is accepted"
    assert all(r.headers["authorization"] == "Bearer sk-openai" for r in scripted_server.requests)


def test_unknown_profile_kind_is_a_usage_error() -> None:
    result = run(["doctor", "--kind", "tgi"])
    assert result.code == 2
    assert result.out == ""
    assert result.stderr.startswith("gptoss: error: unknown server kind 'tgi'")


def test_doctor_probes_in_the_profiles_harmony_form(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    from gptoss_cli.doctor.probes import call_prompt

    vllm_good(scripted_server)
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.v]\nbase_url = "{scripted_server.url}"\nharmony = "oss"\n')
    assert run(["doctor", "--config", str(config)]).code == 0
    calls = [r.json() for r in scripted_server.requests if r.path.endswith("/completions")]
    assert calls[-1]["prompt"] == list(call_prompt("oss").ids)


def test_doctor_and_config_show_never_print_url_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """``gptoss doctor --base-url http://user:secret@host/v1`` printed the secret (issue 11)."""
    result = run(["doctor", "--base-url", "http://user:s3cret@127.0.0.1:9/v1"])
    assert result.code == 1
    assert "s3cret" not in result.out + result.stderr and "http://127.0.0.1:9" in result.out + result.stderr
    url = "http://user:s3cret@127.0.0.1:9/v1?api_key=sk-LEAKED&x=1"
    refused = run(["doctor", "--base-url", url])  # a query is refused: a usage error that names the URL
    assert refused.code == 2
    assert (
        "s3cret" not in refused.stderr
        and "sk-LEAKED" not in refused.stderr
        and "127.0.0.1:9" in refused.stderr
    )
    monkeypatch.setenv("GPTOSS_BASE_URL", url)
    shown = run(["config", "show", "--json"])
    assert shown.code == 0 and "s3cret" not in shown.out and "sk-LEAKED" not in shown.out
    assert '"base_url": "http://127.0.0.1:9/v1?api_key=<redacted>&x=1"' in shown.out
    table = run(["config", "show"])
    assert "s3cret" not in table.out and "sk-LEAKED" not in table.out and "127.0.0.1:9" in table.out
