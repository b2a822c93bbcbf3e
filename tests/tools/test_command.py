"""Command tools: output bounded by the tool output limit, with a note naming it (issue 11)."""

from __future__ import annotations

import sys

import pytest

from gptoss_cli.tools.command import CommandTool


def _tool(code: str) -> CommandTool:
    return CommandTool("t", "", None, (sys.executable, "-c", code))


def test_huge_output_is_cut_and_the_note_names_the_limit() -> None:
    out = _tool("import sys\nfor _ in range(200): sys.stdout.write('x' * 50_000)").run({})
    assert not out.error
    assert out.text.startswith("x" * 20_000) and len(out.text) < 20_200
    assert "bytes more) cut: the tool output limit is 20,000 characters (GPTOSS_MAX_TOOL_OUTPUT)" in out.text


def test_the_limit_can_be_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPTOSS_MAX_TOOL_OUTPUT", "30000")
    out = _tool("print('é' * 25_000)").run({})
    assert out.text == "é" * 25_000


def test_small_output_and_failures_are_unchanged() -> None:
    assert _tool("print('hi')").run({}).text == "hi"
    failed = _tool("import sys; sys.stderr.write('boom'); sys.exit(3)").run({})
    assert failed.error and failed.text == "the tool failed (exit code 3): boom"
