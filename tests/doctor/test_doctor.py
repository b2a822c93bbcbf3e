"""``gptoss doctor``'s checks against scripted servers: good and misconfigured llama.cpp, vLLM and Ollama,
a server that is down, and refused keys. Every verdict and fix is asserted, and so is what doctor sent."""

from __future__ import annotations

import socket
from typing import Any

from gptoss_cli.doctor.checks import (
    AUTH,
    CALL_ENDS,
    CONTENT,
    LATENCY,
    LIMIT,
    MARKERS,
    MODELS,
    REACHABLE,
    RETURN_ENDS,
    SERVER,
    SPECIAL,
    SPEED,
    TOKEN_IDS,
)
from gptoss_cli.doctor.probes import LITERAL, call_prompt, final_prompt, forced, forced_prompt, plain_prompt
from gptoss_cli.doctor.run import DoctorOptions, DoctorReport, run_doctor
from gptoss_cli.harmony.tokens import CALL, END, ENDOFTEXT, RETURN, get_tokenizer

from ..doctor_servers import (
    FORCED_CALL,
    FORCED_RETURN,
    PLAIN,
    RANDOM,
    llama_events,
    llama_good,
    llama_no_special,
    llama_server,
    llama_stripped,
    models_list,
    ollama_detection,
    ollama_lines,
    vllm_detection,
    vllm_events,
    vllm_good,
    vllm_skipping,
)
from ..scripted_server import HARMONY_IDS, HARMONY_PIECES, Reply, ScriptedServer, json_error


def doctor(server: ScriptedServer, **kw: Any) -> DoctorReport:
    return run_doctor(DoctorOptions(server.url, **kw))


def statuses(report: DoctorReport) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def posts(server: ScriptedServer) -> list[dict[str, Any]]:
    return [r.json() for r in server.requests if r.method == "POST"]


ALL_OK = {
    REACHABLE: "ok", AUTH: "ok", SERVER: "ok", MODELS: "ok", LIMIT: "ok", TOKEN_IDS: "ok", MARKERS: "ok",
    RETURN_ENDS: "ok", CALL_ENDS: "ok", CONTENT: "ok", LATENCY: "ok", SPEED: "ok",
}  # fmt: skip


# ------------------------------------------------------------------------------------------ the probes


def test_plain_probe_holds_the_literal_as_ordinary_tokens() -> None:
    prompt = plain_prompt()
    tok = get_tokenizer()
    assert prompt.ids[-2:] == (200006, tok.encode("assistant")[0])
    assert list(prompt.ids).count(END) == 2  # the system's and the user's message ends, not the literal
    # as text, the literal is neutralised as the session does: only the two real <|end|> remain
    assert prompt.text.count(LITERAL) == 2 and "token: <\u2060|end|><|end|>" in prompt.text
    assert get_tokenizer().encode_with_specials(prompt.text).count(END) == 2
    # if a server parsed the literal, the prompt would be shorter: that is what the count check sees
    assert prompt.parsed_count < len(prompt.ids) < prompt.text_count


def test_prefilled_probes_end_in_an_open_header() -> None:
    assert final_prompt().text.endswith("<|start|>assistant<|channel|>final<|message|>")
    assert call_prompt().text.endswith(
        "<|start|>assistant to=functions.ping<|channel|>commentary <|constrain|>json<|message|>"
    )
    assert "type ping = () => any;" in call_prompt().text
    assert forced_prompt(tools=False).text.endswith("<|end|><|start|>assistant")


def test_probes_in_the_oss_form_write_the_call_header_channel_first() -> None:
    header = "<|start|>assistant<|channel|>commentary to=functions.ping <|constrain|>json<|message|>"
    assert call_prompt("oss").text.endswith(header)
    assert final_prompt("oss").text == final_prompt().text  # no recipient: the forms agree
    assert (
        forced(CALL, "oss").text == "<|channel|>commentary to=functions.ping <|constrain|>json<|message|>{}"
    )
    assert forced(RETURN, "oss") == FORCED_RETURN


