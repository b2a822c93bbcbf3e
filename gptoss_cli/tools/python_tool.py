"""The built-in ``python`` tool: code from the model runs in a persistent Python subprocess.

Never in the client's process. The child is ``sys.executable`` running ``_python_driver.py`` in
its own working directory (a fresh temporary directory unless one is given), in a new session
(no controlling terminal, so Ctrl-C in the client does not reach it), with stdin, stdout and
stderr all pipes to the client: the model's code can neither read the user's terminal nor write
to it. Requests and replies are length-prefixed JSON frames (see the driver's docstring).

State (variables, imports) persists between calls like cells of a notebook. Each call has a time
limit: when it runs out the child's whole process group is killed, the model is told that the
state is lost, and the next call starts a fresh child in the same working directory. Output is
cut at ``max_output`` characters with a note saying how much was left out.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

from gptoss_cli.bounds import TOOL_OUTPUT
from gptoss_cli.errors import ToolError
from gptoss_cli.harmony import PYTHON
from gptoss_cli.tools.environment import minimal_env
from gptoss_cli.tools.registry import Approval, Namespace, ToolOutput

__all__ = ["PythonTool", "python_namespace"]

DRIVER = Path(__file__).with_name("_python_driver.py")
HEADER = struct.Struct(">I")
START_TIMEOUT = 30.0


class _Dead(Exception):
    """The child is gone (it exited, or never started); the text says why."""


class _Child:
    """One driver process and the thread that reads its replies."""

    def __init__(self, workdir: Path, limit: int) -> None:
        # an allow-list, never the user's keys (see environment.py); HOME is the working directory
        env = minimal_env(home=str(workdir), extra={"PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg"})
        posix = os.name == "posix"
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(DRIVER), str(limit)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=workdir,
            env=env,
            start_new_session=posix,
            creationflags=0 if posix else getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),
        )
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="python-tool-replies", daemon=True)
        self._reader.start()
        try:
            hello = self.replies.get(timeout=START_TIMEOUT)
        except queue.Empty:
            self.kill()
            raise _Dead(f"the Python process did not start within {START_TIMEOUT:g} s") from None
        if hello is None:
            report = self.exit_report()
            self.kill()
            raise _Dead(f"the Python process failed to start: {report}")

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None  # Popen(stdout=PIPE)
        try:
            while True:
                header = stream.read(HEADER.size)
                if len(header) < HEADER.size:
                    break
                (length,) = HEADER.unpack(header)
                body = stream.read(length)
                if len(body) < length:
                    break
                self.replies.put(_decode(body))
        except (OSError, ValueError):
            return  # the pipe was closed under us: the child is being discarded
        finally:
            self.replies.put(None)

    def send(self, code: str) -> None:
        body = _encode({"code": code})
        stdin = self.proc.stdin
        assert stdin is not None  # Popen(stdin=PIPE)
        try:
            stdin.write(HEADER.pack(len(body)) + body)
            stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _Dead(self.exit_report()) from exc

    def exit_report(self) -> str:
        """What the child said on its way out, for a message to the model."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "the Python process stopped answering"
        stderr = _read_all(self.proc.stderr).strip()
        return f"the Python process exited with code {code}" + (f":\n{stderr}" if stderr else "")

    def kill(self) -> None:
        """Kill the child and everything it started (its process group), and release the pipes."""
        with contextlib.suppress(OSError):  # already gone
            if os.name == "posix":
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.kill()
        self.proc.wait()
        self._reader.join(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _decode(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _read_all(stream: IO[bytes] | None) -> str:
    if stream is None or stream.closed:
        return ""
    try:
        return stream.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return ""


class PythonTool:
    """``to=python``: the message's text is the code; state persists across calls."""

    name = "python"
    description = PYTHON.description or ""
    parameters = None

    def __init__(
        self,
        *,
        timeout: float = 120.0,
        max_output: int | None = None,
        workdir: Path | None = None,
        approve: Approval = "ask",
    ) -> None:
        max_output = TOOL_OUTPUT.value if max_output is None else max_output
        if timeout <= 0 or max_output <= 0:
            raise ToolError(f"python: timeout and max_output must be positive (got {timeout}, {max_output})")
        self.timeout = timeout
        self.max_output = max_output
        self.approve: Approval = approve
        self._own_workdir = workdir is None
        self._workdir = workdir
        self._child: _Child | None = None
        self._closed = False
        self._lock = threading.Lock()

    def run(self, arguments: Any) -> ToolOutput:
        code = _code_of(arguments)
        if code is None:
            return ToolOutput("python expects the code itself as the message text.", error=True)
        with self._lock:
            if self._closed:
                return ToolOutput("The python tool has been shut down.", error=True)
            try:
                child = self._start()
            except _Dead as exc:
                return ToolOutput(f"[The python tool could not start: {exc}]", error=True)
            try:
                child.send(code)
                reply = child.replies.get(timeout=self.timeout)
            except _Dead as exc:
                self._discard()
                return _lost(str(exc))
            except queue.Empty:
                self._discard()
                return ToolOutput(
                    f"[Execution timed out after {self.timeout:g} seconds. The Python process was killed and "
                    "its state (variables, imports, definitions) is lost; the next call starts a fresh "
                    "process in the same working directory.]",
                    error=True,
                )
            if reply is None:
                report = child.exit_report()
                self._discard()
                return _lost(report)
        return self._output(reply)

    @property
    def workdir(self) -> Path:
        """Where the code runs: the given directory, or a temporary one made on first use."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="gptoss-python-"))
        return self._workdir

    def _start(self) -> _Child:
        if self._child is None:
            try:
                self.workdir.mkdir(parents=True, exist_ok=True)
                self._child = _Child(self.workdir, self.max_output * 4)
            except OSError as exc:
                raise _Dead(f"cannot run {sys.executable} in {self.workdir}: {exc}") from exc
        return self._child

    def _discard(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child = None

    def _output(self, reply: dict[str, Any]) -> ToolOutput:
        text = str(reply.get("output") or "")
        dropped = int(reply.get("dropped") or 0)
        if dropped:
            text = _join(text, f"[output cut: {dropped} more bytes were printed]")
        value, error = reply.get("value"), reply.get("error")
        if isinstance(value, str):
            text = _join(text, value)
        if isinstance(error, str):
            text = _join(text, error)
        text = _cap(text.rstrip("\n"), self.max_output)
        return ToolOutput(text or "[no output]", error=isinstance(error, str))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._discard()
            if self._own_workdir and self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)  # our own temporary directory


def _lost(why: str) -> ToolOutput:
    return ToolOutput(
        f"[{why[:1].upper()}{why[1:]}. Its state is lost; the next call starts a fresh process.]", error=True
    )


def _code_of(arguments: Any) -> str | None:
    """The code: the raw text, or (leniently) ``{"code": ...}`` when the model sent JSON."""
    if isinstance(arguments, str):
        return arguments
    if isinstance(arguments, dict) and isinstance(arguments.get("code"), str):
        return str(arguments["code"])
    return None


def _join(text: str, more: str) -> str:
    if not text:
        return more
    return text + ("" if text.endswith("\n") else "\n") + more


def _cap(text: str, limit: int) -> str:
    """At most ``limit`` characters, keeping the start and the end (where tracebacks end)."""
    if len(text) <= limit:
        return text
    head = limit * 3 // 4
    tail = limit - head
    cut = len(text) - head - tail
    note = f"[... {cut} characters cut: the tool output limit is {limit:,} characters ({TOOL_OUTPUT.env})]"
    return f"{text[:head]}\n{note}\n{text[len(text) - tail :]}"


def python_namespace(
    *,
    timeout: float = 120.0,
    max_output: int | None = None,
    workdir: Path | None = None,
    approve: Approval = "ask",
) -> Namespace:
    """The ``python`` built-in, declared with the reference's exact text; nothing starts until a call."""
    tool = PythonTool(timeout=timeout, max_output=max_output, workdir=workdir, approve=approve)
    return Namespace("python", (), PYTHON.description, builtin=True, declaration=PYTHON, single=tool)
