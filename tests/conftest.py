"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .scripted_server import ScriptedServer

# The real llama-server tier is slow and needs a built binary: scripts/llama_tier/run.sh runs it.
collect_ignore_glob = [] if os.environ.get("GPTOSS_LLAMA_TIER") else ["llama/*"]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches a real config, history or cache: GPTOSS_HOME points at a temp dir."""
    for name in list(os.environ):
        if (
            name.startswith(("GPTOSS_", "OPENAI_"))
            and name != "GPTOSS_LLAMA_TIER"
            and not name.startswith("GPTOSS_LLAMA")
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GPTOSS_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A scripted HTTP server on 127.0.0.1, stopped after the test (see ``tests/scripted_server.py``)."""
    with ScriptedServer() as server:
        yield server