def test_forced_fields_chain_ids_and_leave_one_terminator() -> None:
    assert FORCED_RETURN.text == "<|channel|>final<|message|>OK"
    assert FORCED_RETURN.fields["grammar"] == "root ::= <[200005]> <[17196]> <[200008]> <[5175]>\n"
    assert FORCED_RETURN.fields["logit_bias"] == {str(CALL): False, str(ENDOFTEXT): False}
    assert FORCED_RETURN.fields["max_tokens"] == 5
    assert FORCED_CALL.text == " to=functions.ping<|channel|>commentary <|constrain|>json<|message|>{}"
    assert FORCED_CALL.fields["logit_bias"] == {str(RETURN): False, str(ENDOFTEXT): False}
    assert str(RETURN) not in FORCED_CALL.fields["grammar"] and str(CALL) not in FORCED_CALL.fields["grammar"]


# ----------------------------------------------------------------------------------------------- llama.cpp


def test_good_llamacpp(scripted_server: ScriptedServer) -> None:
    llama_good(scripted_server)
    report = doctor(scripted_server)
    assert report.ok
    assert statuses(report) == {**ALL_OK, SPECIAL: "ok"}
    assert (report.kind, report.version, report.profile) == ("llamacpp", "b6500-1a2b3c", "llamacpp")
    assert report.model == "models/tiny-gpt-oss-f16.gguf"
    assert report.check(RETURN_ENDS).detail == "generation stopped on <|return|> (<|return|> is in the text)"
    assert (
        f"sent {len(PLAIN.ids)} token ids and the server counted {len(PLAIN.ids)}"
        in report.check(CONTENT).detail
    )
    assert report.summary() == f"{scripted_server.url} can serve Harmony (llama.cpp b6500-1a2b3c)"

    plain, ret, call, bare = posts(scripted_server)
    assert plain["prompt"] == list(PLAIN.ids)
    assert "grammar" not in plain and plain["max_tokens"] == 16
    assert ret["prompt"] == list(forced_prompt(tools=False).ids)
    assert ret["grammar"] == FORCED_RETURN.fields["grammar"] and ret["logit_bias"] == {
        "200012": False,
        "199999": False,
    }
    assert "<|return|>" in ret["preserved_tokens"] and "<|call|>" in call["preserved_tokens"]
    assert call["prompt"] == list(forced_prompt(tools=True).ids)
    assert "preserved_tokens" not in bare and bare["grammar"] == ret["grammar"]


def test_llamacpp_without_special_works_through_preserved_tokens(scripted_server: ScriptedServer) -> None:
    llama_no_special(scripted_server)
    report = doctor(scripted_server)
    assert report.ok
    assert statuses(report) == {**ALL_OK, SPECIAL: "warn"}
    special = report.check(SPECIAL)
    assert "runs without --special: <|return|> and <|call|> are left out" in special.detail
    assert special.fix == "start llama-server with --special so that every client sees them"
    assert report.summary().endswith("can serve Harmony (llama.cpp b6500-1a2b3c; 1 warning)")


def test_llamacpp_stripping_control_tokens(scripted_server: ScriptedServer) -> None:
    llama_stripped(scripted_server)
    report = doctor(scripted_server)
    assert not report.ok
    markers = report.check(MARKERS)
    assert markers.status == "fail"
    assert markers.detail == "control tokens are stripped from the output: 'finalOK'"
    assert markers.fix == "start llama-server with --special (this build ignores preserved_tokens)"
    for name in (RETURN_ENDS, CALL_ENDS):
        check = report.check(name)
        assert check.status == "warn"
        assert "is not in the text and no stop_reason or token id names it" in check.detail
        assert check.fix == markers.fix
    assert report.check(SPECIAL).status == "warn"
    assert [c.name for c in report.failures] == [MARKERS]
    assert report.summary().startswith(f"{scripted_server.url} cannot serve Harmony: control tokens: ")


