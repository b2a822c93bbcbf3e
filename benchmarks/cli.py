"""gptoss CLI speed: start-up, launch -> first byte on the wire, streaming (run by hand, never a test).

    .venv/bin/python benchmarks/cli.py             # table
    .venv/bin/python benchmarks/cli.py --json      # machine-readable
    .venv/bin/python benchmarks/cli.py --profile   # plus cProfile hotspots of `gptoss ask`
    .venv/bin/python benchmarks/cli.py --quick     # fewer runs, 5,000 tokens only

Every figure comes from fresh ``gptoss`` processes (the console script next to this Python) with
``GPTOSS_HOME`` in a temporary directory (no config, no history) and ``OPENAI_*``/``GPTOSS_*`` cleared.
The fake server is a subprocess of this script (``--serve``): llama.cpp's ``/v1/completions`` SSE format,
one event and one socket write per token, as fast as the client reads. It stamps the arrival of each
request with ``time.monotonic()`` (system-wide on Linux and macOS, so comparable with this process).
The client's CPU time comes from ``wait4`` (whole run) and /proc (per slice of the stream, Linux).
Standard library only, except ``--profile``, which also times httpx and gptoss_cli's streaming layers
in this process.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import math
import os
import platform
import pty
import queue
import random
import re
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PYTHON = sys.executable
GPTOSS = str(Path(PYTHON).with_name("gptoss")) if Path(PYTHON).with_name("gptoss").exists() else "gptoss"
HEAVY = ("rich", "rich.markdown", "prompt_toolkit", "httpx", "tiktoken")
MODEL = "gpt-oss-20b"
SMALL = 32  # tokens in the answer used for first-byte runs
SEED = 20240605
TTY_SIZE = (50, 120)  # rows, columns
MARK = re.compile(rb"m(\d{6})")  # every Markdown block starts with m<token index>
# The reference figures for this machine (not measured here).
REFERENCE = {"llm --version": 0.79, "import typer+rich+httpx+prompt_toolkit": 0.27, "python+httpx": 0.17}
TARGET_TOKS = {"pipe": 50_000, "tty": 5_000}
FLAT_LIMIT = 1.3  # last-10% over first-10% cost per token above this counts as not flat

# --------------------------------------------------------------------------------------- the answer

_WORD_TEXT = (
    "the a of to in for on with as by from at into over after we you it they this that which when "
    "where why how if then because so is are was be has have do can could should would will may not "
    "only also just still even more most very request response server client cache index query table "
    "latency throughput memory thread process queue buffer socket stream token parser renderer message "
    "channel header content function argument value result error config option default path file "
    "module package version release branch commit user report metric weather city first last next "
    "check verify compare measure handle return update create read write parse render send think"
)
_WORDS = tuple(_WORD_TEXT.split())
_CODE = (
    "def handle(request):\n",
    "    data = parse(request.body)\n",
    "    if not data:\n",
    '        raise ValueError("empty body")\n',
    "    return render(data, width=80)\n",
)


def answer_tokens(n: int) -> list[str]:
    """``n`` tokens of a Markdown answer (paragraphs, lists, headings, code), as a model streams it.

    Each block but code starts with the marker ``m<index>`` (its own token index), which the reader
    finds in the client's output (a pipe or a terminal) to time the progress of the stream.
    """
    rng = random.Random(SEED)
    out: list[str] = []
    block = 0
    while len(out) < n:
        block += 1
        if block % 9 == 0:
            out.append("```python\n")
            for line in _CODE:
                out.extend(re.findall(r"\s*\S+|\n", line))
            out.extend(["```", "\n\n"])
            continue
        if block % 7 == 0:
            out.extend(["##", f" m{len(out) + 1:06d}"])
            out.extend(" " + rng.choice(_WORDS) for _ in range(rng.randint(2, 6)))
        elif block % 4 == 0:
            out.extend(["-", f" m{len(out) + 1:06d}"])
            for item in range(rng.randint(3, 6)):
                if item:
                    out.extend(["\n", "-"])
                out.extend(" " + rng.choice(_WORDS) for _ in range(rng.randint(4, 12)))
        else:
            out.append(f"m{len(out):06d}")
            for i in range(rng.randint(30, 110)):
                word = rng.choice(_WORDS)
                if i % 17 == 5:
                    word = f"`{word}()`"
                elif i % 23 == 11:
                    word = f"**{word}**"
                out.append(" " + word)
                if i % 13 == 12:
                    out.append(".")
            out.append(".")
        out.append("\n\n")
    return out[:n]


def llamacpp_events(n: int) -> list[bytes]:
    """The whole response body as HTTP chunks: llama-server's /v1/completions, one event per token."""
    head = {"created": 1, "model": MODEL, "system_fingerprint": "b6000-bench"}
    tail = {"object": "text_completion", "id": "chatcmpl-bench"}
    pieces = ["<|channel|>", "final", "<|message|>", *answer_tokens(n), "<|return|>"]
    events = []
    for piece in pieces:
        choice = {"text": piece, "index": 0, "logprobs": None, "finish_reason": None}
        events.append(json.dumps({"choices": [choice], **head, **tail}))
    last = {"text": "", "index": 0, "logprobs": None, "finish_reason": "stop"}
    usage = {"completion_tokens": len(pieces), "prompt_tokens": 74, "total_tokens": 74 + len(pieces)}
    events.append(json.dumps({"choices": [last], **head, **tail, "usage": usage, "timings": {}}))
    events.append("[DONE]")
    chunks = []
    for text in events:
        data = b"data: " + text.encode() + b"\n\n"
        chunks.append(b"%x\r\n%s\r\n" % (len(data), data))
    return chunks


