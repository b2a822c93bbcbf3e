"""Ctrl-C while gptoss is already stopping: held back, never a second crash.

The first Ctrl-C stops a turn (``KeyboardInterrupt``); what arrived is then shown and saved. A
second Ctrl-C during that clean-up used to escape every handler and kill the process by SIGINT
(exit status -2, no saved conversation). :func:`held` runs the clean-up with SIGINT deferred;
:func:`ignore_from_now` is for a process that is on its way out anyway.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["first_only", "held", "ignore_from_now"]


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def held() -> Iterator[list[int]]:
    """SIGINT is recorded, not raised, while the block runs; the list yielded holds the signals seen."""
    seen: list[int] = []
    if not _main_thread():
        yield seen
        return

    def record(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)

    previous = signal.signal(signal.SIGINT, record)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def first_only(*, exiting: bool = False) -> Iterator[list[int]]:
    """The first SIGINT in the block raises ``KeyboardInterrupt``; later ones are recorded, not
    raised, so the clean-up that the first one starts (inside the block) cannot be cut short, with no
    window between the two. ``exiting``: after an interrupt, SIGINT stays ignored (the process is on
    its way out) instead of getting its old handler back."""
    seen: list[int] = []
    if not _main_thread():
        yield seen
        return

    def first(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)
        if len(seen) == 1:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN if seen and exiting else previous)


def ignore_from_now() -> None:
    """Ignore SIGINT for the rest of the process (it is exiting: let it finish cleanly)."""
    if _main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
