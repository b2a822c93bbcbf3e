"""Issues 10 and 12's speed targets as ratios to a floor measured in the same run (by hand, never a test).

    .venv/bin/python benchmarks/ratios.py                      # all four, wall/CPU time, interleaved
    .venv/bin/python benchmarks/ratios.py --only version,first # some of them
    .venv/bin/python benchmarks/ratios.py --callgrind          # plus instruction counts (load-independent)
    .venv/bin/python benchmarks/ratios.py --json

The machine this runs on is shared, so every figure is a *pair*: the floor and the subject run in
alternation (A B, B A, A B, ...), ``--rounds`` times, each a fresh process; the report gives both
medians, the ratio of the medians and the median of the per-round ratios. ``--callgrind`` also runs
each command once under ``valgrind --tool=callgrind`` (``PYTHONHASHSEED=0``) and reports the ratio
of instruction counts, which the load does not move.

- **version**: ``gptoss --version`` against ``python -c "import typer"`` (issue 12: within 1.3x).
- **history**: ``gptoss history list`` and ``history list -q WORD`` over ``--conversations``
  (10,000) conversations against ``gptoss --version`` (issue 10: within 1.3x).
- **first**: launch to the arrival of ``POST /v1/completions`` at a fake server, ``gptoss ask
  --kind llamacpp`` (token ids: the tokenizer is built) against ``--kind lmstudio`` (text), stdout a
  pipe (issue 12: within 1.3x). The tokenizer's cache is as a user's second run finds it: written
  by the warm-up run. Under callgrind the whole process is counted (both answers are the same 32 tokens).
- **stream**: the client's cost per streamed token to a pipe, ``gptoss ask --kind llamacpp``
  against a floor client: ``httpx`` ``iter_lines`` + ``json.loads`` per event + the text written to
  stdout. Per token = (CPU of an answer of ``--tokens`` BIG minus one of SMALL) / (BIG - SMALL),
  100,000 and 2,000 (instructions: 20,000 and 2,000), so start-up cancels out (issue 12: within
  1.4x). The fake server sends as fast as the client reads: a client slower than it reads several
  tokens per ``recv``, a quicker one waits for each, so the CPU per token depends on which is
  quicker (and on the load); the instruction count does less.
- **paced**: the same, against a server that sends a token every 1/``--rate`` s (2,000 tokens/s),
  so that each client waits for every token, as it does for a real server (20 to 200 tokens/s);
  answers of ``--paced-tokens`` (1,000 and 10,000) tokens.

Children get ``GPTOSS_HOME`` in a temporary directory, ``OPENAI_*``/``GPTOSS_*`` cleared, and a
byte-code cache (``PYTHONPYCACHEPREFIX``) written by a warm-up run, as an installed package has.
``PYTHONUNBUFFERED`` is dropped (a user's shell does not set it; with it every write to the pipe,
the floor client's included, is a system call per token).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli import (
    GPTOSS,
    PYTHON,
    FakeServer,
    answer_tokens,
    ask_argv,
    child_env,
    llamacpp_events,
    run_child,
)

TARGETS = {
    "version": 1.3, "history list": 1.3, "history list -q": 1.3, "first": 1.3, "stream": 1.4, "paced": 1.4,
}  # fmt: skip
IR_TOKENS = (2000, 20000)  # answer lengths for the stream's instruction counts
FLOOR_CLIENT = (
    "import httpx, json, sys\n"
    "out = sys.stdout\n"
    "url = sys.argv[1] + '/v1/completions'\n"
    "with httpx.Client() as c, c.stream('POST', url, json={'prompt': 'hi'}) as r:\n"
    "    for line in r.iter_lines():\n"
    "        if line.startswith('data: ') and line != 'data: [DONE]':\n"
    "            for choice in json.loads(line[6:])['choices']:\n"
    "                out.write(choice['text'])\n"
    "out.write('\\n')\n"
)


def _stats(a: list[float], b: list[float]) -> dict[str, float]:
    """Medians of the floor ``a`` and the subject ``b``, their ratio, and the median per-round ratio."""
    ma, mb = statistics.median(a), statistics.median(b)
    per_round = statistics.median(y / x for x, y in zip(a, b, strict=True) if x > 0)
    return {"floor": ma, "subject": mb, "ratio": mb / ma, "paired_ratio": per_round, "rounds": len(a)}


def paired(floor: Callable[[], float], subject: Callable[[], float], rounds: int) -> dict[str, float]:
    """Run ``floor`` and ``subject`` alternately (order swapped each round), one warm-up each."""
    floor(), subject()
    a: list[float] = []
    b: list[float] = []
    for i in range(rounds):
        if i % 2:
            b.append(subject())
            a.append(floor())
        else:
            a.append(floor())
            b.append(subject())
    return _stats(a, b)


def env_for(home: str) -> dict[str, str]:
    env = child_env(home)
    env.pop("PYTHONUNBUFFERED", None)
    return env


def wall(argv: list[str], env: dict[str, str]) -> Callable[[], float]:
    def run() -> float:
        done = run_child(argv, env)
        if done.rc:
            raise SystemExit(f"{' '.join(argv)} failed ({done.rc}): {done.err.decode()[-400:]}")
        return done.wall

    return run


def instructions(argv: list[str], env: dict[str, str], tmp: Path) -> int:
    """Instructions executed by ``argv`` (all its threads) under callgrind."""
    out = tmp / "callgrind.out"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv]
    done = subprocess.run(
        cmd, env={**env, "PYTHONHASHSEED": "0"}, capture_output=True, stdin=subprocess.DEVNULL, check=False
    )
    match = re.search(rb"Collected : (\d+)", done.stderr)
    if done.returncode or match is None:
        raise SystemExit(f"callgrind of {' '.join(argv)} failed: {done.stderr.decode()[-400:]}")
    out.unlink(missing_ok=True)
    return int(match[1])


def _ir(floor: int, subject: int) -> dict[str, float]:
    return {"floor_ir": floor, "subject_ir": subject, "ir_ratio": subject / floor}


# ------------------------------------------------------------------------------------------ figures


def bench_version(home: str, rounds: int, callgrind: bool, tmp: Path) -> list[dict[str, Any]]:
    env = env_for(home)
    floor, subject = [PYTHON, "-c", "import typer"], [GPTOSS, "--version"]
    row: dict[str, Any] = {"name": "version", "floor_cmd": 'python -c "import typer"'}
    row["subject_cmd"] = "gptoss --version"
    row.update(paired(wall(floor, env), wall(subject, env), rounds))
    if callgrind:
        row.update(_ir(instructions(floor, env, tmp), instructions(subject, env, tmp)))
    return [row]


def bench_history(home: str, rounds: int, callgrind: bool, tmp: Path, count: int) -> list[dict[str, Any]]:
    from store import WORD, fill_history  # imports gptoss_cli: only when asked for

    fill_history(Path(home), count)
    env = env_for(home)
    floor = [GPTOSS, "--version"]
    rows = []
    for name, args in (
        ("history list", ["history", "list"]),
        ("history list -q", ["history", "list", "-q", WORD]),
    ):
        subject = [GPTOSS, *args]
        row: dict[str, Any] = {"name": name, "floor_cmd": "gptoss --version"}
        row["subject_cmd"] = f"gptoss {' '.join(args)}  ({count:,} conversations)"
        row.update(paired(wall(floor, env), wall(subject, env), rounds))
        if callgrind:
            row.update(_ir(instructions(floor, env, tmp), instructions(subject, env, tmp)))
        rows.append(row)
    return rows


def bench_first(
    server: FakeServer, home: str, rounds: int, callgrind: bool, tmp: Path
) -> list[dict[str, Any]]:
    env = env_for(home)
    url = server.url(32)

    def first(kind: str) -> Callable[[], float]:
        argv = ask_argv(url, kind)

        def run() -> float:
            server.drain()
            done = run_child(argv, env)
            record = server.take(timeout=5.0)
            if done.rc or record is None:
                raise SystemExit(f"{' '.join(argv)} failed ({done.rc}): {done.err.decode()[-400:]}")
            return float(record["t"] - done.launched)

        return run

    row: dict[str, Any] = {"name": "first", "floor_cmd": "gptoss ask hi --kind lmstudio (text prompt)"}
    row["subject_cmd"] = "gptoss ask hi --kind llamacpp (token ids)"
    row.update(paired(first("lmstudio"), first("llamacpp"), rounds))
    if callgrind:
        a = instructions(ask_argv(url, "lmstudio"), env, tmp)
        b = instructions(ask_argv(url, "llamacpp"), env, tmp)
        server.drain()
        row.update(_ir(a, b))
    return [row]


def bench_stream(
    url: Callable[[int], str],
    home: str,
    rounds: int,
    callgrind: bool,
    tmp: Path,
    sizes: tuple[int, int],
    name: str = "stream",
) -> list[dict[str, Any]]:
    env = env_for(home)
    small, big = sizes
    script = tmp / "floor_client.py"
    script.write_text(FLOOR_CLIENT)
    expected = {n: "".join(answer_tokens(n)).rstrip("\n") for n in (*sizes, *IR_TOKENS)}

    def argv(client: str, n: int) -> list[str]:
        return [PYTHON, str(script), url(n)] if client == "floor" else ask_argv(url(n), "llamacpp")

    def cpu(client: str, n: int) -> float:
        done = run_child(argv(client, n), env)
        text = done.out.decode("utf-8", "replace")
        if done.rc or expected[n] not in text:  # the floor prints the Harmony markers too
            raise SystemExit(f"{client} streaming failed ({done.rc}): {done.err.decode()[-400:]}")
        return done.cpu

    def per_token(client: str) -> Callable[[], float]:
        return lambda: (cpu(client, big) - cpu(client, small)) / (big - small) * 1e6

    row: dict[str, Any] = {"name": name, "floor_cmd": "httpx iter_lines + json.loads + write (µs/token)"}
    row["subject_cmd"] = "gptoss ask --kind llamacpp > pipe (µs/token)"
    row.update(paired(per_token("floor"), per_token("gptoss"), rounds))
    row["unit"] = "us"
    if callgrind:  # 50 times slower under valgrind: shorter answers

        def ir(client: str) -> float:
            counts = [instructions(argv(client, n), env, tmp) for n in IR_TOKENS]
            return (counts[1] - counts[0]) / (IR_TOKENS[1] - IR_TOKENS[0])

        row.update(_ir(ir("floor"), ir("gptoss")))  # type: ignore[arg-type]
    return [row]


class _Paced(BaseHTTPRequestHandler):
    """``/s/<n>/v1/completions``: llama-server's stream of n tokens, one chunk every 1/rate s."""

    protocol_version = "HTTP/1.1"
    rate = 4000.0

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        n = int(self.path.split("/")[2])
        self.send_response_only(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        pause = 1.0 / self.rate
        try:
            for chunk in _events(n):
                self.wfile.write(chunk)
                time.sleep(pause)  # the client waits for each token, as it does for a real server
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass


@functools.cache
def _events(n: int) -> list[bytes]:
    return llamacpp_events(n)


def paced_serve(rate: float) -> None:
    """Run the paced server (a process of its own): print the port, serve until killed."""
    _Paced.rate = rate
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Paced)
    httpd.daemon_threads = True
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever(poll_interval=0.05)


