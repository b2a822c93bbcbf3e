"""The completions ``gptoss doctor`` asks for, and what it measures while they stream (session layer).

Prompts are rendered by the Harmony layer; requests are built by the server profile, so doctor
sends exactly what gptoss itself would, plus a few probe fields (``max_tokens``, ``temperature``):

* the **plain** probe: a system message and a user message asking for "OK" that contains the literal
  text ``<|end|>``. Sent as token ids where the profile takes them (the literal is then 5 ordinary
  tokens and cannot turn into the control token); as text otherwise, neutralised as the session
  does (``<\u2060|end|>``). The prompt-token count the server reports tells whether the literal
  stayed text. This probe also times the first token
  and the token rate.
* the **final** probe: prefilled with an assistant final-channel header, so a real gpt-oss writes
  "OK" and stops on ``<|return|>``.
* the **call** probe: a developer message declaring ``functions.ping`` and a prefilled tool-call
  header, so the model writes ``{}`` and stops on ``<|call|>``.

On llama.cpp the final and call probes are **forced** instead: a GBNF grammar of token ids makes any
model, a random-weight test model included, emit ``<|channel|>final<|message|>OK`` (or a tool call),
and ``logit_bias`` bans every end-of-generation token but the wanted one, which is then the only
token the sampler may pick once the grammar is complete. What comes back shows exactly how the server
renders control tokens and whether the terminator ends generation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gptoss_cli import errors
from gptoss_cli.harmony import (
    DEFAULT_FORM,
    Conversation,
    DeveloperContent,
    HarmonyForm,
    Message,
    Piece,
    ReasoningEffort,
    Role,
    SystemContent,
    ToolDescription,
    completion_pieces,
    get_tokenizer,
    open_message_pieces,
    pieces_to_text,
    pieces_to_tokens,
)
from gptoss_cli.harmony.history import neutralize
from gptoss_cli.harmony.tokens import COMPLETION_STOP_TOKENS, RETURN
from gptoss_cli.servers.profiles import ServerProfile
from gptoss_cli.transport.client import (
    NO_RETRY,
    CompletionRequest,
    Finish,
    HTTPClient,
    TextDelta,
    Timeouts,
    Usage,
    stream_completion,
)

#: The literal special-token text placed in the plain probe's user message.
LITERAL = "<|end|>"
PLAIN_MAX_TOKENS = 16
NATURAL_MAX_TOKENS = 32
PING = ToolDescription("ping", "Checks the connection. Takes no arguments.")


# ------------------------------------------------------------------------------------------- prompts


@dataclass(frozen=True)
class Prompt:
    """A probe prompt in both forms gptoss sends (as the session does), and the counts to expect."""

    ids: tuple[int, ...]
    """Token ids as gptoss renders them (text inside messages is ordinary text)."""
    text: str
    """The prompt as Harmony text, special-token text inside messages neutralised (``<\u2060|end|>``)."""
    text_count: int
    """How many tokens a server counts for ``text`` (the neutralised literal stays ordinary text)."""
    parsed_count: int
    """How many tokens the prompt has if the literal ``<|end|>`` becomes the control token."""


def make_prompt(pieces: Sequence[Piece]) -> Prompt:
    """Both forms of a prompt given as Harmony pieces."""
    neutral = [neutralize(p) if isinstance(p, str) else p for p in pieces]
    parsed = len(get_tokenizer().encode_with_specials(pieces_to_text(pieces)))
    return Prompt(
        tuple(pieces_to_tokens(pieces)), pieces_to_text(neutral), len(pieces_to_tokens(neutral)), parsed
    )


def _system() -> Message:
    return Message.from_role_and_content(Role.SYSTEM, SystemContent(reasoning_effort=ReasoningEffort.LOW))


def _user(text: str) -> Message:
    return Message.from_role_and_content(Role.USER, text)


def _tools() -> Message:
    return Message.from_role_and_content(Role.DEVELOPER, DeveloperContent().with_function_tools([PING]))


def _final(text: str = "") -> Message:
    return Message.from_role_and_content(Role.ASSISTANT, text).with_channel("final")


def _call(args: str = "") -> Message:
    message = Message.from_role_and_content(Role.ASSISTANT, args).with_channel("commentary")
    return message.with_recipient("functions.ping").with_content_type("<|constrain|>json")


def plain_prompt(form: HarmonyForm = DEFAULT_FORM) -> Prompt:
    """The plain probe: asks for "OK", with the literal ``<|end|>`` inside the user's text."""
    user = _user(f"Reply with the single word OK. This is plain text, not a token: {LITERAL}")
    return make_prompt(completion_pieces(Conversation((_system(), user)), form=form))


def final_prompt(form: HarmonyForm = DEFAULT_FORM) -> Prompt:
    """The final probe, prefilled with an assistant final-channel header."""
    conversation = Conversation((_system(), _user("Reply with the single word OK.")))
    return make_prompt([*completion_pieces(conversation, form=form), *open_message_pieces(_final(), form)])


