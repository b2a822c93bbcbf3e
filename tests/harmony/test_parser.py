"""The streaming parser: chunking independence, lenient repairs, and invariants."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gptoss_cli.errors import GptossError
from gptoss_cli.harmony import (
    Author,
    ContentDelta,
    HeaderEvent,
    Message,
    MessageDone,
    Role,
    StreamParser,
    TextContent,
    get_tokenizer,
    parse_text,
    parse_tokens,
    pieces_to_text,
)
from gptoss_cli.harmony.render import message_pieces

from .conftest import case_id, load_cases

ENCODED = [c for c in load_cases("parse") if c["tokens_source"] == "encoded"]
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _role(case: dict[str, Any]) -> Role | None:
    return Role(case["role"]) if case["role"] else None


def _dicts(messages: list[Message]) -> list[dict[str, Any]]:
    return [m.to_dict() for m in messages]


def _chunked(text: str, cuts: list[int], role: Role | None, strict: bool) -> list[Message]:
    parser = StreamParser(role, strict=strict)
    last = 0
    for cut in [*sorted(cuts), len(text)]:
        parser.feed_text(text[last:cut])
        last = cut
    parser.finish()
    return parser.messages


@pytest.mark.parametrize("case", ENCODED, ids=case_id)
def test_every_cut_gives_the_same_messages(case: dict[str, Any]) -> None:
    text, role = case["completion_text"], _role(case)
    whole = _dicts(parse_text(text, role))
    for cut in range(len(text) + 1):
        assert _dicts(_chunked(text, [cut], role, strict=False)) == whole, f"cut at {cut}"
    assert _dicts(_chunked(text, list(range(len(text))), role, strict=False)) == whole
    if "error" not in case["expected"]["strict"]:
        strict_whole = _dicts(parse_text(text, role, strict=True))
        for cut in range(len(text) + 1):
            assert _dicts(_chunked(text, [cut], role, strict=True)) == strict_whole


@pytest.mark.parametrize("case", load_cases("parse"), ids=case_id)
def test_tokens_one_by_one_or_all_at_once(case: dict[str, Any]) -> None:
    role = _role(case)
    whole = parse_tokens(case["tokens"], role)
    parser = StreamParser(role)
    events = []
    for token in case["tokens"]:
        events.extend(parser.feed_tokens([token]))
    events.extend(parser.finish())
    assert _dicts(parser.messages) == _dicts(whole)
    done = [e.message for e in events if isinstance(e, MessageDone)]
    assert [m.text for m in done] == [m.text for m in parser.messages]


def test_events_describe_the_stream() -> None:
    text = (
        "<|channel|>analysis<|message|>Think.<|end|>"
        "<|start|>assistant to=functions.f<|channel|>commentary <|constrain|>json<|message|>{}<|call|>"
    )
    parser = StreamParser()
    events = []
    for ch in text:
        events.extend(parser.feed_text(ch))
    events.extend(parser.finish())
    headers = [e for e in events if isinstance(e, HeaderEvent)]
    assert [(h.channel, h.recipient, h.content_type) for h in headers] == [
        ("analysis", None, None),
        ("commentary", "functions.f", "<|constrain|>json"),
    ]
    deltas = "".join(e.text for e in events if isinstance(e, ContentDelta) and e.index == 0)
    assert deltas == "Think."
    done = [e for e in events if isinstance(e, MessageDone)]
    assert [d.token for d in done] == ["<|end|>", "<|call|>"]
    assert all(not d.message.notes for d in done)


# --- lenient repairs: servers.md section 7 ----------------------------------------------------


def _one(text: str, role: Role | None = Role.ASSISTANT) -> list[tuple[str | None, str | None, str]]:
    return [(m.channel, m.recipient, m.text) for m in parse_text(text, role)]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # 1. no <|end|> between messages
        (
            "<|channel|>analysis<|message|>think<|start|>assistant<|channel|>final<|message|>Hi",
            [("analysis", None, "think"), ("final", None, "Hi")],
        ),
        # 2. every marker stripped by the server
        (
            "analysisUser asks. Answer 4.assistantfinal2 + 2 = 4.",
            [("analysis", None, "User asks. Answer 4."), ("final", None, "2 + 2 = 4.")],
        ),
        (
            'analysisNeed weather.assistantcommentary to=functions.get_weather json{"city":"Paris"}',
            [
                ("analysis", None, "Need weather."),
                ("commentary", "functions.get_weather", '{"city":"Paris"}'),
            ],
        ),
        # 4. recipient in the role, <|constrain|> without a space
        (
            "<|start|>assistant to=functions.f<|channel|>commentary<|constrain|>json"
            '<|message|>{"a":1}<|call|>',
            [("commentary", "functions.f", '{"a":1}')],
        ),
        # 5. <|constrain|> with a space before the format; <|constrain|> with no recipient
        (
            "<|channel|>commentary to=functions.f <|constrain|> json<|message|>{}<|call|>",
            [("commentary", "functions.f", "{}")],
        ),
        ("<|channel|>final <|constrain|>json<|message|>{}<|end|>", [("final", None, "{}")]),
        # 6. tool call on the analysis channel
        (
            "<|channel|>analysis to=python code<|message|>print(1)<|call|>",
            [("analysis", "python", "print(1)")],
        ),
        # 7. control tokens leaked into names
        (
            "<|channel|>commentary to=functions.manage_cart<|channel|>commentary<|message|>{}<|call|>",
            [("commentary", "functions.manage_cart", "{}")],
        ),
        # 8. missing <|message|>
        ("<|channel|>final 2 + 2 = 4.<|end|>", [("final", None, "2 + 2 = 4.")]),
        # 9. empty channel, doubled start, stray text between messages
        (
            "<|channel|>final<|message|>a<|end|>junk<|start|><|start|>assistant<|channel|>final<|message|>b<|end|>",
            [("final", None, "a"), ("final", None, "b")],
        ),
        # 10. garbled channel names
        ("<|channel|>commentary?<|message|>note<|end|>", [("commentary", None, "note")]),
        # an unknown channel is the answer only when nothing in the output marks reasoning
        ("<|channel|>??<|message|>x<|end|>", [("final", None, "x")]),
        # 11. bare content with no markup
        ("Just an answer.", [("final", None, "Just an answer.")]),
        # 12. the role as plain text instead of <|start|>assistant
        (
            "<|channel|>analysis<|message|>t<|end|>assistant<|channel|>final<|message|>ok<|return|>",
            [("analysis", None, "t"), ("final", None, "ok")],
        ),
        # 13. generation continues after <|return|>
        ("<|channel|>final<|message|>done<|return|>more text", [("final", None, "done")]),
        # 14. truncated mid-message and mid-header
        ("<|channel|>analysis<|message|>half a thou", [("analysis", None, "half a thou")]),
        ("<|channel|>final<|message|>ok<|end|><|start|>assistant<|channel|>fi", [("final", None, "ok")]),
    ],
)
def test_lenient_repairs(text: str, want: list[tuple[str | None, str | None, str]]) -> None:
    assert _one(text) == want
    parser = StreamParser()
    parser.feed_text(text)
    parser.finish()
    try:
        strict = _dicts(parse_text(text, strict=True))
    except GptossError:
        strict = None
    if strict != _dicts(parser.messages):
        assert parser.notes or any(m.notes for m in parser.messages), "a repair must be recorded"


def test_missing_start_with_no_role() -> None:
    got = parse_text("<|channel|>final<|message|>hi<|end|>", None)
    assert [(m.role, m.channel, m.text) for m in got] == [(Role.ASSISTANT, "final", "hi")]
    assert got[0].notes


def test_unicode_split_across_tokens_is_reassembled() -> None:
    tokenizer = get_tokenizer()
    ids = tokenizer.encode_with_specials("<|channel|>final<|message|>日本語 🦄<|return|>")
    raw = [b for t in ids for b in [t]]
    assert parse_tokens(raw)[0].text == "日本語 🦄"


# --- properties ---------------------------------------------------------------------------------

SPECIALS = ["<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>", "<|call|>"]
_text_pieces = st.one_of(
    st.sampled_from([*SPECIALS, "assistant", "analysis", "final", " to=functions.f", "json"]),
    st.text(max_size=8),
)


@SETTINGS
@given(
    pieces=st.lists(_text_pieces, max_size=25),
    cuts=st.lists(st.integers(0, 200), max_size=6),
    role=st.sampled_from([Role.ASSISTANT, None]),
)
def test_lenient_never_raises_and_ignores_chunking(
    pieces: list[str], cuts: list[int], role: Role | None
) -> None:
    text = "".join(pieces)
    whole = parse_text(text, role)
    chunked = _chunked(text, [c for c in cuts if c <= len(text)], role, strict=False)
    assert _dicts(chunked) == _dicts(whole)


ANALYSIS_CHARS = "ΑΒΓΔ"
_header_safe = st.text(alphabet="xyz .,!", min_size=1, max_size=12)
_analysis_text = st.text(alphabet=ANALYSIS_CHARS + " ", min_size=1, max_size=12).filter(
    lambda s: s.strip() != ""
)


@st.composite
def _assistant_turn(draw: st.DrawFn) -> list[Message]:
    messages = []
    for _ in range(draw(st.integers(0, 3))):
        messages.append(Message(Author(Role.ASSISTANT), (TextContent(draw(_analysis_text)),), "analysis"))
    if draw(st.booleans()):
        messages.append(
            Message(
                Author(Role.ASSISTANT),
                (TextContent(draw(_header_safe)),),
                "commentary",
                recipient="functions.lookup",
                content_type="<|constrain|>json",
            )
        )
    messages.append(Message(Author(Role.ASSISTANT), (TextContent(draw(_header_safe)),), "final"))
    return messages


def _completion(messages: list[Message]) -> str:
    pieces: list[str | int] = []
    for m in messages:
        message_pieces(m, pieces)
    text = pieces_to_text(pieces)
    return text.removeprefix("<|start|>assistant")


def _strip_all(text: str) -> str:
    for s in SPECIALS:
        text = text.replace(s, "")
    return text


CORRUPTIONS = {
    "none": lambda t: t,
    "no_end": lambda t: t.replace("<|end|>", ""),
    "stripped": _strip_all,
    "plain_role": lambda t: t.replace("<|start|>assistant", "assistant"),
    "no_message": lambda t: t.replace("<|message|>", " "),
    "no_start": lambda t: t.replace("<|start|>assistant", ""),
    "garbled": lambda t: t.replace("<|channel|>analysis", "<|channel|>analysis?").replace(
        "<|channel|>final", "<|channel|>final??"
    ),
}


@SETTINGS
@given(
    messages=_assistant_turn(),
    corruption=st.sampled_from(sorted(CORRUPTIONS)),
    cut=st.one_of(st.none(), st.integers(0, 400)),
)
def test_analysis_is_never_classified_as_final(
    messages: list[Message], corruption: str, cut: int | None
) -> None:
    text = CORRUPTIONS[corruption](_completion(messages))
    if cut is not None:
        text = text[:cut]
    for parsed in (
        parse_text(text),
        _chunked(text, list(range(0, len(text), 3)), Role.ASSISTANT, strict=False),
    ):
        for m in parsed:
            if m.channel == "final":
                assert not set(m.text) & set(ANALYSIS_CHARS), (corruption, text, m)


@SETTINGS
@given(messages=_assistant_turn())
def test_render_then_parse_round_trip(messages: list[Message]) -> None:
    text = _completion(messages)
    for strict in (True, False):
        got = parse_text(text, Role.ASSISTANT, strict=strict)
        assert [(m.channel, m.recipient, m.content_type, m.text) for m in got] == [
            (m.channel, m.recipient, m.content_type, m.text) for m in messages
        ]
        assert all(not m.notes for m in got)
    ids = get_tokenizer().encode_with_specials(text)
    assert [m.text for m in parse_tokens(ids, strict=True)] == [m.text for m in messages]


_any_token = st.one_of(
    st.integers(0, 199_997),
    st.sampled_from([200002, 200003, 200005, 200006, 200007, 200008, 200012, 199998, 199999, 200014, 201088]),
    st.integers(201_089, 300_000),  # outside the vocabulary
)


@SETTINGS
@given(tokens=st.lists(_any_token, max_size=40), role=st.sampled_from([Role.ASSISTANT, None]))
def test_lenient_never_raises_on_arbitrary_token_ids(tokens: list[int], role: Role | None) -> None:
    parser = StreamParser(role)
    for token in tokens:
        parser.process(token)
    parser.finish()
    assert all(isinstance(m.text, str) for m in parser.messages)
