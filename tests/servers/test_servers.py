"""Server profiles, -o options, the finish hint, and detection by probing the scripted server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gptoss_cli import errors
from gptoss_cli.config.schema import KIND_CHOICES
from gptoss_cli.servers.detect import (
    CACHE_FILE,
    ServerInfo,
    detect_server,
    forget_server,
    load_cache,
    resolve_server,
    server_warnings,
)
from gptoss_cli.servers.kinds import GENERIC_KIND, SERVER_KINDS, configured_kind
from gptoss_cli.servers.profiles import (
    HARMONY_CONTROL_TOKENS,
    PROFILES,
    check_body,
    finish_hint,
    get_profile,
    merge_body,
    parse_option_value,
    parse_options,
)
from gptoss_cli.transport.client import Finish, RetryPolicy, complete

from ..scripted_server import (
    HARMONY_TEXT,
    Reply,
    ScriptedServer,
    llamacpp_native_stream,
    llamacpp_stream,
    ollama_stream,
    vllm_stream,
)

# ------------------------------------------------------------------------------------------ profiles


def test_every_kind_has_a_profile() -> None:
    assert (
        set(PROFILES) == set(SERVER_KINDS) == {"vllm", "sglang", "llamacpp", "ollama", "lmstudio", "openai"}
    )


@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_doctor_hints_agree_with_what_the_profile_sends(kind: str) -> None:
    """A hint names the field its own profile sends, and refuses only endpoints the profile refuses."""
    profile = PROFILES[kind]
    assert profile.kind == kind
    keep = profile.doctor.keep_specials
    if keep is not None:
        assert keep.request_field in profile.defaults
    assert set(profile.doctor.refused) <= set(profile.refused_endpoints)
    if profile.doctor.forced_probes:
        assert profile.token_id_prompts  # the forced probes send token-id grammars
    assert profile.generic is (kind == GENERIC_KIND)


def test_configured_kind() -> None:
    assert [configured_kind(k) for k in (None, "auto", "vllm")] == [None, None, "vllm"]
    assert ("auto", *SERVER_KINDS) == KIND_CHOICES


def test_vllm_body() -> None:
    assert get_profile("vllm").build_body() == {
        "skip_special_tokens": False,
        "spaces_between_special_tokens": False,
        "add_special_tokens": False,
        "include_stop_str_in_output": True,
        "stop_token_ids": [200002, 200012, 199999],
        "return_token_ids": True,
        "stream_options": {"include_usage": True},
        "temperature": 1.0,
        "top_p": 1.0,
    }


def test_sglang_body() -> None:
    body = get_profile("sglang").build_body()
    assert body["skip_special_tokens"] is False
    assert body["stop_token_ids"] == [200002, 200012, 199999]
    assert body["return_token_ids"] is True
    assert "spaces_between_special_tokens" not in body  # SGLang has no such field


def test_llamacpp_body_and_native_endpoint() -> None:
    profile = get_profile("llamacpp")
    body = profile.build_body()
    assert body["preserved_tokens"] == list(HARMONY_CONTROL_TOKENS)
    assert set(HARMONY_CONTROL_TOKENS) == {
        "<|start|>",
        "<|end|>",
        "<|message|>",
        "<|channel|>",
        "<|constrain|>",
        "<|return|>",
        "<|call|>",
    }
    assert (body["temperature"], body["top_p"], body["top_k"], body["min_p"]) == (1.0, 1.0, 0, 0.0)
    assert "stop_token_ids" not in body and "return_tokens" not in body
    assert (profile.endpoint, profile.token_id_prompts) == ("openai", True)
    native = get_profile("llamacpp", endpoint="llamacpp")
    assert native.endpoint == "llamacpp" and native.build_body()["return_tokens"] is True


def test_ollama_body_and_refused_endpoint() -> None:
    profile = get_profile("ollama")
    assert (profile.endpoint, profile.token_id_prompts) == ("ollama", False)
    assert profile.build_body() == {
        "options": {"num_ctx": 16384, "temperature": 1.0, "top_p": 1.0, "top_k": 0, "min_p": 0.0},
        "truncate": False,
    }
    with pytest.raises(errors.ServerError, match="/v1/completions") as info:
        get_profile("ollama", endpoint="openai")
    assert "/api/generate" in (info.value.hint or "")


def test_generic_profiles_send_only_sampling() -> None:
    for kind in ("lmstudio", "openai"):
        profile = get_profile(kind)
        assert profile.build_body() == {"temperature": 1.0, "top_p": 1.0}
        assert not profile.token_id_prompts and profile.endpoint == "openai"


@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_no_profile_stops_on_end_or_ignores_eos(kind: str) -> None:
    body = json.dumps(get_profile(kind).build_body())
    assert "200007" not in body and "<|end|>" not in json.dumps(get_profile(kind).build_body().get("stop"))
    assert "ignore_eos" not in body


def test_unknown_kind() -> None:
    with pytest.raises(errors.UsageError, match="tgi") as info:
        get_profile("tgi")
    assert "vllm" in (info.value.hint or "")


# ------------------------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("0.2", 0.2),
        ("12", 12),
        ("true", True),
        ("null", None),
        ('["a", "b"]', ["a", "b"]),
        ('{"200012": false}', {"200012": False}),
        ("hello", "hello"),
        ("root ::= <|channel|>", "root ::= <|channel|>"),
        ('"quoted"', "quoted"),
    ],
)
def test_option_values_parse_as_json_else_string(raw: str, value: Any) -> None:
    assert parse_option_value(raw) == value


def test_parse_options_later_wins_and_key_required() -> None:
    assert parse_options([("temperature", "0.1"), ("temperature", "0.7"), ("seed", "3")]) == {
        "temperature": 0.7,
        "seed": 3,
    }
    with pytest.raises(errors.UsageError):
        parse_options([("", "1")])


def test_merge_body_layers() -> None:
    base = {"a": 1, "nested": {"x": 1, "y": 2}, "list": [1, 2], "gone": True}
    merged = merge_body(base, {"nested": {"y": 3, "z": 4}, "list": [9], "gone": None, "b": "s"})
    assert merged == {"a": 1, "nested": {"x": 1, "y": 3, "z": 4}, "list": [9], "b": "s"}
    assert base["nested"] == {"x": 1, "y": 2}  # inputs are not mutated


def test_precedence_defaults_config_call() -> None:
    profile = get_profile("llamacpp")
    body = profile.build_body(
        {"temperature": 0.5, "grammar": "root ::= x", "top_k": None},
        {"temperature": 0.0, "logit_bias": {"200012": False}, "stop": "<|x|>"},
    )
    assert body["temperature"] == 0.0 and body["grammar"] == "root ::= x"
    assert body["logit_bias"] == {"200012": False}
    assert body["stop"] == ["<|x|>"]  # llama.cpp reads stop only as an array
    assert "top_k" not in body  # null removes a default
    assert body["preserved_tokens"] == list(HARMONY_CONTROL_TOKENS)


def test_ollama_options_are_routed() -> None:
    body = get_profile("ollama").build_body(
        {"num_ctx": 32768},
        {"max_tokens": 100, "keep_alive": "5m", "stop": "\n\n", "options": {"seed": 1}, "temperature": 0.2},
    )
    assert body == {
        "keep_alive": "5m",
        "truncate": False,
        "options": {
            "num_ctx": 32768,
            "temperature": 0.2,
            "top_p": 1.0,
            "top_k": 0,
            "min_p": 0.0,
            "num_predict": 100,
            "stop": ["\n\n"],
            "seed": 1,
        },
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"stop_token_ids": [200002, 200007]},
        {"ignore_eos": True},
        {"stop": ["<|end|>"]},
        {"stop": "<|end|>"},
        {"options": {"stop": ["<|end|>"]}},
    ],
)
def test_harmony_breaking_fields_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(errors.UsageError):
        check_body(fields)
    with pytest.raises(errors.UsageError):
        get_profile("vllm").build_body(call_options=fields)


def test_token_ids_only_where_accepted() -> None:
    assert get_profile("vllm").request("http://h", [1, 2]).prompt == (1, 2)
    for kind in ("ollama", "lmstudio", "openai"):
        with pytest.raises(errors.UsageError, match="token-id"):
            get_profile(kind).request("http://h", [1, 2])


@pytest.mark.parametrize(
    ("kind", "path", "reply", "prompt"),
    [
        ("vllm", "/v1/completions", Reply.sse(vllm_stream()), [200006, 1428]),
        ("sglang", "/v1/completions", Reply.sse(vllm_stream()), [200006, 1428]),
        ("llamacpp", "/v1/completions", Reply.sse(llamacpp_stream()), [200006, 1428]),
        ("ollama", "/api/generate", Reply.ndjson(ollama_stream()), "<|start|>user"),
        ("lmstudio", "/v1/completions", Reply.sse(llamacpp_stream()), "<|start|>user"),
        ("openai", "/v1/completions", Reply.sse(vllm_stream()), "<|start|>user"),
    ],
)
def test_each_profile_sends_its_body(
    scripted_server: ScriptedServer, kind: str, path: str, reply: Reply, prompt: str | list[int]
) -> None:
    scripted_server.script(path, reply)
    profile = get_profile(kind)
    request = profile.request(
        scripted_server.url + "/v1", prompt, model="gpt-oss-20b", call_options={"max_tokens": 64}
    )
    assert complete(request).text == HARMONY_TEXT
    (sent,) = scripted_server.requests
    assert sent.path == path
    expected = profile.build_body(call_options={"max_tokens": 64})
    expected.update(model="gpt-oss-20b", prompt=prompt, stream=True)
    if kind == "ollama":
        expected["raw"] = True
    assert sent.json() == expected


def test_llamacpp_native_profile_end_to_end(scripted_server: ScriptedServer) -> None:
    scripted_server.script("/completion", Reply.sse(llamacpp_native_stream(eog=200012)))
    profile = get_profile("llamacpp", endpoint="llamacpp")
    result = complete(profile.request(scripted_server.url, [200006], retry=RetryPolicy(max_retries=0)))
    assert scripted_server.requests[0].json()["return_tokens"] is True
    assert finish_hint(result.finish, "llamacpp") == "call"


# --------------------------------------------------------------------------------------- finish hint


@pytest.mark.parametrize(
    ("finish", "kind", "tail", "hint"),
    [
        (Finish("length", 200012), "vllm", "", "length"),
        (Finish("stop", 200012), "vllm", "", "call"),
        (Finish("stop", None), "vllm", "", "return"),
        (Finish("stop", None), "openai", "", "unknown"),
        (Finish("stop", 200002), "sglang", "", "return"),
        (Finish("stop", "<|call|>", "word"), "llamacpp", "", "call"),
        (Finish("stop", None, "eos", 200012), "llamacpp", "", "call"),
        (Finish("stop", None, "eos", 200002), "llamacpp", "", "return"),
        (Finish("stop", None, "eos", 13), "llamacpp", "…{}<|call|>", "call"),
        (Finish("stop", None, None, None), "llamacpp", "answer<|return|>\n", "return"),
        (Finish("stop", None, "stop"), "ollama", "answer", "unknown"),
        (Finish("stop", "\n\n"), "vllm", "", "unknown"),
        (Finish("stop", 199999), "sglang", "", "unknown"),
    ],
)
def test_finish_hint(finish: Finish, kind: str, tail: str, hint: str) -> None:
    assert finish_hint(finish, kind, text_tail=tail) == hint


# ----------------------------------------------------------------------------------------- detection


def models(owner: str, **kw: Any) -> Reply:
    return Reply.json(
        {"object": "list", "data": [{"id": "gpt-oss-20b", "object": "model", "owned_by": owner}]}, **kw
    )


def script_get(server: ScriptedServer, replies: dict[str, Reply]) -> None:
    for path, reply in replies.items():
        server.script(path, reply, method="GET")


@pytest.mark.parametrize(
    ("replies", "kind", "version", "source"),
    [
        (
            {"/v1/models": models("vllm"), "/version": Reply.json({"version": "0.10.1"})},
            "vllm",
            "0.10.1",
            "/v1/models",
        ),
        (
            {
                "/v1/models": models("sglang"),
                "/get_server_info": Reply.json({"model_path": "m", "version": "0.5.0"}),
            },
            "sglang",
            "0.5.0",
            "/v1/models",
        ),
        (
            {
                "/v1/models": models("x", headers={"Server": "llama.cpp"}),
                "/props": Reply.json({"build_info": "b6100"}),
            },
            "llamacpp",
            "b6100",
            "/v1/models",
        ),
        (
            {"/v1/models": models("someone"), "/props": Reply.json({"default_generation_settings": {}})},
            "llamacpp",
            None,
            "/props",
        ),
        (
            {"/v1/models": models("library"), "/api/version": Reply.json({"version": "0.11.4"})},
            "ollama",
            "0.11.4",
            "/api/version",
        ),
        (
            {
                "/v1/models": models("organization_owner"),
                "/api/v0/models": Reply.json(
                    {
                        "data": [
                            {
                                "id": "openai/gpt-oss-20b",
                                "publisher": "openai",
                                "arch": "gpt-oss",
                                "state": "loaded",
                            }
                        ]
                    }
                ),
            },
            "lmstudio",
            None,
            "/api/v0/models",
        ),
        ({"/v1/models": models("openai")}, "openai", None, "no server-specific endpoint answered"),
        ({"/version": Reply.json({"version": "0.9.2"})}, "vllm", "0.9.2", "/version"),
    ],
)
def test_detect_server(
    scripted_server: ScriptedServer, replies: dict[str, Reply], kind: str, version: str | None, source: str
) -> None:
    script_get(scripted_server, replies)
    info = detect_server(scripted_server.url + "/v1/", api_key="k")
    assert (info.kind, info.version, info.source) == (kind, version, source)
    assert info.base_url == scripted_server.url
    assert scripted_server.requests[0].path == "/v1/models"
    assert all(r.headers.get("authorization") == "Bearer k" for r in scripted_server.requests)


def test_detect_unreachable_server_raises() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(errors.ConnectError):
        detect_server(f"http://127.0.0.1:{port}")


def test_resolve_caches_per_base_url(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    script_get(scripted_server, {"/v1/models": models("vllm"), "/version": Reply.json({"version": "0.10.1"})})
    first = resolve_server(scripted_server.url + "/v1", cache_dir=tmp_path)
    probes = len(scripted_server.requests)
    assert first.kind == "vllm" and probes == 2
    again = resolve_server(scripted_server.url, cache_dir=tmp_path)
    assert again == first and len(scripted_server.requests) == probes  # served from the cache
    doc = json.loads((tmp_path / CACHE_FILE).read_text())
    assert doc["format"] == 1 and doc["servers"][scripted_server.url]["kind"] == "vllm"
    assert [p.name for p in tmp_path.iterdir()] == [CACHE_FILE]  # no temp files left behind
    assert load_cache(tmp_path) == {scripted_server.url: first}


def test_resolve_refresh_and_expiry_probe_again(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    script_get(scripted_server, {"/v1/models": models("vllm"), "/version": Reply.json({"version": "1"})})
    resolve_server(scripted_server.url, cache_dir=tmp_path)
    script_get(scripted_server, {"/v1/models": models("sglang")})
    assert resolve_server(scripted_server.url, cache_dir=tmp_path, refresh=True).kind == "sglang"
    script_get(scripted_server, {"/v1/models": models("llamacpp")})
    assert resolve_server(scripted_server.url, cache_dir=tmp_path, max_age=0).kind == "llamacpp"
    assert load_cache(tmp_path)[scripted_server.url].kind == "llamacpp"


def test_configured_kind_wins_without_probing(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    info = resolve_server(scripted_server.url, cache_dir=tmp_path, kind="ollama")
    assert (info.kind, info.source) == ("ollama", "configured")
    assert scripted_server.requests == [] and not (tmp_path / CACHE_FILE).exists()
    with pytest.raises(errors.UsageError):
        resolve_server(scripted_server.url, cache_dir=tmp_path, kind="tgi")


def test_corrupt_cache_is_probed_again_and_rewritten(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    (tmp_path / CACHE_FILE).write_text("{not json")
    assert load_cache(tmp_path) == {}
    bad = {"format": 1, "servers": {"x": {"kind": "nope"}, scripted_server.url: "junk"}}
    (tmp_path / CACHE_FILE).write_text(json.dumps(bad))
    assert load_cache(tmp_path) == {}
    script_get(scripted_server, {"/v1/models": models("sglang")})
    assert resolve_server(scripted_server.url, cache_dir=tmp_path).kind == "sglang"
    assert load_cache(tmp_path)[scripted_server.url].kind == "sglang"


def test_forget_server(tmp_path: Path) -> None:
    from gptoss_cli.servers.detect import save_cache

    save_cache(tmp_path / "new", {"http://a": ServerInfo("http://a", "vllm", detected_at=1.0)})
    forget_server(tmp_path / "new", "http://a/v1")
    assert load_cache(tmp_path / "new") == {}


def test_server_info_round_trip() -> None:
    info = ServerInfo("http://a", "llamacpp", "b1", "/props", 12.5)
    assert ServerInfo.from_dict(info.to_dict()) == info
    with pytest.raises(ValueError):
        ServerInfo.from_dict({"base_url": "http://a", "kind": "llamacpp", "version": 3})


@pytest.mark.parametrize(
    ("kind", "version", "warns"),
    [
        ("ollama", "0.30.1", True),
        ("ollama", "v0.31.0-rc1", True),
        ("ollama", "0.11.4", False),
        ("vllm", None, False),
    ],
)
def test_server_warnings(kind: str, version: str | None, warns: bool) -> None:
    notes = server_warnings(ServerInfo("http://a", kind, version))
    assert bool(notes) is warns
    if warns:
        assert "control tokens" in notes[0]
