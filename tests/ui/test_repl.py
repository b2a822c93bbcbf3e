"""The chat REPL driven through prompt_toolkit's pipe input against the scripted server."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from gptoss_cli.config.resolve import resolve
from gptoss_cli.harmony import Role
from gptoss_cli.servers.profiles import get_profile
from gptoss_cli.session.persist import StorePersistence
from gptoss_cli.session.turn import ChatSettings, Session, Target
from gptoss_cli.store import Store
from gptoss_cli.transport.client import Timeouts
from gptoss_cli.ui.commands import Persistence
from gptoss_cli.ui.repl import Repl, unfence
from gptoss_cli.ui.stream import ViewOptions

from ..scripted_server import PingUntilGone, Reply, ScriptedServer, llamacpp_stream


def _answer(text: str) -> Reply:
    return Reply.sse(
        llamacpp_stream(
            [
                "<|channel|>analysis<|message|>",
                "hidden",
                "<|end|>",
                "<|start|>assistant<|channel|>final<|message|>",
                text,
            ]
        )
    )


@pytest.fixture
def chat(scripted_server: ScriptedServer) -> Iterator[tuple[ScriptedServer, Session]]:
    target = Target(scripted_server.url, get_profile("llamacpp"), timeouts=Timeouts(connect=2, read=10))
    yield scripted_server, Session(target, ChatSettings(date="2026-01-01"))


def _run(
    session: Session, keys: str, persistence: Persistence | None = None, out: io.StringIO | None = None
) -> tuple[str, str]:
    out, err = out or io.StringIO(), io.StringIO()
    with create_pipe_input() as inp:
        inp.send_text(keys)
        repl = Repl(
            session,
            ViewOptions(),
            persistence or _store_persistence()[0],
            input=inp,
            output=DummyOutput(),
            stdout=out,
            stderr=err,
        )
        repl.run()
    return out.getvalue(), err.getvalue()


def test_ask_retry_undo(chat: tuple[ScriptedServer, Session]) -> None:
    server, session = chat
    server.script("/v1/completions", _answer("first"), _answer("second"))
    out, err = _run(session, "hello\r/retry\r/undo\r\x04")
    assert out == "first\nsecond\n"
    assert "hidden" not in out + err
    assert session.history == []  # undo removed the question and its answer
    assert len(server.requests) == 2
    assert server.requests[0].json()["prompt"] == server.requests[1].json()["prompt"]


def test_save_then_load(chat: tuple[ScriptedServer, Session], tmp_path: Path) -> None:
    server, session = chat
    server.script("/v1/completions", _answer("Paris."))
    path = tmp_path / "c.json"
    _run(session, f"capital of France?\r/save {path}\r/new\r/load {path}\r\x04")
    saved = json.loads(path.read_text())
    assert [m["role"] for m in saved["messages"]][-2:] == ["assistant", "assistant"]
    assert [m.text for m in session.history if m.channel == "final"] == ["Paris."]


def test_multiline_block_and_escape_enter(chat: tuple[ScriptedServer, Session]) -> None:
    server, session = chat
    server.script("/v1/completions", _answer("a"), _answer("b"))
    _run(session, '"""\rline one\rline two\r"""\r' + "x\x1b\ry\r\x04")
    users = [m.text for m in session.history if m.author.role is Role.USER]
    assert users == ["line one\nline two", "x\ny"]


def test_slash_commands_change_settings(chat: tuple[ScriptedServer, Session]) -> None:
    server, session = chat
    server.script("/v1/completions", _answer("ok"))
    _, err = _run(session, "/reasoning high\r/instructions Be brief.\r/set temperature 0.2\r/bogus\rhi\r\x04")
    assert session.settings.reasoning.value == "High"
    assert session.settings.instructions == "Be brief."
    assert "unknown command /bogus" in err
    body = server.requests[0].json()
    assert body["temperature"] == 0.2
    from gptoss_cli.harmony import get_tokenizer

    prompt = get_tokenizer().decode(body["prompt"])
    assert "Reasoning: high" in prompt and "# Instructions\n\nBe brief." in prompt


def test_error_ends_the_turn_not_the_session(chat: tuple[ScriptedServer, Session]) -> None:
    server, session = chat
    server.script(
        "/v1/completions", Reply.json({"error": {"message": "model not loaded"}}, status=400), _answer("ok")
    )
    out, err = _run(session, "one\rtwo\r\x04")
    assert "model not loaded" in err
    assert out == "ok\n"


def test_ctrl_c_mid_stream_keeps_what_arrived_and_continue_resumes(
    chat: tuple[ScriptedServer, Session],
) -> None:
    server, session = chat
    steps = llamacpp_stream(["<|channel|>final<|message|>", "Half"], done=False)[:-1]  # no finish event
    server.script(
        "/v1/completions",
        Reply.sse([*steps, PingUntilGone(limit=5)]),
        Reply.sse(llamacpp_stream([" and the rest."])),
    )
    main = threading.get_ident()

    def interrupt() -> None:
        signal.pthread_kill(main, signal.SIGINT)

    timer = threading.Timer(1.0, interrupt)
    timer.start()
    try:
        out, err = _run(session, "tell me\r\x04")
    finally:
        timer.cancel()
    assert out.startswith("Half")
    assert "/continue" in err
    last = session.history[-1]
    assert last.text == "Half" and "incomplete" in last.notes
    # the cut-off answer is never replayed as complete: /continue resumes it as a prefill
    out, _ = _run(session, "/continue\r\x04")
    prompt_ids = server.requests[-1].json()["prompt"]
    from gptoss_cli.harmony import get_tokenizer

    assert get_tokenizer().decode(prompt_ids).endswith("<|start|>assistant<|channel|>final<|message|>Half")
    assert session.history[-1].text == "Half and the rest."
    assert "incomplete" not in session.history[-1].notes


def test_unfence() -> None:
    assert unfence('"""\na\nb\n"""') == "a\nb"
    assert unfence("plain") == "plain"


def test_completion_of_commands() -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from gptoss_cli.ui.repl import SlashCompleter

    names = [c.text for c in SlashCompleter().get_completions(Document("/re"), CompleteEvent())]
    assert names == ["/reasoning", "/retry"]
    choices = [c.text for c in SlashCompleter().get_completions(Document("/reasoning h"), CompleteEvent())]
    assert choices == ["high"]


assert os.name == "posix"


def test_tools_in_the_chat_with_approval(chat: tuple[ScriptedServer, Session], tmp_path: Path) -> None:
    import sys

    server, session = chat
    script = tmp_path / "echo.py"
    script.write_text("import json, sys\nprint(json.dumps(json.load(sys.stdin)))\n")
    tools = tmp_path / "tools.toml"
    tools.write_text(f'[tools.echo]\ndescription = "Echo"\ncommand = ["{sys.executable}", "echo.py"]\n')
    call = ["<|channel|>commentary to=functions.echo <|constrain|>json<|message|>", '{"x": 1}']
    server.script(
        "/v1/completions",
        Reply.sse(llamacpp_stream(call)),
        _answer("done"),
        Reply.sse(llamacpp_stream(call)),
        _answer("done again"),
    )
    # y approves the first call; n declines the second
    out, err = _run(session, f"/tools {tools}\rfirst\ry\rsecond\rn\r/tools\r\x04")
    assert out == "done\ndone again\n"
    assert "functions.echo" in err and "[ask]" in err
    tool_messages = [m.text for m in session.history if m.author.role is Role.TOOL]
    assert tool_messages[0] == '{"x": 1}'
    assert "declined" in tool_messages[1]
    assert [call.decision for call in session.tool_log] == ["yes", "no"]


# ------------------------------------------------------------- the real store (no fake persistence)


def _store_persistence() -> tuple[StorePersistence, list[str]]:
    notes: list[str] = []
    return StorePersistence(resolve(), notify=notes.append), notes


def _saved() -> list[list[str]]:
    """The user and final texts of every saved conversation, oldest first."""
    store = Store()
    out = []
    for summary in sorted(store.summaries(), key=lambda s: s.created):
        record = store.load(summary.id)
        out.append(
            [m.text for m in record.conversation.messages if m.role is Role.USER or m.channel == "final"]
        )
    return out


def test_new_keeps_the_old_conversation(chat: tuple[ScriptedServer, Session]) -> None:
    server, session = chat
    server.script("/v1/completions", _answer("Paris."), _answer("Rome."), _answer("Still Rome."))
    persistence, notes = _store_persistence()
    _run(session, "capital of France?\r/new\rcapital of Italy?\rsure?\r\x04", persistence)
    saved = sorted(_saved())
    assert saved == [
        ["capital of France?", "Paris."],
        ["capital of Italy?", "Rome.", "sure?", "Still Rome."],
    ]
    assert notes == []
    # the second conversation's prompt does not carry the first one
    from gptoss_cli.harmony import get_tokenizer

    assert "France" not in get_tokenizer().decode(server.requests[1].json()["prompt"])


def test_sigterm_mid_answer_in_the_chat_keeps_the_partial_turn(chat: tuple[ScriptedServer, Session]) -> None:
    from gptoss_cli.ui.signals import Terminated, terminate_gracefully

    server, session = chat
    steps = llamacpp_stream(["<|channel|>final<|message|>", "Half"], done=False)[:-1]
    server.script("/v1/completions", Reply.sse([*steps, PingUntilGone(limit=5)]))
    persistence, _ = _store_persistence()

    class Terminal(io.StringIO):
        """The terminal closes (SIGHUP's twin, SIGTERM) once the partial answer is on screen."""

        def write(self, text: str) -> int:
            written = super().write(text)
            if "Half" in self.getvalue():
                signal.raise_signal(signal.SIGTERM)
            return written

    with pytest.raises(Terminated), terminate_gracefully():
        _run(session, "tell me\r\x04", persistence, out=Terminal())
    assert _saved() == [["tell me", "Half"]]
    record = Store().load(Store().summaries()[0].id)
    assert record.meta.turns[0].incomplete is True


def test_retry_keeps_the_earlier_answer_as_a_sibling(chat: tuple[ScriptedServer, Session]) -> None:
    server, session = chat
    server.script("/v1/completions", _answer("first"), _answer("second"), _answer("third"))
    persistence, notes = _store_persistence()
    _run(session, "hello\r/retry\rmore\r\x04", persistence)
    store = Store()
    original, branch = sorted(store.summaries(), key=lambda s: s.created)
    assert _saved_texts(original.id) == ["hello", "first"]
    assert _saved_texts(branch.id) == ["hello", "second", "more", "third"]
    # system, "hello" and the identical reasoning ("hidden") are shared; the answers differ
    assert branch.parent == original.id and branch.parent_at == 3
    assert notes == []  # our own rewrite, not a concurrent one: nothing to warn about


def test_branch_n_goes_back_and_keeps_the_rest(chat: tuple[ScriptedServer, Session]) -> None:
    server, session = chat
    server.script("/v1/completions", _answer("A1"), _answer("A2"), _answer("B2"))
    persistence, _ = _store_persistence()
    _, err = _run(session, "q1\rq2\r/branch 1\rother q2\r\x04", persistence)
    assert "back to after exchange 1" in err
    from gptoss_cli.harmony import get_tokenizer

    assert "q2" not in get_tokenizer().decode(server.requests[-1].json()["prompt"]).replace("other q2", "")
    original, branch = sorted(Store().summaries(), key=lambda s: s.created)
    assert _saved_texts(original.id) == ["q1", "A1", "q2", "A2"]
    assert _saved_texts(branch.id) == ["q1", "A1", "other q2", "B2"]
    assert branch.parent == original.id
    _, err = _run(session, "/branch 7\r\x04", persistence)
    assert "has 2 exchanges, not 7" in err


def _saved_texts(ident: str) -> list[str]:
    record = Store().load(ident)
    return [m.text for m in record.conversation.messages if m.role is Role.USER or m.channel == "final"]
