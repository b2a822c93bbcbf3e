"""Run gptoss with the usual ports (where it looks for a server, and where ``gptoss serve`` and the
chat's offer start one) replaced by one port, chosen free by the test: the real 8000/8080/... may be
in use on the machine running the tests.

    python -m tests.usual_port PORT chat -n
"""

from __future__ import annotations

import sys


def main() -> None:
    from gptoss_cli.servers import discover, serve

    port = int(sys.argv.pop(1))
    discover.PORTS = ((port, "llama-server"),)
    serve.DEFAULT_PORTS.update({"llamacpp": port, "vllm": port})
    from gptoss_cli.cli import entry

    entry()


if __name__ == "__main__":
    main()