# ------------------------------------------------------------------------------ the server (--serve)

_STREAMS: dict[int, list[bytes]] = {}
_OUT_LOCK = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    """``/s/<n>/v1/completions`` streams an answer of n tokens; ``/s/<n>/v1/models`` lists one model."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        arrived = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        match = re.fullmatch(r"/s/(\d+)(/.*)", self.path)
        self.close_connection = True
        prompt = None
        try:
            if match and method == "POST" and match[2].endswith("/completions"):
                with contextlib.suppress(ValueError, AttributeError):
                    prompt = "ids" if isinstance(json.loads(body).get("prompt"), list) else "text"
                n = int(match[1])
                chunks = _STREAMS[n] if n in _STREAMS else _STREAMS.setdefault(n, llamacpp_events(n))
                self._send(200, "text/event-stream", chunks)
            elif match and method == "GET" and match[2].endswith("/models"):
                data = json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]})
                self._send(200, "application/json", [data.encode()], chunked=False)
            else:
                self._send(404, "application/json", [b'{"error": "not found"}'], chunked=False)
        except (BrokenPipeError, ConnectionResetError):
            pass
        record = {"method": method, "path": self.path, "t": arrived, "t_end": time.monotonic()}
        record["prompt"] = prompt
        with _OUT_LOCK:
            sys.stdout.write(json.dumps(record) + "\n")
            sys.stdout.flush()

    def _send(self, status: int, content_type: str, chunks: list[bytes], chunked: bool = True) -> None:
        self.send_response_only(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(sum(map(len, chunks))))
        self.end_headers()
        write = self.wfile.write
        for chunk in chunks:
            write(chunk)  # one send() per event, as llama-server does
        if chunked:
            write(b"0\r\n\r\n")


def serve(sizes: list[int]) -> None:
    """Run the fake server: print the port, then one JSON line per request served."""
    for n in sizes:
        _STREAMS[n] = llamacpp_events(n)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    sys.stdout.write(f"{httpd.server_address[1]}\n")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    httpd.serve_forever(poll_interval=0.05)


class FakeServer:
    """The ``--serve`` subprocess and the request records it prints."""

    def __init__(self, sizes: list[int]) -> None:
        argv = [PYTHON, __file__, "--serve", ",".join(map(str, sorted(set(sizes))))]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self._records: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._records.put(json.loads(line))

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/s/{n}"

    def drain(self) -> None:
        while not self._records.empty():
            self._records.get_nowait()

    def take(self, method: str = "POST", timeout: float = 10.0) -> dict[str, Any] | None:
        """The next record of a ``method`` request (others are skipped)."""
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            try:
                record = self._records.get(timeout=left)
            except queue.Empty:
                return None
            if record["method"] == method:
                return record
        return None

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=5)


# ---------------------------------------------------------------------------------------- children


def child_env(home: str, *, bytecode: bool = True, **extra: str) -> dict[str, str]:
    """This environment without the user's gptoss/OpenAI settings, colours or proxies for 127.0.0.1.

    ``.pyc`` files go to a cache under ``home`` (``PYTHONPYCACHEPREFIX``), written by the warm-up runs, as
    they are for an installed package; ``bytecode=False`` keeps ``PYTHONDONTWRITEBYTECODE`` and no cache.
    """
    drop = {"NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("OPENAI_", "GPTOSS_"))}
    env.update(GPTOSS_HOME=home, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = os.path.join(home, "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def importtime(argv: list[str]) -> list[str]:
    """``argv`` run under ``python -X importtime`` (``PYTHONIMPORTTIME`` is not honoured everywhere)."""
    rest = argv[1:] if argv[0] == PYTHON else argv
    return [PYTHON, "-X", "importtime", *rest]


class CPUClock:
    """A child's CPU seconds so far, from /proc: per-thread schedstat (ns), each thread's last value kept
    after it exits (Rich's refresh thread stops before the last block is printed); else utime+stime."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.threads: dict[str, int] = {}

    def __call__(self) -> float | None:
        try:
            for task in os.listdir(f"/proc/{self.pid}/task"):
                with open(f"/proc/{self.pid}/task/{task}/schedstat", "rb") as f:
                    self.threads[task] = int(f.read().split()[0])
            return sum(self.threads.values()) / 1e9
        except (OSError, ValueError, IndexError):
            if self.threads:
                return sum(self.threads.values()) / 1e9
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / self.tick
        except (OSError, ValueError, IndexError):
            return None


@dataclass
class ChildRun:
    """One child process: times are ``time.monotonic()`` seconds."""

    launched: float
    exited: float
    rc: int
    cpu: float
    max_rss_mb: float
    out: bytes
    err: bytes
    marks: list[tuple[int, float, float | None]] = field(default_factory=list)  # (token, time, cpu)

    @property
    def wall(self) -> float:
        return self.exited - self.launched


def run_child(argv: list[str], env: dict[str, str], *, tty: bool = False, marks: bool = False) -> ChildRun:
    """Run ``argv`` with stdout a pipe or a pty (drained as it comes); with ``marks``, time each marker."""
    with tempfile.TemporaryFile() as err_file:
        if tty:
            master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *TTY_SIZE, 0, 0))
            launched = time.monotonic()
            proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env)
            os.close(slave)
            fd = master
        else:
            launched = time.monotonic()
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err_file, env=env
            )
            assert proc.stdout is not None
            fd = proc.stdout.fileno()
        out, found = _read_output(fd, CPUClock(proc.pid) if marks else None)
        _, status, usage = os.wait4(proc.pid, 0)
        exited = time.monotonic()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if tty:
            os.close(fd)
        else:
            assert proc.stdout is not None
            proc.stdout.close()
        err_file.seek(0)
        err = err_file.read()
    rss = usage.ru_maxrss / (1024 if sys.platform != "darwin" else 1024 * 1024)
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(launched, exited, proc.returncode, cpu, rss, out, err, found)