def test_llamacpp_generic_profile_names_the_llamacpp_profile(scripted_server: ScriptedServer) -> None:
    """The generic profile sends text and no preserved_tokens: terminators vanish on a default server."""
    llama_server(
        scripted_server,
        llama_events(RANDOM, "length", PLAIN.text_count),
        llama_events([FORCED_RETURN.text, ""]),
        llama_events([FORCED_CALL.text, ""]),
    )
    report = doctor(scripted_server, profile_kind="openai")
    assert report.ok  # gptoss tells a call from an answer by the header's recipient
    assert report.check(SERVER).status == "warn"
    assert report.check(SERVER).fix == "drop --kind (or use --kind llamacpp)"
    assert report.check(TOKEN_IDS).status == "skip"
    assert report.check(CONTENT).status == "ok"
    assert "neutralised" in report.check(CONTENT).detail
    assert report.check(RETURN_ENDS).status == "warn"
    assert report.check(RETURN_ENDS).fix == (
        "start llama-server with --special, or use --kind llamacpp (it sends preserved_tokens)"
    )
    assert SPECIAL not in statuses(report)
    plain = posts(scripted_server)[0]
    assert isinstance(plain["prompt"], str) and "<\u2060|end|>" in plain["prompt"]
    assert "preserved_tokens" not in plain


def test_llamacpp_without_token_grammars_falls_back_to_natural_probes(
    scripted_server: ScriptedServer,
) -> None:
    llama_server(
        scripted_server,
        llama_events(["<|channel|>", "analysis", "<|message|>", "Hi"], "length", len(PLAIN.ids)),
        json_error(400, "Failed to initialize samplers: failed to parse grammar"),
        llama_events(["OK", "<|return|>"]),
        llama_events(["{}", "<|call|>"]),
    )
    report = doctor(scripted_server)
    assert report.ok
    assert (
        report.check(MARKERS).detail
        == "<|channel|> and <|message|> arrive as text ('<|channel|>analysis<|message|>Hi')"
    )
    assert [("grammar" in p) for p in posts(scripted_server)] == [False, True, False, False]
    assert posts(scripted_server)[2]["prompt"] == list(final_prompt().ids)


# --------------------------------------------------------------------------------------------------- vLLM


def test_good_vllm(scripted_server: ScriptedServer) -> None:
    vllm_good(scripted_server)
    report = doctor(scripted_server)
    assert report.ok
    assert statuses(report) == ALL_OK
    assert (report.kind, report.version, report.model) == ("vllm", "0.10.1", "openai/gpt-oss-20b")
    assert report.check(CALL_ENDS).detail == "generation stopped on <|call|> (<|call|> is in the text)"
    plain, final, call = posts(scripted_server)
    for body in (plain, final, call):
        assert body["skip_special_tokens"] is False and body["stop_token_ids"] == [200002, 200012, 199999]
        assert body["model"] == "openai/gpt-oss-20b"
    assert plain["prompt"] == list(PLAIN.ids)
    assert final["prompt"] == list(final_prompt().ids) and call["prompt"] == list(call_prompt().ids)


def test_doctor_sends_its_probes_in_the_configured_form(scripted_server: ScriptedServer) -> None:
    vllm_good(scripted_server)
    assert doctor(scripted_server, harmony="oss").ok
    plain, final, call = posts(scripted_server)
    assert plain["prompt"] == list(plain_prompt("oss").ids)
    assert final["prompt"] == list(final_prompt("oss").ids)
    assert call["prompt"] == list(call_prompt("oss").ids) != list(call_prompt().ids)


