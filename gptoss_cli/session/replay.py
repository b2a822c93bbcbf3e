"""Replaying saved conversations: their user turns asked again, with the same or other settings.

No Rich, no Typer here (``cli/replay_cmd.py`` is the command). A *source* is a saved conversation
(any shape :func:`~gptoss_cli.store.read_record` reads) with the settings its system and developer
messages carry; a *run* is one source replayed with one reasoning effort; its *report* is what came of
it. Settings are taken, in order of precedence, from the command's flags, then the file's system and
developer messages (identity, knowledge cutoff, date, reasoning effort, instructions, declared tools),
then the config. Tool results are not replayed: only the user turns are asked again.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from gptoss_cli.errors import GptossError, UsageError
from gptoss_cli.harmony import (
    DeveloperContent,
    Message,
    ReasoningEffort,
    Role,
    SystemContent,
    pieces_to_text,
)
from gptoss_cli.session.agent import AgentEvent, Run
from gptoss_cli.session.turn import (
    ChatSettings,
    Session,
    Target,
    TurnResult,
    build_prompt,
)
from gptoss_cli.store import Record, Store, is_id, read_record
from gptoss_cli.tools.calls import Approver
from gptoss_cli.tools.recorded import RecordedApprover, recorded_registry
from gptoss_cli.tools.registry import Registry

__all__ = [
    "Interrupted",
    "ReplayView",
    "RunReport",
    "RunSpec",
    "Saver",
    "Source",
    "dry_run_prompts",
    "format_summary",
    "format_table",
    "load_conversation",
    "parse_efforts",
    "plan_runs",
    "run_all",
    "run_one",
    "source_from",
]


# ------------------------------------------------------------------------------------------ sources


def load_conversation(ref: str, store: Store | None = None) -> Record:
    """A saved conversation by file path, else by history id or id prefix."""
    path = Path(ref).expanduser()
    if path.exists() or not is_id(ref.strip()):
        return read_record(path)  # names the file: missing, a directory, broken JSON (line), bad shape
    return (store or Store()).load(ref)


@dataclass(frozen=True, slots=True)
class Source:
    """A conversation to replay: its messages, its user turns and the settings it was held with."""

    name: str
    record: Record
    messages: tuple[Message, ...]
    settings: ChatSettings
    user_texts: tuple[str, ...]
    tool_messages: int
    """Tool results in the file: they are not replayed (only the user turns are)."""


def source_from(
    name: str, record: Record, base: ChatSettings, messages: Sequence[Message] | None = None
) -> Source:
    """The file's system/developer settings on top of ``base`` (the config's). ``messages`` are the
    record's with cut-off ones marked (default: the record's as saved)."""
    msgs = tuple(record.conversation.messages if messages is None else messages)
    users = tuple(m.text for m in msgs if m.role is Role.USER)
    if not users:
        raise UsageError(f"{name}: no user messages to replay")
    settings = base
    if record.meta.reasoning_effort:
        with contextlib.suppress(ValueError):  # an odd value: the system message or the config decides
            settings = replace(settings, reasoning=ReasoningEffort.parse(record.meta.reasoning_effort))
    for message in msgs:
        for part in message.content:
            if isinstance(part, SystemContent) and message.role is Role.SYSTEM:
                settings = replace(
                    settings,
                    identity=part.model_identity,
                    knowledge_cutoff=part.knowledge_cutoff,
                    date=part.conversation_start_date or "",
                    reasoning=part.reasoning_effort or settings.reasoning,
                    builtin_tools=tuple(ns for _, ns in part.tools or ()),
                )
            elif isinstance(part, DeveloperContent) and message.role is Role.DEVELOPER:
                settings = replace(
                    settings,
                    instructions=part.instructions or settings.instructions,
                    function_tools=tuple(ns for _, ns in part.tools or ()),
                )
    tools = sum(1 for m in msgs if m.role is Role.TOOL)
    return Source(name, record, msgs, settings, users, tools)


def parse_efforts(text: str) -> tuple[ReasoningEffort, ...]:
    """``low,medium,high`` as efforts, in order, without repeats."""
    efforts: list[ReasoningEffort] = []
    for word in text.split(","):
        try:
            effort = ReasoningEffort.parse(word.strip())
        except ValueError:
            raise UsageError(
                f"unknown reasoning effort {word.strip()!r}", hint="use low, medium or high, e.g. -r low,high"
            ) from None
        if effort not in efforts:
            efforts.append(effort)
    return tuple(efforts)


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One source replayed with one set of settings (``out``: where to write it, else the store)."""

    source: Source
    settings: ChatSettings
    out: Path | None = None

    @property
    def label(self) -> str:
        return self.settings.reasoning.value.lower()


