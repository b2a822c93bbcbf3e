"""``gptoss chat``: the interactive chat."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from . import app
from .common import (
    ApiKeyEnvOpt,
    BaseUrlOpt,
    BrowserOpt,
    ConfigOpt,
    FunctionsOpt,
    KindOpt,
    MaxStepsOpt,
    ModelOpt,
    NoLogOpt,
    OptionOpt,
    ProfileOpt,
    PythonToolOpt,
    ReasoningOpt,
    RoleOpt,
    ShowReasoningOpt,
    StatsOpt,
    SystemOpt,
    ToolFlags,
    ToolsOpt,
    YesOpt,
    open_session,
    persistence_for,
    server_flags,
    split_options,
)


@app.command()
def chat(
    file: Annotated[str | None, typer.Argument(help="A saved conversation to continue.")] = None,
    system: SystemOpt = None,
    role: RoleOpt = None,
    reasoning: ReasoningOpt = None,
    option: OptionOpt = None,
    show_reasoning: ShowReasoningOpt = False,
    stats: StatsOpt = False,
    no_log: NoLogOpt = False,
    tools: ToolsOpt = None,
    functions: FunctionsOpt = None,
    python: PythonToolOpt = False,
    browser: BrowserOpt = False,
    yes: YesOpt = False,
    max_steps: MaxStepsOpt = 10,
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    kind: KindOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Chat in the terminal (/help lists the slash commands)."""
    from ..errors import UsageError
    from ..paths import data_dir
    from ..tools.calls import Approver
    from ..ui.repl import Repl
    from ..ui.stream import ViewOptions
    from .persist import history_of

    if not sys.stdin.isatty():
        raise UsageError("chat needs a terminal", hint='for piped input use: gptoss ask "..."')
    flags: dict[str, Any] = {
        **server_flags(config, profile, base_url, model, kind, api_key_env),
        "reasoning": reasoning,
        "instructions": system,
        "show_reasoning": show_reasoning or None,
        "stats": stats or None,
        "save_history": False if no_log else None,
        "role": role,
    }
    tool_flags = ToolFlags(tuple(tools or ()), tuple(functions or ()), python, browser, yes, max_steps)
    session, settings, registry = open_session(flags, split_options(option or []), tool_flags)
    persistence = persistence_for(settings)
    if file is not None:
        session.history = history_of(persistence.load(file))
    repl = Repl(
        session,
        ViewOptions(
            show_reasoning=settings.display.show_reasoning,
            stats=settings.display.stats,
            markdown=settings.display.markdown,
            color=settings.display.color != "never",
        ),
        persistence,
        history_file=data_dir() / "prompt-history.txt",
        tools=registry,
        approver=Approver(assume_yes=True) if yes else None,
        max_steps=max_steps,
    )
    try:
        repl.run()
    finally:
        if repl.tools is not None:
            repl.tools.close()
