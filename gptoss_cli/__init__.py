"""gptoss: a terminal client for GPT-OSS models that speaks Harmony itself."""

from __future__ import annotations

__version__ = "0.1.0"