def _read_output(fd: int, cpu: CPUClock | None) -> tuple[bytes, list[tuple[int, float, float | None]]]:
    """Everything from ``fd`` until EOF; with ``cpu``, each new marker's (token, arrival time, child CPU)."""
    buf = bytearray()
    found: list[tuple[int, float, float | None]] = []
    last = -1
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:  # EIO: the pty's last writer is gone
            break
        if not chunk:
            break
        now = time.monotonic()
        start = max(0, len(buf) - 8)
        buf += chunk
        if cpu is not None:
            for match in MARK.finditer(buf, start):
                index = int(match[1])
                if index > last:
                    last = index
                    found.append((index, now, cpu()))
    return bytes(buf), found


def parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """``-X importtime`` lines as (module, self µs, cumulative µs, depth), in the order they finished."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            name = parts[2][1:].rstrip()
            depth = (len(name) - len(name.lstrip())) // 2
            rows.append((name.strip(), int(parts[0]), int(parts[1]), depth))
    return rows


def _importer(rows: list[tuple[str, int, int, int]], index: int) -> str:
    """The first module outside ``rows[index]``'s package whose import caused it (or ``__main__``)."""
    root = rows[index][0].split(".")[0]
    depth = rows[index][3]
    for name, _, _, level in rows[index + 1 :]:
        if level < depth:
            if name.split(".")[0] != root:
                return name
            depth = level
    return "__main__" if depth == 0 else "?"


def import_report(stderr: str, top: int = 6) -> dict[str, Any]:
    """Which heavy modules were imported and by whom, and the costliest top-level packages (cumulative ms)."""
    rows = parse_importtime(stderr)
    where = {row[0]: i for i, row in enumerate(rows)}
    roots = sorted((r for r in rows if "." not in r[0]), key=lambda r: -r[2])
    return {
        "heavy": [m for m in HEAVY if m in where],
        "via": {m: _importer(rows, where[m]) for m in HEAVY if m in where},
        "typer": "typer" in where,
        "modules": len(rows),
        "top": [(row[0], row[2] / 1000) for row in roots[:top]],
    }


