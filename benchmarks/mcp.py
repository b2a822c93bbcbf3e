"""What a configured MCP server adds to an ``ask`` that calls none of its tools (run by hand, never a test).

    .venv/bin/python benchmarks/mcp.py [--runs N]

A local HTTP server answers every completion with a short final answer (llama-server's SSE shape).
``gptoss ask`` runs N times as a fresh process (median wall time) with a config that names no MCP
server (the floor) and with one that names the test suite's stdio MCP server
(``tests/tools/mcp_server.py``): first with its tool list not yet cached (the server is started to
list its tools), then cached (nothing is started unless a tool is called). Reported: the medians
and what the MCP server adds over the floor. The issue's target: under 0.3 s with the cache.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GPTOSS = [sys.executable, "-m", "gptoss_cli"]
ANSWER = ["<|channel|>", "final", "<|message|>", "Four."]


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._send(404, b"{}", "application/json")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        events = [{"choices": [{"index": 0, "text": t, "finish_reason": None}]} for t in ANSWER]
        events.append({"choices": [{"index": 0, "text": "", "finish_reason": "stop"}]})
        body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        self._send(200, body.encode(), "text/event-stream")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _median(argv: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"gptoss failed: {done.stderr}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    work = Path(tempfile.mkdtemp())
    try:
        plain, with_mcp = work / "plain.toml", work / "mcp.toml"
        plain.write_text("")
        script = ROOT / "tests" / "tools" / "mcp_server.py"
        with_mcp.write_text(f'[mcp.arith]\ncommand = ["{sys.executable}", "{script}", "stdio"]\n')
        env = {**os.environ, "GPTOSS_HOME": str(work / "home"), "NO_COLOR": "1"}
        ask = [*GPTOSS, "ask", "2+2?", "-n", "--base-url", url, "--kind", "llamacpp"]
        floor = _median([*ask, "--config", str(plain)], env, runs)
        cold = []
        for _ in range(max(3, runs // 3)):
            shutil.rmtree(work / "home" / "cache" / "mcp", ignore_errors=True)
            shutil.rmtree(work / "home", ignore_errors=True)
            cold.append(_median([*ask, "--config", str(with_mcp)], env, 1))
        cached = _median([*ask, "--config", str(with_mcp)], env, runs)
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    first = statistics.median(cold)
    print(f"no MCP server (floor)          {floor:6.2f} s")
    print(f"MCP server, tool list uncached {first:6.2f} s   +{first - floor:5.2f} s")
    print(f"MCP server, tool list cached   {cached:6.2f} s   +{cached - floor:5.2f} s")


if __name__ == "__main__":
    main()