def plan_runs(
    sources: Sequence[Source],
    efforts: Sequence[ReasoningEffort] = (),
    *,
    instructions: str | None = None,
    out_dir: Path | None = None,
) -> list[RunSpec]:
    """One run per source and effort (the source's own effort when none is given). With ``out_dir``
    each run gets a file ``STEM.EFFORT.json`` there, numbered so that no file is overwritten."""
    specs: list[RunSpec] = []
    taken: set[Path] = set()
    for source in sources:
        settings = source.settings
        if instructions is not None:
            settings = replace(settings, instructions=instructions or None)
        for effort in efforts or (settings.reasoning,):
            run_settings = replace(settings, reasoning=effort)
            out = None
            if out_dir is not None:
                stem = Path(source.name).stem if source.record.path is not None else source.record.id
                out = _free_name(out_dir, f"{stem}.{effort.value.lower()}", taken)
                taken.add(out)
            specs.append(RunSpec(source, run_settings, out))
    return specs


def _free_name(folder: Path, stem: str, taken: set[Path]) -> Path:
    path, n = folder / f"{stem}.json", 1
    while path in taken or path.exists():
        n += 1
        path = folder / f"{stem}.{n}.json"
    return path


def dry_run_prompts(spec: RunSpec) -> Iterator[str]:
    """The Harmony text of each user turn's prompt under the run's settings, one at a time (a long
    conversation's prompts are never all in memory). The history before each user turn is the
    file's own (the answers as recorded: the new ones are not known yet)."""
    prefix = spec.settings.prefix()
    history = [m for m in spec.source.messages if m.role not in (Role.SYSTEM, Role.DEVELOPER)]
    for i, message in enumerate(history):
        if message.role is Role.USER:
            yield pieces_to_text(build_prompt(prefix, history[: i + 1], form=spec.settings.harmony))


# --------------------------------------------------------------------------------------------- runs


class ReplayView(Protocol):
    """Shows a run as it streams (sequential runs only)."""

    def begin(self, spec: RunSpec, index: int, text: str) -> None:
        """A user turn starts: ``text`` is asked."""

    def handle(self, event: AgentEvent) -> None:
        """An event of the streaming answer."""

    def end(self, error: str | None) -> None:
        """The turn is over: answered, cut off, or failed with ``error`` (the run stops there)."""


Saver = Callable[[Session, RunSpec], str | None]
"""Writes a run's new conversation; returns what to call it in the summary (id or path)."""


@dataclass
class RunReport:
    """What one run produced: a result per answered turn, and how it ended."""

    spec: RunSpec
    results: list[TurnResult] = field(default_factory=list)
    """Every model turn (a request with tool calls has several)."""
    answers: list[TurnResult] = field(default_factory=list)
    """The last turn of each user request: how that request ended."""
    error: str | None = None
    interrupted: bool = False
    saved: str | None = None

    @property
    def ok(self) -> bool:
        """Every user turn answered with a final answer."""
        return (
            self.error is None
            and not self.interrupted
            and len(self.answers) == len(self.spec.source.user_texts)
            and all(r.outcome == "final" for r in self.answers)
        )

    @property
    def outcome(self) -> str:
        if self.error is not None:
            return f"error: {self.error}"
        if self.interrupted:
            return "interrupted"
        for i, result in enumerate(self.answers, 1):
            if result.outcome != "final":
                reason = f" ({result.finish_reason})" if result.outcome == "incomplete" else ""
                return f"turn {i}: {result.outcome}{reason}"
        return "final" if self.ok else "not run"

    @property
    def tokens(self) -> int:
        return sum(_generated(r) for r in self.results)

    @property
    def latency(self) -> float:
        return sum(r.timings.total for r in self.results)


def _generated(result: TurnResult) -> int:
    return result.usage.generated


ToolSetup = Callable[["RunSpec"], tuple[Registry | None, Approver]]
"""How a run's tool calls are answered: ``recorded_tools`` (offline), live tools, or none."""


@dataclass(frozen=True, slots=True)
class _Loop:
    registry: Registry | None
    approver: Approver
    max_steps: int = 10


def recorded_tools(spec: RunSpec) -> tuple[Registry | None, Approver]:
    """Answer tool calls with the results the source conversation recorded for the same tool and
    arguments (offline); any other call is refused."""
    return recorded_registry(spec.source.messages), RecordedApprover()


def recorded_or_live(live: Callable[[RunSpec], tuple[Registry | None, Approver]]) -> ToolSetup:
    """Recorded results where the conversation has them; other calls run live (``live`` builds
    each run's live tools and their approver)."""

    def setup(spec: RunSpec) -> tuple[Registry | None, Approver]:
        tools, approver = live(spec)
        registry = recorded_registry(spec.source.messages, tools)
        return registry, RecordedApprover(unmatched="live", live=approver)

    return setup


