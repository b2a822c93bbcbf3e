"""One question, answered: the stream shown or held, the turn saved, the outcome as an exit.

``gptoss ask`` hands a ready session here. Ctrl-C, SIGTERM and SIGHUP keep what arrived (shown,
saved, reported on stderr); ``--json``, ``--extract`` and ``--no-stream`` print the answer when it
is complete; an outcome other than a final answer raises the error that sets the exit code.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from gptoss_cli.errors import GptossError

if TYPE_CHECKING:
    from gptoss_cli.config.resolve import Settings
    from gptoss_cli.session.persist import StorePersistence
    from gptoss_cli.session.turn import Session
    from gptoss_cli.tools.registry import Registry

_CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)```", re.S)


@dataclass(frozen=True)
class AskOutput:
    """How the answer is printed, and how tool calls are run."""

    as_json: bool = False
    extract: bool = False
    no_stream: bool = False
    raw: bool = False
    yes: bool = False
    max_steps: int = 10
    response_format: tuple[str, dict[str, Any], str | None] | None = None


def answer(
    session: Session,
    text: str,
    *,
    settings: Settings,
    registry: Registry | None,
    persistence: StorePersistence,
    output: AskOutput,
) -> None:
    """Ask ``text`` in ``session`` and print the answer as ``output`` says; raise on a non-final outcome."""
    from gptoss_cli.session.agent import Run
    from gptoss_cli.session.setup import check_structured
    from gptoss_cli.tools.calls import Approver
    from gptoss_cli.ui.approval import line_asker
    from gptoss_cli.ui.interrupts import first_only, held, ignore_from_now
    from gptoss_cli.ui.signals import Terminated, terminate_gracefully
    from gptoss_cli.ui.stream import StreamView, ViewOptions
    from gptoss_cli.ui.terminal import no_echo

    as_json, extract, no_stream, raw = output.as_json, output.extract, output.no_stream, output.raw
    yes, max_steps, response_format = output.yes, output.max_steps, output.response_format
    if response_format is not None:
        session.settings = replace(session.settings, response_format=response_format)
    asker = line_asker(sys.stdin, sys.stderr) if sys.stdin.isatty() else None
    turn = Run(session, session.ask(text), registry, Approver(assume_yes=yes, ask=asker), max_steps)
    quiet = as_json or extract or no_stream
    session.raw_events = raw and not quiet
    view = StreamView(
        replace(
            ViewOptions.from_settings(settings),
            show_reasoning=settings.display.show_reasoning and not quiet,
            raw=raw and not quiet,
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