def test_vllm_through_the_generic_profile_strips_special_tokens(scripted_server: ScriptedServer) -> None:
    vllm_skipping(scripted_server, text_prompt_tokens=PLAIN.text_count)
    report = doctor(scripted_server, profile_kind="openai")
    assert not report.ok
    markers = report.check(MARKERS)
    assert markers.status == "fail"
    assert markers.detail.startswith("control tokens are stripped from the output: 'analysisUser asks 2+2.")
    assert markers.fix == "send skip_special_tokens=false: use --kind vllm (or -o skip_special_tokens false)"
    assert report.check(SERVER).status == "warn"
    assert report.check(RETURN_ENDS).status == "ok"  # vLLM: stop with stop_reason null is the primary EOS
    assert "skip_special_tokens" not in posts(scripted_server)[0]


def test_vllm_ignoring_skip_special_tokens(scripted_server: ScriptedServer) -> None:
    vllm_skipping(scripted_server, text_prompt_tokens=len(PLAIN.ids))
    report = doctor(scripted_server)
    assert report.check(MARKERS).status == "fail"
    assert report.check(MARKERS).fix == (
        "this vLLM ignores skip_special_tokens=false: upgrade it, or check any proxy"
    )


def test_vllm_refusing_token_ids(scripted_server: ScriptedServer) -> None:
    vllm_detection(scripted_server)
    scripted_server.script(
        "/v1/completions",
        json_error(400, "prompt must be a string", "vllm"),
        vllm_events(HARMONY_PIECES, HARMONY_IDS, finish="length", prompt_tokens=PLAIN.text_count),
        vllm_events(["OK", "<|return|>"], [5175, RETURN]),
        vllm_events(["{}", "<|call|>"], [12083, CALL], stop_reason=CALL),
    )
    report = doctor(scripted_server)
    assert not report.ok
    check = report.check(TOKEN_IDS)
    assert check.status == "fail"
    assert (
        "refused, but the same prompt as text works" in check.detail
        and "prompt must be a string" in check.detail
    )
    assert [type(p["prompt"]) for p in posts(scripted_server)] == [list, str, str, str]
    assert report.check(CONTENT).status == "ok"


def test_generation_running_past_return(scripted_server: ScriptedServer) -> None:
    vllm_detection(scripted_server)
    scripted_server.script(
        "/v1/completions",
        vllm_events(HARMONY_PIECES, HARMONY_IDS, finish="length", prompt_tokens=len(PLAIN.ids)),
        vllm_events(["OK", "<|return|>", "<|start|>", "user"], finish="length"),
        vllm_events(["{}", "<|call|>"], stop_reason=CALL),
    )
    report = doctor(scripted_server)
    check = report.check(RETURN_ENDS)
    assert check.status == "fail"
    assert check.detail == "generation went on after <|return|>: '<|return|><|start|>user'"
    assert check.fix is not None and check.fix.startswith("send stop_token_ids [200002, 200012, 199999]")


def test_text_prompt_whose_literal_becomes_a_control_token(scripted_server: ScriptedServer) -> None:
    """A server that undoes the neutralisation: the prompt count gives it away."""
    vllm_skipping(scripted_server, text_prompt_tokens=PLAIN.parsed_count)
    report = doctor(scripted_server, profile_kind="openai")
    check = report.check(CONTENT)
    assert check.status == "fail"
    assert "into the control token" in check.detail
    assert check.fix == "send token-id prompts: use --kind vllm"


# ------------------------------------------------------------------------------------------------- Ollama


def test_ollama_v1_completions_is_refused(scripted_server: ScriptedServer) -> None:
    ollama_detection(scripted_server)
    report = doctor(scripted_server, profile_kind="openai")
    assert not report.ok
    check = report.check(SERVER)
    assert check.status == "fail"
    assert check.detail.startswith("Ollama 0.11.4, from /api/version: its /v1/completions wraps the prompt")
    assert (
        check.fix == "this server's /v1/completions cannot serve Harmony: use /api/generate (--kind ollama)"
    )
    assert not posts(scripted_server)
    assert {c.status for c in report.checks[4:]} == {"skip"}