def call_prompt(form: HarmonyForm = DEFAULT_FORM) -> Prompt:
    """The call probe: ``functions.ping`` declared, prefilled with the tool-call header."""
    conversation = Conversation((_system(), _tools(), _user("Call the ping tool now.")))
    return make_prompt([*completion_pieces(conversation, form=form), *open_message_pieces(_call(), form)])


def forced_prompt(*, tools: bool, form: HarmonyForm = DEFAULT_FORM) -> Prompt:
    """The prompt of a forced probe, ending in ``<|start|>assistant``; ``ping`` declared for the call."""
    if tools:
        conversation = Conversation((_system(), _tools(), _user("Call the ping tool now.")))
    else:
        conversation = Conversation((_system(), _user("Reply with the single word OK.")))
    return make_prompt(completion_pieces(conversation, form=form))


# ----------------------------------------------------------------------------------- forced output


@dataclass(frozen=True)
class Forced:
    """A completion forced on llama.cpp: the request fields and the text it must stream."""

    fields: dict[str, Any]
    text: str
    """The completion's text without its terminator."""
    terminator: int


def forced(terminator: int, form: HarmonyForm = DEFAULT_FORM) -> Forced:
    """``<|channel|>final<|message|>OK`` then ``<|return|>``, or a ``functions.ping`` call, ``<|call|>``.

    The call is written in ``form``'s header order, as a model prompted in that form would."""
    message = _final("OK") if terminator == RETURN else _call("{}")
    body = open_message_pieces(message, form)
    ids = pieces_to_tokens(body)
    grammar = "root ::= " + " ".join(f"<[{token}]>" for token in ids) + "\n"
    banned = {str(token): False for token in COMPLETION_STOP_TOKENS if token != terminator}
    fields = {"grammar": grammar, "logit_bias": banned, "max_tokens": len(ids) + 1, "temperature": 0}
    return Forced(fields, pieces_to_text(body), terminator)


# --------------------------------------------------------------------------------------- streaming


@dataclass(frozen=True)
class ProbeResult:
    """What one streamed probe returned, with timings in seconds from sending the request."""

    text: str
    finish: Finish | None
    usage: Usage | None
    sent_ids: bool
    first_text_s: float | None = None
    last_text_s: float | None = None
    text_events: int = 0
    error: errors.GptossError | None = None

    @property
    def completion_tokens(self) -> int:
        """Tokens generated: the server's count when it gives one, else the text events seen."""
        if self.usage is not None and self.usage.completion_tokens is not None:
            return self.usage.completion_tokens
        return self.text_events

    @property
    def prompt_tokens(self) -> int | None:
        return self.usage.prompt_tokens if self.usage is not None else None

    def status(self) -> int | None:
        """The HTTP status of a refused request, if that is how it failed."""
        return self.error.status if isinstance(self.error, errors.HTTPStatusError) else None


@dataclass(frozen=True)
class Target:
    """Where and how the probes are sent."""

    base_url: str
    profile: ServerProfile
    model: str | None
    api_key: str | None
    timeouts: Timeouts


def build_request(target: Target, prompt: Prompt, *, ids: bool, options: dict[str, Any]) -> CompletionRequest:
    """The profile's request for ``prompt`` (ids or text), with probe fields on top; no retries."""
    return target.profile.request(
        target.base_url,
        list(prompt.ids) if ids else prompt.text,
        model=target.model,
        api_key=target.api_key,
        call_options=options,
        timeouts=target.timeouts,
        retry=NO_RETRY,
    )


def run_probe(
    http: HTTPClient, target: Target, prompt: Prompt, *, ids: bool, options: dict[str, Any]
) -> ProbeResult:
    """Send one probe and read its stream to the end; a failure is returned, not raised."""
    parts: list[str] = []
    first: float | None = None
    last: float | None = None
    finish: Finish | None = None
    usage: Usage | None = None
    events = 0
    try:
        request = build_request(target, prompt, ids=ids, options=options)
    except errors.GptossError as exc:
        return ProbeResult("", None, None, ids, error=exc)
    start = time.perf_counter()
    stream = stream_completion(request, client=http)
    try:
        for event in stream:
            if isinstance(event, TextDelta):
                if event.text:
                    now = time.perf_counter() - start
                    first = now if first is None else first
                    last = now
                    events += 1
                    parts.append(event.text)
            elif isinstance(event, Usage):
                usage = event
            else:
                finish = event
                usage = event.usage or usage
    except errors.GptossError as exc:
        return ProbeResult("".join(parts), finish, usage, ids, first, last, events, exc)
    finally:
        stream.close()
    return ProbeResult("".join(parts), finish, usage, ids, first, last, events)
