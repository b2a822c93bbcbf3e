"""Reading stripped markers and where JSON arguments end (pure text functions)."""

from __future__ import annotations

import pytest

from gptoss_cli.harmony.markers import MORE, JsonEnd, stripped_header


@pytest.mark.parametrize(
    ("text", "strong", "want"),
    [
        ("finalParis", True, ("final", None, None, "Paris")),
        ("finalfour", True, ("final", None, None, "four")),
        ("final then", True, None),  # the reasoning talking about the format
        ("AnalysisWe need", False, ("analysis", None, None, "We need")),
        ("finalanalysisWe", False, ("analysis", None, None, "We")),
        ("finally", False, None),
        ("(final) answer", False, None),
        (
            'commentary to=functions.f json{"a": 1}',
            True,
            ("commentary", "functions.f", "<|constrain|>json", '{"a": 1}'),
        ),
        (
            ' to=container.exec code=python{"c": 1}',
            False,
            (None, "container.exec", "code=python", '{"c": 1}'),
        ),
        (
            "commentary to=functions.spl_funcjson{}",
            True,
            ("commentary", "functions.spl_func", "<|constrain|>json", "{}"),
        ),
        (" to=functions.fcommentary json{}", False, ("commentary", "functions.f", "<|constrain|>json", "{}")),
        (
            "analysis to=container.exec <junk>json\n[1]",
            False,
            ("analysis", "container.exec", "<|constrain|>json", "[1]"),
        ),
    ],
)
def test_stripped_header(text: str, strong: bool, want: object) -> None:
    assert stripped_header(text, final=False, strong=strong) == want
    if want is None:
        return
    # read as it streams in: "more text needed", or the same header with part of the rest
    for cut in range(1, len(text)):
        got = stripped_header(text[:cut], final=False, strong=strong)
        assert got is MORE or (
            isinstance(got, tuple) and got[:3] == want[:3] and want[3].startswith(got[3])  # type: ignore[index]
        ), (cut, got)


def test_quoted_marker_is_prose() -> None:
    assert stripped_header('final" is the marker', final=False, strong=True, quote='"') is None


@pytest.mark.parametrize(
    ("chunks", "end"),
    [
        (['{"a": "}"}', " tail"], (0, 10)),
        (['{"a": [1, {"b": "\\"}"}]', "}x"], (1, 1)),
        (["  [1, 2]"], (0, 8)),
    ],
)
def test_json_end(chunks: list[str], end: tuple[int, int]) -> None:
    scan = JsonEnd()
    found = [(i, scan.feed(c)) for i, c in enumerate(chunks)]
    assert next((i, at) for i, at in found if at is not None and at >= 0) == end


def test_not_json() -> None:
    assert JsonEnd().feed("print(1)") is None
