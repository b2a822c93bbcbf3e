"""The oss-harmony oracle's venv: made outside the clone, reused, and a failure is an error, not a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import oss_reference


def test_the_venv_lives_under_the_cache_and_names_the_version(tmp_path: Path) -> None:
    where = oss_reference.venv_dir(str(tmp_path))
    assert where.parent == tmp_path
    assert where.name.startswith("oss-harmony-0.0.11-py3")


def test_a_venv_that_cannot_be_made_raises_with_what_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # no PyPI: pip cannot find the package
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    with pytest.raises(oss_reference.OracleUnavailable) as info:
        oss_reference.ensure_venv(str(tmp_path / "cache"))
    assert "pip install oss-harmony==0.0.11" in str(info.value)
    assert not list((tmp_path / "cache").glob(".*building*"))  # nothing half-built is left behind
    assert not oss_reference.venv_dir(str(tmp_path / "cache")).exists()


def test_the_shared_child_is_oss_harmony() -> None:
    oracle = oss_reference.oracle()
    assert oracle.identity == {"name": "oss-harmony", "version": "0.0.11"}
    assert oracle.ask(
        {"op": "render", "kind": "conversation", "conversation_json": "{", "next_role": "user", "drop": True}
    )["outcome"] == ["unreadable", None]
