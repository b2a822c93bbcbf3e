"""A chat session: one turn = render the conversation -> stream -> parse -> typed events.

No Rich, no Typer here. The conversation (user, assistant and tool messages) is a list of pure
Harmony messages; the system and developer messages are built from :class:`ChatSettings` for
every turn. A turn cut off (Ctrl-C, disconnect, ``length``) keeps what arrived, marked
incomplete, and is never replayed to the model as if it were complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from gptoss_cli.errors import GptossError, UsageError
from gptoss_cli.harmony import (
    DEFAULT_FORM,
    ContentDelta,
    DeveloperContent,
    HarmonyForm,
    HeaderEvent,
    Message,
    MessageDone,
    ReasoningEffort,
    Role,
    StreamParser,
    SystemContent,
    TextContent,
    ToolNamespaceConfig,
    completion_pieces,
    open_message_pieces,
    pieces_to_text,
    pieces_to_tokens,
)
from gptoss_cli.harmony.answer import final_text, unclear_messages
from gptoss_cli.harmony.formats import developer_message
from gptoss_cli.harmony.history import INCOMPLETE, for_prompt, is_incomplete, neutralize
from gptoss_cli.harmony.render import Piece
from gptoss_cli.harmony.types import DEFAULT_IDENTITY, DEFAULT_KNOWLEDGE_CUTOFF
from gptoss_cli.servers.limits import GenerationLimit, choose_limit, option_limit
from gptoss_cli.servers.profiles import ServerProfile
from gptoss_cli.store.turn import Outcome, TokenUsage, TurnTimings, classify
from gptoss_cli.store.turn import Turn as StoredTurn
from gptoss_cli.toolcall import ToolCall
from gptoss_cli.transport.client import (
    CompletionRequest,
    Finish,
    TextDelta,
    Timeouts,
    Usage,
    stream_completion,
)


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """What goes into the system and developer messages."""

    reasoning: ReasoningEffort = ReasoningEffort.MEDIUM
    identity: str | None = DEFAULT_IDENTITY
    knowledge_cutoff: str | None = DEFAULT_KNOWLEDGE_CUTOFF
    date: str | None = None  # None: today's date
    instructions: str | None = None
    function_tools: tuple[ToolNamespaceConfig, ...] = ()
    builtin_tools: tuple[ToolNamespaceConfig, ...] = ()
    response_format: tuple[str, Mapping[str, Any], str | None] | None = None
    """Structured output: (name, JSON Schema, description)."""
    harmony: HarmonyForm = DEFAULT_FORM
    """Which reference library's rendering every prompt reproduces (``openai`` or ``oss``)."""

    def system_message(self, today: dt.date | None = None) -> Message:
        date = self.date if self.date is not None else (today or dt.date.today()).isoformat()
        content = SystemContent(
            model_identity=self.identity,
            reasoning_effort=self.reasoning,
            knowledge_cutoff=self.knowledge_cutoff,
            conversation_start_date=date or None,
        )
        if self.builtin_tools:
            content = content.with_tools(*self.builtin_tools)
        return Message.from_role_and_content(Role.SYSTEM, content)

    def developer_message(self) -> Message | None:
        content = DeveloperContent(instructions=self.instructions)
        if self.function_tools:
            content = content.with_tools(*self.function_tools)
        return developer_message(content, self.response_format)

    def prefix(self, today: dt.date | None = None) -> list[Message]:
        dev = self.developer_message()
        return [self.system_message(today)] + ([dev] if dev is not None else [])


