"""``gptoss ask``: one-shot questions, piping in and out."""

from __future__ import annotations

import json
import re
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
    check_structured,
    load_schema,
    open_session,
    persistence_for,
)

_CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)```", re.S)


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
    from gptoss_cli.errors import GptossError, UsageError
    from gptoss_cli.session.agent import Run
    from gptoss_cli.tools.calls import Approver
    from gptoss_cli.ui.approval import line_asker
    from gptoss_cli.ui.interrupts import first_only, held, ignore_from_now
    from gptoss_cli.ui.signals import Terminated, terminate_gracefully
    from gptoss_cli.ui.stream import StreamView, ViewOptions
    from gptoss_cli.ui.terminal import no_echo

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
        from gptoss_cli.session.persist import history_of
        from gptoss_cli.session.turn import first_exchanges

        session.history = history_of(persistence.load(cid) if cid is not None else persistence.load_last())
        session.token_cache.update(persistence.loaded_tokens)
        if at is not None:
            session.history = first_exchanges(session.history, at)
    if response_format is not None:
        from dataclasses import replace

        session.settings = replace(session.settings, response_format=response_format)
    asker = line_asker(sys.stdin, sys.stderr) if sys.stdin.isatty() else None
    turn = Run(session, session.ask(text), registry, Approver(assume_yes=yes, ask=asker), max_steps)
    quiet = as_json or extract or no_stream
    session.raw_events = raw and not quiet
    view = StreamView(
        ViewOptions(
            show_reasoning=settings.display.show_reasoning and not quiet,
            raw=raw and not quiet,
            stats=settings.display.stats,
            markdown=settings.display.markdown,
            color=settings.display.color != "never",
        )
    )
    # SIGTERM/SIGHUP keep the partial turn, as Ctrl-C does; a second Ctrl-C cannot cut the save short
    with terminate_gracefully(), first_only(exiting=True):
        try:
            with no_echo():  # typed keys (and ^C) must not land in the live answer (see ui/terminal.py)
                for event in turn:
                    if not quiet:
                        view.handle(event)
        except (KeyboardInterrupt, Terminated, GptossError) as exc:
            # keep what arrived: show it, save it, then report; a second Ctrl-C meanwhile is held back
            with held():
                turn.close()
                view.close()
                if as_json and turn.result is not None:
                    data = _result_json(session, turn.result)
                    data["error"] = (
                        "interrupted"
                        if isinstance(exc, KeyboardInterrupt)
                        else "terminated"
                        if isinstance(exc, Terminated)
                        else str(exc)
                    )
                    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
                elif quiet and turn.result is not None and turn.result.final_text:
                    sys.stdout.write(turn.result.final_text.rstrip("\n") + "\n")
                # a request that failed before any answer is not saved (nothing arrived to keep)
                kept = any(m.text or m.recipient for m in _this_request(session.history))
                saved = persistence.autosave(session) if kept else None
                if not isinstance(exc, GptossError):
                    sys.stderr.write(_kept_line(kept, saved) + "\n")
            if isinstance(exc, KeyboardInterrupt):
                ignore_from_now()
            raise
        finally:
            if registry is not None:
                registry.close()
        persistence.autosave(session)
    result = turn.result
    assert result is not None
    parsed: Any = None
    schema_error: GptossError | None = None
    if response_format is not None and result.outcome == "final":
        try:
            parsed = check_structured(result.final_text, response_format[1])
        except GptossError as exc:
            schema_error = exc
    if as_json:
        data = _result_json(session, result)
        if response_format is not None:
            data["parsed"] = parsed
            data["schema_error"] = str(schema_error) if schema_error else None
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif extract and result.final_text:
        match = _CODE_BLOCK.search(result.final_text)
        sys.stdout.write((match.group(1) if match else result.final_text).rstrip("\n") + "\n")
    elif no_stream and result.final_text:
        sys.stdout.write(result.final_text.rstrip("\n") + "\n")
    if quiet and not as_json and result.outcome in ("no_answer", "incomplete") and result.unclear_text:
        from gptoss_cli.ui.stream import unclear_block

        sys.stderr.write(unclear_block(result.unclear_text))
    if view.options.stats and quiet:
        from gptoss_cli.ui.stream import format_stats

        sys.stderr.write(format_stats(result) + "\n")
    _exit_for(result, turn)
    if schema_error is not None:
        raise schema_error


def _kept_line(kept: bool, saved: str | None) -> str:
    """After Ctrl-C or SIGTERM: what was kept, and where."""
    if not kept:
        return "gptoss: interrupted before any answer arrived; nothing to keep"
    if saved is None:
        return "gptoss: interrupted; the partial answer was not saved (history is off)"
    if "/" in saved or saved.endswith(".json"):
        return f"gptoss: interrupted; the partial answer is saved in {saved}"
    return f"gptoss: interrupted; the partial answer is saved as {saved} (ask --cid {saved} continues it)"


def _exit_for(result: Any, run: Any) -> None:
    from gptoss_cli.errors import GptossError

    if result.outcome == "final":
        return
    if result.outcome == "tool_call":
        names = ", ".join(m.recipient for m in result.tool_calls)
        if run.exhausted:
            raise GptossError(
                f"no final answer: the model still called a tool ({names}) after {run.max_steps} tool calls",
                hint=f"raise --max-steps (now {run.max_steps}) to let it go on",
            )
        raise GptossError(
            f"the model called a tool ({names}) and no tools are enabled",
            hint="enable tools with --tools FILE, --functions FILE, --python or --browser",
        )
    if result.outcome == "incomplete":
        raise GptossError(f"the answer was cut off by {result.cut_off_cause}", hint=result.cut_off_hint)
    if result.unclear_text:
        raise GptossError(
            "no clean answer: the output could not be read with certainty, so nothing went to stdout",
            hint="the unclear text is above on stderr; --raw shows the output as the server sent it",
        )
    raise GptossError("the model gave no final answer", hint="try --show-reasoning to see what it did")


def _this_request(history: list[Any]) -> list[Any]:
    """The messages after the last user message: everything this request produced."""
    for i in range(len(history) - 1, -1, -1):
        if history[i].author.role.value == "user":
            return history[i + 1 :]
    return history


def _result_json(session: Any, result: Any) -> dict[str, Any]:
    """The turn's record (outcome, finish reason, usage, timings, tool calls: the shape the store
    keeps) with the answer's text and every message this request produced."""
    turns = [r.record((0, 0)).to_dict() for r in session.results]
    data = {key: value for key, value in turns[-1].items() if key not in ("messages", "tool_calls")}
    return {
        "final": result.final_text,
        "reasoning": result.reasoning_text,
        **data,
        "tool_calls": [call for turn in turns for call in turn.get("tool_calls", ())],
        "unclear": result.unclear_text,
        "messages": [m.to_dict() for m in _this_request(session.history)],
        "limit": result.limit.to_dict() if result.limit is not None else None,
    }
