"""The one renderer of a streamed turn, for ``ask``, ``chat`` and ``replay`` alike.

Final-channel text goes to stdout; everything else the user asked to see (reasoning, tool
activity, notes, stats) goes to stderr. When stdout is not a terminal it gets plain final text
only, and Rich is never imported. On a terminal the answer streams as Markdown: finished blocks
are printed once, only the last block is live (constant cost per token, no flicker, no
duplicated lines past the screen height).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from gptoss_cli.harmony import ContentDelta, HeaderEvent, MessageDone, Role
from gptoss_cli.harmony.answer import is_answer
from gptoss_cli.session.agent import ToolResultEvent
from gptoss_cli.session.turn import Notice, RawText, SessionEvent, TurnEnd, TurnResult
from gptoss_cli.ui.sanitize import sanitize

if TYPE_CHECKING:
    from gptoss_cli.config.resolve import Settings


@dataclass(frozen=True, slots=True)
class ViewOptions:
    show_reasoning: bool = False
    raw: bool = False
    stats: bool = False
    markdown: bool = True
    color: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> ViewOptions:
        """What the config's ``[display]`` (with the flags folded into it) asks the view to show."""
        display = settings.display
        return cls(
            show_reasoning=display.show_reasoning,
            stats=display.stats,
            markdown=display.markdown,
            color=display.color != "never",
        )


def _use_color(stream: TextIO, wanted: bool) -> bool:
    return wanted and stream.isatty() and not os.environ.get("NO_COLOR")


_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class _Err:
    """stderr writer: dim reasoning, tool activity, notes, a transient thinking indicator."""

    def __init__(self, stream: TextIO, color: bool) -> None:
        self.stream = stream
        self.color = color
        self.tty = stream.isatty()
        self._indicator = False
        self._spinner: threading.Thread | None = None
        self._stop_spinner = threading.Event()

    def spin(self, label: str) -> None:
        """Until :meth:`stop_spinning`: a spinner, ``label`` and the seconds waited (a terminal only)."""
        if not self.tty or self._spinner is not None:
            return
        self._stop_spinner.clear()
        started = time.monotonic()

        def run() -> None:
            frame = 0
            while not self._stop_spinner.wait(0.1 if frame else 0.3):  # nothing for a quick answer
                waited = time.monotonic() - started
                self.indicator(f"{_FRAMES[frame % len(_FRAMES)]} {label} {waited:.1f}s")
                frame += 1

        self._spinner = threading.Thread(target=run, name="gptoss spinner", daemon=True)
        self._spinner.start()

    def stop_spinning(self) -> None:
        if self._spinner is not None:
            self._stop_spinner.set()
            self._spinner.join()
            self._spinner = None
            self.clear_indicator()

    def style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def clear_indicator(self) -> None:
        if self._spinner is not None and threading.current_thread() is not self._spinner:
            self.stop_spinning()
            return
        if self._indicator:
            self.stream.write("\r\x1b[2K")
            self._indicator = False

    def indicator(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + self.style(text, "2"))
            self.stream.flush()
            self._indicator = True

    def write(self, text: str, code: str | None = None) -> None:
        self.clear_indicator()
        if self.tty:
            text = sanitize(text)
        self.stream.write(self.style(text, code) if code else text)
        self.stream.flush()


class _PlainOut:
    """Final text to a pipe or file as it arrives, no ANSI.

    Flushed at most every 2 ms while tokens pour in (a flush per token is a system call per
    token), and always at the end of each message: text is never held longer than that.
    """

    FLUSH_EVERY = 0.002

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.wrote = ""
        self._flushed = 0.0

    def start(self) -> None:
        pass

    def feed(self, text: str) -> None:
        self.stream.write(text)
        self.wrote = text
        now = time.monotonic()
        if now - self._flushed >= self.FLUSH_EVERY:
            self.stream.flush()
            self._flushed = now

    def flush(self) -> None:
        self.stream.flush()

    def close(self) -> None:
        if self.wrote and not self.wrote.endswith("\n"):
            self.stream.write("\n")
        self.stream.flush()


