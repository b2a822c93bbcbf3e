"""Run ``gptoss`` in-process with its real error boundary, capturing stdout and stderr apart."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from typing import Any

from gptoss_cli.cli import main


@dataclass
class Result:
    code: int
    stdout: bytes
    stderr: str

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8")


class _Stream(io.TextIOWrapper):
    def isatty(self) -> bool:
        return False


def run(args: list[str], stdin: bytes = b"") -> Result:
    out, err = io.BytesIO(), io.BytesIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = _Stream(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout = _Stream(out, encoding="utf-8", write_through=True)
    sys.stderr = _Stream(err, encoding="utf-8", write_through=True)
    try:
        code = main(args)
        sys.stdout.flush()
        sys.stderr.flush()
        return Result(code, out.getvalue(), err.getvalue().decode("utf-8"))
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def saved() -> list[dict[str, Any]]:
    """Every conversation in the history (the GPTOSS_HOME in force) as its JSON file would hold it,
    newest first."""
    from gptoss_cli.store import Store

    store = Store()
    try:
        return [store.load(s.id).to_dict() for s in store.summaries()]
    finally:
        store.close()
