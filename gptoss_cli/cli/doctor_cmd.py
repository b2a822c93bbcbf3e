"""``gptoss doctor``: check that a server can serve Harmony, as a table (or JSON) with a fix per problem.

The table goes to stdout, the one-line verdict to stderr; the exit code is 0 when the server can
serve Harmony correctly, 1 when it cannot.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from typing import TYPE_CHECKING, Annotated

import typer

from . import app

if TYPE_CHECKING:
    from ..doctor import DoctorReport

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
BASE_URL_ENVS = ("GPTOSS_BASE_URL", "OPENAI_BASE_URL")
_COLORS = {"ok": "32", "warn": "33", "fail": "31", "skip": "2"}


def default_base_url() -> str:
    """``GPTOSS_BASE_URL``, else ``OPENAI_BASE_URL``, else the llama-server default."""
    for name in BASE_URL_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return DEFAULT_BASE_URL


def api_key_from_env(name: str | None) -> tuple[str | None, str | None]:
    """(key, variable): ``--api-key-env NAME`` if given, else the first of the default variables set."""
    from ..doctor import DEFAULT_KEY_ENVS

    if name:
        return os.environ.get(name) or None, name
    for candidate in DEFAULT_KEY_ENVS:
        value = os.environ.get(candidate)
        if value:
            return value, candidate
    return None, None


def render_table(report: DoctorReport, width: int, *, color: bool = False) -> str:
    """The report as aligned plain-text columns: check, status, detail, and the fix under the detail.

    Details and fixes wrap to ``width`` columns (0: no wrapping).
    """
    name_width = max(len("CHECK"), *(len(c.name) for c in report.checks))
    indent = name_width + 2 + 6 + 2
    text_width = max(40, width - indent) if width else 1 << 20
    lines = [f"{'CHECK':<{name_width}}  STATUS  DETAIL"]
    for check in report.checks:
        status = f"{check.status:<6}"
        if color:
            status = f"\x1b[{_COLORS[check.status]}m{status}\x1b[0m"
        detail = textwrap.wrap(check.detail, text_width) or [""]
        if check.fix:
            detail += textwrap.wrap(f"fix: {check.fix}", text_width, subsequent_indent="     ")
        lines.append(f"{check.name:<{name_width}}  {status}  {detail[0]}")
        lines.extend(" " * indent + more for more in detail[1:])
    return "\n".join(lines) + "\n"


@app.command()
def doctor(
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help=f"Server to check (default: $GPTOSS_BASE_URL, $OPENAI_BASE_URL or {DEFAULT_BASE_URL}).",
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Model to use (default: the only one served).")
    ] = None,
    profile_kind: Annotated[
        str | None,
        typer.Option(
            "--profile-kind", help="Server profile: vllm, sglang, llamacpp, ollama, lmstudio, openai."
        ),
    ] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            "--api-key-env", help="Variable holding the API key (default: GPTOSS_API_KEY or OPENAI_API_KEY)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check that a server can serve Harmony: markers, terminators, token ids, injection, speed."""
    from ..doctor import DoctorOptions, run_doctor

    key, key_env = api_key_from_env(api_key_env)
    options = DoctorOptions(
        base_url=base_url or default_base_url(),
        model=model,
        profile_kind=profile_kind,
        api_key=key,
        api_key_env=key_env,
    )
    report = run_doctor(options)
    if as_json:
        out = json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    else:
        tty = sys.stdout.isatty()  # piped output is not wrapped, so that each row greps whole
        width = shutil.get_terminal_size((100, 24)).columns if tty else 0
        out = render_table(report, width, color=tty and not os.environ.get("NO_COLOR"))
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(f"gptoss doctor: {report.summary()}\n")
    sys.stderr.flush()
    raise typer.Exit(0 if report.ok else 1)