@dataclass(frozen=True, slots=True)
class Target:
    """The server a session talks to."""

    base_url: str
    profile: ServerProfile
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)
    call_options: Mapping[str, Any] = field(default_factory=dict)
    timeouts: Timeouts = field(default_factory=Timeouts)
    context_length: int | None = None
    """The server's context length, as it reported it (None: unknown)."""
    max_tokens: int | None = None
    """The config's cap on the generation limit (``max_tokens`` in the profile)."""

    def context(self) -> int | None:
        """The context length in force: what the request itself sets (Ollama's ``num_ctx``), else what
        the server reported (None: unknown)."""
        body = self.profile.build_body(self.options, self.call_options)
        return self.profile.context_from_body(body) or self.context_length

    def limit_for(self, prompt_tokens: int | None, context: int | None) -> GenerationLimit:
        """The generation limit for a prompt of ``prompt_tokens`` (see :mod:`gptoss_cli.servers.limits`)."""
        caps = [cap for cap in (option_limit(self.options), self.max_tokens) if cap is not None]
        return choose_limit(
            option=option_limit(self.call_options),
            config=min(caps) if caps else None,
            context_length=context,
            prompt_tokens=prompt_tokens,
            context_fix=self.profile.context_fix,
        )


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should know about this turn (a repaired message, a server quirk)."""

    text: str


@dataclass(frozen=True, slots=True)
class RawText:
    """Completion text exactly as the server sent it (for ``--raw``)."""

    text: str


Timings = TurnTimings  # the name the session's callers know


@dataclass(frozen=True, slots=True)
class TurnResult:
    """How a turn ended and what it produced: its messages and its typed record (outcome, usage,
    timings, tool calls), the one shape the store, ``--json``, ``show``, ``diff`` and replay read."""

    messages: tuple[Message, ...]
    outcome: Outcome
    finish_reason: str | None
    usage: TokenUsage
    timings: TurnTimings
    prompt_sha256: str
    interrupted: bool = False
    error: str | None = None
    tool_calls_made: tuple[ToolCall, ...] = ()
    """The tool call this turn ended with, once it was approved and run (set by the agent loop)."""
    limit: GenerationLimit | None = None
    """The generation limit the request carried."""

    @property
    def final_text(self) -> str:
        return final_text(self.messages)

    @property
    def unclear_text(self) -> str:
        """Text the parser could not tell from reasoning, in a turn with no final answer (never stdout)."""
        return "\n".join(m.text for m in unclear_messages(self.messages))

    @property
    def cut_off_cause(self) -> str:
        """What cut an incomplete answer short, in words."""
        if self.finish_reason == "length":
            return self.limit.cut_off() if self.limit is not None else "the server's token limit"
        if self.finish_reason == "interrupted":
            return "an interruption"
        return self.error or "the stream ending early"

    @property
    def cut_off_hint(self) -> str | None:
        """How to get the whole answer next time, when a limit cut it."""
        if self.finish_reason != "length":
            return None
        return self.limit.raise_hint() if self.limit is not None else "raise it with -o max_tokens N"

    @property
    def reasoning_text(self) -> str:
        return "\n".join(m.text for m in self.messages if m.channel == "analysis")

    @property
    def tool_calls(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.recipient is not None and m.author.role is Role.ASSISTANT)

    def record(
        self, span: tuple[int, int], *, model: str | None = None, reasoning_effort: str | None = None
    ) -> StoredTurn:
        """This turn's record, its messages at ``span`` of the conversation."""
        calls = self.tool_calls_made or tuple(
            ToolCall(m.recipient or "", m.text, decision="not run") for m in self.tool_calls[-1:]
        )
        return StoredTurn(
            messages=span,
            outcome=self.outcome,
            finish_reason=self.finish_reason,
            usage=self.usage,
            timings=self.timings,
            tool_calls=calls,
            prompt_sha256=self.prompt_sha256 or None,
            model=model,
            reasoning_effort=reasoning_effort,
            error=self.error,
            extra={"limit": self.limit.to_dict()} if self.limit is not None else {},
        )

    @classmethod
    def from_record(cls, messages: tuple[Message, ...], turn: StoredTurn | None) -> TurnResult:
        """A saved turn as the session would have produced it (``show`` renders it live-like)."""
        if turn is None:
            return cls(messages, classify(messages), None, TokenUsage(), TurnTimings(), "")
        return cls(
            messages,
            turn.outcome,
            turn.finish_reason,
            turn.usage,
            turn.timings,
            turn.prompt_sha256 or "",
            error=turn.error,
            tool_calls_made=turn.tool_calls,
            limit=_saved_limit(turn.extra.get("limit")),
        )


