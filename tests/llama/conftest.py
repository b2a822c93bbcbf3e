"""The real llama-server tier: run with ``pytest tests/llama`` after scripts/llama_tier/setup.sh
(``scripts/llama_tier/run.sh`` does both). These tests never skip: without the binary or the model
they fail, saying what to run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import GOOD, NO_SPECIAL, Install, LlamaServer, find_install

# Read before any test runs: tests/conftest.py's autouse fixture clears GPTOSS_* variables per test.
_ENVIRON = dict(os.environ)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/llama/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.llama)


@pytest.fixture(scope="session")
def llama_install() -> Install:
    try:
        return find_install(_ENVIRON)
    except FileNotFoundError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def llama_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llama-logs")


@pytest.fixture(scope="session")
def good_server(llama_install: Install, llama_logs: Path) -> Iterator[LlamaServer]:
    """llama-server started with ``--special`` (terminators rendered as text)."""
    with LlamaServer(llama_install, GOOD, llama_logs) as server:
        yield server


@pytest.fixture(scope="session")
def no_special_server(llama_install: Install, llama_logs: Path) -> Iterator[LlamaServer]:
    """llama-server with default flags (no ``--special``): terminators dropped from the text."""
    with LlamaServer(llama_install, NO_SPECIAL, llama_logs) as server:
        yield server
