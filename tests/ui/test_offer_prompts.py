"""The offer's questions (ui/offer.py) answered through plain streams; in a real terminal: test_offer.py."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gptoss_cli import errors
from gptoss_cli.ui.offer import Progress, ask_model, offer_server


def _ask(typed: str, problem: dict[str, str] | None = None) -> tuple[str | None, str]:
    err = io.StringIO()
    got = ask_model(
        "no server found", "acme/default-GGUF", (problem or {}).get, stdin=io.StringIO(typed), stderr=err
    )
    return got, err.getvalue()


def test_enter_after_yes_takes_the_default() -> None:
    got, said = _ask("y\n\n")
    assert got == "acme/default-GGUF"
    assert said.startswith("gptoss: no server found\nStart a local server now with `gptoss serve`? [y/N] ")
    assert "[acme/default-GGUF]: " in said


def test_a_typed_path_is_read_as_a_shell_would() -> None:
    assert _ask("yes\n'/models/my model.gguf'\n")[0] == "/models/my model.gguf"
    assert _ask("Y\n/models/my\\ model.gguf\n")[0] == "/models/my model.gguf"
    assert _ask("y\n  acme/other-GGUF  \n")[0] == "acme/other-GGUF"


@pytest.mark.parametrize("typed", ["\n", "n\n", "no\n", "", "y\n"])
def test_anything_but_yes_and_a_model_is_no(typed: str) -> None:
    assert _ask(typed)[0] is None  # Enter, n, Ctrl-D at either question


def test_a_model_that_cannot_be_served_is_asked_for_again() -> None:
    got, said = _ask("y\nbad.gguf\ngood.gguf\n", {"bad.gguf": "bad.gguf: no such file or directory"})
    assert got == "good.gguf"
    assert said.count("Model to serve") == 2 and "gptoss: bad.gguf: no such file or directory\n" in said


def test_nothing_is_offered_without_an_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    missing = errors.ServerError("no server found", hint="start one with `gptoss serve MODEL`")
    err = io.StringIO()
    with pytest.raises(errors.ServerError) as raised:
        offer_server(missing, None, tmp_path, stdin=io.StringIO("y\n\n"), stderr=err)
    assert raised.value is missing and err.getvalue() == ""


def test_progress_off_a_terminal_is_plain_lines() -> None:
    err = io.StringIO()
    progress = Progress(err)
    progress.say("starting llama-server")
    progress.tick(1.2)
    progress.clear()
    assert err.getvalue() == "gptoss: starting llama-server\n"
