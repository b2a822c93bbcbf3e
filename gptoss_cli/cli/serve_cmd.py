"""``gptoss serve MODEL``: start a local server the way raw Harmony needs it, and keep it running."""

from __future__ import annotations

import sys
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
    from gptoss_cli.errors import ServerError, UsageError
    from gptoss_cli.paths import cache_dir
    from gptoss_cli.servers.serve import launch, stop, tail
    from gptoss_cli.ui.signals import terminate_gracefully

    if engine not in (None, "llamacpp", "vllm"):
        raise UsageError(f"unknown engine {engine!r}", hint="use llamacpp or vllm")
    if context <= 0:
        raise UsageError("--ctx must be a positive number of tokens")
    chosen: Any = engine
    with terminate_gracefully():  # SIGTERM and SIGHUP stop the server too, as Ctrl-C does
        running = launch(
            model,
            cache_dir=cache_dir(),
            say=_say,
            tick=_dot,
            engine=chosen,
            host=host,
            port=port,
            context=context,
            extra=list(ctx.args),
        )
        title, url = running.plan.title, running.plan.base_url
        try:
            sys.stderr.write(f"\ngptoss: {title} is ready; Ctrl-C stops it. Try: gptoss chat\n")
            sys.stdout.write(url + "\n")
            sys.stdout.flush()
            code = running.process.wait()
        except BaseException:
            stop(running.process)
            raise
    if code != 0:
        raise ServerError(
            f"{title} exited with code {code}:\n{tail(running.log)}", hint=f"log: {running.log}"
        )


def _say(text: str) -> None:
    sys.stderr.write(f"gptoss: {text}\n")
    sys.stderr.flush()


def _dot(waited: float) -> None:
    if int(waited * 4) % 8 == 0:  # every other second
        sys.stderr.write(".")
        sys.stderr.flush()