def _saved_limit(value: Any) -> GenerationLimit | None:
    """The generation limit a saved turn records (turns from before it was recorded have none)."""
    if not isinstance(value, dict):
        return None
    try:
        return GenerationLimit.from_dict(value)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """The turn is over."""

    result: TurnResult


SessionEvent = HeaderEvent | ContentDelta | MessageDone | Notice | RawText | TurnEnd


def build_prompt(
    prefix: Sequence[Message],
    history: Sequence[Message],
    *,
    prefill: Message | None = None,
    form: HarmonyForm = DEFAULT_FORM,
) -> list[Piece]:
    """The prompt for the next assistant message (optionally resuming a cut-off message)."""
    pieces = completion_pieces([*prefix, *for_prompt(history)], Role.ASSISTANT, form=form)
    if prefill is not None:
        pieces.extend(open_message_pieces(prefill, form))
    return pieces


class Turn:
    """One streamed assistant turn. Iterate it for events; ``close()`` stops it and keeps what arrived."""

    def __init__(self, session: Session, pieces: list[Piece], prefill: Message | None) -> None:
        self._session = session
        self._pieces = pieces
        self._prefill = prefill
        self.result: TurnResult | None = None
        self.limit: GenerationLimit | None = None
        self._startup: float | None = None
        self._gen: Iterator[SessionEvent] | None = None

    def __iter__(self) -> Iterator[SessionEvent]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    def close(self) -> None:
        """Stop streaming (Ctrl-C): what arrived is kept, marked incomplete."""
        if self._gen is not None:
            self._gen.close()  # type: ignore[attr-defined]
        if self.result is None:
            self._record(_Progress(start=time.perf_counter()), interrupted=True, error=None)

    def _request(self) -> CompletionRequest:
        target = self._session.target
        prompt: str | list[int]
        prompt_tokens: int | None = None
        context = target.context()
        if target.profile.token_id_prompts:
            prompt = self._session.encode(self._pieces)
            prompt_tokens = len(prompt)
        else:
            prompt = pieces_to_text(neutralize(p) if isinstance(p, str) else p for p in self._pieces)
            if context is not None and option_limit(target.call_options) is None:
                prompt_tokens = len(self._session.encode(self._pieces))  # the room left needs the count
        self.limit = target.limit_for(prompt_tokens, context)
        return target.profile.request(
            target.base_url,
            prompt,
            model=target.model,
            api_key=target.api_key,
            config_options=target.options,
            call_options=target.call_options,
            timeouts=target.timeouts,
            max_tokens=self.limit.tokens,
        )

    def _run(self) -> Iterator[SessionEvent]:
        progress = _Progress()
        parser = StreamParser(Role.ASSISTANT)
        if self._prefill is not None:
            header = open_message_pieces(replace(self._prefill, content=()), self._session.settings.harmony)
            parser.feed_text(pieces_to_text(header))
            parser.drain()
        request = self._request()  # rendering, tokens and the limit: the client's time, not the server's
        start = time.perf_counter()
        progress.start = start
        self._startup = self._session.startup(start)
        raw = self._session.raw_events
        stream = stream_completion(request)
        error: str | None = None
        last: list[SessionEvent] = []  # what the end of output produced (a finally block cannot yield)
        try:
            for item in stream:
                if isinstance(item, TextDelta):
                    if progress.first_token is None and (item.text or item.token_ids):
                        progress.first_token = time.perf_counter() - start
                    if raw and item.text:
                        yield RawText(item.text)
                    events = (
                        parser.feed_tokens(item.token_ids) if item.token_ids else parser.feed_text(item.text)
                    )
                    yield from progress.observe(events, start)
                elif isinstance(item, Finish):
                    progress.finish = item
                    progress.usage = item.usage or progress.usage
                elif isinstance(item, Usage):
                    progress.usage = item
        except GptossError as exc:
            error = str(exc)
            raise
        finally:
            # runs on success, on an error, and on close() (Ctrl-C): what arrived is always recorded
            stream.close()
            if self.result is None:
                finish = progress.finish
                cut_off = finish is None or finish.reason == "length" or error is not None
                last = progress.observe(parser.finish(cut_off=cut_off), start)
                progress.messages = list(parser.messages)
                self._record(progress, interrupted=progress.finish is None and error is None, error=error)
        yield from last
        assert self.result is not None
        for message in self.result.messages:
            if message.notes and message.notes != (INCOMPLETE,):
                yield Notice(
                    f"repaired model output ({message.channel or 'no channel'}): {'; '.join(message.notes)}"
                )
        yield TurnEnd(self.result)

    def _record(self, progress: _Progress, *, interrupted: bool, error: str | None) -> None:
        finish = progress.finish
        reason = finish.reason if finish is not None else None
        cut = interrupted or error is not None or reason == "length"
        messages = list(progress.messages)
        if self._prefill is not None and messages:
            first = messages[0]
            messages[0] = replace(first, content=(TextContent(self._prefill.text + first.text),))
        if cut and messages:
            messages[-1] = replace(messages[-1], notes=(*messages[-1].notes, INCOMPLETE))
        usage = progress.usage
        self.result = TurnResult(
            messages=tuple(messages),
            outcome=classify(messages),
            finish_reason=reason or ("interrupted" if interrupted else "error" if error else None),
            usage=TokenUsage(
                usage.prompt_tokens if usage else None,
                usage.completion_tokens if usage else None,
                usage.total_tokens if usage else None,
                progress.analysis_tokens,
                progress.final_tokens,
                usage.cached_tokens if usage else None,
            ),
            timings=Timings(
                progress.first_token,
                progress.first_final,
                time.perf_counter() - progress.start,
                self._startup,
                progress.rate(False),
                progress.rate(True),
            ),
            prompt_sha256=hashlib.sha256(pieces_to_text(self._pieces).encode()).hexdigest(),
            interrupted=interrupted,
            error=error,
            limit=self.limit,
        )
        self._session.record(self.result, replaces_prefill=self._prefill is not None)


