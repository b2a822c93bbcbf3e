"""``gptoss replay``: saved conversations' user turns asked again, each run saved as a new conversation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gptoss_cli.cli import app
from gptoss_cli.cli.common import (
    ApiKeyEnvOpt,
    BaseUrlOpt,
    BrowserOpt,
    ConfigOpt,
    FunctionsOpt,
    KindOpt,
    ModelOpt,
    OptionOpt,
    ProfileOpt,
    PythonToolOpt,
    ShowReasoningOpt,
    StatsOpt,
    SystemOpt,
    ToolsOpt,
    YesOpt,
    server_flags,
)
from gptoss_cli.session.setup import (
    ToolFlags,
)

if TYPE_CHECKING:
    from gptoss_cli.session.replay import RunSpec


@app.command()
def replay(
    files: Annotated[
        list[str],
        typer.Argument(metavar="FILE", help="Conversation files (any format gptoss reads) or history ids."),
    ],
    reasoning: Annotated[
        str | None,
        typer.Option("-r", "--reasoning", help="Reasoning effort; a list runs each: -r low,medium,high."),
    ] = None,
    system: SystemOpt = None,
    option: OptionOpt = None,
    jobs: Annotated[
        int, typer.Option("-j", "--jobs", min=1, help="Runs at a time; above 1 only the summary is printed.")
    ] = 1,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Write the new conversations to DIR (default: the history)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print each turn's prompt (Harmony text); no server.")
    ] = False,
    show_reasoning: ShowReasoningOpt = False,
    stats: StatsOpt = False,
    tool_results: Annotated[
        str,
        typer.Option(
            "--tool-results",
            help="Answer tool calls with the recorded results (offline), run them live, or not at all.",
            metavar="recorded|live|none",
        ),
    ] = "recorded",
    unmatched: Annotated[
        str,
        typer.Option(
            "--unmatched",
            help="With recorded results: a call whose tool and arguments were not recorded is refused "
            "(the model is told) or run live (with --tools/--python/--browser and --yes or approve=auto).",
            metavar="refuse|live",
        ),
    ] = "refuse",
    tools: ToolsOpt = None,
    functions: FunctionsOpt = None,
    python: PythonToolOpt = False,
    browser: BrowserOpt = False,
    yes: YesOpt = False,
    profile: ProfileOpt = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    kind: KindOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Ask the user turns of saved conversations again; each run is saved as a new conversation."""
    from gptoss_cli.cli.common import (
        split_options,
    )
    from gptoss_cli.config.resolve import resolve
    from gptoss_cli.errors import GptossError
    from gptoss_cli.session.replay import Interrupted, format_summary, parse_efforts, plan_runs, run_all
    from gptoss_cli.session.replay_setup import load_sources, saver, tool_setup
    from gptoss_cli.session.setup import (
        target_for,
        with_server,
    )
    from gptoss_cli.ui.stream import ViewOptions
    from gptoss_cli.ui.transcript import RunPrinter

    flags: dict[str, Any] = {
        **server_flags(config, profile, base_url, model, kind, api_key_env),
        "show_reasoning": show_reasoning or None,
        "stats": stats or None,
    }
    settings = resolve(flags, require_key=not dry_run)  # a dry run sends nothing: no key needed
    efforts = parse_efforts(reasoning) if reasoning is not None else ()
    sources = load_sources(files, settings)
    if out is not None:
        _make_dir(out)
    specs = plan_runs(sources, efforts, instructions=system, out_dir=out)
    if dry_run:
        _print_prompts(specs)
        return
    target = target_for(with_server(settings), split_options(option or []))
    setup = tool_setup(
        tool_results,
        ToolFlags(tuple(tools or ()), tuple(functions or ()), python, browser, yes),
        settings,
        unmatched,
    )
    view = RunPrinter(ViewOptions.from_settings(settings), several=len(specs) > 1) if jobs <= 1 else None
    try:
        reports = run_all(specs, target, jobs=jobs, view=view, save=saver(settings), tools=setup)
    except Interrupted as exc:
        sys.stderr.write("\n" + format_summary(exc.reports))
        raise
    sys.stderr.write(("\n" if view is not None else "") + format_summary(reports))
    failed = [r for r in reports if not r.ok]
    if failed:
        raise GptossError(
            f"{len(failed)} of {len(reports)} runs did not end with final answers",
            hint="see OUTCOME in the summary",
        )


def _make_dir(path: Path) -> None:
    from gptoss_cli.errors import StoreError

    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the output folder: {exc.strerror or exc}", path=str(path)) from exc


def _print_prompts(specs: list[RunSpec]) -> None:
    """Each turn's prompt on stdout after a ``==> FILE · reasoning E · turn N/M <==`` line."""
    from gptoss_cli.session.replay import dry_run_prompts

    first = True
    for spec in specs:
        total = len(spec.source.user_texts)
        for n, prompt in enumerate(dry_run_prompts(spec), 1):  # one prompt in memory at a time
            head = f"==> {spec.source.name} · reasoning {spec.label} · turn {n}/{total} <=="
            sys.stdout.write(("" if first else "\n") + head + "\n" + prompt + "\n")
            first = False
    sys.stdout.flush()
