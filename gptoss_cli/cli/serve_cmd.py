"""``gptoss serve MODEL``: start a local server the way raw Harmony needs it, and keep it running."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gptoss_cli.cli import app


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def serve(
    ctx: typer.Context,
    model: Annotated[
        str,
        typer.Argument(
            help="A .gguf file, a model directory, or a Hugging Face repo id (owner/name[:FILE])."
        ),
    ],
    engine: Annotated[
        str | None, typer.Option("--engine", help="llamacpp or vllm (default: from the model).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port (default: 8080 llama-server, 8000 vLLM).")
    ] = None,
    context: Annotated[int, typer.Option("--ctx", help="Context length in tokens.")] = 16384,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Start llama-server or vLLM for MODEL with the flags gptoss needs; print its URL once it is ready.

    Arguments after MODEL that gptoss does not know go to the server. Ctrl-C stops the server.
    """
    from gptoss_cli.errors import UsageError
    from gptoss_cli.paths import cache_dir
    from gptoss_cli.servers.serve import download, is_repo_id, plan, start, wait_until_healthy

    if engine not in (None, "llamacpp", "vllm"):
        raise UsageError(f"unknown engine {engine!r}", hint="use llamacpp or vllm")
    if context <= 0:
        raise UsageError("--ctx must be a positive number of tokens")
    if is_repo_id(model):
        sys.stderr.write(f"gptoss: downloading {model} from Hugging Face (resumable; cached)\n")
        local = download(model)
    else:
        local = Path(model).expanduser()
        if not local.exists():
            raise UsageError(f"{model}: no such file or directory", hint="give a path or owner/name")
    chosen: Any = engine
    serve_plan = plan(local, engine=chosen, host=host, port=port, context=context, extra=list(ctx.args))
    log = cache_dir() / "serve" / f"{serve_plan.engine}-{serve_plan.base_url.rsplit(':', 1)[1]}.log"
    sys.stderr.write(f"gptoss: starting {serve_plan.title} for {serve_plan.model} (log: {log})\n")
    process = start(serve_plan, log)
    _stop_on_sigterm(process)
    try:
        wait_until_healthy(process, serve_plan, log, tick=_dot)
        sys.stderr.write(f"\ngptoss: {serve_plan.title} is ready; Ctrl-C stops it. Try: gptoss chat\n")
        sys.stdout.write(serve_plan.base_url + "\n")
        sys.stdout.flush()
        code = process.wait()
    except BaseException:
        _stop(process)
        raise
    if code != 0:
        from gptoss_cli.errors import ServerError
        from gptoss_cli.servers.serve import tail

        raise ServerError(f"{serve_plan.title} exited with code {code}:\n{tail(log)}", hint=f"log: {log}")


def _dot(waited: float) -> None:
    if int(waited * 4) % 8 == 0:  # every other second
        sys.stderr.write(".")
        sys.stderr.flush()


def _stop(process: Any) -> None:
    """End the server's process group: SIGTERM, then SIGKILL after 10 s."""
    import os
    import subprocess

    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _stop_on_sigterm(process: Any) -> None:
    """SIGTERM and SIGHUP stop the server too (as Ctrl-C does), then exit 143/129."""

    def handler(signum: int, _frame: object) -> None:
        _stop(process)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)
