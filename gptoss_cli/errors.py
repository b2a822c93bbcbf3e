"""Every error gptoss raises, in one tree (modelled on httpx's ``_exceptions.py``).

::

    GptossError                      base: ``cli.py`` catches this once, prints one line, exits 1
    ├── HarmonyError                 the Harmony format
    │   ├── RenderError              a conversation the reference renderer refuses
    │   ├── ParseError               completion text/tokens that strict parsing refuses
    │   └── ConversationFormatError  JSON that is not a Harmony conversation/message
    ├── TransportError               talking to a server
    │   ├── ConnectError             nobody answered at the URL
    │   ├── TimeoutError             connect or read timed out
    │   ├── HTTPStatusError          the server answered 4xx/5xx before streaming
    │   ├── StreamError              the stream broke: error event, disconnect, no [DONE]
    │   └── ProtocolError            the server answered, but not in a shape we can read
    ├── ServerError                  a server that cannot serve Harmony as configured
    │   └── ContextFullError         the prompt leaves no room in the server's context for an answer
    ├── ConfigError                  config file/flags/environment are wrong (file, line, key)
    ├── StoreError                   conversation files and history (path)
    ├── ToolError                    declaring tools (tool *execution* failures go to the model)
    └── UsageError                   a command used wrongly (bad flag value, missing input)

Every class carries the context needed to say what happened and what to do.
"""

from __future__ import annotations


class GptossError(Exception):
    """Base of every error gptoss raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.message


class HarmonyError(GptossError):
    """Something about the Harmony format."""


class RenderError(HarmonyError):
    """A conversation the reference renderer refuses to render."""


class ParseError(HarmonyError):
    """Completion output that strict parsing refuses."""


class ConversationFormatError(HarmonyError):
    """JSON that is not a Harmony conversation or message (carries the JSON path)."""

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message, hint=hint)
        self.path = path


class TransportError(GptossError):
    """Talking to a server failed (carries the URL)."""

    def __init__(self, message: str, *, url: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url


class ConnectError(TransportError):
    """Nobody answered at the URL."""


class TimeoutError(TransportError):  # shadows the builtin on purpose, as httpx does
    """Connecting or reading timed out."""


class HTTPStatusError(TransportError):
    """The server answered with a 4xx/5xx status before streaming (carries status and its message)."""

    def __init__(
        self, message: str, *, url: str | None = None, status: int, server_message: str | None = None
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.server_message = server_message


class StreamError(TransportError):
    """The stream broke after it started: an error event, a disconnect, or no end marker."""


class ProtocolError(TransportError):
    """The server answered, but not in a shape gptoss can read."""


class ServerError(GptossError):
    """A server that cannot serve Harmony as configured (carries the fix)."""


class ContextFullError(ServerError):
    """The prompt fills the server's context: no room is left for an answer."""


class ConfigError(GptossError):
    """Config file, flags or environment are wrong (carries file, line and key)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = file or ""
        if file and line:
            where = f"{file}:{line}"
        if key:
            where = f"{where}: {key}" if where else key
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.file = file
        self.line = line
        self.key = key


class StoreError(GptossError):
    """Reading or writing conversation files and history (carries the path)."""

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message, hint=hint)
        self.path = path


class ToolError(GptossError):
    """Declaring tools went wrong (execution failures go back to the model instead)."""


class UsageError(GptossError):
    """A command was used wrongly."""
