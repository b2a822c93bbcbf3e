"""The names of the server kinds (standard library only, so that config and ``--help`` can list them).

What each kind needs is its profile in :mod:`gptoss_cli.servers.profiles`; nothing outside
``servers/`` compares a kind with a name.
"""

from __future__ import annotations

from typing import Literal, get_args

ServerKind = Literal["vllm", "sglang", "llamacpp", "ollama", "lmstudio", "openai"]
SERVER_KINDS: tuple[ServerKind, ...] = get_args(ServerKind)
GENERIC_KIND: ServerKind = "openai"
"""The kind of a server that detection cannot name: a generic OpenAI-compatible ``/v1/completions``."""
AUTO = "auto"
"""The config's kind for "probe the server and use its kind" (``profiles.NAME.kind``)."""
KIND_CHOICES: tuple[str, ...] = (AUTO, *SERVER_KINDS)
"""What the config accepts as a kind."""


def configured_kind(kind: str | None) -> str | None:
    """The server kind a config or flag names, or None when it names none or ``auto`` (probe)."""
    return None if kind is None or kind == AUTO else kind
