"""A pure Server-Sent Events decoder (stdlib only), plus a line splitter for NDJSON streams.

Feed it bytes as they arrive; it returns complete events. It follows the WHATWG event-stream rules
(``data`` lines joined with ``\\n``, ``event`` names, ``:`` comment lines ignored, LF, CRLF or CR line
ends, one leading space after the colon removed) with two deliberate extensions:

- ``error: {...}`` lines, which some llama.cpp builds send for mid-stream failures, become an event
  named ``"error"`` whose data is the rest of the line;
- at end of stream, :meth:`SSEDecoder.close` dispatches a last event even without its blank line,
  so a server that closes right after ``data: [DONE]`` is not misread as a broken stream.
"""

from __future__ import annotations

from dataclasses import dataclass

from gptoss_cli.bounds import EVENT_SIZE, LINE_BYTES

__all__ = ["DONE", "LineSplitter", "SSEDecoder", "SSEEvent"]

DONE = "[DONE]"
"""The OpenAI-style end-of-stream data payload."""


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event: its name (``"message"`` unless set) and its data."""

    data: str
    event: str = "message"

    @property
    def is_done(self) -> bool:
        """True for the ``data: [DONE]`` terminator."""
        return self.data == DONE


class LineSplitter:
    """Split a byte stream into decoded lines (LF, CRLF or CR), whatever the chunk boundaries.

    Linear in the input however it is cut: an unfinished line grows in a ``bytearray`` and only the
    new chunk is searched for line ends (one 50 MB line used to cost 19 s of copying). A line longer
    than :data:`~gptoss_cli.bounds.LINE_BYTES` raises :class:`~gptoss_cli.errors.LimitError`.
    """

    __slots__ = ("_buf", "_limit", "_skip_lf", "_where")

    def __init__(self, where: str = "the stream") -> None:
        self._buf = bytearray()
        self._skip_lf = False
        self._where = where
        self._limit = LINE_BYTES.value

    def feed(self, chunk: bytes) -> list[str]:
        """Add bytes; return the lines they complete, without line ends."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\n" not in chunk and b"\r" not in chunk:
            self._buf += chunk
            if len(self._buf) > self._limit:
                self._buf.clear()
                raise LINE_BYTES.error(self._where, "a line")
            return []
        buf = bytes(self._buf) + chunk if self._buf else chunk
        self._buf.clear()
        if b"\r" in buf:
            # A CR at the very end may be the first half of a CRLF split across chunks.
            self._skip_lf = buf[-1:] == b"\r"
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buf.split(b"\n")
        rest = lines.pop()
        if len(rest) > self._limit or any(len(line) > self._limit for line in lines):
            raise LINE_BYTES.error(self._where, "a line")
        self._buf += rest
        return [line.decode("utf-8", "replace") for line in lines]

    @property
    def pending(self) -> bool:
        """Whether part of a line (or a CR awaiting its LF) is buffered."""
        return bool(self._buf) or self._skip_lf

    def close(self) -> list[str]:
        """End of stream: return the unterminated last line, if any."""
        rest = bytes(self._buf)
        self._buf.clear()
        return [rest.decode("utf-8", "replace")] if rest else []


class SSEDecoder:
    """Incremental SSE decoder: ``feed(bytes) -> list[SSEEvent]``, then ``close()`` at end of stream."""

    __slots__ = ("_data", "_event", "_limit", "_lines", "_size", "_started", "_where")

    def __init__(self, where: str = "the stream") -> None:
        self._lines = LineSplitter(where)
        self._data: list[str] = []
        self._size = 0
        self._event = ""
        self._started = False
        self._where = where
        self._limit = EVENT_SIZE.value

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Add bytes; return the events they complete."""
        if (
            # Fast path: a chunk that is exactly one "data: ...\n\n" event with nothing pending
            # (what servers send once per token); the result is the same as the general path's.
            self._started
            and not self._data
            and not self._event
            and not self._lines.pending
            and chunk.startswith(b"data: ")
            and chunk.endswith(b"\n\n")
            and chunk.count(b"\n") == 2
            and b"\r" not in chunk
            and len(chunk) <= self._limit
        ):
            return [SSEEvent(chunk[6:-2].decode("utf-8", "replace"), "message")]
        events: list[SSEEvent] = []
        for line in self._lines.feed(chunk):
            event = self.feed_line(line)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[SSEEvent]:
        """End of stream: dispatch whatever is pending (see the module docstring)."""
        events: list[SSEEvent] = []
        for line in [*self._lines.close(), ""]:
            event = self.feed_line(line)
            if event is not None:
                events.append(event)
        return events

    def feed_line(self, line: str) -> SSEEvent | None:
        """Process one line (without its line end); return an event when a blank line ends one."""
        if not self._started:
            self._started = True
            if line[:1] == "\ufeff":
                line = line[1:]
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = SSEEvent("\n".join(self._data), self._event or "message")
            self._data = []
            self._size = 0
            self._event = ""
            return event
        if line[0] == ":":
            return None  # comment / keep-alive ping
        field, sep, value = line.partition(":")
        if sep and value[:1] == " ":
            value = value[1:]
        if field in ("data", "error"):
            if field == "error":
                self._event = "error"
            self._size += len(value) + 1
            if self._size > self._limit:
                self._data, self._size = [], 0
                raise EVENT_SIZE.error(self._where, "an event")
            self._data.append(value)
        elif field == "event":
            self._event = value
        # "id", "retry" and unknown fields are ignored, as the spec says.
        return None
