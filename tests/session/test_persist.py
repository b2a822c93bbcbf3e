"""Nothing is lost: concurrent continuations, SIGTERM and SIGHUP, interrupted writes.

Real ``gptoss`` processes against the scripted server and the real store (no fake persistence).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gptoss_cli.harmony import Role
from gptoss_cli.store import Record, Store

from ..cli.runner import run
from ..scripted_server import Gate, PingUntilGone, Reply, ScriptedServer, llamacpp_stream


def _answer(text: str, *before: object) -> Reply:
    return Reply.sse([*before, *llamacpp_stream(["<|channel|>final<|message|>", text])])  # type: ignore[list-item]


def _gptoss(server: ScriptedServer, home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gptoss_cli", *args, "--base-url", server.url, "--kind", "llamacpp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "GPTOSS_HOME": str(home)},
    )


def _texts(record: Record) -> list[str]:
    return [m.text for m in record.conversation.messages if m.role is Role.USER or m.channel == "final"]


def _all() -> list[Record]:
    store = Store()
    return [store.load(s.id) for s in store.summaries()]


def _start(server: ScriptedServer) -> str:
    server.script("/v1/completions", _answer("First answer."))
    first = run(["ask", "first question", "--base-url", server.url, "--kind", "llamacpp"])
    assert first.code == 0
    (summary,) = Store().summaries()
    return summary.id


@pytest.mark.parametrize(("count", "how"), [(5, "cid"), (3, "continue")])
def test_parallel_continuations_each_keep_their_turn(
    scripted_server: ScriptedServer, home: Path, count: int, how: str
) -> None:
    cid = _start(scripted_server)
    gate = Gate(threading.Barrier(count))  # every process has read the conversation before any saves
    scripted_server.script("/v1/completions", *(_answer(f"answer {i}", gate) for i in range(count)))
    where = ["--cid", cid] if how == "cid" else ["-c"]
    children = [_gptoss(scripted_server, home, "ask", f"follow-up {i}", *where) for i in range(count)]
    results = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0] * count, [r[1] for r in results]

    records = _all()
    assert len(records) == count  # the original plus a branch for each process that found it moved on
    original = next(r for r in records if r.id == cid)
    branches = [r for r in records if r.id != cid]
    turns = [_texts(r)[2:] for r in records]  # the server answers in the order the requests came
    assert all(len(turn) == 2 for turn in turns)
    assert sorted(t[0] for t in turns) == [f"follow-up {i}" for i in range(count)]
    assert sorted(t[1] for t in turns) == [f"answer {i}" for i in range(count)]
    for record in records:
        assert _texts(record)[:2] == ["first question", "First answer."]
    assert len(original.meta.turns) == 2
    for branch in branches:
        assert branch.meta.extra["branch_of"] == {"id": cid, "messages": 3}
    notices = [err.decode() for _, err in results if b"branch" in err]
    assert len(notices) == count - 1
    assert all(f"conversation {cid} changed since it was read" in n for n in notices)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_mid_answer_keep_the_partial_turn(
    scripted_server: ScriptedServer, home: Path, sig: signal.Signals
) -> None:
    steps = llamacpp_stream(["<|channel|>final<|message|>", "Half an answer"], done=False)[:-1]
    scripted_server.script("/v1/completions", Reply.sse([*steps, PingUntilGone(limit=20)]))
    child = _gptoss(scripted_server, home, "ask", "q")
    assert child.stdout is not None
    first = child.stdout.read1(100)  # type: ignore[attr-defined]  # blocks until the partial answer arrives
    child.send_signal(sig)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 128 + sig
    # (the closing newline is missing when the signal lands inside the view's write: a UI race
    # that Ctrl-C has too; what matters here is that the partial answer is shown and kept)
    assert (first + out).decode().rstrip("\n") == "Half an answer"
    assert "Traceback" not in err.decode()
    (record,) = _all()
    assert record.meta.turns[0].incomplete is True
    assert _texts(record) == ["q", "Half an answer"]


def test_an_interrupted_write_leaves_no_trace(scripted_server: ScriptedServer, home: Path) -> None:
    """A writer killed mid-transaction (SIGKILL: no clean-up runs) leaves neither a temporary file
    nor a half-written turn: SQLite rolls the transaction back from its journal on the next open."""
    cid = _start(scripted_server)
    code = (
        "import os, signal, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "db.execute(\"INSERT INTO turns VALUES (?, 99, '{}')\", (sys.argv[2],))\n"
        'db.execute("UPDATE conversations SET turn_count = 99 WHERE id = ?", (sys.argv[2],))\n'
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code, str(home / "history.db"), cid], check=False)
    assert killed.returncode == -signal.SIGKILL
    scripted_server.script("/v1/completions", _answer("Second answer."))
    args = ["ask", "again", "--cid", cid, "--base-url", scripted_server.url, "--kind", "llamacpp"]
    assert run(args).code == 0
    (record,) = _all()
    assert len(record.meta.turns) == 2 and _texts(record)[-1] == "Second answer."
    leftovers = [p.name for p in home.iterdir() if p.name.endswith((".tmp", "-journal"))]
    assert leftovers == []


def test_ask_at_n_forks_and_history_show_draws_the_tree(scripted_server: ScriptedServer) -> None:
    server = ["--base-url", scripted_server.url, "--kind", "llamacpp"]
    cid = _start(scripted_server)
    scripted_server.script("/v1/completions", _answer("Second answer."), _answer("Other first."))
    assert run(["ask", "second question", "--cid", cid, *server]).code == 0
    fork = run(["ask", "another first question", "--cid", cid, "--at", "0", *server])
    assert fork.code == 0 and "branch" not in fork.stderr  # asked for: no warning
    prompt = scripted_server.requests[-1].json()["prompt"]
    from gptoss_cli.harmony import get_tokenizer

    assert "first question" not in get_tokenizer().decode(prompt).replace("another first question", "")
    records = {r.id: r for r in _all()}
    (branch,) = [r for r in records.values() if r.id != cid]
    assert _texts(branch) == ["another first question", "Other first."]
    assert _texts(records[cid]) == ["first question", "First answer.", "second question", "Second answer."]
    assert branch.meta.extra["branch_of"]["id"] == cid
    shown = run(["history", "show", branch.id]).out
    tree = shown.split("\n\n", 1)[0].splitlines()
    assert tree[1] == "branches:"
    assert tree[2].startswith(f"  {cid}  2 turns  first question")
    assert tree[3].startswith(f"  └─ at message 1: {branch.id}  1 turn  another first question")
    assert tree[3].endswith("← this one")
    error = run(["ask", "x", "--at", "1", *server])
    assert error.code == 2 and "--at needs the conversation to fork" in error.stderr