# ---------------------------------------------------------------------------------------- start-up

_TOKENIZER = "from gptoss_cli.harmony.tokens import get_tokenizer; get_tokenizer()"
STARTUP: list[tuple[str, list[str], bool]] = [  # label, argv, with a bytecode cache
    ("python -c pass", [PYTHON, "-c", "pass"], True),
    ('python -c "import httpx"', [PYTHON, "-c", "import httpx"], True),
    ('python -c "import typer"', [PYTHON, "-c", "import typer"], True),
    ('python -c "import tiktoken"', [PYTHON, "-c", "import tiktoken"], True),
    ("python: load the o200k_harmony tokenizer", [PYTHON, "-c", _TOKENIZER], True),
    (
        "python: import typer, rich, httpx, prompt_toolkit",
        [PYTHON, "-c", "import typer, rich, httpx, prompt_toolkit"],
        True,
    ),
    (
        "python: ... + rich.markdown",
        [PYTHON, "-c", "import typer, rich.markdown, httpx, prompt_toolkit"],
        True,
    ),
    ("gptoss --version", [GPTOSS, "--version"], True),
    ("gptoss --help", [GPTOSS, "--help"], True),
    ("gptoss ask --help", [GPTOSS, "ask", "--help"], True),
    ("gptoss --version, no .pyc (PYTHONDONTWRITEBYTECODE=1)", [GPTOSS, "--version"], False),
]


def bench_startup(home: str, repeat: int) -> list[dict[str, Any]]:
    """Best and median wall time of fresh processes, then one ``-X importtime`` run of each."""
    rows = []
    for label, argv, bytecode in STARTUP:
        env = child_env(home, bytecode=bytecode)
        run_child(argv, env)  # warm the page cache and write the .pyc files
        walls = [run_child(argv, env).wall for _ in range(repeat)]
        probe = run_child(importtime(argv), env)
        report = import_report(probe.err.decode("utf-8", "replace"))
        rows.append({"command": label, "best": min(walls), "median": statistics.median(walls), **report})
    return rows


# -------------------------------------------------------------------------------------- first byte


def ask_argv(url: str, kind: str) -> list[str]:
    argv = [GPTOSS, "ask", "hi", "--base-url", url, "--kind", kind, "-n"]
    return argv + (["--model", MODEL] if kind in ("lmstudio", "openai", "vllm", "sglang") else [])


def bench_first_byte(server: FakeServer, home: str, repeat: int, kinds: list[str]) -> list[dict[str, Any]]:
    """Launch -> arrival of the POST at the server, best of ``repeat``, plus the imports on that path."""
    url = server.url(SMALL)
    floor = "import httpx, sys; httpx.post(sys.argv[1] + '/v1/completions', content=b'{}')"
    cases: list[tuple[str, list[str], bool]] = [
        ("python + httpx.post (floor)", [PYTHON, "-c", floor, url], False)
    ]
    cases += [(f"gptoss ask --kind {k}", ask_argv(url, k), False) for k in kinds]
    cases.append((f"gptoss ask --kind {kinds[0]}, stdout a tty", ask_argv(url, kinds[0]), True))
    rows = []
    for label, argv, tty in cases:
        env = child_env(home, TERM="xterm-256color") if tty else child_env(home)
        firsts, exits, prompt, rc, err, failed = [], [], None, 0, b"", 0
        for i in range(repeat + 1):  # the first run warms caches and is not counted
            server.drain()
            run = run_child(argv, env, tty=tty)
            record = server.take(timeout=2.0)
            if run.rc:
                rc, err, failed = run.rc, run.err if not tty else run.out[-400:], failed + 1
            if record is None or run.rc or i == 0:
                continue
            firsts.append(record["t"] - run.launched)
            exits.append(run.wall)
            prompt = record["prompt"]
        row: dict[str, Any] = {"client": label, "tty": tty, "rc": rc, "failed": failed, "prompt": prompt}
        row["first_byte"] = min(firsts) if firsts else None
        row["first_byte_median"] = statistics.median(firsts) if firsts else None
        row["exit"] = min(exits) if exits else None
        if rc:
            row["error"] = err.decode("utf-8", "replace").strip()[-300:]
        if not tty:  # the path's imports, stdout a pipe
            server.drain()
            probe = run_child(importtime(argv), child_env(home))
            row.update(import_report(probe.err.decode("utf-8", "replace")))
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------- streaming


