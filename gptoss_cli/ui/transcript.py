"""Conversations as the chat shows them: a saved one (``show``), and replay's runs as they stream."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gptoss_cli.session.agent import AgentEvent
    from gptoss_cli.session.replay import RunSpec
    from gptoss_cli.store import Record
    from gptoss_cli.ui.stream import StreamView, ViewOptions

USER_PREFIX = "› "


def user_line(text: str) -> str:
    """A user message as the transcript shows it: ``USER_PREFIX`` before the first line, the rest indented."""
    lines = text.strip("\n").split("\n") or [""]
    return USER_PREFIX + "\n  ".join(lines) + "\n"


def print_saved(record: Record, *, show_reasoning: bool, stats: bool) -> None:
    """Your messages (after a ›) and the final answers on stdout; the rest on stderr, as the view does."""  # noqa: RUF002
    from gptoss_cli.session.persist import mark_incomplete
    from gptoss_cli.session.transcript import UserText, saved_parts
    from gptoss_cli.ui.stream import StreamView, ViewOptions

    options = ViewOptions(show_reasoning=show_reasoning, stats=stats)
    first = True
    parts = saved_parts(mark_incomplete(record), record.meta.turns)
    for part in parts:
        if isinstance(part, UserText):
            from gptoss_cli.ui.sanitize import for_stream

            sys.stdout.write(for_stream(sys.stdout, ("" if first else "\n") + user_line(part.text)))
            sys.stdout.flush()
            first = False
            continue
        view = StreamView(options)
        for event in part if isinstance(part, tuple) else (part,):
            view.handle(event)
        first = False


class RunPrinter:
    """Shows sequential runs: each user message on stdout (as ``show`` prints it), then the answer
    through the one stream renderer; a ``── FILE · EFFORT ──`` line on stderr before each of several runs."""

    def __init__(self, options: ViewOptions, *, several: bool) -> None:
        self.options = options
        self.several = several
        self.view: StreamView | None = None
        self.ended = False
        self.printed = False

    def begin(self, spec: RunSpec, index: int, text: str) -> None:
        from gptoss_cli.ui.stream import StreamView

        if self.several and index == 0:
            sys.stderr.write(f"{chr(10) if self.printed else ''}── {spec.source.name} · {spec.label} ──\n")
            sys.stderr.flush()
        sys.stdout.write(("\n" if self.printed else "") + user_line(text))
        sys.stdout.flush()
        self.printed = True
        self.view = StreamView(self.options)
        self.ended = False

    def handle(self, event: AgentEvent) -> None:
        from gptoss_cli.session.turn import TurnEnd

        if self.view is not None:
            self.view.handle(event)
            self.ended = self.ended or isinstance(event, TurnEnd)

    def end(self, error: str | None) -> None:
        if self.view is not None and not self.ended:
            self.view.close()  # cut short: close what the renderer had open
        if self.view is not None and error is not None:
            self.view.err.write(f"gptoss: error: {error}\n", "31")
        self.view = None
