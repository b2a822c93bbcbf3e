"""Rendering messages and conversations to Harmony, exactly as the reference libraries do.

A rendering is first a list of *pieces*: ordinary text (``str``) or a special token (``int``).
Text output joins them (special tokens as their text) with no tokenizer at all; token output
encodes each text piece on its own, as the reference does, so the BPE boundaries match.

Every function takes a ``form`` (:data:`~.types.HarmonyForm`): ``"openai"`` reproduces
openai-harmony 0.0.8, ``"oss"`` the oss-harmony 0.0.11 fork. The fork writes a header in two
ways openai-harmony does not (see :func:`header_pieces`), and prints numbers in tool schemas
its own way (see :mod:`.schema`); everything else is the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gptoss_cli.errors import RenderError
from gptoss_cli.harmony import tokens as T
from gptoss_cli.harmony.schema import tools_section
from gptoss_cli.harmony.types import (
    DEFAULT_FORM,
    Conversation,
    DeveloperContent,
    HarmonyForm,
    Message,
    RenderConfig,
    Role,
    SystemContent,
    TextContent,
)

Piece = str | int
_FUNCTIONS_NOTE = "Calls to these tools must go to the commentary channel: 'functions'."
_CONSTRAIN = T.SPECIAL_TEXT[T.CONSTRAIN]
DEFAULT_CONFIG = RenderConfig()


def _has_function_tools(messages: Sequence[Message]) -> bool:
    for message in messages:
        for part in message.content:
            if isinstance(part, DeveloperContent) and part.tools:
                for key, ns in part.tools:
                    if key == "functions" and ns.tools:
                        return True
    return False


def _system_text(sys: SystemContent, has_function_tools: bool, form: HarmonyForm) -> str:
    sections: list[str] = []
    top = []
    if sys.model_identity is not None:
        top.append(sys.model_identity)
    if sys.knowledge_cutoff is not None:
        top.append(f"Knowledge cutoff: {sys.knowledge_cutoff}")
    if sys.conversation_start_date is not None:
        top.append(f"Current date: {sys.conversation_start_date}")
    if top:
        sections.append("\n".join(top))
    if sys.reasoning_effort is not None:
        sections.append(f"Reasoning: {sys.reasoning_effort.value.lower()}")
    if sys.tools:
        sections.append(tools_section(sys.tools, form))
    cc = sys.channel_config
    if cc is not None and cc.valid_channels:
        header = f"# Valid channels: {', '.join(cc.valid_channels)}."
        if cc.channel_required:
            header += " Channel must be included for every message."
        if has_function_tools:
            header += "\n" + _FUNCTIONS_NOTE
        sections.append(header)
    return "\n\n".join(sections)


def _developer_text(dev: DeveloperContent, form: HarmonyForm) -> str:
    sections: list[str] = []
    if dev.instructions is not None:
        sections.append("# Instructions")
        sections.append(dev.instructions)
    if dev.tools:
        sections.append(tools_section(dev.tools, form))
    return "\n\n".join(sections)


def header_pieces(message: Message, out: list[Piece], form: HarmonyForm = DEFAULT_FORM) -> None:
    """Append what follows the author in a header: recipient, channel and content type.

    openai-harmony writes `` to=RECIPIENT`` before ``<|channel|>CHANNEL``, always. oss-harmony
    does so too except on the ``commentary`` channel, where the channel comes first
    (``<|channel|>commentary to=functions.x``), whoever the author. A content type that does not
    start with ``<|constrain|>`` is written as plain text by openai-harmony (`` json``); the fork
    puts the ``<|constrain|>`` token before every content type (`` <|constrain|>json``). A content
    type that already starts with the token is written the same way by both.
    """
    recipient = message.recipient if message.recipient is not None and message.recipient != "all" else None
    channel_first = form == "oss" and message.channel == "commentary"
    if recipient is not None and not channel_first:
        out.append(f" to={recipient}")
    if message.channel is not None:
        out.append(T.CHANNEL)
        out.append(message.channel)
    if recipient is not None and channel_first:
        out.append(f" to={recipient}")
    content_type = message.content_type
    if content_type is not None:
        if content_type.startswith(_CONSTRAIN):
            out.append(" ")
            out.append(T.CONSTRAIN)
            rest = content_type[len(_CONSTRAIN) :]
            if rest:
                out.append(rest)
        elif form == "oss":
            out.append(" ")
            out.append(T.CONSTRAIN)
            if content_type:
                out.append(content_type)
        else:
            out.append(f" {content_type}")


def message_pieces(
    message: Message, out: list[Piece], *, has_function_tools: bool = False, form: HarmonyForm = DEFAULT_FORM
) -> None:
    """Append one message's pieces to ``out`` (raises :class:`RenderError` as the reference does)."""
    role = message.author.role
    out.append(T.START)
    if role is Role.TOOL:
        if message.author.name is None:
            raise RenderError("Tools should have a name!")
        out.append(message.author.name)
    else:
        out.append(role.value)
        if message.author.name is not None:
            out.append(f":{message.author.name}")
    header_pieces(message, out, form)
    out.append(T.MESSAGE)
    for part in message.content:
        if isinstance(part, TextContent):
            out.append(part.text)
        elif isinstance(part, SystemContent):
            if role is not Role.SYSTEM:
                raise RenderError(
                    f"SystemContent may only appear in system messages, found in {role.debug_name}"
                )
            out.append(_system_text(part, has_function_tools, form))
        else:
            if role is not Role.DEVELOPER:
                raise RenderError(
                    f"DeveloperContent may only appear in developer messages, found in {role.debug_name}"
                )
            out.append(_developer_text(part, form))
    out.append(message_terminator(message))


