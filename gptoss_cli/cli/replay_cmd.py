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
    from gptoss_cli.config.resolve import Settings
    from gptoss_cli.session.replay import RunSpec, Saver, Source, ToolSetup
    from gptoss_cli.session.turn import Session
    from gptoss_cli.tools.calls import Approver
    from gptoss_cli.tools.registry import Registry


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
    from gptoss_cli.session.setup import (
        target_for,
        with_server,
    )
    from gptoss_cli.ui.transcript import RunPrinter, view_options

    flags: dict[str, Any] = {
        **server_flags(config, profile, base_url, model, kind, api_key_env),
        "show_reasoning": show_reasoning or None,
        "stats": stats or None,
    }
    settings = resolve(flags, require_key=not dry_run)  # a dry run sends nothing: no key needed
    efforts = parse_efforts(reasoning) if reasoning is not None else ()
    sources = _sources(files, settings)
    if out is not None:
        _make_dir(out)
    specs = plan_runs(sources, efforts, instructions=system, out_dir=out)
    if dry_run:
        _print_prompts(specs)
        return
    target = target_for(with_server(settings), split_options(option or []))
    setup = _tool_setup(
        tool_results,
        ToolFlags(tuple(tools or ()), tuple(functions or ()), python, browser, yes),
        settings,
        unmatched,
    )
    view = RunPrinter(view_options(settings), several=len(specs) > 1) if jobs <= 1 else None
    try:
        reports = run_all(specs, target, jobs=jobs, view=view, save=_saver(settings), tools=setup)
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


def _tool_setup(mode: str, flags: ToolFlags, settings: Settings, unmatched: str) -> ToolSetup | None:
    """How tool calls are answered in the runs."""
    from gptoss_cli.errors import UsageError
    from gptoss_cli.session.replay import recorded_or_live, recorded_tools
    from gptoss_cli.session.setup import build_tools
    from gptoss_cli.tools.calls import Approver

    if mode not in ("recorded", "live", "none"):
        raise UsageError(f"--tool-results {mode!r}: use recorded, live or none")
    if unmatched not in ("refuse", "live"):
        raise UsageError(f"--unmatched {unmatched!r}: use refuse or live")

    def live(spec: RunSpec) -> tuple[Registry | None, Approver]:
        # each run its own tools (a python process keeps state); no terminal: --yes or approve=auto
        return build_tools(flags, settings), Approver(assume_yes=flags.yes)

    if mode == "recorded":
        return recorded_or_live(live) if unmatched == "live" else recorded_tools
    return None if mode == "none" else live


def _sources(refs: list[str], settings: Settings) -> list[Source]:
    from gptoss_cli.session.persist import mark_incomplete
    from gptoss_cli.session.replay import load_conversation, source_from
    from gptoss_cli.session.setup import chat_settings

    base = chat_settings(settings)
    sources = []
    for ref in refs:
        record = load_conversation(ref)
        source = source_from(ref, record, base, mark_incomplete(record))
        sources.append(source)
    return sources


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


def _saver(settings: Settings) -> Saver:
    """Saves a run as a new conversation: in the history, or at the run's ``--out`` file."""

    def save(session: Session, spec: RunSpec) -> str | None:
        from dataclasses import replace

        from gptoss_cli.session.persist import StorePersistence
        from gptoss_cli.store import new_record

        persistence = StorePersistence(settings)
        persistence.enabled = True  # replay always writes its runs (that is what it is for)
        source = spec.source.record
        record = new_record(
            base_url=session.target.base_url,
            kind=session.target.profile.kind,
            profile=settings.profile_name,
            model=session.target.model,
            reasoning_effort=spec.label,
            options=dict(session.target.call_options),
        )
        origin = {"id": source.id, "file": str(source.path) if source.path is not None else None}
        persistence.record = replace(record, meta=replace(record.meta, extra={"replay_of": origin}))
        if spec.out is not None:
            return str(persistence.save_as(session, str(spec.out)))
        persistence.autosave(session)
        return persistence.record.id if persistence.record is not None else None

    return save
