"""SIGTERM and SIGHUP end a command the way Ctrl-C does: what arrived is kept and saved.

Python's default for both is to die on the spot, so a chat closed with its terminal window (SIGHUP)
or a ``gptoss ask`` stopped by a supervisor (SIGTERM) lost the answer being streamed.
:func:`terminate_gracefully` turns them into a :class:`Terminated` exception, raised where the
program is, so the ``except``/``finally`` blocks that save a cut-off turn on Ctrl-C run for them
too. The first signal also ignores further ones, so the save is not itself interrupted; the
command then exits with 128 + the signal's number, as a shell reports a process killed by it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["Terminated", "terminate_gracefully"]

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(BaseException):
    """The process was asked to end (SIGTERM, SIGHUP). A BaseException, like KeyboardInterrupt,
    so that no ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _raise(signum: int, frame: FrameType | None) -> None:
    for each in _SIGNALS:  # one is enough: let the save that follows finish
        signal.signal(each, signal.SIG_IGN)
    raise Terminated(signum)


@contextmanager
def terminate_gracefully() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {each: signal.signal(each, _raise) for each in _SIGNALS}
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)
