"""The chat's banner, /file, /clear and /role, through prompt_toolkit's pipe input."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from gptoss_cli.harmony import get_tokenizer
from gptoss_cli.servers.profiles import get_profile
from gptoss_cli.session.turn import ChatSettings, Session, Target
from gptoss_cli.transport.client import Timeouts
from gptoss_cli.ui.repl import Repl
from gptoss_cli.ui.stream import ViewOptions

from ..scripted_server import ScriptedServer
from ..server_sims import harmony_ids, simulate
from .test_repl import _store_persistence

ANSWER = [*harmony_ids("<|channel|>final<|message|>Noted."), 200002]


def _chat(server: ScriptedServer, keys: str, **repl: Any) -> tuple[Session, str, str]:
    timeouts = Timeouts(connect=2, read=10)
    # the context vLLM lists on /v1/models, as the CLI's set-up reads it (tests build the target by hand)
    target = Target(
        server.url, get_profile("vllm"), "openai/gpt-oss-20b", timeouts=timeouts, context_length=4096
    )
    session = Session(target, ChatSettings(date="2026-01-01"))
    out, err = io.StringIO(), io.StringIO()
    with create_pipe_input() as inp:
        inp.send_text(keys)
        options = {"input": inp, "output": DummyOutput(), "stdout": out, "stderr": err, **repl}
        Repl(session, ViewOptions(), _store_persistence()[0], **options).run()
    return session, out.getvalue(), err.getvalue()


def _user(server: ScriptedServer, i: int = -1) -> str:
    prompt = get_tokenizer().decode(server.posts[i].json()["prompt"])
    return prompt.rsplit("<|start|>user<|message|>", 1)[1].split("<|end|>", 1)[0]


def test_the_banner_names_model_server_effort_and_help(scripted_server: ScriptedServer) -> None:
    _, _, err = _chat(scripted_server, "\x04")
    first = err.splitlines()[0]
    assert first == f"gptoss · openai/gpt-oss-20b on vLLM at {scripted_server.url} · reasoning medium"
    assert "/help" in err.splitlines()[1]


def test_file_attaches_to_the_next_message(scripted_server: ScriptedServer, tmp_path: Path) -> None:
    simulate(scripted_server, "vllm", [ANSWER])
    notes = tmp_path / "notes.txt"
    notes.write_text("buy milk\n")
    _, out, err = _chat(scripted_server, f"/file {notes}\rWhat is on the list?\r\x04")
    assert f"attached {notes} (9 characters)" in err
    assert _user(scripted_server) == f"`{notes}`:\n```\nbuy milk\n```\n\nWhat is on the list?"
    assert out == "Noted.\n"


def test_file_with_a_question_asks_at_once_and_a_missing_file_is_one_line(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    simulate(scripted_server, "vllm", [ANSWER])
    notes = tmp_path / "notes.txt"
    notes.write_text("x = 1\n")
    _, _, err = _chat(scripted_server, f"/file {tmp_path / 'nope'}\r/file {notes} Explain this\r\x04")
    assert "no such file" in err and "Traceback" not in err
    assert _user(scripted_server).endswith("Explain this") and len(scripted_server.posts) == 1


def test_clear_starts_over(scripted_server: ScriptedServer) -> None:
    simulate(scripted_server, "vllm", [ANSWER])
    session, _, err = _chat(scripted_server, "hello\r/clear\r\x04")
    assert session.history == [] and "new conversation" in err


def test_role_switches_instructions_effort_and_options(scripted_server: ScriptedServer) -> None:
    simulate(scripted_server, "vllm", [ANSWER])
    roles = {
        "terse": {"instructions": "Answer in one word.", "effort": "low", "options": {"temperature": 0.1}}
    }
    session, _, err = _chat(scripted_server, "/role\r/role terse\rhi\r/role nope\r\x04", roles=roles)
    assert "roles: terse" in err and "role terse" in err and "no role 'nope'" in err
    prompt = get_tokenizer().decode(scripted_server.posts[-1].json()["prompt"])
    assert "Answer in one word." in prompt and "Reasoning: low" in prompt
    assert scripted_server.posts[-1].json()["temperature"] == 0.1
    assert session.settings.instructions == "Answer in one word."
