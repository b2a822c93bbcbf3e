from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "conformance"


def load_cases(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))["cases"]
    return cases


def case_id(case: dict[str, Any]) -> str:
    return str(case["id"])


REAL_OUTPUTS = Path(__file__).resolve().parent.parent / "data" / "real_outputs"


def load_real_outputs() -> list[dict[str, Any]]:
    """Every case of the corpus of real gpt-oss completions, in file order (see its README)."""
    files = sorted(REAL_OUTPUTS.glob("[0-9][0-9][0-9]-*.json"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in files]
