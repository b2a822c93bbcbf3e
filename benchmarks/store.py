"""The history store's speed (run by hand, never a test): prints each figure and its ratio.

    .venv/bin/python benchmarks/store.py            # full: 10,000 conversations, 1,000-turn chats
    .venv/bin/python benchmarks/store.py --quick    # 2,000 conversations, fewer runs

Every figure comes from fresh ``gptoss`` processes (``python -m gptoss_cli``) with ``GPTOSS_HOME`` in
a temporary directory that this script fills through the store's API:

1. ``history list`` and ``history list -q WORD`` over N conversations, against ``gptoss --version``
   in the same run (median wall time; target: within 1.3x).
2. The client's own work for one ``ask -c`` turn in a 1,000-turn conversation against a 10-turn one
   (CPU time of the child from ``wait4``; the fake server runs in this process, so its work is not
   counted; target: within 1.5x).
3. ``replay --dry-run`` peak memory (maximum RSS from ``wait4``) at 100 and 1,000 turns (target:
   independent of the length).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gptoss_cli.harmony import Conversation, Message, Role, get_tokenizer  # noqa: E402
from gptoss_cli.store import Store, Turn, new_record  # noqa: E402

WORD = "zanzibar"
ANSWER = ["<|channel|>", "final", "<|message|>", "Fine", ",", " thanks", "."]


# ------------------------------------------------------------------------------------ fake server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        events = [{"choices": [{"text": t, "index": 0, "finish_reason": None}]} for t in ANSWER]
        events.append({"choices": [{"text": "", "index": 0, "finish_reason": "stop"}]})
        body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()


def start_server() -> tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    host, port = httpd.server_address[:2]
    return httpd, f"http://{host!s}:{port}"


# ------------------------------------------------------------------------------------------ runs


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GPTOSS_", "OPENAI_"))}
    env.update(GPTOSS_HOME=str(home), NO_COLOR="1")
    return env


def run(args: list[str], home: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, max RSS in KiB) of one ``gptoss`` process."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "gptoss_cli", *args],
        env=env_for(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert child.stderr is not None
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"gptoss {' '.join(args)} failed ({child.returncode}): {err.decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def median(args: list[str], home: Path, repeat: int, index: int = 0) -> float:
    return statistics.median(run(args, home)[index] for _ in range(repeat))


# ---------------------------------------------------------------------------------------- content


def _user(text: str) -> Message:
    return Message.from_role_and_content(Role.USER, text)


def _final(text: str) -> Message:
    return Message.from_role_and_content(Role.ASSISTANT, text).with_channel("final")


def _exchange(n: int, word: str = "") -> list[Message]:
    question = f"Question {n}: how does part {n} of the design work {word}? " + "Some context. " * 8
    answer = f"Answer {n}: it works like this. " + "A sentence of explanation. " * 20
    return [_user(question), _final(answer)]


def fill_history(home: Path, count: int) -> None:
    store = Store(home / "history.db", legacy=None)
    with store.locked():
        for i in range(count):
            messages = _exchange(i, WORD if i % 100 == 0 else "")
            store.create(new_record(Conversation.from_messages(messages), model="gpt-oss-20b"))
    store.close()


def long_conversation(home: Path, turns: int) -> None:
    """One conversation of ``turns`` exchanges, saved with token ids as ``ask``/``chat`` save them."""
    from gptoss_cli.session.turn import ChatSettings

    encode = get_tokenizer().encode
    messages: list[Message] = ChatSettings().prefix()  # as gptoss saves a chat: system message first
    turn_records = []
    for i in range(turns):
        messages += _exchange(i)
        turn_records.append(Turn((len(messages) - 1, len(messages)), finish_reason="stop"))
    record = new_record(Conversation.from_messages(messages), model="gpt-oss-20b", kind="llamacpp")
    record = record.add_turn(record.conversation, turn_records[0])
    from dataclasses import replace

    record = replace(record, meta=replace(record.meta, turns=tuple(turn_records)))

    def tokens(message: Message) -> list[int]:
        return encode(message.text)

    store = Store(home / "history.db", legacy=None)
    store.create(record, tokens=tokens)
    store.close()


def export(home: Path, path: Path) -> None:
    store = Store(home / "history.db", legacy=None)
    (summary,) = store.summaries()
    path.write_text(json.dumps(store.load(summary.id).to_dict()))
    store.close()


# --------------------------------------------------------------------------------------- figures


def bench_list(tmp: Path, count: int, repeat: int) -> dict[str, float]:
    home = tmp / "list"
    fill_history(home, count)
    run(["history", "list"], home)  # warm the page cache and byte code
    version = median(["--version"], home, repeat)
    floor = median(["history", "path"], home, repeat)  # a subcommand that reads nothing
    listing = median(["history", "list"], home, repeat)
    search = median(["history", "list", "-q", WORD], home, repeat)
    return {
        "conversations": count,
        "version_s": version,
        "path_s": floor,
        "list_s": listing,
        "search_s": search,
    }


def bench_turn(tmp: Path, url: str, repeat: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for turns in (10, 1000):
        cpu = []
        for r in range(repeat):
            home = tmp / f"turn{turns}-{r}"
            long_conversation(home, turns)
            args = ["ask", "one more question?", "-c", "--base-url", url, "--kind", "llamacpp"]
            cpu.append(run(args, home)[1])
        out[f"cpu_{turns}_s"] = statistics.median(cpu)
    return out


def bench_dry_run(tmp: Path) -> dict[str, float]:
    out: dict[str, float] = {}
    for turns in (100, 1000):
        home = tmp / f"dry{turns}"
        long_conversation(home, turns)
        path = tmp / f"dry{turns}.json"
        export(home, path)
        wall, _, rss = run(["replay", str(path), "--dry-run"], home)
        out[f"rss_{turns}_mib"] = rss / 1024
        out[f"wall_{turns}_s"] = wall
    return out


def row(name: str, figures: str) -> None:
    print(f"  {name:<34}{figures}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 conversations, fewer runs")
    options = parser.parse_args(argv)
    count, repeat = (2000, 3) if options.quick else (10_000, 7)
    httpd, url = start_server()
    with tempfile.TemporaryDirectory(prefix="gptoss-store-bench-") as name:
        tmp = Path(name)
        t0 = time.perf_counter()
        listing = bench_list(tmp, count, repeat)
        turn = bench_turn(tmp, url, 3 if options.quick else 5)
        dry = bench_dry_run(tmp)
    httpd.shutdown()
    v, p = listing["version_s"], listing["path_s"]
    print(f"history list over {count:,} conversations (median of {repeat} processes)")
    row("gptoss --version", f"{v * 1000:7.0f} ms")
    row("gptoss history path", f"{p * 1000:7.0f} ms   {p / v:.2f}x  (any subcommand: Typer parses options)")
    for name, key in (("gptoss history list", "list_s"), (f"gptoss history list -q {WORD}", "search_s")):
        t = listing[key]
        row(
            name,
            f"{t * 1000:7.0f} ms   {t / v:.2f}x of --version (target 1.3x), {t / p:.2f}x of history path",
        )
    c10, c1000 = turn["cpu_10_s"], turn["cpu_1000_s"]
    print("client CPU for one `ask -c` turn (the server aside)")
    print(f"  10 turns                    {c10 * 1000:7.0f} ms")
    print(f"  1,000 turns                 {c1000 * 1000:7.0f} ms   {c1000 / c10:.2f}x  (target 1.5x)")
    r100, r1000 = dry["rss_100_mib"], dry["rss_1000_mib"]
    print("replay --dry-run peak memory")
    print(f"  100 turns                   {r100:7.1f} MiB  ({dry['wall_100_s']:.1f} s)")
    print(
        f"  1,000 turns                 {r1000:7.1f} MiB  ({dry['wall_1000_s']:.1f} s)   {r1000 / r100:.2f}x"
    )
    print(f"(benchmark took {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
