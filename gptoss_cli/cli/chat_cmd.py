"""``gptoss chat``: the interactive chat."""

from __future__ import annotations

import contextlib
import sys
from typing import Annotated, Any

import typer

from gptoss_cli.cli import app
from gptoss_cli.cli.common import (
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
    ToolsOpt,
    YesOpt,
    server_flags,
    split_options,
)
from gptoss_cli.session.setup import (
    ServerOffer,
    ToolFlags,
    open_session,
    persistence_for,
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
    from gptoss_cli.errors import UsageError
    from gptoss_cli.paths import data_dir
    from gptoss_cli.session.persist import history_of
    from gptoss_cli.tools.calls import Approver
    from gptoss_cli.ui.repl import Repl
    from gptoss_cli.ui.stream import ViewOptions

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
    # On a terminal, finding no server leads to an offer to start one (ui/offer.py); piped, to one line.
    offer: ServerOffer | None = None
    if sys.stdout.isatty():
        from gptoss_cli.ui.offer import offer_on_terminal

        offer = offer_on_terminal
    session, settings, registry = open_session(
        flags, split_options(option or []), tool_flags, offer_server=offer
    )
    persistence = persistence_for(settings)
    if file is not None:
        session.history = history_of(persistence.load(file))
        exchanges = sum(1 for m in session.history if m.author.role.value == "user")
        sys.stderr.write(
            f"gptoss: loaded {file}: {len(session.history)} messages, {exchanges} exchange(s); "
            "your next message continues it\n"
        )
        session.token_cache.update(persistence.loaded_tokens)
    repl = Repl(
        session,
        ViewOptions.from_settings(settings),
        persistence,
        history_file=data_dir() / "prompt-history.txt",
        tools=registry,
        approver=Approver(assume_yes=True) if yes else None,
        max_steps=max_steps,
        roles=settings.roles,
        config_dir=settings.config_file.parent,
    )
    from gptoss_cli.ui.signals import terminate_gracefully

    try:
        with terminate_gracefully():
            repl.run()
    finally:
        if repl.tools is not None:
            repl.tools.close()
        from gptoss_cli.session.setup import started_server

        note = started_server(settings)
        if note is not None:
            with contextlib.suppress(OSError):  # the terminal may be gone (a hang-up ended the chat)
                sys.stderr.write(note)
