"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .scripted_server import ScriptedServer

# The real server tiers are slow and need an install: scripts/llama_tier/run.sh and
# scripts/vllm_tier/run.sh run them.
collect_ignore_glob = [
    *([] if os.environ.get("GPTOSS_LLAMA_TIER") else ["llama/*"]),
    *([] if os.environ.get("GPTOSS_VLLM_TIER") else ["vllm/*"]),
]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches a real config, history or cache: GPTOSS_HOME is an empty (not yet created)
    temp dir, and no GPTOSS_*/OPENAI_* variable leaks in. Tests that need the path take ``home``."""
    for name in list(os.environ):
        if name.startswith(("GPTOSS_", "OPENAI_")) and not name.startswith(("GPTOSS_LLAMA", "GPTOSS_VLLM")):
            monkeypatch.delenv(name)
    root = tmp_path / "home"
    monkeypatch.setenv("GPTOSS_HOME", str(root))
    monkeypatch.setenv("NO_COLOR", "1")
    return root


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A scripted HTTP server on 127.0.0.1, stopped after the test (see ``tests/scripted_server.py``)."""
    with ScriptedServer() as server:
        yield server
