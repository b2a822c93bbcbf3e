"""Start and stop a real llama-server (built by scripts/llama_tier/setup.sh) on 127.0.0.1.

Two configurations are used by the tier:

* ``GOOD``: ``--special``, so every special token the model generates is rendered as text,
  ``<|return|>`` and ``<|call|>`` included; what a Harmony raw-completion client wants.
* ``NO_SPECIAL``: llama-server's defaults. The Harmony header tokens still come through (llama.cpp
  forces them to USER_DEFINED for gpt-oss) but the terminators ``<|return|>``/``<|call|>`` are dropped
  from the text unless the request sends ``preserved_tokens``: the misconfiguration ``gptoss doctor``
  has to spot.

Both run with ``--jinja`` (the embedded gpt-oss chat template, as people start gpt-oss), one slot,
two threads and a 4096-token context.
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

SETUP_HINT = "run scripts/llama_tier/setup.sh (builds llama-server and the tiny model into the cache)"


@dataclass(frozen=True)
class ServerConfig:
    """A named set of llama-server flags (beyond model, host, port)."""

    name: str
    flags: tuple[str, ...]


BASE_FLAGS = ("-c", "4096", "-np", "1", "-t", "2", "--no-webui", "--jinja")
GOOD = ServerConfig("special", ("--special",))
NO_SPECIAL = ServerConfig("no-special", ())


@dataclass(frozen=True)
class Install:
    """Where setup.sh put the binary and the model."""

    server: Path
    model: Path


def cache_dir(environ: Mapping[str, str]) -> Path:
    root = environ.get("GPTOSS_CACHE") or str(Path.home() / ".cache" / "gptoss-cli")
    return Path(root) / "llama"


def find_install(environ: Mapping[str, str]) -> Install:
    """The installed llama-server and model: ``GPTOSS_LLAMA_SERVER``/``GPTOSS_LLAMA_MODEL`` if set,
    else the ``current.env`` that setup.sh writes under ``GPTOSS_CACHE``. Raises ``FileNotFoundError``
    saying what to run."""
    env_file = cache_dir(environ) / "current.env"
    found: dict[str, str] = {}
    if env_file.is_file():
        for line in env_file.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                found[key.strip()] = value.strip()
    server = environ.get("GPTOSS_LLAMA_SERVER") or found.get("LLAMA_SERVER")
    model = environ.get("GPTOSS_LLAMA_MODEL") or found.get("LLAMA_MODEL")
    if not server or not model:
        raise FileNotFoundError(f"no llama-server install recorded in {env_file}: {SETUP_HINT}")
    install = Install(Path(server), Path(model))
    if not os.access(install.server, os.X_OK):
        raise FileNotFoundError(f"llama-server binary missing: {install.server}: {SETUP_HINT}")
    if not install.model.is_file():
        raise FileNotFoundError(f"tiny gpt-oss model missing: {install.model}: {SETUP_HINT}")
    return install


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LlamaServer:
    """One llama-server process: ``with LlamaServer(install, GOOD, log_dir) as server: server.base_url``."""

    def __init__(self, install: Install, config: ServerConfig, log_dir: Path) -> None:
        self.install = install
        self.config = config
        self.log_path = log_dir / f"llama-server-{config.name}.log"
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            str(self.install.server),
            "-m", str(self.install.model),
            "--host", "127.0.0.1", "--port", str(self.port),
            *BASE_FLAGS, *self.config.flags,
        ]  # fmt: skip

    def start(self, timeout: float = 60.0, attempts: int = 3) -> None:
        """Start on a free port and wait until ``/health`` answers 200 (retried if the port was taken)."""
        for attempt in range(attempts):
            self.port = free_port()
            if self._try_start(timeout):
                return
            if attempt + 1 == attempts or "bind" not in self.log_tail().lower():
                break
        raise RuntimeError(
            f"llama-server ({self.config.name}) did not become healthy: {shlex.join(self.command())}\n"
            f"--- {self.log_path} (tail) ---\n{self.log_tail()}"
        )

    def _try_start(self, timeout: float) -> bool:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    return False
                try:
                    if http.get(self.base_url + "/health").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        self.stop()
        return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> LlamaServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
