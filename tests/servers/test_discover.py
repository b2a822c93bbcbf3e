"""Finding a local server on the usual ports when no base URL is configured (real sockets on 127.0.0.1)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gptoss_cli import errors
from gptoss_cli.servers import discover
from gptoss_cli.servers.discover import PORTS, find_server

from ..cli.runner import run
from ..scripted_server import Reply, ScriptedServer
from ..server_sims import harmony_ids, simulate


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listing(*names: str) -> Reply:
    return Reply.json({"object": "list", "data": [{"id": n, "object": "model"} for n in names]})


@pytest.mark.parametrize(("port", "name"), PORTS)
def test_a_server_on_each_usual_port_is_found(port: int, name: str, tmp_path: Path) -> None:
    try:
        server = ScriptedServer(port=port)
    except OSError as exc:
        pytest.fail(f"port {port} is taken on this machine ({exc}); the test needs it free")
    with server:
        server.script("/v1/models", _listing("openai/gpt-oss-20b"), method="GET")
        found = find_server(tmp_path)
    assert found.base_url == f"http://127.0.0.1:{port}"
    assert found.usual_for == name and found.gptoss_model and found.fresh


def test_a_gpt_oss_server_wins_over_an_earlier_port(tmp_path: Path) -> None:
    with ScriptedServer() as first, ScriptedServer() as second:
        first.script("/v1/models", _listing("llama-3-8b"), method="GET")
        second.script("/v1/models", _listing("gpt-oss-120b"), method="GET")
        ports = [(_port(first), "vLLM"), (_port(second), "Ollama")]
        found = find_server(tmp_path, ports)
    assert found.base_url == second.url and found.usual_for == "Ollama"


def test_ollama_is_recognised_by_its_tags(tmp_path: Path) -> None:
    with ScriptedServer() as server:
        server.script("/api/tags", Reply.json({"models": [{"name": "gpt-oss:20b"}]}), method="GET")
        found = find_server(tmp_path, [(_port(server), "Ollama")])
    assert found.gptoss_model


def test_the_choice_is_cached_while_the_port_answers(tmp_path: Path) -> None:
    with ScriptedServer() as server:
        server.script("/v1/models", _listing("gpt-oss-20b"), method="GET")
        ports = [(_free_port(), "vLLM"), (_port(server), "llama-server")]
        assert find_server(tmp_path, ports).fresh
        again = find_server(tmp_path, ports)
        assert not again.fresh and again.base_url == server.url
        assert server.paths() == ["/v1/models"]  # the second run only connected
    assert find_server_or_none(tmp_path, ports) is None  # gone: probed again, nothing there


def find_server_or_none(cache: Path, ports: list[tuple[int, str]]) -> object:
    try:
        return find_server(cache, ports)
    except errors.ServerError:
        return None


def test_no_server_names_the_ports_and_how_to_start_one(tmp_path: Path) -> None:
    ports = [(_free_port(), "vLLM"), (_free_port(), "SGLang")]
    with pytest.raises(errors.ServerError) as info:
        find_server(tmp_path, ports)
    assert str(ports[0][0]) in str(info.value) and "(SGLang)" in str(info.value)
    assert info.value.hint is not None and "--base-url" in info.value.hint


def test_ask_without_a_url_finds_the_server_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch, scripted_server: ScriptedServer
) -> None:
    answer = [*harmony_ids("<|channel|>final<|message|>Found you."), 200002]
    simulate(scripted_server, "vllm", [answer])
    monkeypatch.setattr(discover, "PORTS", ((_free_port(), "vLLM"), (_port(scripted_server), "SGLang")))
    first = run(["ask", "hi", "-n"])
    assert first.code == 0, first.stderr
    assert first.out == "Found you.\n"
    assert f"using {scripted_server.url}, the usual port of SGLang" in first.stderr
    second = run(["ask", "hi", "-n"])
    assert second.code == 0 and "using" not in second.stderr


def test_no_server_anywhere_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "PORTS", ((_free_port(), "vLLM"),))
    result = run(["ask", "hi", "-n"])
    assert result.code == 1
    assert "no server found on 127.0.0.1" in result.stderr and "Traceback" not in result.stderr
    assert "start one with `gptoss serve MODEL`" in result.stderr and "[y/N]" not in result.stderr
    assert len(result.stderr.splitlines()) == 1  # not a terminal: no offer, one line


def test_a_configured_url_is_used_without_discovery(
    monkeypatch: pytest.MonkeyPatch, scripted_server: ScriptedServer
) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("discovery ran although a URL was configured")

    monkeypatch.setattr(discover, "find_server", refuse)
    simulate(scripted_server, "vllm", [[*harmony_ids("<|channel|>final<|message|>ok"), 200002]])
    host_port = scripted_server.url.removeprefix("http://")
    result = run(["ask", "hi", "-n", "--base-url", host_port])  # host:port without a scheme
    assert result.code == 0, result.stderr
    assert result.out == "ok\n"


def _port(server: ScriptedServer) -> int:
    return int(server.url.rsplit(":", 1)[1])
