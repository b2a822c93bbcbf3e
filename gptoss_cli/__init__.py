"""gptoss: a terminal client for GPT-OSS models that speaks Harmony itself."""

from __future__ import annotations

import time as _time

__version__ = "0.1.0"
STARTED = _time.perf_counter()
"""When gptoss's code began to load (for ``--stats``: the client's own start-up before a request)."""
