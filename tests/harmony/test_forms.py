"""The two reference forms: openai-harmony 0.0.8 ("openai") and oss-harmony 0.0.11 ("oss").

Expected strings are the references' own outputs (each library run on the same messages); the
differential tests check the same rules on generated conversations.
"""

from __future__ import annotations

import pytest

from gptoss_cli.errors import ParseError
from gptoss_cli.harmony import (
    HARMONY_FORMS,
    Conversation,
    DeveloperContent,
    HarmonyForm,
    Message,
    Role,
    SystemContent,
    ToolDescription,
    ToolNamespaceConfig,
    completion_pieces,
    conversation_pieces,
    harmony_form,
    open_message_pieces,
    parse_text,
    parse_tokens,
    pieces_to_text,
    pieces_to_tokens,
)
from gptoss_cli.harmony.header import parse_strict
from gptoss_cli.harmony.schema import format_float, to_typescript


def _assistant(
    channel: str | None = None, recipient: str | None = None, ctype: str | None = None, text: str = "x"
) -> Message:
    message = Message.from_role_and_content(Role.ASSISTANT, text)
    if channel is not None:
        message = message.with_channel(channel)
    if recipient is not None:
        message = message.with_recipient(recipient)
    if ctype is not None:
        message = message.with_content_type(ctype)
    return message


@pytest.mark.parametrize(
    ("message", "openai", "oss"),
    [
        # the commentary channel goes first in the fork, whoever writes
        (
            _assistant("commentary", "functions.f", "<|constrain|>json"),
            "assistant to=functions.f<|channel|>commentary <|constrain|>json",
            "assistant<|channel|>commentary to=functions.f <|constrain|>json",
        ),
        (
            Message.from_role_and_content(Role.USER, "x")
            .with_channel("commentary")
            .with_recipient("assistant"),
            "user to=assistant<|channel|>commentary",
            "user<|channel|>commentary to=assistant",
        ),
        # any other channel keeps the recipient first (the fork's "legacy order")
        (
            _assistant("analysis", "python"),
            "assistant to=python<|channel|>analysis",
            "assistant to=python<|channel|>analysis",
        ),
        (
            _assistant("Commentary", "functions.f"),
            "assistant to=functions.f<|channel|>Commentary",
            "assistant to=functions.f<|channel|>Commentary",
        ),
        # a content type without the token: plain text in openai-harmony, the token first in the fork
        (
            _assistant("final", "functions.f", "json"),
            "assistant to=functions.f<|channel|>final json",
            "assistant to=functions.f<|channel|>final <|constrain|>json",
        ),
        (
            _assistant(None, "functions.f", ""),
            "assistant to=functions.f ",
            "assistant to=functions.f <|constrain|>",
        ),
        (
            _assistant(None, "python", "code"),
            "assistant to=python code",
            "assistant to=python <|constrain|>code",
        ),
        # "all" is no recipient, in both
        (_assistant("commentary", "all"), "assistant<|channel|>commentary", "assistant<|channel|>commentary"),
        # without a recipient the channel order is the same
        (_assistant("final"), "assistant<|channel|>final", "assistant<|channel|>final"),
    ],
)
def test_header_order_and_constrain(message: Message, openai: str, oss: str) -> None:
    for form, header in (("openai", openai), ("oss", oss)):
        text = pieces_to_text(conversation_pieces([message], form=form))
        end = "<|call|>" if message.role is Role.ASSISTANT and message.recipient is not None else "<|end|>"
        assert text == f"<|start|>{header}<|message|>x{end}", form


def test_constrain_is_the_special_token_in_both_forms() -> None:
    message = _assistant("commentary", "functions.f", "json")
    ids = pieces_to_tokens(conversation_pieces([message], form="oss"))
    assert 200003 in ids  # <|constrain|>
    assert 200003 not in pieces_to_tokens(conversation_pieces([message], form="openai"))


@pytest.mark.parametrize(
    ("value", "openai", "oss"),
    [
        (1e15, "1000000000000000.0", "1000000000000000.0"),
        (1e16, "1e16", "1e+16"),
        (123456789012345678.0, "1.2345678901234568e17", "1.2345678901234568e+17"),
        (1e-5, "0.00001", "0.00001"),
        (1.5e-5, "0.000015", "0.000015"),
        (1e-6, "1e-6", "1e-6"),
        (2.5e-320, "2.5e-320", "2.5e-320"),
        (5e-324, "5e-324", "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e308", "1.7976931348623157e+308"),
        (1e100, "1e100", "1e+100"),
        (-1e21, "-1e21", "-1e+21"),
        (-2.5e-9, "-2.5e-9", "-2.5e-9"),
        (12345.678, "12345.678", "12345.678"),
        (-0.0, "-0.0", "-0.0"),
    ],
)
def test_numbers(value: float, openai: str, oss: str) -> None:
    assert format_float(value, "openai") == openai
    assert format_float(value, "oss") == oss


def test_schema_defaults_follow_the_form_at_every_depth() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "number", "default": 1e21},
            "b": {"oneOf": [{"type": "number", "default": 2e22}], "default": [1e30]},
            "c": {"type": "object", "properties": {"d": {"type": "number", "default": 1e22}}},
        },
    }
    openai, oss = to_typescript(schema), to_typescript(schema, form="oss")
    assert "1e21" in openai and "2e22" in openai and "[1e30]" in openai and "1e22" in openai
    assert "1e+21" in oss and "2e+22" in oss and "[1e+30]" in oss and "1e+22" in oss
    assert oss.replace("e+", "e") == openai