class StreamView:
    """Consumes session events and shows them; ``run(turn)`` drives a whole turn."""

    def __init__(
        self, options: ViewOptions, *, stdout: TextIO | None = None, stderr: TextIO | None = None
    ) -> None:
        self.options = options
        out = stdout or sys.stdout
        err = stderr or sys.stderr
        self.err = _Err(err, _use_color(err, options.color))
        self._tty = out.isatty()
        self.out: Any
        if self._tty and options.markdown and not options.raw:
            from gptoss_cli.ui.markdown import MarkdownOut

            self.out = MarkdownOut(out, color=_use_color(out, options.color))
        else:
            self.out = _PlainOut(out)
        self._channel: str | None = None
        self._recipient: str | None = None
        self._shown = False  # the current message's final text went to stdout as it streamed
        self._thinking = 0
        self._last_indicator = 0.0
        self._started = False
        self.err.spin("waiting for the server")  # stopped by the first event (a terminal only)

    def handle(self, event: SessionEvent | ToolResultEvent | object) -> None:
        self.err.stop_spinning()
        if isinstance(event, ContentDelta):
            self._delta(event)
        elif isinstance(event, RawText):
            if self.options.raw:
                self.out.feed(sanitize(event.text) if self._tty else event.text)
        elif isinstance(event, HeaderEvent):
            self._header(event)
        elif isinstance(event, MessageDone):
            self._done(event)
        elif isinstance(event, Notice):
            self.err.write(f"gptoss: note: {event.text}\n", "2")
        elif isinstance(event, TurnEnd):
            self._end(event.result)
        elif isinstance(event, ToolResultEvent):
            self._tool_result(event)
            self.err.spin("waiting for the server")  # the next request of the tool loop

    def _tool_result(self, event: ToolResultEvent) -> None:
        if self.options.raw:
            return
        call = event.call
        first = call.output.strip().splitlines()[0] if call.output.strip() else ""
        if len(first) > 100:
            first = first[:100] + "…"
        mark = "✗" if call.error else "←"
        self.err.write(f"{mark} {call.recipient} [{call.decision}] {first}\n", "31" if call.error else "2")

    def _header(self, event: HeaderEvent) -> None:
        self._channel, self._recipient = event.channel, event.recipient
        self._shown = False
        if event.recipient is not None and not self.options.raw:
            where = f" ({event.channel})" if event.channel else ""
            self.err.write(f"→ call {event.recipient}{where}: ", "36")
        elif event.channel == "commentary" and not self.options.raw:
            self.err.write("· ", "2")
        elif event.channel == "analysis" and self.options.show_reasoning and not self.options.raw:
            self.err.write("thinking: ", "2;3")

    def _delta(self, event: ContentDelta) -> None:
        if self.options.raw:
            return
        channel = event.channel
        if channel == "final" and event.recipient is None:
            self._answer(event.text)
        elif event.recipient is not None:
            self.err.write(event.text, "36")
        elif channel == "commentary":
            self.err.write(event.text, "2")
        elif self.options.show_reasoning:
            self.err.write(event.text, "2;3")
        else:
            self._thinking += 1
            now = time.monotonic()
            if now - self._last_indicator > 0.1:
                self._last_indicator = now
                self.err.indicator(f"thinking… {self._thinking} tokens")

    def _answer(self, text: str) -> None:
        if not self._started:
            self.err.clear_indicator()
            self.out.start()
            self._started = True
        # a terminal gets control characters neutralised; a pipe gets the text byte for byte
        self.out.feed(sanitize(text) if self._tty else text)
        self._shown = True

    def _done(self, event: MessageDone) -> None:
        message = event.message
        if (
            is_answer(message)
            and message.author.role is Role.ASSISTANT
            and not self._shown
            and message.text
            and not self.options.raw
        ):
            # read as the answer only once it ended (stripped markers, no header): shown now
            self._answer(message.text)
        flush = getattr(self.out, "flush", None)
        if flush is not None:
            flush()
        if self.options.raw:
            return
        if (
            message.recipient is not None
            or message.channel == "commentary"
            or (message.channel != "final" and self.options.show_reasoning)
        ):
            self.err.write("\n")

    def _end(self, result: TurnResult) -> None:
        self.err.clear_indicator()
        self.out.close()
        if result.outcome == "incomplete":
            cause = result.cut_off_cause
            self.err.write(f"gptoss: the answer was cut off by {cause}; what arrived is kept\n", "33")
        if result.outcome in ("no_answer", "incomplete") and result.unclear_text and not self.options.raw:
            self.err.write(unclear_block(result.unclear_text), "33")
        if self.options.stats:
            self.err.write(format_stats(result) + "\n", "2")

    def close(self) -> None:
        self.err.clear_indicator()
        self.out.close()


def unclear_block(text: str) -> str:
    """Text that may be reasoning or the answer, labelled for stderr."""
    body = text.rstrip("\n")
    return (
        "gptoss: no clean answer: this output may be reasoning or the answer "
        f"(not printed to stdout):\n{body}\n"
    )


def format_stats(result: TurnResult) -> str:
    """One line: the client's start-up, times from the request, tokens and speed per side, cache."""
    t, usage = result.timings, result.usage
    parts = []
    if t.startup is not None:
        parts.append(f"client start-up {t.startup:.2f}s")
    if t.first_token is not None:
        parts.append(f"first token {t.first_token:.2f}s after the request")
    if t.first_final is not None:
        parts.append(f"first final token {t.first_final:.2f}s")
    for name, count, rate in (
        ("analysis", usage.analysis_tokens, t.analysis_tps),
        ("final", usage.final_tokens, t.final_tps),
    ):
        parts.append(f"{name} {count} tok" + (f" at {rate:.1f} tok/s" if rate is not None else ""))
    generated = usage.generated
    streaming = t.total - (t.first_token or 0.0)
    if generated and streaming > 0:
        parts.append(f"{generated / streaming:.1f} tok/s overall")
    if usage.cached_tokens is not None:
        parts.append(f"{usage.cached_tokens:,} prompt tok cached")
    parts.append(f"total {t.total:.2f}s")
    if result.finish_reason:
        parts.append(f"finish {result.finish_reason}")
    if result.limit is not None:
        parts.append(f"limit {result.limit.describe()}")
    return " · ".join(parts)
