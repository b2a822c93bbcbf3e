"""The real vLLM tier: run with ``pytest tests/vllm`` after scripts/vllm_tier/setup.sh
(``scripts/vllm_tier/run.sh`` does both). One vLLM server (CPU build, tiny random-weight gpt-oss) serves
every test of the session. These tests never skip: without the install they fail, saying what to run.

``GPTOSS_VLLM_BASE_URL=http://127.0.0.1:PORT`` runs them against a server started by hand with
scripts/vllm_tier/start_server.sh PORT instead (no start-up wait when iterating on the tests)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .replies import write as write_replies
from .server import Install, VllmServer, find_install

# Read before any test runs: tests/conftest.py's autouse fixture clears GPTOSS_* variables per test.
_ENVIRON = dict(os.environ)
_STARTED: list[VllmServer] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/vllm/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.vllm)


@pytest.fixture(scope="session")
def vllm_install() -> Install:
    try:
        return find_install(_ENVIRON)
    except FileNotFoundError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def vllm_server(vllm_install: Install, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    """The tier's one vLLM server (its log is under the session's temp dir)."""
    work = tmp_path_factory.mktemp("vllm")
    replies = write_replies(work / "replies.json")
    external = _ENVIRON.get("GPTOSS_VLLM_BASE_URL", "")
    with VllmServer(vllm_install, replies, work, external=external) as server:
        _STARTED.append(server)
        yield server


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for server in _STARTED:
        if server.started_in:
            terminalreporter.write_line(f"vllm tier: the server was ready in {server.started_in:.0f} s")