def message_terminator(message: Message) -> int:
    """The token that ends ``message`` in a prompt: ``<|call|>`` for an assistant's call, else ``<|end|>``.

    ``<|return|>`` ends only a completion; a conversation stores that message with ``<|end|>``.
    """
    return T.CALL if message.author.role is Role.ASSISTANT and message.recipient is not None else T.END


def _kept(messages: Sequence[Message], config: RenderConfig | None) -> Iterable[Message]:
    """Drop analysis before the first final answer when the last assistant message is final."""
    if config is None or not config.auto_drop_analysis:
        return messages
    last_assistant_final = False
    for message in reversed(messages):
        if message.author.role is Role.ASSISTANT:
            last_assistant_final = message.channel == "final"
            break
    if not last_assistant_final:
        return messages
    first_final = next((i for i, m in enumerate(messages) if m.channel == "final"), None)
    if first_final is None:
        return messages
    return [m for i, m in enumerate(messages) if not (i < first_final and m.channel == "analysis")]


def _messages(conversation: Conversation | Sequence[Message]) -> Sequence[Message]:
    return conversation.messages if isinstance(conversation, Conversation) else conversation


def conversation_pieces(
    conversation: Conversation | Sequence[Message],
    config: RenderConfig | None = DEFAULT_CONFIG,
    *,
    form: HarmonyForm = DEFAULT_FORM,
) -> list[Piece]:
    """Pieces of a whole conversation, no next turn."""
    messages = _messages(conversation)
    has_functions = _has_function_tools(messages)
    out: list[Piece] = []
    for message in _kept(messages, config):
        message_pieces(message, out, has_function_tools=has_functions, form=form)
    return out


def completion_pieces(
    conversation: Conversation | Sequence[Message],
    next_role: Role = Role.ASSISTANT,
    config: RenderConfig | None = DEFAULT_CONFIG,
    *,
    form: HarmonyForm = DEFAULT_FORM,
) -> list[Piece]:
    """Pieces of a conversation followed by ``<|start|>`` and the next turn's role."""
    out = conversation_pieces(conversation, config, form=form)
    out.append(T.START)
    out.append(next_role.value)
    return out


def training_pieces(
    conversation: Conversation | Sequence[Message],
    config: RenderConfig | None = DEFAULT_CONFIG,
    *,
    form: HarmonyForm = DEFAULT_FORM,
) -> list[Piece]:
    """Pieces for training: a final assistant answer at the end ends with ``<|return|>``."""
    messages = _messages(conversation)
    out = conversation_pieces(messages, config, form=form)
    if messages and out:
        last = messages[-1]
        if last.author.role is Role.ASSISTANT and last.channel == "final":
            out[-1] = T.RETURN
    return out


def pieces_to_text(pieces: Iterable[Piece]) -> str:
    """Harmony text: special tokens as their text (what ``decode`` of the tokens gives)."""
    special = T.SPECIAL_TEXT
    return "".join(p if isinstance(p, str) else special[p] for p in pieces)


def pieces_to_tokens(pieces: Iterable[Piece]) -> list[int]:
    """Token ids: each text piece encoded on its own, special tokens as their ids."""
    encode = T.get_tokenizer().encode
    out: list[int] = []
    for p in pieces:
        if isinstance(p, int):
            out.append(p)
        elif p:
            out.extend(encode(p))
    return out


def render_conversation_for_completion(
    conversation: Conversation | Sequence[Message],
    next_role: Role = Role.ASSISTANT,
    config: RenderConfig | None = DEFAULT_CONFIG,
    *,
    form: HarmonyForm = DEFAULT_FORM,
) -> list[int]:
    """Token ids of the prompt for sampling the next ``next_role`` message."""
    return pieces_to_tokens(completion_pieces(conversation, next_role, config, form=form))


def render_conversation(
    conversation: Conversation | Sequence[Message],
    config: RenderConfig | None = DEFAULT_CONFIG,
    *,
    form: HarmonyForm = DEFAULT_FORM,
) -> list[int]:
    """Token ids of the conversation alone."""
    return pieces_to_tokens(conversation_pieces(conversation, config, form=form))


def render_conversation_for_training(
    conversation: Conversation | Sequence[Message],
    config: RenderConfig | None = DEFAULT_CONFIG,
    *,
    form: HarmonyForm = DEFAULT_FORM,
) -> list[int]:
    """Token ids of the conversation for training."""
    return pieces_to_tokens(training_pieces(conversation, config, form=form))


def render_message(message: Message, *, form: HarmonyForm = DEFAULT_FORM) -> list[int]:
    """Token ids of one message."""
    out: list[Piece] = []
    message_pieces(message, out, form=form)
    return pieces_to_tokens(out)


def open_message_pieces(message: Message, form: HarmonyForm = DEFAULT_FORM) -> list[Piece]:
    """What follows ``<|start|>ROLE`` when the model is to go on writing ``message``: its header
    (recipient, channel, content type), ``<|message|>`` and its text so far, with no terminator."""
    out: list[Piece] = []
    header_pieces(message, out, form)
    out.append(T.MESSAGE)
    if message.text:
        out.append(message.text)
    return out
