"""Rules the differential tests found, pinned with the reference's own outputs (openai-harmony 0.0.8)."""

from __future__ import annotations

from typing import Any

import pytest

from gptoss_cli.errors import ConversationFormatError, ParseError
from gptoss_cli.harmony import Conversation, RenderConfig, Role, completion_pieces, pieces_to_text
from gptoss_cli.harmony.header import parse_strict, rust_debug_str


@pytest.mark.parametrize(
    ("words", "shown"),
    [
        # Rust's str Debug escapes Grapheme_Extend characters wherever they are...
        ("e\u0301", '"e\\u{301}"'),
        ("\u0301b", '"\\u{301}b"'),
        ("\u09be", '"\\u{9be}"'),  # a spacing mark that extends graphemes
        ("\uff9e", '"\\u{ff9e}"'),  # a letter (Lm) that extends graphemes
        # ...and what it calls non-printable: controls, format characters, private use, unassigned
        ("\x00", '"\\0"'),
        ("\x1b", '"\\u{1b}"'),
        ("\x7f", '"\\u{7f}"'),
        ("a\u200bb", '"a\\u{200b}b"'),
        ("\u00ad", '"\\u{ad}"'),
        ("\ue000", '"\\u{e000}"'),
        ("\U000e0001", '"\\u{e0001}"'),
        ("\u0378", '"\\u{378}"'),
        ("a\u2028b", '"a\\u{2028}b"'),
        ("a\u00a0b", '"a\\u{a0}b"'),
        # printable characters stay, quotes and backslashes are escaped, the apostrophe is not
        ("é", '"é"'),
        ("🏻", '"🏻"'),
        ("🫨", '"🫨"'),  # new in Unicode 15: printable for the reference whatever Python's tables say
        ("\"\\'", '"\\"\\\\\'"'),
        ("x y", '"x y"'),
    ],
)
def test_leftover_header_words_are_shown_as_rust_debug_does(words: str, shown: str) -> None:
    assert rust_debug_str(words) == shown
    with pytest.raises(ParseError) as info:
        parse_strict(f"{words} to=x json", Role.ASSISTANT)
    assert str(info.value) == f"unexpected tokens remaining in message header: Some({shown})"


# --- reading the reference's JSON: what serde_json reads and refuses -------------------------


def _text(data: Any) -> str:
    conversation = Conversation.from_dict(data, strict=True)
    return pieces_to_text(completion_pieces(conversation, Role.ASSISTANT, RenderConfig()))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # serde's derived structs also read an array of exactly their fields, in declaration order;
        # a tagged content variant is then its tag followed by its fields
        (
            [[{"role": "user", "content": [["text", "hi"]]}]],
            "<|start|>user<|message|>hi<|end|><|start|>assistant",
        ),
        (
            {
                "messages": [
                    {
                        "role": "system",
                        "content": [
                            [
                                "system_content",
                                "Identity",
                                "High",
                                None,
                                "2025-01-01",
                                None,
                                [["final"], False],
                            ]
                        ],
                    }
                ]
            },
            "<|start|>system<|message|>Identity\nCurrent date: 2025-01-01\n\nReasoning: high\n\n"
            "# Valid channels: final.<|end|><|start|>assistant",
        ),
        (
            {
                "messages": [
                    {
                        "role": "developer",
                        "content": [
                            [
                                "developer_content",
                                None,
                                {"x": ["ns", "desc", [["f", "d", {"type": "object"}]]]},
                            ]
                        ],
                    }
                ]
            },
            "<|start|>developer<|message|># Tools\n\n## ns\n\n// desc\nnamespace ns {\n\n// d\n"
            "type f = (_: {\n}) => any;\n\n} // namespace ns<|end|><|start|>assistant",
        ),
    ],
)
def test_positional_structs_are_read(data: Any, expected: str) -> None:
    assert _text(data) == expected


@pytest.mark.parametrize(
    "message",
    [
        {"role": "user", "content": [["text"]]},  # one field short
        {"role": "user", "content": [["text", "a", "b"]]},  # one too many
        {"role": "system", "content": [["system_content", None, None, None, None, None]]},
        {"role": "system", "content": [{"type": "system_content", "channel_config": [["a"]]}]},
        ["user", None, "a message is never positional: its author is flattened into it"],
        # serde_json refuses lone surrogates, anywhere in a message
        {"role": "user", "content": "lone \ud800 surrogate"},
        {"role": "user", "content": "x", "unread": {"\udc00": 1}},
    ],
)
def test_unreadable_shapes_are_refused(message: Any) -> None:
    with pytest.raises(ConversationFormatError):
        Conversation.from_dict({"messages": [message]}, strict=True)
