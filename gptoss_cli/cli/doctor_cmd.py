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

from gptoss_cli.cli import app
from gptoss_cli.cli.common import (
    KIND_HELP,
    ApiKeyEnvOpt,
    BaseUrlOpt,
    ConfigOpt,
    ModelOpt,
    ProfileOpt,
    server_flags,
)
from gptoss_cli.session.setup import (
    with_server,
)

if TYPE_CHECKING:
    from gptoss_cli.config.resolve import Settings
    from gptoss_cli.doctor.run import DoctorReport

_COLORS = {"ok": "32", "warn": "33", "fail": "31", "skip": "2"}


def _key_variable(settings: Settings) -> str | None:
    """The environment variable the API key came from (for messages; never the key)."""
    if settings.api_key is not None and settings.api_key.source.startswith("env "):
        return settings.api_key.source[len("env ") :]
    return settings.profile.api_key_env


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
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    kind: Annotated[str | None, typer.Option("--kind", "--profile-kind", help=KIND_HELP)] = None,
    api_key_env: ApiKeyEnvOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check that a server can serve Harmony: markers, terminators, token ids, injection, speed."""
    from gptoss_cli.config.resolve import resolve
    from gptoss_cli.doctor.run import DoctorOptions, run_doctor
    from gptoss_cli.harmony import harmony_form
    from gptoss_cli.servers.kinds import configured_kind

    flags = server_flags(config, profile, base_url, model, None, api_key_env)
    settings = resolve(flags, require_key=False)  # a missing key is one of the things doctor reports
    chosen = kind or configured_kind(settings.profile.kind)
    if chosen is not None:
        from gptoss_cli.servers.profiles import get_profile

        get_profile(chosen)  # an unknown kind is a usage error, before any server is looked for
    settings = with_server(settings)
    options = DoctorOptions(
        base_url=settings.profile.base_url,
        model=settings.profile.model,
        profile_kind=chosen,
        api_key=settings.api_key.reveal() if settings.api_key is not None else None,
        api_key_env=_key_variable(settings),
        harmony=harmony_form(settings.harmony),
        max_tokens=settings.profile.max_tokens,
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
