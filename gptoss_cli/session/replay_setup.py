"""Replay's set-up: the saved conversations to replay, how their tool calls are answered, and
where each run is saved (``gptoss replay``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gptoss_cli.config.resolve import Settings
    from gptoss_cli.session.replay import RunSpec, Saver, Source, ToolSetup
    from gptoss_cli.session.setup import ToolFlags
    from gptoss_cli.session.turn import Session
    from gptoss_cli.tools.calls import Approver
    from gptoss_cli.tools.registry import Registry


def load_sources(refs: list[str], settings: Settings) -> list[Source]:
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


def tool_setup(mode: str, flags: ToolFlags, settings: Settings, unmatched: str) -> ToolSetup | None:
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


def saver(settings: Settings) -> Saver:
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