def _slice(marks: list[tuple[int, float, float | None]], lo: float, hi: float) -> tuple[float, float | None]:
    """Wall and CPU µs per token between the first marks at or past fractions ``lo`` and ``hi``."""
    n = marks[-1][0]
    a = next(m for m in marks if m[0] >= lo * n)
    b = next(m for m in marks if m[0] >= hi * n)
    tokens = b[0] - a[0]
    if tokens <= 0:
        return float("nan"), None
    cpu = (b[2] - a[2]) / tokens * 1e6 if a[2] is not None and b[2] is not None else None
    return (b[1] - a[1]) / tokens * 1e6, cpu


def stream_once(server: FakeServer, home: str, n: int, kind: str, tty: bool) -> dict[str, Any]:
    env = child_env(home, TERM="xterm-256color") if tty else child_env(home)
    server.drain()
    run = run_child(ask_argv(server.url(n), kind), env, tty=tty, marks=True)
    record = server.take()
    row: dict[str, Any] = {"view": "tty" if tty else "pipe", "tokens": n, "rc": run.rc}
    row.update(wall=run.wall, cpu=run.cpu, max_rss_mb=run.max_rss_mb, out_bytes=len(run.out))
    expected = "".join(answer_tokens(n))
    if tty:
        last = max((int(m[1:]) for m in re.findall(r"m\d{6}", expected)), default=-1)
        row["output_ok"] = bool(run.marks) and run.marks[-1][0] == last
    else:
        row["output_ok"] = run.out.decode("utf-8", "replace").rstrip("\n") == expected.rstrip("\n")
    if run.rc:
        row["error"] = (run.out if tty else run.err).decode("utf-8", "replace").strip()[-300:]
    marks = run.marks
    if len(marks) < 3 or record is None:
        return row
    first, end = marks[0], marks[-1]
    span = end[0] - first[0]
    row["first_byte"] = record["t"] - run.launched
    row["first_text"] = first[1] - run.launched
    row["server_done"] = record["t_end"] - run.launched
    row["tok_s"] = span / (end[1] - first[1]) if end[1] > first[1] else None
    row["wall_us"] = (end[1] - first[1]) / span * 1e6
    if first[2] is not None and end[2] is not None:
        row["cpu_us"] = (end[2] - first[2]) / span * 1e6
    row["first10_wall_us"], row["first10_cpu_us"] = _slice(marks, 0.0, 0.1)
    row["last10_wall_us"], row["last10_cpu_us"] = _slice(marks, 0.9, 1.0)
    row["flat_wall"] = row["last10_wall_us"] / row["first10_wall_us"]
    if row["first10_cpu_us"] and row["last10_cpu_us"] is not None:
        row["flat_cpu"] = row["last10_cpu_us"] / row["first10_cpu_us"]
    return row


def server_capacity(server: FakeServer, n: int, repeat: int) -> float:
    """Tokens/s the fake server sends to a reader that does nothing but ``recv`` (best of ``repeat``)."""
    best = 0.0
    request = f"POST /s/{n}/v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}".encode()
    for _ in range(repeat):
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            start = time.monotonic()
            sock.sendall(request)
            while sock.recv(1 << 20):
                pass
            best = max(best, n / (time.monotonic() - start))
    server.drain()
    return best


def bench_stream(
    server: FakeServer, home: str, sizes: list[int], kind: str, repeat: int
) -> list[dict[str, Any]]:
    """Best of ``repeat`` runs (by streaming rate) for each view and answer length."""
    rows = []
    for tty in (False, True):
        for n in sizes:
            runs = [stream_once(server, home, n, kind, tty) for _ in range(repeat)]
            rows.append(max(runs, key=lambda r: r.get("tok_s") or 0.0))
    return rows


# --------------------------------------------------------------------------------------- profiling


