"""Prompts the session builds: the Harmony form of the settings, a cut-off message resumed."""

from __future__ import annotations

import pytest

from gptoss_cli.harmony import HARMONY_FORMS, HarmonyForm, Message, Role, pieces_to_text
from gptoss_cli.session.turn import ChatSettings, build_prompt


def _call() -> Message:
    message = Message.from_role_and_content(Role.ASSISTANT, '{"city": "Par').with_channel("commentary")
    return message.with_recipient("functions.get_weather").with_content_type("<|constrain|>json")


@pytest.mark.parametrize(
    ("form", "header"),
    [
        ("openai", " to=functions.get_weather<|channel|>commentary <|constrain|>json"),
        ("oss", "<|channel|>commentary to=functions.get_weather <|constrain|>json"),
    ],
)
def test_a_cut_off_tool_call_resumes_in_the_prompts_form(form: HarmonyForm, header: str) -> None:
    settings = ChatSettings(date="2026-01-01", harmony=form)
    user = Message.from_role_and_content(Role.USER, "Weather?")
    text = pieces_to_text(build_prompt(settings.prefix(), [user], prefill=_call(), form=form))
    assert text.endswith(f'<|start|>assistant{header}<|message|>{{"city": "Par')


def test_the_form_changes_only_headers_with_a_recipient_or_content_type() -> None:
    settings = ChatSettings(date="2026-01-01")
    history = [Message.from_role_and_content(Role.USER, "hi")]
    texts = {
        form: pieces_to_text(build_prompt(settings.prefix(), history, form=form)) for form in HARMONY_FORMS
    }
    assert texts["openai"] == texts["oss"]
