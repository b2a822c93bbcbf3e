"""The generation limit: how many tokens a request lets the server generate, and why.

Every completion request carries one (``max_tokens``, or where the server reads it). Servers that
are not told fall back to their own default, and vLLM's and SGLang's ``/v1/completions`` default is
16 tokens (the legacy OpenAI value; ``docs/server-defaults.md``): a Harmony answer reasons first, so
16 tokens cut every answer before it starts.

The limit, in order:

1. ``-o max_tokens N`` on the command line (or ``/set max_tokens N``): sent as given;
2. otherwise the room left in the server's context (its context length minus the prompt's tokens),
   capped by the config's ``max_tokens`` when that is set;
3. when the server does not say how long its context is: the config's ``max_tokens``, or
   :data:`FALLBACK_MAX_TOKENS`.

Pure values; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gptoss_cli import errors

LimitSource = Literal["option", "config", "context", "fallback"]

FALLBACK_MAX_TOKENS = 32768
"""The limit when the server's context length is unknown: a quarter of gpt-oss's 131,072-token
context, room for a long answer at high reasoning effort. Servers that know their context clamp a
larger request to it (vLLM >= 0.10) or stop at its end (llama.cpp); the config's ``max_tokens``
overrides it."""


@dataclass(frozen=True, slots=True)
class GenerationLimit:
    """The ``max_tokens`` sent with one request, where it came from, and what it was computed from."""

    tokens: int
    source: LimitSource
    context_length: int | None = None
    prompt_tokens: int | None = None
    context_fix: str | None = None
    """How to give the server a longer context (from its profile)."""

    def describe(self) -> str:
        """One phrase for ``--stats``, ``doctor`` and cut-off messages."""
        n = f"{self.tokens:,} tokens"
        if self.source == "option":
            return f"{n} (-o max_tokens)"
        if self.source == "config":
            return f"{n} (max_tokens in the config)"
        if self.source == "context":
            return (
                f"{n} (the room left in the server's {self.context_length:,}-token context "
                f"after a {self.prompt_tokens:,}-token prompt)"
            )
        return f"{n} (gptoss's default: the server did not report its context length)"

    def raise_hint(self) -> str:
        """How to let the next answer run longer."""
        if self.source == "option":
            return "pass a larger -o max_tokens N"
        if self.source in ("config", "fallback"):
            return "raise it with -o max_tokens N or max_tokens in the profile's config"
        fix = self.context_fix or "start the server with a longer context"
        return f"{fix}, or start a new conversation"

    def cut_off(self) -> str:
        """What cut an answer that ended on ``finish_reason: length``."""
        return f"the generation limit of {self.describe()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "tokens": self.tokens,
            "source": self.source,
            "context_length": self.context_length,
            "prompt_tokens": self.prompt_tokens,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenerationLimit:
        """The inverse of :meth:`to_dict` (``context_fix`` is not stored)."""
        source = data.get("source")
        tokens = data.get("tokens")
        if source not in ("option", "config", "context", "fallback") or not isinstance(tokens, int):
            raise ValueError(f"not a generation limit: {data!r}")
        context, prompt = data.get("context_length"), data.get("prompt_tokens")
        return cls(
            tokens,
            source,
            context if isinstance(context, int) else None,
            prompt if isinstance(prompt, int) else None,
        )


def choose_limit(
    *,
    option: int | None,
    config: int | None,
    context_length: int | None,
    prompt_tokens: int | None,
    context_fix: str | None = None,
) -> GenerationLimit:
    """The limit for one request (see the module's docstring). Raises when the prompt fills the context."""
    known = (context_length, prompt_tokens, context_fix)
    if option is not None:
        return GenerationLimit(option, "option", *known)
    if context_length is not None and prompt_tokens is not None:
        room = context_length - prompt_tokens
        if room <= 0:
            raise errors.ContextFullError(
                f"the prompt ({prompt_tokens:,} tokens) fills the server's {context_length:,}-token "
                "context: no room is left for an answer",
                hint="start a new conversation, or "
                + (context_fix or "start the server with a longer context"),
            )
        if config is not None and config <= room:
            return GenerationLimit(config, "config", *known)
        return GenerationLimit(room, "context", *known)
    if config is not None:
        return GenerationLimit(config, "config", *known)
    return GenerationLimit(FALLBACK_MAX_TOKENS, "fallback", *known)


def positive_int(value: Any, what: str) -> int | None:
    """``value`` as a positive token count (None when absent); UsageError for anything else."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise errors.UsageError(f"{what} must be a positive whole number of tokens, not {value!r}")
    return value


def option_limit(options: Mapping[str, Any]) -> int | None:
    """``max_tokens`` from a layer of request options (Ollama's ``num_predict`` counts too)."""
    nested = options.get("options")
    for value in (
        options.get("max_tokens"),
        options.get("n_predict"),
        nested.get("num_predict") if isinstance(nested, Mapping) else None,
    ):
        if value is not None:
            return positive_int(value, "max_tokens")
    return None