def bench_layers(server: FakeServer, n: int, repeat: int = 3) -> list[tuple[str, float]]:
    """CPU µs per token of the streaming path built up layer by layer, in this process (best of ``repeat``).

    Each line includes the ones above it (the last is ``gptoss ask`` minus the view); stdlib
    ``http.client`` reading the same chunked body is there for comparison.
    """
    import http.client

    import httpx

    from gptoss_cli.harmony import Role, StreamParser
    from gptoss_cli.transport.client import CompletionRequest, stream_completion
    from gptoss_cli.transport.sse import SSEDecoder
    from gptoss_cli.transport.wire import decode_openai

    base = server.url(n)
    path = f"/s/{n}/v1/completions"

    def raw_socket() -> None:
        request = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}".encode()
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(request)
            while sock.recv(1 << 16):
                pass

    def stdlib() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port)
        conn.request("POST", path, body=b"{}")
        response = conn.getresponse()
        while response.read1(1 << 16):  # one HTTP chunk per call, like iter_raw
            pass
        conn.close()

    def body(raw: bool = False) -> Any:
        with httpx.Client() as client, client.stream("POST", base + "/v1/completions", content=b"{}") as r:
            yield from (r.iter_raw() if raw else r.iter_bytes())

    def sse(parse: bool) -> None:
        decoder = SSEDecoder()
        for chunk in body():
            for event in decoder.feed(chunk):
                if parse and event.data != "[DONE]":
                    json.loads(event.data)

    def parsed() -> None:
        parser = StreamParser(Role.ASSISTANT)
        for item in stream_completion(CompletionRequest(base, "x")):
            if getattr(item, "text", None):
                parser.feed_text(item.text)
        parser.finish()

    layers = [
        ("raw socket recv (floor)", raw_socket),
        ("stdlib http.client read1 (comparison)", stdlib),
        ("httpx iter_raw", lambda: [None for _ in body(raw=True)]),
        ("httpx iter_bytes", lambda: [None for _ in body()]),
        ("+ SSEDecoder", lambda: sse(False)),
        ("+ json.loads per event", lambda: sse(True)),
        ("wire.decode_openai", lambda: [None for _ in decode_openai(body(), base)]),
        ("client.stream_completion", lambda: [None for _ in stream_completion(CompletionRequest(base, "x"))]),
        ("+ harmony StreamParser.feed_text", parsed),
    ]
    rows = []
    for name, run in layers:
        best = float("inf")
        for _ in range(repeat):
            start = time.process_time()
            run()
            best = min(best, time.process_time() - start)
        rows.append((name, best / n * 1e6))
        server.drain()
    return rows