@dataclass
class _Progress:
    start: float = 0.0
    first_token: float | None = None
    first_final: float | None = None
    finish: Finish | None = None
    usage: Usage | None = None
    analysis_tokens: int = 0
    final_tokens: int = 0
    messages: list[Message] = field(default_factory=list)
    spans: dict[bool, list[float]] = field(default_factory=dict)
    """final? -> [first, last] arrival of that side's tokens (perf_counter), for tokens/s per side."""

    def observe(self, events: list[Any], start: float) -> list[SessionEvent]:
        now = 0.0
        for event in events:
            if isinstance(event, ContentDelta):
                now = now or time.perf_counter()
                final = event.channel == "final" and event.recipient is None
                if final:
                    self.final_tokens += 1
                    if self.first_final is None:
                        self.first_final = now - start
                else:
                    self.analysis_tokens += 1
                span = self.spans.get(final)
                if span is None:
                    self.spans[final] = [now, now]
                else:
                    span[1] = now
        return events

    def rate(self, final: bool) -> float | None:
        """Tokens per second on one side, from its first token to its last (None: too few to say)."""
        span = self.spans.get(final)
        count = self.final_tokens if final else self.analysis_tokens
        if span is None or count < 2 or span[1] <= span[0]:
            return None
        return (count - 1) / (span[1] - span[0])


def first_exchanges(history: Sequence[Message], count: int) -> list[Message]:
    """The history up to (not including) its ``count + 1``-th user message: the first ``count``
    exchanges, their answers and tool rounds included (``/branch N``, ``ask --at N``)."""
    users = [i for i, m in enumerate(history) if m.author.role is Role.USER]
    if count > len(users):
        raise UsageError(f"the conversation has {len(users)} exchanges, not {count}")
    return list(history[: users[count]] if count < len(users) else history)


_CACHED_PIECE = 32  # characters: shorter pieces (headers, roles) are cheaper to encode than to look up