class PacedServer:
    def __init__(self, rate: float) -> None:
        argv = [PYTHON, __file__, "--paced-serve", str(rate)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/s/{n}"

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=5)


# ------------------------------------------------------------------------------------------ report


def _fmt(x: float, unit: str) -> str:
    return f"{x:8.1f} µs" if unit == "us" else f"{x * 1000:8.0f} ms"


HEADER = (
    f"{'figure':<16} {'floor':>11} {'subject':>11} {'ratio':>6} {'paired':>6} {'instr':>6} {'target':>6}  "
    "subject / floor (medians of interleaved rounds; instr: callgrind)"
)


def line(row: dict[str, Any]) -> str:
    unit = row.get("unit", "s")
    ir = f"{row['ir_ratio']:.2f}" if "ir_ratio" in row else "—"
    return (
        f"{row['name']:<16} {_fmt(row['floor'], unit):>11} {_fmt(row['subject'], unit):>11} "
        f"{row['ratio']:6.2f} {row['paired_ratio']:6.2f} {ir:>6} {TARGETS[row['name']]:6.1f}  "
        f"{row['subject_cmd']} / {row['floor_cmd']} ({row['rounds']} rounds)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="version,history,first,stream,paced", help="comma-separated figures")
    ap.add_argument("--rounds", type=int, default=21, help="interleaved rounds per figure (default 21)")
    ap.add_argument("--stream-rounds", type=int, default=7, help="rounds for stream (default 7)")
    ap.add_argument("--conversations", type=int, default=10_000, help="history size (default 10,000)")
    ap.add_argument("--tokens", default="2000,100000", help="SMALL,BIG answer lengths for stream")
    ap.add_argument("--callgrind", action="store_true", help="also count instructions under callgrind")
    ap.add_argument("--rate", type=float, default=2000.0, help="tokens/s of the paced server (2,000)")
    ap.add_argument("--paced-tokens", default="1000,10000", help="SMALL,BIG answer lengths for paced")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--paced-serve", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.paced_serve is not None:
        paced_serve(args.paced_serve)
        return 0
    only = set(args.only.split(","))
    if args.callgrind and not shutil.which("valgrind"):
        raise SystemExit("--callgrind needs valgrind on PATH")
    small, big = (int(x) for x in args.tokens.split(","))
    paced_small, paced_big = (int(x) for x in args.paced_tokens.split(","))
    paced_sizes = (paced_small, paced_big)
    info: dict[str, Any] = {"load_before": [round(x, 2) for x in os.getloadavg()]}
    rows: list[dict[str, Any]] = []
    start = time.monotonic()

    if not args.json:
        print(HEADER, flush=True)

    def done(new: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not args.json:  # each figure as soon as it is measured (a full run takes a while)
            print("\n".join(map(line, new)), flush=True)
        return new

    server = FakeServer([32, small, big, *IR_TOKENS])
    try:
        with tempfile.TemporaryDirectory(prefix="gptoss-ratios-") as name:
            tmp = Path(name)
            if "version" in only:
                rows += done(bench_version(str(tmp / "v"), args.rounds, args.callgrind, tmp))
            if "history" in only:
                rows += done(
                    bench_history(str(tmp / "h"), args.rounds, args.callgrind, tmp, args.conversations)
                )
            if "first" in only:
                rows += done(bench_first(server, str(tmp / "f"), args.rounds, args.callgrind, tmp))
            if "stream" in only:
                sizes = (small, big)
                rows += done(
                    bench_stream(server.url, str(tmp / "s"), args.stream_rounds, args.callgrind, tmp, sizes)
                )
            if "paced" in only:
                paced = PacedServer(args.rate)
                try:
                    rows += done(
                        bench_stream(
                            paced.url, str(tmp / "p"), args.stream_rounds, False, tmp, paced_sizes, "paced"
                        )
                    )
                finally:
                    paced.close()
    finally:
        server.close()
    info["load_after"] = [round(x, 2) for x in os.getloadavg()]
    info["seconds"] = round(time.monotonic() - start)
    if args.json:
        print(json.dumps({"info": info, "rows": rows}, indent=2))
    else:
        print(
            f"load average {info['load_before']} before, {info['load_after']} after; took {info['seconds']} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
