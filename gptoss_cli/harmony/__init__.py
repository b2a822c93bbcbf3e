"""The Harmony format: values, tokenizer, renderer and streaming parser (standard library + tiktoken).

Every format rule lives here and nowhere else.
"""

from __future__ import annotations

from .answer import Answer, read_answer
from .builtins import BROWSER, PYTHON
from .parser import (
    ContentDelta,
    HeaderEvent,
    MessageDone,
    ParseEvent,
    ParserState,
    StreamParser,
    parse_text,
    parse_tokens,
)
from .render import (
    Piece,
    completion_pieces,
    conversation_pieces,
    pieces_to_text,
    pieces_to_tokens,
    render_conversation,
    render_conversation_for_completion,
    render_conversation_for_training,
    render_message,
    training_pieces,
)
from .schema import to_typescript, tools_section
from .tokens import (
    CONTROL_TOKEN_TEXTS,
    SPECIAL_IDS,
    SPECIAL_TEXT,
    STOP_TOKENS,
    STOP_TOKENS_FOR_ASSISTANT_ACTIONS,
    get_tokenizer,
    is_special,
)
from .types import (
    Author,
    ChannelConfig,
    Content,
    Conversation,
    DeveloperContent,
    Message,
    ReasoningEffort,
    RenderConfig,
    Role,
    SystemContent,
    TextContent,
    ToolDescription,
    ToolNamespaceConfig,
)

__all__ = [
    "BROWSER",
    "CONTROL_TOKEN_TEXTS",
    "PYTHON",
    "SPECIAL_IDS",
    "SPECIAL_TEXT",
    "STOP_TOKENS",
    "STOP_TOKENS_FOR_ASSISTANT_ACTIONS",
    "Answer",
    "Author",
    "ChannelConfig",
    "Content",
    "ContentDelta",
    "Conversation",
    "DeveloperContent",
    "HeaderEvent",
    "Message",
    "MessageDone",
    "ParseEvent",
    "ParserState",
    "Piece",
    "ReasoningEffort",
    "RenderConfig",
    "Role",
    "StreamParser",
    "SystemContent",
    "TextContent",
    "ToolDescription",
    "ToolNamespaceConfig",
    "completion_pieces",
    "conversation_pieces",
    "get_tokenizer",
    "is_special",
    "parse_text",
    "parse_tokens",
    "pieces_to_text",
    "pieces_to_tokens",
    "read_answer",
    "render_conversation",
    "render_conversation_for_completion",
    "render_conversation_for_training",
    "render_message",
    "to_typescript",
    "tools_section",
    "training_pieces",
]