class Session:
    """A conversation with one server: history plus settings; ``turn()`` streams the next answer."""

    def __init__(self, target: Target, settings: ChatSettings, history: Sequence[Message] = ()) -> None:
        self.target = target
        self.settings = settings
        self.history: list[Message] = list(history)
        self.results: list[TurnResult] = []
        self.tool_log: list[ToolCall] = []
        """Every tool call of the session, its approval decision and result (``/new`` clears it)."""
        self.raw_events = False  # yield RawText (the server's text as sent) for --raw
        self._requested = False
        self.token_cache: dict[str, list[int]] = {}
        """Token ids of long text pieces (message contents) already encoded, or stored with a saved
        conversation: a continued conversation is not tokenized again at every turn."""

    def startup(self, now: float) -> float | None:
        """Seconds from gptoss's start to ``now``, for the session's first request only."""
        if self._requested:
            return None
        self._requested = True
        from gptoss_cli import STARTED

        return now - STARTED

    def encode(self, pieces: Sequence[Piece]) -> list[int]:
        """The prompt's token ids (as :func:`pieces_to_tokens`), long pieces through the cache."""
        cache = self.token_cache
        out: list[int] = []
        for piece in pieces:
            if isinstance(piece, int):
                out.append(piece)
            elif len(piece) < _CACHED_PIECE:
                out.extend(pieces_to_tokens((piece,)))
            else:
                ids = cache.get(piece)
                if ids is None:
                    ids = cache[piece] = pieces_to_tokens((piece,))
                out.extend(ids)
        return out

    def token_ids(self, message: Message) -> list[int] | None:
        """The token ids of a message's one text part (what the store keeps with it), or None."""
        if len(message.content) != 1 or not isinstance(message.content[0], TextContent):
            return None
        text = message.content[0].text
        ids = self.token_cache.get(text)
        if ids is None:
            ids = pieces_to_tokens((text,))
            if len(text) >= _CACHED_PIECE:
                self.token_cache[text] = ids
        return ids

    def prompt_pieces(self, *, prefill: Message | None = None) -> list[Piece]:
        return build_prompt(self.settings.prefix(), self.history, prefill=prefill, form=self.settings.harmony)

    def messages(self) -> list[Message]:
        """The whole conversation as it would be saved: system, developer, history."""
        return [*self.settings.prefix(), *self.history]

    def ask(self, text: str) -> Turn:
        """Add a user message and start the assistant's turn."""
        self.history.append(Message.from_role_and_content(Role.USER, text))
        return Turn(self, self.prompt_pieces(), None)

    def resume(self) -> Turn:
        """Continue the last, cut-off assistant message from where it stopped."""
        last = self.history[-1] if self.history else None
        if last is None or not is_incomplete(last) or last.author.role is not Role.ASSISTANT:
            raise GptossError("nothing to continue: the last answer was not cut off")
        base = Message(
            last.author, (TextContent(last.text),), last.channel, last.recipient, last.content_type
        )
        return Turn(self, self.prompt_pieces(prefill=base), base)

    def retry(self) -> Turn:
        """Drop the last answer and ask again."""
        self.undo_answer()
        return Turn(self, self.prompt_pieces(), None)

    def branch(self, count: int) -> None:
        """Go back to after the first ``count`` exchanges (the store keeps the rest as it was)."""
        self.history = first_exchanges(self.history, count)
        kept = {id(m) for m in self.history}
        self.results = [r for r in self.results if all(id(m) in kept for m in r.messages)]

    def undo_answer(self) -> None:
        while self.history and self.history[-1].author.role is not Role.USER:
            self.history.pop()
        if self.results:
            self.results.pop()

    def undo(self) -> None:
        """Remove the last exchange (the answer and the user message before it)."""
        self.undo_answer()
        if self.history and self.history[-1].author.role is Role.USER:
            self.history.pop()

    def ran_tool_call(self, result: TurnResult, call: ToolCall) -> None:
        """The tool call ``result`` ended with was approved (or not) and run: keep that on its record
        and in :attr:`tool_log`."""
        self.tool_log.append(call)
        for i in range(len(self.results) - 1, -1, -1):
            if self.results[i] is result:
                self.results[i] = replace(result, tool_calls_made=(call,))
                return

    def record(self, result: TurnResult, *, replaces_prefill: bool = False) -> None:
        if replaces_prefill and self.history and is_incomplete(self.history[-1]):
            self.history.pop()
        self.history.extend(result.messages)
        self.results.append(result)
