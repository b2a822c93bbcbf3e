"""``gptoss ask``: one-shot questions, piping in and out."""

from __future__ import annotations

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
    SchemaOpt,
    ShowReasoningOpt,
    StatsOpt,
    SystemOpt,
    ToolsOpt,
    YesOpt,
    read_stdin_if_piped,
    server_flags,
    split_options,
)
from gptoss_cli.session.setup import (
    ToolFlags,
    load_schema,
    open_session,
    persistence_for,
)


@app.command()
def ask(
    prompt: Annotated[str | None, typer.Argument(help="The question (joined after piped stdin).")] = None,
    system: SystemOpt = None,
    role: RoleOpt = None,
    reasoning: ReasoningOpt = None,
    option: OptionOpt = None,
    no_stream: Annotated[
        bool, typer.Option("--no-stream", help="Print the answer when it is complete.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with everything.")] = False,
    extract: Annotated[
        bool, typer.Option("-x", "--extract", help="Print the first code block of the answer.")
    ] = False,
    show_reasoning: ShowReasoningOpt = False,
    raw: Annotated[bool, typer.Option("--raw", help="Show the exact Harmony text as it streams.")] = False,
    stats: StatsOpt = False,
    no_log: NoLogOpt = False,
    cont: Annotated[bool, typer.Option("-c", "--continue", help="Continue the last conversation.")] = False,
    tools: ToolsOpt = None,
    functions: FunctionsOpt = None,
    python: PythonToolOpt = False,
    browser: BrowserOpt = False,
    yes: YesOpt = False,
    max_steps: MaxStepsOpt = 10,
    schema: SchemaOpt = None,
    cid: Annotated[str | None, typer.Option("--cid", help="Continue the conversation with this id.")] = None,
    at: Annotated[
        int | None,
        typer.Option(
            "--at",
            min=0,
            metavar="N",
            help="With --cid or -c: continue after its first N exchanges (saved as a branch).",
        ),
    ] = None,
    files: Annotated[
        list[str] | None,
        typer.Option("-f", "--file", help="Attach a file, URL or - (stdin) to the question (repeatable)."),
    ] = None,
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    kind: KindOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Ask one question; the final answer goes to stdout, nothing else."""
    from gptoss_cli.errors import UsageError
    from gptoss_cli.session.setup import continue_conversation
    from gptoss_cli.ui.oneshot import AskOutput, answer

    attach_stdin = "-" in (files or ())
    piped = read_stdin_if_piped()
    text = "\n".join(p for p in (None if attach_stdin else piped, prompt) if p)
    if files:
        from gptoss_cli.tools.attachments import compose, read_attachment

        text = compose(text, [read_attachment(f, stdin_text=piped or "") for f in files])
    if not text.strip():
        raise UsageError("nothing to ask", hint='give a PROMPT or pipe text in: gptoss ask "why?" < log.txt')
    flags: dict[str, Any] = {
        **server_flags(config, profile, base_url, model, kind, api_key_env),
        "reasoning": reasoning,
        "instructions": system,
        "show_reasoning": show_reasoning or None,
        "stats": stats or None,
        "save_history": False if no_log else None,
        "role": role,
    }
    response_format = load_schema(schema) if schema is not None else None  # before any server is asked
    tool_flags = ToolFlags(tuple(tools or ()), tuple(functions or ()), python, browser, yes, max_steps)
    session, settings, registry = open_session(flags, split_options(option or []), tool_flags)
    persistence = persistence_for(settings)
    if at is not None and cid is None and not cont:
        raise UsageError("--at needs the conversation to fork", hint="give --cid ID or -c")
    if cid is not None or cont:
        continue_conversation(session, persistence, cid, at=at)
    output = AskOutput(as_json, extract, no_stream, raw, yes, max_steps, response_format)
    answer(session, text, settings=settings, registry=registry, persistence=persistence, output=output)
