"""``ask -f PATH|URL|-``: attachments named and fenced in the user's message; bad ones are one clear line."""

from __future__ import annotations

from pathlib import Path

from gptoss_cli.harmony import get_tokenizer
from gptoss_cli.tools.attachments import Attachment, compose

from ..cli.runner import run
from ..scripted_server import Reply, ScriptedServer
from ..server_sims import harmony_ids, simulate

ANSWER = [*harmony_ids("<|channel|>final<|message|>Seen."), 200002]


def _user_text(server: ScriptedServer) -> str:
    prompt = get_tokenizer().decode(server.posts[-1].json()["prompt"])
    return prompt.split("<|start|>user<|message|>", 1)[1].split("<|end|>", 1)[0]


def test_a_fence_outlasts_backticks_inside() -> None:
    text = compose("Why?", [Attachment("a.md", "```py\nx = 1\n```\n````\n")])
    assert text.startswith("`a.md`:\n`````\n```py")
    assert text.endswith("`````\n\nWhy?")


def test_files_urls_and_stdin_are_attached_before_the_question(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    simulate(scripted_server, "vllm", [ANSWER])
    page = "<html><head><title>Notes</title></head><body><p>See <a href='/x'>the spec</a>.</p></body></html>"
    scripted_server.script("/page", Reply(200, [page.encode()], "text/html", chunked=False), method="GET")
    code = tmp_path / "main.py"
    code.write_text("print('hi')\n")
    args = ["ask", "What do these say?", "-n", "--base-url", scripted_server.url]
    result = run(
        [*args, "-f", str(code), "-f", scripted_server.url + "/page", "-f", "-"], stdin=b"log line\n"
    )
    assert result.code == 0, result.stderr
    assert result.out == "Seen.\n"
    user = _user_text(scripted_server)
    assert user.startswith(f"`{code}`:\n```\nprint('hi')\n```\n\n`{scripted_server.url}/page`:\n```\n# Notes")
    assert "See the spec." in user
    assert user.endswith("`stdin`:\n```\nlog line\n```\n\nWhat do these say?")


def test_missing_binary_and_huge_files_are_one_line_before_any_request(
    scripted_server: ScriptedServer, tmp_path: Path
) -> None:
    sim = simulate(scripted_server, "vllm", [ANSWER])
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01" * 10)
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"a" * 1_000_001)
    for path, words in ((tmp_path / "nope.txt", "no such file"), (binary, "not a text file"),
                        (huge, "more than 1,000,000 bytes"), (tmp_path, "is a directory")):  # fmt: skip
        result = run(["ask", "q", "-n", "--base-url", scripted_server.url, "-f", str(path)])
        assert result.code != 0 and words in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert sim.bodies == []


def test_a_url_that_fails_names_it(scripted_server: ScriptedServer) -> None:
    simulate(scripted_server, "vllm", [ANSWER])
    result = run(["ask", "q", "-n", "--base-url", scripted_server.url, "-f", scripted_server.url + "/gone"])
    assert result.code == 1 and f"-f {scripted_server.url}/gone: HTTP 404" in result.stderr
