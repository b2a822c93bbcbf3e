"""A stand-in for llama-server, for tests of what starts one (``gptoss serve`` and the server ``gptoss
chat`` offers to start) without the real binary (that is the llama tier, tests/llama).

:func:`install` writes an executable ``llama-server`` into a directory to put first on PATH, where
:func:`gptoss_cli.servers.serve.find_llama_server` finds it as it would the real one. Run, it takes
llama-server's flags the way llama-server reads them (``--port``, ``-c`` the whole context, ``-np``
slots, ``--special``; the rest is accepted), appends ``{"pid", "argv"}`` to a JSON-lines record file,
and serves the llama-server simulation of tests/server_sims.py (``/health``, ``/props``,
``/v1/models``, ``/v1/completions``) on 127.0.0.1 until it is killed, answering every completion with
one fixed final answer.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def install(bin_dir: Path, record: Path, answer: str) -> Path:
    """An executable ``llama-server`` in ``bin_dir`` that runs this stand-in; its path."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    binary = bin_dir / "llama-server"
    env = {"PYTHONPATH": str(ROOT), "STAND_IN_RECORD": str(record), "STAND_IN_ANSWER": answer}
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = shlex.join([sys.executable, "-m", "tests.stand_in_llama_server"])
    binary.write_text(f'#!/bin/sh\n{assignments} exec {command} "$@"\n', encoding="utf-8")
    binary.chmod(0o755)
    return binary


def records(record: Path) -> list[dict[str, object]]:
    """What each start of the stand-in wrote: its pid and its arguments."""
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]


def _flag(argv: list[str], *names: str, default: str) -> str:
    for name in names:
        if name in argv:
            return argv[argv.index(name) + 1]
    return default


def main(argv: list[str]) -> None:
    from tests.scripted_server import ScriptedServer
    from tests.server_sims import harmony_ids, simulate

    with open(os.environ["STAND_IN_RECORD"], "a", encoding="utf-8") as out:
        out.write(json.dumps({"pid": os.getpid(), "argv": argv}) + "\n")
    answer = os.environ["STAND_IN_ANSWER"]
    server = ScriptedServer(port=int(_flag(argv, "--port", default="8080")))
    simulate(
        server,
        "llamacpp",
        [[*harmony_ids(f"<|channel|>final<|message|>{answer}"), 200002]],  # 200002: <|return|>
        context_length=int(_flag(argv, "-c", "--ctx-size", default="4096")),
        slots=int(_flag(argv, "-np", "--parallel", default="1")),
        special="--special" in argv,
    )
    server.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})  # llama-server too ends on either
    server.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})  # for sigwait
    main(sys.argv[1:])
