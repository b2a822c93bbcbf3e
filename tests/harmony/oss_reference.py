"""oss-harmony 0.0.11 as a differential-test oracle: its own venv, asked through a child process.

oss-harmony installs the module ``openai_harmony``, as openai-harmony 0.0.8 (the ``[test]``
extra, imported in-process) does, so the two cannot share an interpreter. The venv is made once,
from PyPI, under ``${GPTOSS_CACHE:-~/.cache/gptoss-cli}/oss-harmony-0.0.11-pyXY`` (outside the
clone, reused by later runs), then :file:`reference_child.py` runs in it and answers JSON lines.

Nothing here skips: when the venv cannot be made (no PyPI, no ``venv`` module) :func:`oracle`
raises :class:`OracleUnavailable` with what failed, and the tests fail saying so.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

PACKAGE = "oss-harmony"
VERSION = "0.0.11"
CHILD = Path(__file__).resolve().parent / "reference_child.py"
# Read at import: tests/conftest.py's autouse fixture clears GPTOSS_* variables for each test.
_CACHE = os.environ.get("GPTOSS_CACHE") or str(Path.home() / ".cache" / "gptoss-cli")


class OracleUnavailable(RuntimeError):
    """The oss-harmony venv could not be made or started."""


def venv_dir(cache: str = _CACHE) -> Path:
    """Where the venv lives: one per Python minor version (its wheel is abi3, its venv is not)."""
    return Path(cache) / f"{PACKAGE}-{VERSION}-py{sys.version_info.major}{sys.version_info.minor}"


def _python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


_CHECK = (
    f"import importlib.metadata as m, openai_harmony; print(m.version({PACKAGE!r}), openai_harmony.__file__)"
)


def _installed(venv: Path) -> bool:
    python = _python(venv)
    if not python.exists():
        return False
    done = subprocess.run([str(python), "-c", _CHECK], capture_output=True, text=True, check=False)
    return done.returncode == 0 and done.stdout.split(" ", 1)[0] == VERSION


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise OracleUnavailable(f"{what} failed ({' '.join(args)}): {' | '.join(tail)}")


def ensure_venv(cache: str = _CACHE) -> Path:
    """The venv's Python, making the venv first when it is missing or broken."""
    venv = venv_dir(cache)
    if _installed(venv):
        return _python(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    building = venv.with_name(f".{venv.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        _run([sys.executable, "-m", "venv", str(building)], "creating the oss-harmony venv")
        pip = [str(_python(building)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run([*pip, f"{PACKAGE}=={VERSION}"], f"pip install {PACKAGE}=={VERSION}")
        if not _installed(building):
            raise OracleUnavailable(f"{PACKAGE} {VERSION} installed but not importable in {building}")
        shutil.rmtree(venv, ignore_errors=True)  # a broken earlier venv
        try:
            building.rename(venv)
        except OSError:
            if not _installed(venv):  # not another run that finished first: a real failure
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return _python(venv)


class Oracle:
    """A running reference child: :meth:`ask` sends one request and returns its answer."""

    def __init__(self, python: Path) -> None:
        env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONNOUSERSITE": "1"}
        env.pop("PYTHONPATH", None)  # the child sees its venv alone (never this checkout)
        self.proc = subprocess.Popen(
            [str(python), "-I", str(CHILD)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        atexit.register(self.close)
        self.identity = self.ask({"op": "version"})

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write(json.dumps(request) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr is not None else ""
            raise OracleUnavailable(f"the oss-harmony child exited: {err.strip()[-500:]}")
        reply: dict[str, Any] = json.loads(line)
        if "fatal" in reply:
            raise OracleUnavailable(f"the oss-harmony child refused a request: {reply['fatal']}")
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # this process, started here, by its own handle
        self.proc.wait()


class _Shared:
    """The one child of this test run, or why it could not be started (tried once)."""

    oracle: Oracle | None = None
    failure: str | None = None


def oracle() -> Oracle:
    """The shared oss-harmony child (made on first use); :class:`OracleUnavailable` if it cannot be."""
    if _Shared.oracle is not None:
        return _Shared.oracle
    if _Shared.failure is not None:
        raise OracleUnavailable(_Shared.failure)
    try:
        started = Oracle(ensure_venv())
    except (OracleUnavailable, OSError) as exc:
        _Shared.failure = str(exc)
        raise OracleUnavailable(_Shared.failure) from exc
    if started.identity != {"name": PACKAGE, "version": VERSION}:
        _Shared.failure = f"the child runs {started.identity}, not {PACKAGE} {VERSION}"
        started.close()
        raise OracleUnavailable(_Shared.failure)
    _Shared.oracle = started
    return started
