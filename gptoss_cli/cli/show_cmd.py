"""``gptoss show`` (a saved conversation as the chat shows it) and ``gptoss diff`` (two runs compared)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gptoss_cli.cli import app
from gptoss_cli.cli.common import (
    ShowReasoningOpt,
    StatsOpt,
)


@app.command()
def show(
    conversation: Annotated[str, typer.Argument(help="A conversation file or history id.")],
    show_reasoning: ShowReasoningOpt = False,
    stats: StatsOpt = False,
) -> None:
    """Print a saved conversation as the chat would: your messages (after a ›) and the final answers
    on stdout; reasoning (with --show-reasoning), tool calls and tool results on stderr."""  # noqa: RUF002
    from gptoss_cli.session.replay import load_conversation
    from gptoss_cli.ui.transcript import print_saved

    print_saved(load_conversation(conversation), show_reasoning=show_reasoning, stats=stats)


@app.command()
def diff(
    a: Annotated[str, typer.Argument(help="The first conversation (file or history id).")],
    b: Annotated[str, typer.Argument(help="The second conversation (file or history id).")],
) -> None:
    """Compare two runs: the final answers as a unified diff on stdout; tool calls, finish reasons and
    token counts per request on stderr. Exit 0 when the final answers are the same, 1 when they differ."""
    from gptoss_cli.session.compare import compare
    from gptoss_cli.session.replay import load_conversation

    comparison = compare(a, load_conversation(a), b, load_conversation(b))
    sys.stderr.write(comparison.header)
    sys.stderr.flush()
    sys.stdout.writelines(comparison.answers_diff)
    sys.stdout.flush()
    sys.stderr.write(comparison.summary)
    if not comparison.same:
        raise typer.Exit(1)