def profile_child(mode: str, url: str, kind: str, small_url: str, top: int) -> None:
    """In this process: cProfile one ``gptoss ask`` (``cold``: imports included; ``pipe``/``tty``: warm)."""
    import cProfile
    import pstats

    real_stdout = sys.stdout
    sys.stdin = open(os.devnull)  # noqa: SIM115 - read_stdin_if_piped must see an empty pipe
    if mode == "tty":
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", *TTY_SIZE, 0, 0))
        drain = threading.Thread(target=_drain, args=(master,), daemon=True)
        drain.start()
        out: Any = open(slave, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        os.environ.update(TERM="xterm-256color", COLUMNS=str(TTY_SIZE[1]), LINES=str(TTY_SIZE[0]))
    else:
        out = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    prof = cProfile.Profile()
    argv = ask_argv(url, kind)[1:]
    try:
        sys.stdout = out
        if mode == "cold":
            prof.enable()
        from gptoss_cli.cli import main as cli_main

        if mode != "cold":
            cli_main(ask_argv(small_url, kind)[1:])  # warm: imports, tokenizer, first Rich render
            prof.enable()
        rc = cli_main(argv)
        prof.disable()
        out.flush()
    finally:
        sys.stdout = real_stdout
    text = io.StringIO()
    stats = pstats.Stats(prof, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(f"exit code {rc}\n" + _trim_pstats(text.getvalue()))


def _drain(fd: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 1 << 16):
            pass


def _trim_pstats(text: str) -> str:
    """pstats output without its preamble lines and with site-packages paths shortened."""
    keep = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("Ordered by")]
    return re.sub(r"\S*/(site-packages|lib/python3\.\d+|gptoss_cli)/", r"\1/", "\n".join(keep))


def profiles(server: FakeServer, home: str, n: int, kind: str, top: int) -> dict[str, str]:
    out = {}
    for mode in ("cold", "pipe", "tty"):
        size = SMALL if mode == "cold" else n
        argv = [
            PYTHON,
            __file__,
            "--profile-child",
            mode,
            server.url(size),
            kind,
            server.url(SMALL),
            str(top),
        ]
        proc = subprocess.run(
            argv, check=False, env=child_env(home), stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
        out[f"{mode} ({size} tokens)"] = proc.stdout + (proc.stderr[-2000:] if proc.returncode else "")
    return out


# ------------------------------------------------------------------------------------------ report


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform()}
    info["cpus"] = os.cpu_count()
    with contextlib.suppress(OSError, AttributeError):
        info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    info["gptoss"] = GPTOSS
    return info


def _ms(x: float | None) -> str:
    return "—" if x is None else f"{x * 1000:.0f} ms"


def _us(x: float | None) -> str:
    return "—" if x is None or math.isnan(x) else f"{x:.1f}"


def _imports(row: dict[str, Any]) -> str:
    if "heavy" not in row:
        return ""
    via = row.get("via", {})
    heavy = ", ".join(f"{m}<-{via.get(m)}" for m in row["heavy"]) or "none"
    top = ", ".join(f"{name} {ms:.0f}" for name, ms in row["top"][:4])
    return f"top ms: {top:<46} heavy: {heavy}"


def targets(
    startup: list[dict[str, Any]], first: list[dict[str, Any]], stream: list[dict[str, Any]]
) -> list[str]:
    lines = []
    for row in startup:
        if row["command"] in ("gptoss --version", "gptoss --help"):
            ok = not row["heavy"] and row["typer"]
            heavy = ", ".join(f"{m} (imported by {row['via'][m]})" for m in row["heavy"]) or "none"
            lines.append(
                f"[{'met' if ok else 'NOT met'}] {row['command']}: typer only? heavy imports: {heavy}"
            )
    floor = next((r["first_byte"] for r in first if "floor" in r["client"]), None)
    for row in first:
        if row["tty"] or "floor" in row["client"] or "heavy" not in row:
            continue
        bad = [m for m in ("prompt_toolkit", "rich.markdown") if m in row["heavy"]]
        extra = (
            f", +{(row['first_byte'] - floor) * 1000:.0f} ms over python+httpx"
            if floor and row["first_byte"]
            else ""
        )
        lines.append(
            f"[{'met' if not bad else 'NOT met'}] {row['client']} (pipe): "
            f"prompt_toolkit/rich.markdown {'imported: ' + ', '.join(bad) if bad else 'not imported'}; "
            f"first byte {_ms(row['first_byte'])}{extra}"
        )
    longest = max((row["tokens"] for row in stream), default=0)
    for row in stream:
        need = TARGET_TOKS[row["view"]]
        rate = row.get("tok_s") or 0.0
        capacity = 1e6 / row["cpu_us"] if row.get("cpu_us") else 0.0
        flat = row.get("flat_cpu") or row.get("flat_wall") or 99.0
        judged = row["tokens"] == longest  # 10% of a short run is too few tokens to compare
        ok = capacity >= need and (flat <= FLAT_LIMIT or not judged) and row["output_ok"] and not row["rc"]
        flatness = f"{flat:.2f} ({'flat if' if judged else 'not judged, short run; flat if'} <= {FLAT_LIMIT})"
        lines.append(
            f"[{'met' if ok else 'NOT met'}] {row['view']} {row['tokens']:,} tokens: client CPU allows "
            f"{capacity:,.0f} tok/s, wall {rate:,.0f} tok/s (target {need:,}); CPU per token last/first "
            f"10% = {flatness}; output {'ok' if row['output_ok'] else 'WRONG'}"
        )
    return lines


def _stream_line(row: dict[str, Any]) -> str:
    first = _us(row.get("first10_wall_us")) + "/" + _us(row.get("first10_cpu_us"))
    last = _us(row.get("last10_wall_us")) + "/" + _us(row.get("last10_cpu_us"))
    return (
        f"  {row['view']:<5} {row['tokens']:>7,} {row.get('tok_s') or 0:>8,.0f} "
        f"{_us(row.get('wall_us')):>6} {_us(row.get('cpu_us')):>6} {first:>13} {last:>13} "
        f"{_ms(row.get('first_text')):>9} {_ms(row['wall']):>8} {row['cpu']:>8.2f}s "
        f"{row['max_rss_mb']:>5.0f}MB {'ok' if row['output_ok'] else 'WRONG'}"
    )


def table(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"Python {m['python']} on {m['platform']}, {m['cpus']} CPUs, "
        f"load average {m.get('loadavg')} before, {m.get('loadavg_after')} after",
        "",
        f"Start-up: wall time of fresh processes, launch -> exit, best/median of {result['repeat']}",
    ]
    for row in result["startup"]:
        lines.append(
            f"  {row['command']:<54} {_ms(row['best']):>7} {_ms(row['median']):>7}   {_imports(row)}"
        )
    for name, value in REFERENCE.items():
        lines.append(f"  reference (issue, not measured here): {name:<39} {value * 1000:.0f} ms")
    lines += ["", f"First byte: launch -> POST arrives at the server, best/median of {result['fb_repeat']}"]
    lines.append(f"  {'client':<44} {'first byte':>10} {'median':>7} {'exit':>7}  prompt")
    for row in result["first_byte"]:
        fb, med, end = _ms(row["first_byte"]), _ms(row["first_byte_median"]), _ms(row["exit"])
        lines.append(
            f"  {row['client']:<44} {fb:>10} {med:>7} {end:>7}  {row['prompt'] or '—':<5} {_imports(row)}"
        )
        if row.get("error"):
            lines.append(f"    {row['failed']} run(s) failed, not counted; exit {row['rc']}: {row['error']}")
    lines += [
        "",
        f"Streaming (--kind {result['kind']}): one SSE event per token, server unthrottled, best of "
        f"{result['stream_repeat']} by rate; µs per token: wall / client CPU (all threads)",
        "  fake server alone (a reader doing only recv): "
        + ", ".join(f"{int(n):,} tokens {rate:,.0f} tok/s" for n, rate in result["server_tok_s"].items()),
        f"  {'view':<5} {'tokens':>7} {'tok/s':>8} {'wall':>6} {'cpu':>6} {'first10% w/c':>13} "
        f"{'last10% w/c':>13} {'1st text':>9} {'exit':>8} {'cpu total':>9} {'RSS':>7} output",
    ]
    for row in result["stream"]:
        lines.append(_stream_line(row))
        if row.get("error"):
            lines.append(f"    exit {row['rc']}: {row['error']}")
    if result.get("layers") or result.get("layers_error"):
        lines += [
            "",
            "Streaming path layer by layer, in-process, client CPU µs per token (each includes the above)",
        ]
        lines += [f"  {name:<40} {us:6.2f}" for name, us in result.get("layers", [])]
        if result.get("layers_error"):
            lines.append(f"  unavailable: {result['layers_error']}")
    lines += ["", "Targets (issue 4, Speed)"] + [f"  {t}" for t in result["targets"]]
    for name, text in result.get("profile", {}).items():
        lines += ["", f"cProfile: gptoss ask, {name} (main thread only)", text]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--repeat", type=int, default=15, help="fresh processes per start-up figure (default 15)")
    ap.add_argument("--fb-repeat", type=int, default=7, help="runs per first-byte figure (default 7)")
    ap.add_argument("--stream-repeat", type=int, default=3, help="runs per streaming figure (default 3)")
    ap.add_argument("--tokens", default="5000,50000", help="answer lengths to stream (default 5000,50000)")
    ap.add_argument("--kind", default="llamacpp", help="server kind for streaming (default llamacpp)")
    ap.add_argument("--quick", action="store_true", help="5 / 3 / 1 runs and 5,000 tokens only")
    ap.add_argument("--profile", action="store_true", help="also cProfile `gptoss ask` (cold, pipe, tty)")
    ap.add_argument("--top", type=int, default=18, help="lines per profile (default 18)")
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--profile-child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve is not None:
        serve([int(x) for x in args.serve.split(",") if x])
        return 0
    if args.profile_child:
        mode, url, kind, small, top = args.profile_child
        profile_child(mode, url, kind, small, int(top))
        return 0
    if args.quick:
        args.repeat, args.fb_repeat, args.stream_repeat, args.tokens = 5, 3, 1, "5000"
    sizes = [int(x) for x in args.tokens.split(",") if x]
    kinds = list(dict.fromkeys([args.kind, "lmstudio", "openai"]))
    result: dict[str, Any] = {"machine": machine(), "repeat": args.repeat, "fb_repeat": args.fb_repeat}
    result.update(stream_repeat=args.stream_repeat, kind=args.kind)
    server = FakeServer([SMALL, *sizes])
    try:
        with tempfile.TemporaryDirectory(prefix="gptoss-bench-") as home:
            result["startup"] = bench_startup(home, args.repeat)
            result["first_byte"] = bench_first_byte(server, home, args.fb_repeat, kinds)
            result["server_tok_s"] = {n: server_capacity(server, n, 3) for n in sizes}
            result["stream"] = bench_stream(server, home, sizes, args.kind, args.stream_repeat)
            if args.profile:
                result["profile"] = profiles(server, home, max(sizes), args.kind, args.top)
                try:
                    result["layers"] = bench_layers(server, max(sizes))
                except (ImportError, AttributeError, TypeError) as exc:  # internals moved
                    result["layers_error"] = f"{type(exc).__name__}: {exc}"
    finally:
        server.close()
    with contextlib.suppress(OSError, AttributeError):
        result["machine"]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    result["targets"] = targets(result["startup"], result["first_byte"], result["stream"])
    print(json.dumps(result, indent=2, default=str) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
