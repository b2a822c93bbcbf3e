"""``gptoss ask`` and ``gptoss replay`` as a user runs them (subprocesses) against the real vLLM.

Every completion is forced at the level of token ids (tests/vllm/forcing.py): the special tokens come
out of the model as the real ids 200005 ``<|channel|>``, 200008 ``<|message|>``, 200007 ``<|end|>``,
200012 ``<|call|>``, 200002 ``<|return|>``, so vLLM detokenizes, streams and stops on them exactly
as it does for a trained gpt-oss. No test passes ``-o max_tokens`` except the one about it: whatever
limit applies is the one gptoss and vLLM choose.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from .forcing import force, gptoss, gptoss_env, ids, replies, saved_conversations, text_ids
from .server import VllmServer

ANSWER = (
    "<|channel|>analysis<|message|>User asks 2+2. Answer is 4.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|return|>"
)
CALL_IN_ROLE = (
    "<|channel|>analysis<|message|>Need the weather.<|end|>"
    "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json"
    '<|message|>{"location":"Paris"}<|call|>'
)
FINAL_AFTER_TOOL = "<|channel|>final<|message|>It is sunny in Paris.<|return|>"
ASSISTANT_NEXT = ids("<|end|><|start|>assistant")


def long_text(tokens: int) -> str:
    """Ordinary text of at least ``tokens`` tokens, every line different."""
    lines: list[str] = []
    while len(text_ids("\n".join(lines))) < tokens:
        lines.append(f"Line {len(lines) + 1}: the forced answer goes on, token after token.")
    return "\n".join(lines)


def final(text: str) -> str:
    return f"<|channel|>final<|message|>{text}<|return|>"


def ask(server: VllmServer, *args: str) -> list[str]:
    return ["ask", *args, "--base-url", server.base_url]


def test_ask_pipes_the_final_answer_only(vllm_server: VllmServer, tmp_path: Path) -> None:
    """Forces token ids (analysis, then final, ended by <|return|>). Proves: vLLM found by probing,
    the vllm profile's request, the answer on stdout alone, the conversation saved."""
    done = gptoss([*ask(vllm_server, "What is 2+2?", "--stats"), *force(ANSWER)], tmp_path, "some context\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2 + 2 = 4.\n"
    assert "User asks 2+2" not in done.stdout + done.stderr
    assert "first token" in done.stderr  # --stats on stderr
    [data] = saved_conversations(tmp_path)
    messages = data["messages"]
    assert isinstance(messages, list)
    assert [m.get("channel") for m in messages if m["role"] == "assistant"] == ["analysis", "final"]
    users = [m["content"] for m in messages if m["role"] == "user"]
    assert users == [[{"type": "text", "text": "some context\n\nWhat is 2+2?"}]]


def test_ask_json(vllm_server: VllmServer, tmp_path: Path) -> None:
    """Forces token ids. Proves: --json carries the answer, reasoning, vLLM's finish and usage."""
    done = gptoss([*ask(vllm_server, "What is 2+2?", "--json", "-n"), *force(ANSWER)], tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["final"] == "2 + 2 = 4."
    assert data["reasoning"] == "User asks 2+2. Answer is 4."
    assert data["finish_reason"] == "stop"
    assert data["tool_calls"] == []
    assert data["usage"]["completion_tokens"] == len(ids(ANSWER))


def test_special_tokens_come_back_as_text(vllm_server: VllmServer, tmp_path: Path) -> None:
    """Forces token ids. Proves: vLLM keeps every special token in the text it streams (the profile's
    skip_special_tokens=false) and the <|return|> that stopped it (include_stop_str_in_output)."""
    done = gptoss([*ask(vllm_server, "What is 2+2?", "--raw", "-n"), *force(ANSWER)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ANSWER + "\n"


def test_prompt_goes_as_token_ids(vllm_server: VllmServer, tmp_path: Path) -> None:
    """Forces token ids, chosen on the SERVER by the prompt's last ids: the answer comes only if vLLM
    received the user's literal "<|end|>" as five ordinary tokens, i.e. the prompt as gptoss's ids
    (as text it would have become the control token 200007, or gptoss's neutralised text)."""
    user = "Say <|end|> now."
    assert ids("<|end|>")[0] not in text_ids(user)
    suffix = text_ids(user) + ASSISTANT_NEXT
    args = [*ask(vllm_server, user, "--json", "-n"), *replies((suffix, final("Done.")))]
    done = gptoss(args, tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["final"] == "Done."
    assert data["usage"]["prompt_tokens"] > len(suffix)


def test_a_long_answer_is_not_cut_by_a_server_default(vllm_server: VllmServer, tmp_path: Path) -> None:
    """Forces 300+ token ids of final answer, no -o max_tokens. Proves: no server default (vLLM's
    completions endpoint defaults max_tokens to 16) cuts an answer gptoss asked for."""
    text = long_text(300)
    forced = ids(final(text))
    assert len(forced) > 300
    done = gptoss([*ask(vllm_server, "Write a long answer.", "--json", "-n"), *force(forced)], tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["finish_reason"] == "stop"
    assert data["final"] == text
    assert data["usage"]["completion_tokens"] == len(forced)


def test_max_tokens_option_wins(vllm_server: VllmServer, tmp_path: Path) -> None:
    """Forces token ids; the one test that passes -o max_tokens. Proves: the user's limit is the one
    sent, and an answer it cuts is reported cut off, with what arrived."""
    text = long_text(300)
    forced = ids(final(text))
    args = [
        *ask(vllm_server, "Write a long answer.", "--json", "-n", "-o", "max_tokens", "20"),
        *force(forced),
    ]
    done = gptoss(args, tmp_path)
    assert done.returncode != 0
    assert "cut off" in done.stderr
    data = json.loads(done.stdout)
    assert data["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] == 20
    assert text.startswith(data["final"]) and data["final"]


def test_ctrl_c_mid_stream_keeps_what_arrived(vllm_server: VllmServer, tmp_path: Path) -> None:
    """Forces ~2000 token ids; a real SIGINT to the gptoss process while vLLM streams them. Proves:
    exit 130, what arrived is printed and saved, the turn marked incomplete."""
    text = long_text(2000)
    command = [
        sys.executable,
        "-m",
        "gptoss_cli",
        *ask(vllm_server, "Write a long answer."),
        *force(final(text)),
    ]
    child = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=gptoss_env(tmp_path),
    )
    assert child.stdout is not None
    first = child.stdout.read1(64)  # type: ignore[attr-defined]  # blocks until the answer starts
    time.sleep(0.5)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    printed = (first + out).decode()
    assert child.returncode == 130, err.decode()
    assert "Traceback" not in err.decode()
    [data] = saved_conversations(tmp_path)
    turns = data["gptoss"]["turns"]  # type: ignore[index]
    assert turns[0]["incomplete"] is True
    messages = data["messages"]
    assert isinstance(messages, list)
    arrived = messages[-1]["content"][0]["text"]
    assert arrived and text.startswith(arrived) and len(arrived) < len(text)
    assert printed == arrived + ("" if arrived.endswith("\n") else "\n")


def test_a_complete_tool_loop(vllm_server: VllmServer, tmp_path: Path) -> None:
    """Forces token ids per request, chosen by the prompt's end: first a call ended by <|call|>, then,
    after the tool's result, the final answer. Proves: <|call|> (200012) ends vLLM's first completion,
    gptoss runs the tool and sends its result, and the second completion answers."""
    (tmp_path / "weather.py").write_text(
        "import json, sys\nargs = json.load(sys.stdin)\nprint(json.dumps({'sky': 'sunny', **args}))\n"
    )
    tools = tmp_path / "tools.toml"
    command = json.dumps([sys.executable, str(tmp_path / "weather.py")])
    tools.write_text(
        '[tools.get_weather]\ndescription = "Current weather"\n'
        f'command = {command}\nparameters = {{ location = "string" }}\n'
    )
    question = text_ids("Weather in Paris?") + ASSISTANT_NEXT
    result = text_ids('{"sky": "sunny", "location": "Paris"}') + ASSISTANT_NEXT
    args = [*ask(vllm_server, "Weather in Paris?", "--tools", str(tools), "-y", "--raw")]
    args += replies((question, CALL_IN_ROLE), (result, FINAL_AFTER_TOOL))
    done = gptoss(args, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    # --raw: each completion exactly as vLLM streamed it; the first stopped right after <|call|>
    assert done.stdout.startswith(CALL_IN_ROLE)
    assert done.stdout.rstrip("\n").endswith(FINAL_AFTER_TOOL)
    [data] = saved_conversations(tmp_path / "home")
    messages = data["messages"]
    assert isinstance(messages, list)
    shape = [(m["role"], m.get("channel"), m.get("recipient")) for m in messages if m["role"] != "system"]
    assert shape[-5:] == [
        ("user", None, None),
        ("assistant", "analysis", None),
        ("assistant", "commentary", "functions.get_weather"),
        ("tool", "commentary", "assistant"),
        ("assistant", "final", None),
    ]
    tool_message = next(m for m in messages if m["role"] == "tool")
    assert tool_message["content"][0]["text"] == '{"sky": "sunny", "location": "Paris"}'


def test_replay_asks_again(vllm_server: VllmServer, tmp_path: Path) -> None:
    """Forces token ids (a different answer on each run). Proves: replay re-asks the saved user turn
    against the real server and saves the new run beside the first."""
    home = tmp_path / "home"
    first = gptoss([*ask(vllm_server, "What is 2+2?"), *force(ANSWER)], home)
    assert first.returncode == 0, first.stderr
    [saved] = saved_conversations(home)
    path = tmp_path / "first.json"
    path.write_text(json.dumps(saved))
    again = gptoss(
        ["replay", str(path), "--base-url", vllm_server.base_url, *force(final("Four."))],
        home,
    )
    assert again.returncode == 0, again.stderr
    assert "Four." in again.stdout
    runs = saved_conversations(home)
    assert len(runs) == 2
    finals = [m for m in runs[-1]["messages"] if m.get("channel") == "final"]  # type: ignore[union-attr]
    assert [m["content"][0]["text"] for m in finals] == ["Four."]