def test_ollama_raw_generate(scripted_server: ScriptedServer) -> None:
    ollama_detection(scripted_server)
    scripted_server.script(
        "/api/generate",
        ollama_lines(HARMONY_PIECES, PLAIN.text_count, "length"),
        ollama_lines(["OK"], 10),
        ollama_lines(["{}"], 10),
    )
    report = doctor(scripted_server)
    assert report.ok
    assert report.check(TOKEN_IDS).status == "skip"
    assert "Ollama never says which terminator" in report.check(CALL_ENDS).detail
    plain = posts(scripted_server)[0]
    assert plain["raw"] is True and plain["model"] == "gpt-oss:20b"
    assert plain["prompt"] == PLAIN.text and plain["options"]["num_predict"] == 16


def test_ollama_0_30_drops_control_tokens(scripted_server: ScriptedServer) -> None:
    ollama_detection(scripted_server, version="0.30.2")
    stripped = [p for p in HARMONY_PIECES if not p.startswith("<|")]
    scripted_server.script(
        "/api/generate",
        ollama_lines(stripped, PLAIN.text_count, "length"),
        ollama_lines(["OK"], 10),
        ollama_lines(["{}"], 10),
    )
    report = doctor(scripted_server)
    assert report.check(SERVER).status == "warn"
    assert report.check(MARKERS).status == "fail"
    assert report.check(MARKERS).fix == (
        "Ollama 0.30 and later drop control tokens in raw mode: use an older Ollama or llama-server"
    )


def ollama_without_v1_models(server: ScriptedServer, *names: str) -> None:
    """An Ollama whose /v1/models is missing: its models come from ``GET /api/tags`` (Ollama
    docs/api.md, "List Local Models": ``{"models": [{"name": ..., "model": ...}]}``)."""
    server.script("/api/version", Reply.json({"version": "0.11.4"}), method="GET")
    tags = {"models": [{"name": name, "model": name} for name in names]}
    server.script("/api/tags", Reply.json(tags), method="GET")


def test_ollama_models_from_its_tags(scripted_server: ScriptedServer) -> None:
    ollama_without_v1_models(scripted_server, "gpt-oss:20b")
    scripted_server.script(
        "/api/generate",
        ollama_lines(HARMONY_PIECES, PLAIN.text_count, "length"),
        ollama_lines(["OK"], 10),
        ollama_lines(["{}"], 10),
    )
    report = doctor(scripted_server)
    assert report.ok
    assert (report.kind, report.model) == ("ollama", "gpt-oss:20b")
    assert report.check(MODELS).detail == "using 'gpt-oss:20b'"
    assert posts(scripted_server)[0]["model"] == "gpt-oss:20b"


def test_ollama_without_a_model(scripted_server: ScriptedServer) -> None:
    ollama_without_v1_models(scripted_server)
    report = doctor(scripted_server)
    check = report.check(MODELS)
    assert (check.status, check.detail, check.fix) == (
        "fail",
        "Ollama has no model",
        "ollama pull gpt-oss:20b",
    )
    assert not posts(scripted_server)
    assert report.check(MARKERS).detail == "not checked: no model"


# ------------------------------------------------------------------------------------ down, auth, models


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_server_down_names_the_url() -> None:
    url = closed_port_url()
    report = run_doctor(DoctorOptions(url + "/v1/"))
    assert not report.ok
    check = report.check(REACHABLE)
    assert check.status == "fail"
    assert f"cannot connect to {url}/v1/models" in check.detail
    assert check.fix == "start the server, or point gptoss at it with --base-url URL or GPTOSS_BASE_URL"
    assert [c.status for c in report.checks[1:]] == ["skip"] * 11
    assert report.summary().startswith(
        f"{url} cannot serve Harmony: reachable: cannot connect to {url}/v1/models"
    )


