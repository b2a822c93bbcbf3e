from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gptoss_cli.harmony import HarmonyForm

DATA_ROOT = Path(__file__).resolve().parent.parent / "data"
#: The reference vectors of each form: openai-harmony 0.0.8, and oss-harmony 0.0.11 on the same inputs.
SETS: dict[HarmonyForm, Path] = {"openai": DATA_ROOT / "conformance", "oss": DATA_ROOT / "conformance-oss"}
DATA = SETS["openai"]


def load_cases(name: str, form: HarmonyForm = "openai") -> list[dict[str, Any]]:
    data = json.loads((SETS[form] / f"{name}.json").read_text(encoding="utf-8"))
    cases: list[dict[str, Any]] = data["cases"]
    return cases


def reference(name: str, form: HarmonyForm) -> str:
    """The ``reference`` a vector file names (``openai-harmony==0.0.8``...)."""
    return str(json.loads((SETS[form] / f"{name}.json").read_text(encoding="utf-8"))["reference"])


def form_cases(name: str) -> list[tuple[HarmonyForm, dict[str, Any]]]:
    """Every case of both sets, each with the form it was made with."""
    return [(form, case) for form in SETS for case in load_cases(name, form)]


def case_id(case: dict[str, Any]) -> str:
    return str(case["id"])


def form_case_id(item: Any) -> str:
    """A test id for :func:`form_cases` items: ``oss-render-031-...``."""
    if isinstance(item, str):
        return item
    return str(item["id"])


REAL_OUTPUTS = Path(__file__).resolve().parent.parent / "data" / "real_outputs"


def load_real_outputs() -> list[dict[str, Any]]:
    """Every case of the corpus of real gpt-oss completions, in file order (see its README)."""
    files = sorted(REAL_OUTPUTS.glob("[0-9][0-9][0-9]-*.json"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in files]