def test_the_form_reaches_tools_in_system_and_developer_messages() -> None:
    tool = ToolDescription(
        "f", "d", {"type": "object", "properties": {"n": {"type": "number", "default": 1e21}}}
    )
    namespace = ToolNamespaceConfig("functions", None, (tool,))
    system = Message.from_role_and_content(Role.SYSTEM, SystemContent().with_tools(namespace))
    developer = Message.from_role_and_content(Role.DEVELOPER, DeveloperContent().with_function_tools([tool]))
    for message in (system, developer):
        assert "default: 1e+21" in pieces_to_text(completion_pieces(Conversation((message,)), form="oss"))
        assert "default: 1e21" in pieces_to_text(completion_pieces(Conversation((message,)), form="openai"))


@pytest.mark.parametrize(
    ("header", "openai_recipient", "openai_ctype", "oss_recipient", "oss_ctype"),
    [
        ("<|channel|>final<|channel|>analysis", "<|channel|>analysis", None, None, None),
        (
            "<|channel|>commentary to=functions.f<|channel|>commentary <|constrain|>json",
            "functions.f<|channel|>commentary",
            "<|constrain|>json",
            "functions.f",
            "<|constrain|>json",
        ),
        (
            "<|channel|>commentary to=foo<|channel|>analysis<|constrain|>json",
            "foo<|channel|>analysis",
            "<|constrain|>json",
            "foo",
            "<|constrain|>json",
        ),
        ("<|channel|>commentary<|channel|> to=foo", None, None, "foo", None),
    ],
)
def test_strict_oss_drops_extra_channel_markers(
    header: str,
    openai_recipient: str | None,
    openai_ctype: str | None,
    oss_recipient: str | None,
    oss_ctype: str | None,
) -> None:
    first_channel = header.split("<|channel|>")[1].split(" ", maxsplit=1)[0].split("<", maxsplit=1)[0]
    oss = parse_strict(header, Role.ASSISTANT, "oss")
    assert (oss.channel, oss.recipient, oss.content_type) == (first_channel, oss_recipient, oss_ctype)
    if openai_recipient is None and header.endswith("<|channel|> to=foo"):
        with pytest.raises(ParseError):  # openai-harmony reads " to=foo" as two header words
            parse_strict(header, Role.ASSISTANT, "openai")
        return
    openai = parse_strict(header, Role.ASSISTANT, "openai")
    assert (openai.channel, openai.recipient, openai.content_type) == (
        first_channel,
        openai_recipient,
        openai_ctype,
    )


def test_an_empty_first_channel_is_an_error_in_both() -> None:
    for form in HARMONY_FORMS:
        with pytest.raises(ParseError, match="no channel value"):
            parse_strict("<|channel|> to=foo", Role.ASSISTANT, form)


# --- lenient parsing reads both forms whatever the setting --------------------------------------


def _tool_round() -> list[Message]:
    return [
        _assistant("analysis", text="Need the weather."),
        _assistant("commentary", "functions.get_weather", "<|constrain|>json", text='{"city":"Paris"}'),
        Message.from_role_and_content(Role.TOOL, '{"t": 20}', name="functions.get_weather")
        .with_channel("commentary")
        .with_recipient("assistant"),
        _assistant("commentary", "python", "code", text="print(1)"),
        _assistant("final", text="It is 20 degrees."),
    ]


@pytest.mark.parametrize("form", HARMONY_FORMS)
def test_lenient_reads_either_rendering_into_the_same_messages(form: HarmonyForm) -> None:
    messages = _tool_round()
    text = pieces_to_text(conversation_pieces(messages, None, form=form))
    got = parse_text(text, None)
    assert [m.to_dict(notes=False) for m in got] == [
        m.with_content_type(_read_back(m.content_type, form)).to_dict(notes=False) for m in messages
    ]
    assert not any(m.notes for m in got), [m.notes for m in got]
    ids = pieces_to_tokens(conversation_pieces(messages, None, form=form))
    assert [m.to_dict() for m in parse_tokens(ids, None)] == [m.to_dict() for m in got]


def _read_back(content_type: str | None, form: HarmonyForm) -> str | None:
    """The fork writes ``code`` as ``<|constrain|>code``, and that is what a reader sees."""
    if content_type is None or form == "openai" or content_type.startswith("<|constrain|>"):
        return content_type
    return "<|constrain|>" + content_type


@pytest.mark.parametrize("form", HARMONY_FORMS)
def test_strict_parsing_of_each_form_reads_its_own_rendering(form: HarmonyForm) -> None:
    messages = _tool_round()
    ids = pieces_to_tokens(conversation_pieces(messages, None, form=form))
    for parse_form in HARMONY_FORMS:
        got = parse_tokens(ids, None, strict=True, form=parse_form)
        assert [m.channel for m in got] == [m.channel for m in messages]
        assert [m.recipient for m in got] == [m.recipient for m in messages]


def test_lenient_takes_the_first_channel_of_several_and_says_so() -> None:
    (message,) = parse_text("<|channel|>final<|channel|>analysis<|message|>4<|end|>")
    assert message.channel == "final" and message.recipient is None
    assert any("several channels" in n for n in message.notes)


@pytest.mark.parametrize("form", HARMONY_FORMS)
def test_open_message_pieces_is_the_header_the_model_continues(form: HarmonyForm) -> None:
    message = _assistant("commentary", "functions.f", "<|constrain|>json", text='{"a":')
    whole = conversation_pieces([message], form=form)
    assert open_message_pieces(message, form) == whole[2:-1]  # after <|start|>assistant, before <|call|>


def test_form_names() -> None:
    assert [harmony_form(v) for v in ("openai", "OSS", " oss ")] == ["openai", "oss", "oss"]
    with pytest.raises(ValueError, match="one of openai, oss"):
        harmony_form("vllm")
