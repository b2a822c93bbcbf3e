"""What finding a local server costs (run by hand, never a test): `gptoss` with no URL configured.

    .venv/bin/python benchmarks/discover.py [--runs N]

Whole-process timings, the median of N fresh processes each:

- floor: ``python -c "import gptoss_cli.servers.discover"`` (the interpreter and the module, no probe);
- cold: ``find_server`` with an empty cache and nothing listening on the five usual ports (every
  probe refused: the common "no server yet" case), in a fresh process;
- found: ``find_server`` with an empty cache and a plain HTTP server listing a gpt-oss model on one of
  the ports (8080 if free), in a fresh process;
- cached: the same, with the cache the previous run wrote (one TCP connect).

Reported in milliseconds and as the extra cost over the floor. The issue's target: under 0.3 s when it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIND = (
    "import sys, pathlib\n"
    "from gptoss_cli.servers.discover import find_server\n"
    "try:\n    find_server(pathlib.Path(sys.argv[1]))\n"
    "except Exception as exc:\n    print(type(exc).__name__)\n"
)


class _Models(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"object": "list", "data": [{"id": "openai/gpt-oss-20b"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _median_ms(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    from gptoss_cli.servers.discover import PORTS

    busy = [p for p, _ in PORTS if not _port_free(p)]
    if busy:
        sys.exit(f"ports in use: {busy}: stop those servers first (the cold case needs them closed)")
    py = sys.executable
    floor = _median_ms([py, "-c", "import pathlib, gptoss_cli.servers.discover"], runs)
    with tempfile.TemporaryDirectory() as cache:
        cold = _median_ms([py, "-c", FIND, cache + "/none"], runs)
        server = ThreadingHTTPServer(("127.0.0.1", 8080), _Models)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            found = statistics.median(
                _median_ms([py, "-c", FIND, os.path.join(cache, f"fresh{i}")], 1) for i in range(runs)
            )
            _median_ms([py, "-c", FIND, cache + "/warm"], 1)
            cached = _median_ms([py, "-c", FIND, cache + "/warm"], runs)
        finally:
            server.shutdown()
    print(f"floor (import the module)       {floor:7.1f} ms")
    for name, value in (("cold, nothing listening", cold), ("found, fresh cache", found), ("cached", cached)):
        print(f"{name:<31} {value:7.1f} ms   +{value - floor:6.1f} ms over the floor")


if __name__ == "__main__":
    main()
