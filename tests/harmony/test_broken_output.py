"""How the lenient parser reads broken output: one rule per failure class of issue 9.

Every case is replayed as written, split at every character offset and one character at a
time (the messages must not change), and with its special tokens stripped. In every form the
text marked SECRET (the model's reasoning) never reaches the answer nor a final-channel delta,
which is what ``gptoss ask`` streams to stdout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from gptoss_cli.errors import GptossError
from gptoss_cli.harmony import ContentDelta, Role, StreamParser, parse_text, read_answer
from gptoss_cli.harmony.answer import is_answer
from gptoss_cli.harmony.tokens import SPECIAL_IDS

Summary = list[tuple[str | None, str | None, str]]


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    messages: Summary  # (channel, recipient, text) of each message
    kind: str  # what the answer is: final | tool_call | no_answer
    final: str = ""
    stripped_final: str | None = None  # the answer once special tokens are stripped, if any

    def __str__(self) -> str:
        return self.name


def _parse(chunks: list[str], *, cut_off: bool = False) -> tuple[StreamParser, list[object]]:
    parser = StreamParser(Role.ASSISTANT)
    events: list[object] = []
    for chunk in chunks:
        events.extend(parser.feed_text(chunk))
    events.extend(parser.finish(cut_off=cut_off))
    return parser, events


def _summary(parser: StreamParser) -> Summary:
    return [(m.channel, m.recipient, m.text) for m in parser.messages]


def _streamed_final(events: list[object]) -> str:
    return "".join(
        e.text for e in events if isinstance(e, ContentDelta) and e.channel == "final" and e.recipient is None
    )


def _strip(text: str) -> str:
    for special in SPECIAL_IDS:
        text = text.replace(special, "")
    return text


CASES = [
    # 1. headerless text at the start, then more Harmony structure: reasoning
    Case(
        "headerless-then-end",
        "SECRET we need to greet.<|end|><|start|>assistant<|channel|>final<|message|>Hello!<|return|>",
        [("analysis", None, "SECRET we need to greet."), ("final", None, "Hello!")],
        "final",
        "Hello!",
    ),
    Case(
        "long-headerless-then-channel",
        "SECRET The user wants a greeting, so we answer with one short and friendly line.\n"
        "<|channel|>final<|message|>Hello!",
        [
            (
                "analysis",
                None,
                "SECRET The user wants a greeting, so we answer with one short and friendly line.\n",
            ),
            ("final", None, "Hello!"),
        ],
        "final",
        "Hello!",
    ),
    Case(
        "headerless-then-stripped-final",
        "SECRET We need to answer.assistantfinalHello!",
        [("analysis", None, "SECRET We need to answer."), ("final", None, "Hello!")],
        "final",
        "Hello!",
        "Hello!",
    ),
    Case(
        "headerless-then-stripped-analysis",
        "SECRET First thought.assistantanalysisSECRET more.assistantfinal42",
        [
            ("analysis", None, "SECRET First thought."),
            ("analysis", None, "SECRET more."),
            ("final", None, "42"),
        ],
        "final",
        "42",
        "42",
    ),
    Case(
        "headerless-alone-is-the-answer",
        "Paris is the capital of France.",
        [("final", None, "Paris is the capital of France.")],
        "final",
        "Paris is the capital of France.",
        "Paris is the capital of France.",
    ),
    # 2. a final message exists: earlier text that is not clearly final is not the answer
    Case(
        "garbled-fnal-before-final",
        "<|channel|>fnal<|message|>SECRET draft<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Done.<|return|>",
        [("fnal", None, "SECRET draft"), ("final", None, "Done.")],
        "final",
        "Done.",
    ),
    Case(
        "finalanalysis-is-analysis",
        "<|channel|>finalanalysis<|message|>SECRET plan<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Done.<|return|>",
        [("analysis", None, "SECRET plan"), ("final", None, "Done.")],
        "final",
        "Done.",
    ),
    Case(
        "empty-channel-before-final",
        "<|channel|><|message|>SECRET plan<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Done.<|return|>",
        [(None, None, "SECRET plan"), ("final", None, "Done.")],
        "final",
        "Done.",
    ),
    Case(
        "no-channel-before-final",
        "<|message|>SECRET plan<|end|><|start|>assistant<|channel|>final<|message|>Done.<|return|>",
        [(None, None, "SECRET plan"), ("final", None, "Done.")],
        "final",
        "Done.",
    ),
    Case(
        "junk-before-first-header",
        "xq#<|channel|>analysis<|message|>SECRET plan<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Done.",
        [("analysis", None, "xq#"), ("analysis", None, "SECRET plan"), ("final", None, "Done.")],
        "final",
        "Done.",
    ),
    Case(
        "capitalised-Analysis-stripped",
        "AnalysisSECRET We need a number.assistantfinal7",
        [("analysis", None, "SECRET We need a number."), ("final", None, "7")],
        "final",
        "7",
        "7",
    ),
    Case(
        "capitalised-Analysis-channel",
        "<|channel|>Analysis<|message|>SECRET plan<|end|><|start|>assistant<|channel|>final<|message|>7",
        [("analysis", None, "SECRET plan"), ("final", None, "7")],
        "final",
        "7",
    ),
    # ... and with no final at all, such text is unclear: not the answer
    Case(
        "garbled-channel-after-analysis-no-final",
        "<|channel|>analysis<|message|>SECRET plan<|end|><|start|>assistant<|channel|>fnal<|message|>maybe",
        [("analysis", None, "SECRET plan"), ("fnal", None, "maybe")],
        "no_answer",
    ),
    # 3. the reasoning mentions the stripped marker; a stripped analysis glued to punctuation
    Case(
        "reasoning-mentions-assistantfinal",
        'analysisSECRET The format is "assistantfinal" then the answer; assistantfinal then text.'
        "assistantfinalBlue.",
        [
            (
                "analysis",
                None,
                'SECRET The format is "assistantfinal" then the answer; assistantfinal then text.',
            ),
            ("final", None, "Blue."),
        ],
        "final",
        "Blue.",
        "Blue.",
    ),
    Case(
        "glued-marker-in-reasoning-then-real-one",
        "analysisSECRET one.assistantfinalSECRET two.assistantfinalBlue.",
        [
            ("analysis", None, "SECRET one."),
            ("analysis", None, "SECRET two."),
            ("final", None, "Blue."),
        ],
        "final",
        "Blue.",
        "Blue.",
    ),
    Case(
        "analysis-glued-to-punctuation",
        'analysisSECRET got {"a": 1}.analysisSECRET We need more.assistantfinalOK',
        [
            ("analysis", None, 'SECRET got {"a": 1}.'),
            ("analysis", None, "SECRET We need more."),
            ("final", None, "OK"),
        ],
        "final",
        "OK",
        "OK",
    ),
    # 4. stripped tool-call headers are tool calls
    Case(
        "stripped-call-assistantcommentary",
        'analysisSECRET need data.assistantcommentary to=functions.lookup json{"q": "x"}',
        [("analysis", None, "SECRET need data."), ("commentary", "functions.lookup", '{"q": "x"}')],
        "tool_call",
    ),
    Case(
        "stripped-call-recipient-only-code-python",
        ' to=container.exec code=python{"cmd": ["ls"]}',
        [(None, "container.exec", '{"cmd": ["ls"]}')],
        "tool_call",
    ),
    Case(
        "stripped-call-junk-before-json",
        'analysis to=container.exec <junk>json\n{"cmd": ["ls", "-l"]}',
        [("analysis", "container.exec", '{"cmd": ["ls", "-l"]}')],
        "tool_call",
    ),
    Case(
        "stripped-call-type-glued-to-name",
        'analysisSECRET call.assistantcommentary to=functions.spl_funcjson{"n": 6}',
        [("analysis", None, "SECRET call."), ("commentary", "functions.spl_func", '{"n": 6}')],
        "tool_call",
    ),
    Case(
        "stripped-call-cut-off",
        'analysisSECRET call.assistantcommentary to=functions.lookup json{"q": "par',
        [("analysis", None, "SECRET call."), ("commentary", "functions.lookup", '{"q": "par')],
        "tool_call",
    ),
    # 5. arguments that run straight into the next message end where the JSON value ends
    Case(
        "arguments-run-into-next-message",
        "<|channel|>commentary to=functions.read <|constrain|>json"
        '<|message|>{"file_path": "a}b.txt"}commentary<|message|>SECRET We need to read it.<|end|>',
        [("commentary", "functions.read", '{"file_path": "a}b.txt"}')],
        "tool_call",
    ),
    Case(
        "stripped-call-then-runaway-final",
        'analysisSECRET store it.assistantcommentary to=functions.remember json{"x": [1, {"y": 2}]}'
        "assistantfinalStored.",
        [
            ("analysis", None, "SECRET store it."),
            ("commentary", "functions.remember", '{"x": [1, {"y": 2}]}'),
        ],
        "tool_call",
    ),
    # a tool name with a space; a content type alone is no recipient (from real outputs)
    Case(
        "recipient-with-a-space",
        '<|channel|>commentary to=functions.Web Search <|constrain|>json<|message|>{"q": 1}<|call|>',
        [("commentary", "functions.Web Search", '{"q": 1}')],
        "tool_call",
    ),
    Case(
        "content-type-alone-is-no-recipient",
        'analysisSECRET to=functions.f<|channel|>commentary json<|message|>{"a": 1}',
        [("analysis", None, "SECRET to=functions.f"), ("commentary", None, '{"a": 1}')],
        "no_answer",
    ),
    # both header forms of a tool call (openai-harmony's and the oss-harmony fork's)
    Case(
        "call-recipient-first",
        "<|channel|>analysis<|message|>SECRET call it.<|end|><|start|>assistant to=functions.f"
        '<|channel|>commentary <|constrain|>json<|message|>{"a": 1}<|call|>',
        [("analysis", None, "SECRET call it."), ("commentary", "functions.f", '{"a": 1}')],
        "tool_call",
    ),
    Case(
        "call-channel-first",
        "<|channel|>analysis<|message|>SECRET call it.<|end|><|start|>assistant<|channel|>commentary"
        ' to=functions.f <|constrain|>json<|message|>{"a": 1}<|call|>',
        [("analysis", None, "SECRET call it."), ("commentary", "functions.f", '{"a": 1}')],
        "tool_call",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule(case: Case) -> None:
    parser, events = _parse([case.text])
    assert _summary(parser) == case.messages
    answer = read_answer(parser.messages)
    assert (answer.kind, answer.final) == (case.kind, case.final)
    assert "SECRET" not in _streamed_final(events)
    try:
        strict = [m.to_dict() for m in parse_text(case.text, strict=True)]
    except GptossError:
        strict = None
    if strict != [m.to_dict(notes=False) for m in parser.messages]:
        assert any(m.notes for m in parser.messages), "a repair must be recorded"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule_at_every_cut(case: Case) -> None:
    whole, _ = _parse([case.text])
    want = [m.to_dict() for m in whole.messages]
    text = case.text
    for cut in range(len(text) + 1):
        parser, events = _parse([text[:cut], text[cut:]])
        assert [m.to_dict() for m in parser.messages] == want, f"cut at {cut}"
        assert "SECRET" not in _streamed_final(events)
    parser, events = _parse(list(text))
    assert [m.to_dict() for m in parser.messages] == want
    assert "SECRET" not in _streamed_final(events)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule_with_special_tokens_stripped(case: Case) -> None:
    text = _strip(case.text)
    for chunks in ([text], list(text)):
        parser, events = _parse(chunks)
        answer = read_answer(parser.messages)
        assert "SECRET" not in answer.final
        assert "SECRET" not in _streamed_final(events)
        if case.stripped_final is not None:
            assert answer.final == case.stripped_final


def _marked(text: str) -> bool:
    """Whether the reasoning is marked as such before it: an analysis channel, however written."""
    at = text.find("SECRET")
    return at >= 0 and re.search("(?i)analysis", text[:at]) is not None


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rule_truncated_anywhere(case: Case) -> None:
    """Cut anywhere (and known to be cut off), marked reasoning is never the answer."""
    for cut in range(len(case.text) + 1):
        for text in (case.text[:cut], _strip(case.text)[:cut]):
            if not _marked(text):
                continue
            parser, events = _parse([text], cut_off=True)
            assert "SECRET" not in read_answer(parser.messages).final, text
            assert "SECRET" not in _streamed_final(events), text


def test_repairs_are_recorded() -> None:
    parser, _ = _parse(["SECRET plan.<|end|><|start|>assistant<|channel|>final<|message|>Hi"])
    assert parser.messages[0].notes == (
        "no Harmony header",
        "text without a header followed by more Harmony structure: read as reasoning",
    )
    parser, _ = _parse(['<|channel|>commentary to=functions.f json<|message|>{"a": 1}junk<|call|>'])
    (call,) = parser.messages
    assert call.text == '{"a": 1}'
    assert call.notes == (
        "arguments end where their JSON value ends",
        "output after the tool call dropped (written without its result): 'junk<|call|>'",
    )


def test_unclear_text_is_marked_and_never_the_answer() -> None:
    parser, _ = _parse(["<|channel|>analysis<|message|>SECRET<|end|><|start|>assistant<|message|>maybe"])
    last = parser.messages[-1]
    assert last.channel is None and not is_answer(last)
    assert any("unclear" in note for note in last.notes)
    answer = read_answer(parser.messages)
    assert (answer.kind, answer.final, answer.unclear) == ("no_answer", "", "maybe")


def test_cut_off_output_shows_only_clear_final_text() -> None:
    """A stripped final or headerless text at a cut-off end may be reasoning: unclear, not shown."""
    for text in ("analysisSECRET one.assistantfinalSECRET two", "SECRET plan, so"):
        parser, _ = _parse([text], cut_off=True)
        answer = read_answer(parser.messages)
        assert answer.final == "" and "SECRET" in answer.unclear
    parser, _ = _parse(
        ["<|channel|>analysis<|message|>SECRET<|end|><|start|>assistant<|channel|>final<|message|>Par"],
        cut_off=True,
    )
    assert read_answer(parser.messages).final == "Par"  # clearly final: what arrived is the answer


def test_held_final_is_announced_once_it_is_known() -> None:
    """A stripped final streams as undecided text; its MessageDone carries the final channel."""
    parser = StreamParser(Role.ASSISTANT)
    early = parser.feed_text("analysisSECRET.assistantfinalHel")
    early += parser.feed_text("lo")
    assert not any(isinstance(e, ContentDelta) and e.channel == "final" for e in early)
    done = [e for e in parser.finish() if hasattr(e, "message")]
    assert [(d.message.channel, d.message.text) for d in done] == [("final", "Hello")]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "<|start|>assistant<|channel|>final<|message|>x<|end|>",
        '<|start|>assistant to=functions.f<|channel|>commentary <|constrain|>json<|message|>{"a":1}<|call|>',
        '<|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"a":1}<|call|>',
    ],
)
def test_clean_output_needs_no_repair(text: str) -> None:
    parser = StreamParser(None)
    parser.feed_text(text)
    parser.finish()
    assert not parser.notes and all(not m.notes for m in parser.messages)