def test_unauthorised_without_a_key(scripted_server: ScriptedServer) -> None:
    scripted_server.script("/v1/models", json_error(401, "Invalid API key"), method="GET")
    report = doctor(scripted_server)
    check = report.check(AUTH)
    assert check.status == "fail"
    assert check.detail == f"{scripted_server.url}/v1/models answered HTTP 401: Invalid API key"
    assert check.fix == (
        "set GPTOSS_API_KEY or OPENAI_API_KEY to the server's API key "
        "(or name another variable with --api-key-env)"
    )
    assert report.check(REACHABLE).status == "ok"
    assert report.check(SERVER).status == "skip"


def test_refused_key_names_its_variable_and_stays_secret(scripted_server: ScriptedServer) -> None:
    scripted_server.script("/v1/models", json_error(403, "forbidden"), method="GET")
    report = doctor(scripted_server, api_key="sk-secret-123", api_key_env="MY_KEY")
    check = report.check(AUTH)
    assert check.status == "fail"
    assert check.fix == "the key in $MY_KEY was refused: check it and its permissions"
    assert "sk-secret-123" not in repr(report.to_dict())
    assert scripted_server.requests[0].headers["authorization"] == "Bearer sk-secret-123"


def test_key_refused_on_completions_only(scripted_server: ScriptedServer) -> None:
    vllm_detection(scripted_server)
    scripted_server.script("/v1/completions", json_error(401, "bad key for completions"))
    report = doctor(scripted_server, api_key_env="UNSET_VAR")
    check = report.check(AUTH)
    assert check.status == "fail"
    assert check.detail == f"{scripted_server.url}/v1/completions answered HTTP 401: bad key for completions"
    assert check.fix == "$UNSET_VAR is not set: export UNSET_VAR=<the server's API key>"
    assert report.check(MARKERS).status == "skip"


def test_several_models_need_a_choice(scripted_server: ScriptedServer) -> None:
    vllm_detection(scripted_server, "gpt-oss-20b", "gpt-oss-120b")
    report = doctor(scripted_server)
    check = report.check(MODELS)
    assert (check.status, check.detail, check.fix) == (
        "fail", "2 models served: gpt-oss-20b, gpt-oss-120b", "pass --model M",
    )  # fmt: skip
    assert not posts(scripted_server)


def test_model_not_served(scripted_server: ScriptedServer) -> None:
    vllm_detection(scripted_server)
    report = doctor(scripted_server, model="gpt-oss-120b")
    check = report.check(MODELS)
    assert check.status == "fail"
    assert check.fix == "pass --model openai/gpt-oss-20b"


def test_generic_server_with_another_model_and_a_failing_completion(scripted_server: ScriptedServer) -> None:
    answer = models_list("llama-3-8b", owned_by="someone")
    scripted_server.script("/v1/models", Reply.json(answer), Reply.json(answer), method="GET")
    scripted_server.script("/v1/completions", json_error(500, "boom"))
    report = doctor(scripted_server)
    assert report.kind == "openai"
    assert report.check(MODELS).status == "warn"
    assert "does not look like a gpt-oss model" in report.check(MODELS).detail
    assert report.check(MARKERS).status == "fail"
    assert "answered HTTP 500" in report.check(MARKERS).detail


def test_no_model_list(scripted_server: ScriptedServer) -> None:
    """Nothing but /v1/completions: the generic profile, no model name, text prompts."""
    scripted_server.script(
        "/v1/completions",
        vllm_events(HARMONY_PIECES, finish="length", prompt_tokens=PLAIN.text_count),
        vllm_events(["OK", "<|return|>"]),
        vllm_events(["{}", "<|call|>"]),
    )
    report = doctor(scripted_server)
    assert report.ok
    assert (report.kind, report.profile, report.model) == ("openai", "openai", None)
    models = report.check(MODELS)
    assert models.status == "warn"
    assert models.detail == "cannot list models (GET /v1/models answered HTTP 404); sending no model name"
    assert all("model" not in body for body in posts(scripted_server))