def run_one(
    spec: RunSpec,
    target: Target,
    *,
    view: ReplayView | None = None,
    save: Saver | None = None,
    cancel: threading.Event | None = None,
    report: RunReport | None = None,
    tools: ToolSetup | None = None,
) -> RunReport:
    """Ask each user turn of ``spec`` in order. A server error ends the run (it is reported, not
    raised); Ctrl-C stops it and is re-raised. Either way what arrived is saved."""
    report = report or RunReport(spec)
    session = Session(target, spec.settings)
    registry, approver = tools(spec) if tools is not None else (None, Approver(assume_yes=True))
    loop = _Loop(registry, approver)
    try:
        for index, text in enumerate(spec.source.user_texts):
            if cancel is not None and cancel.is_set():
                report.interrupted = True
                break
            if not _ask(session, report, index, text, view, cancel, loop):
                break
    except KeyboardInterrupt:
        report.interrupted = True
        raise
    finally:
        if registry is not None:
            registry.close()
        report.results = list(session.results)
        if save is not None and session.results:
            try:
                report.saved = save(session, spec)
            except GptossError as exc:
                report.error = report.error or f"not saved: {exc}"
    return report


def _ask(
    session: Session,
    report: RunReport,
    index: int,
    text: str,
    view: ReplayView | None,
    cancel: threading.Event | None,
    loop: _Loop,
) -> bool:
    """One user request (with its tool rounds when tools are set up); False when the run must stop."""
    turn = Run(session, session.ask(text), loop.registry, loop.approver, loop.max_steps)
    if view is not None:
        view.begin(report.spec, index, text)
    try:
        for event in turn:
            if view is not None:
                view.handle(event)
            if cancel is not None and cancel.is_set():
                turn.close()
                report.interrupted = True
                return False
    except GptossError as exc:
        turn.close()
        report.error = str(exc) + (f" ({exc.hint})" if exc.hint else "")
        return False
    except BaseException:
        turn.close()
        raise
    finally:
        if turn.result is not None:
            report.answers.append(turn.result)  # how this request ended, cut off or not
        if view is not None:
            view.end(report.error)
    return True


def run_all(
    specs: Sequence[RunSpec],
    target: Target,
    *,
    jobs: int = 1,
    view: ReplayView | None = None,
    save: Saver | None = None,
    tools: ToolSetup | None = None,
) -> list[RunReport]:
    """Every run: one after another (shown through ``view``), or ``jobs`` at a time in threads
    (shown by nobody). Ctrl-C stops the runs, keeps their reports in :attr:`Interrupted.reports`."""
    reports = [RunReport(spec) for spec in specs]
    cancel = threading.Event()
    if jobs <= 1:
        try:
            for report in reports:
                run_one(report.spec, target, view=view, save=save, cancel=cancel, report=report, tools=tools)
        except KeyboardInterrupt:
            raise Interrupted(reports) from None
        return reports
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="replay") as pool:
        futures = [
            pool.submit(run_one, r.spec, target, save=save, cancel=cancel, report=r, tools=tools)
            for r in reports
        ]
        try:
            for future in futures:
                future.result()
        except KeyboardInterrupt:
            cancel.set()
            for future in futures:
                future.exception()  # wait: each run stops at its next event and saves
            raise Interrupted(reports) from None
    return reports


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_all`, carrying the reports so far."""

    def __init__(self, reports: list[RunReport]) -> None:
        super().__init__()
        self.reports = reports


# ------------------------------------------------------------------------------------------ summary


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table: columns padded to their widest cell, the last one not padded."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for row in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, str(row[-1])]).rstrip())
    return "\n".join(lines) + "\n"


def _finish_reasons(results: Sequence[TurnResult]) -> str:
    """``stop,length``, repeats counted (three ``stop`` in a row are ``stop×3``)."""  # noqa: RUF002
    groups: list[tuple[str, int]] = []
    for result in results:
        reason = result.finish_reason or "-"
        if groups and groups[-1][0] == reason:
            groups[-1] = (reason, groups[-1][1] + 1)
        else:
            groups.append((reason, 1))
    return ",".join(r if n == 1 else f"{r}×{n}" for r, n in groups) or "-"


def format_summary(reports: Sequence[RunReport]) -> str:
    """The summary table: file, run, turns, finish reasons, tokens, latency, saved as, outcome."""
    headers = ("FILE", "RUN", "TURNS", "FINISH", "TOKENS", "LATENCY", "SAVED", "OUTCOME")
    rows = [
        (
            r.spec.source.name,
            r.spec.label,
            f"{len(r.answers)}/{len(r.spec.source.user_texts)}",
            _finish_reasons(r.results),
            str(r.tokens),
            f"{r.latency:.2f}s",
            r.saved or "-",
            r.outcome,
        )
        for r in reports
    ]
    return format_table(headers, rows)
