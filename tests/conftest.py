"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .scripted_server import ScriptedServer


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    """A scripted HTTP server on 127.0.0.1, stopped after the test (see ``tests/scripted_server.py``)."""
    with ScriptedServer() as server:
        yield server
