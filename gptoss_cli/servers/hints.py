"""What gptoss tells the user about a server kind: its known limits, and ``doctor``'s fixes (data).

A profile's :class:`ServerNote` entries are the kind's known limits for raw Harmony, for start-up
and ``doctor``. Each profile also carries one :class:`DoctorHints`: the kind's own flags, request
fields and files for each problem doctor can find, and the few facts about the server that decide
how doctor probes it and reads what comes back. A kind without hints of its own gets
:data:`GENERIC`, whose fixes name what vLLM, SGLang and llama-server need. Token ids and names come
from the Harmony layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gptoss_cli.harmony import tokens as T

_RETURN = T.SPECIAL_TEXT[T.RETURN]
_CALL = T.SPECIAL_TEXT[T.CALL]


@dataclass(frozen=True)
class ServerNote:
    """A known limit of a server kind for raw Harmony: always, or from a version on."""

    text: str
    """What to tell the user; ``{version}`` stands for the server's version."""
    since: tuple[int, ...] | None = None
    """The first version the note applies to (None: every version)."""
    fix: str | None = None
    """What ``doctor`` suggests; None for a note that only asks to run ``doctor``."""

    def applies(self, version: str | None) -> bool:
        """Whether the note applies to a server of this version (None: unknown)."""
        return self.since is None or (version is not None and _version_tuple(version) >= self.since)

    def say(self, version: str | None) -> str:
        """The note as the user reads it, naming the version."""
        return self.text.replace("{version}", version or "")


def _version_tuple(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.lstrip("v").split("."):
        digits = "".join(c for c in piece[:4] if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


@dataclass(frozen=True)
class KeepSpecials:
    """The request field that makes a server keep control tokens in its output, and what to do."""

    request_field: str
    """The field the kind's profile sends (``skip_special_tokens``, ``preserved_tokens``)."""
    sent: str
    """The fix when the profile in use sends ``request_field`` and the tokens are missing all the same."""
    unsent: str
    """The fix when the profile in use does not send it."""


@dataclass(frozen=True)
class Refusal:
    """Doctor's verdict when the profile in use sends to an endpoint that cannot serve Harmony here."""

    detail: str
    """What is wrong, after "<server> <version>, from <probe>: "."""
    fix: str
    reason: str
    """Why the later checks are not run."""


@dataclass(frozen=True)
class DoctorHints:
    """A server kind's fixes for each problem doctor finds, and how doctor probes and reads it."""

    keep_specials: KeepSpecials | None = None
    stripped: str = (
        "make the server keep special tokens in its output: vLLM/SGLang need skip_special_tokens=false "
        "(--kind vllm|sglang), llama-server needs --special"
    )
    """The fix for stripped control tokens when no request field keeps them (``keep_specials`` None)."""
    ran_past: str = (
        f"make the server stop on token ids {T.RETURN} ({_RETURN}) and {T.CALL} ({_CALL}), "
        "e.g. stop_token_ids"
    )
    """The fix when generation goes on after ``<|return|>`` or ``<|call|>``."""
    hidden_stop: str | None = None
    """The fix when generation stopped but nothing says on which terminator (None: none to give)."""
    hidden_stop_is_stripped: bool = False
    """Whether a terminator missing from the text means control tokens are stripped (fixed as such)."""
    text_prompts: str = "use a server that takes token-id prompts (llama-server, vLLM, SGLang)"
    """The fix when the literal ``<|end|>`` in user text may become the control token."""
    tells_terminator: bool = True
    """Whether the server can say which terminator ended generation (Ollama never does)."""
    refused: Mapping[str, Refusal] = field(default_factory=dict)
    """By endpoint kind: the endpoints doctor refuses to probe on this server, and what it says."""
    no_model: str | None = None
    """The fix when the server serves no model (None: gptoss then sends no model name)."""
    forced_probes: bool = False
    """Whether the server takes a GBNF grammar of token ids (``<[id]>``) with ``logit_bias``, so
    doctor forces the completions it checks instead of waiting for the model to write them."""


def token_server(kind: str, title: str) -> DoctorHints:
    """vLLM and SGLang: told by request fields to keep special tokens and to stop on the ids."""
    return DoctorHints(
        keep_specials=KeepSpecials(
            "skip_special_tokens",
            sent=f"this {title} ignores skip_special_tokens=false: upgrade it, or check any proxy",
            unsent=f"send skip_special_tokens=false: use --kind {kind} (or -o skip_special_tokens false)",
        ),
        ran_past=(
            f"send stop_token_ids {list(T.COMPLETION_STOP_TOKENS)} (the {kind} profile does) and never "
            f"ignore_eos; update the model's generation_config.json ({_CALL} was added as an EOS token)"
        ),
        hidden_stop=f"send skip_special_tokens=false and return_token_ids=true: use --kind {kind}",
    )


LLAMACPP = DoctorHints(
    keep_specials=KeepSpecials(
        "preserved_tokens",
        sent="start llama-server with --special (this build ignores preserved_tokens)",
        unsent="start llama-server with --special, or use --kind llamacpp (it sends preserved_tokens)",
    ),
    ran_past=f"the GGUF does not end generation on {_RETURN}/{_CALL}: convert it with a current llama.cpp",
    hidden_stop_is_stripped=True,
    forced_probes=True,
)

OLLAMA = DoctorHints(
    stripped="Ollama 0.30 and later drop control tokens in raw mode: use an older Ollama or llama-server",
    ran_past=f"update Ollama and re-pull the model: its gpt-oss config ends on {_RETURN} and {_CALL}",
    text_prompts="Ollama takes text prompts only: use llama-server, vLLM or SGLang, which take token ids",
    tells_terminator=False,
    refused={
        "openai": Refusal(
            "its /v1/completions wraps the prompt in Ollama's own template and drops the analysis channel",
            "this server's /v1/completions cannot serve Harmony: use /api/generate (--kind ollama)",
            "Ollama's /v1/completions cannot serve raw Harmony",
        )
    },
    no_model="ollama pull gpt-oss:20b",
)

GENERIC = DoctorHints()
