"""Terminal modes around a streamed answer.

While an answer streams, the terminal must not echo what the user types: the tty driver writes
``^C`` (and any typed keys) at the cursor, which sits at the end of the live Markdown region. A
``^C`` that wraps the last line makes the region one line taller than Rich knows, so clearing it
after Ctrl-C left a copy of the partial answer on the screen above the final one. Echo is
switched off for the duration of a turn and restored afterwards (POSIX terminals only).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["echo", "no_echo"]


def no_echo(stream: TextIO | Any | None = None) -> contextlib.AbstractContextManager[None]:
    """Turn off the terminal's echo of typed input (``stream``: default stdin) while the block runs."""
    return _echo(stream, on=False)


def echo(stream: TextIO | Any | None = None) -> contextlib.AbstractContextManager[None]:
    """Turn echo back on for a block inside :func:`no_echo` (a typed approval answer must be seen)."""
    return _echo(stream, on=True)


@contextlib.contextmanager
def _echo(stream: TextIO | Any | None, *, on: bool) -> Iterator[None]:
    stream = sys.stdin if stream is None else stream
    try:
        fd = stream.fileno()
        interactive = os.isatty(fd)
    except (AttributeError, OSError, ValueError):  # not a real file (tests, pipes wrapped in Python)
        interactive = False
    if not interactive or os.name != "posix":
        yield
        return
    import termios

    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        yield
        return
    flags = termios.ECHO | getattr(termios, "ECHOCTL", 0)
    changed = list(saved)
    changed[3] = (changed[3] | flags) if on else (changed[3] & ~flags)
    try:
        termios.tcsetattr(fd, termios.TCSANOW, changed)
        yield
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, saved)
