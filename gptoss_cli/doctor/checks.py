"""``gptoss doctor``'s result values and the verdicts it draws from each probe (pure functions).

A :class:`Check` is one row of the report: a name, a status (``ok``, ``warn``, ``fail``, ``skip``), what
was observed, and for a problem the concrete fix. Only ``fail`` means the server cannot serve Harmony
correctly; ``warn`` is something to know (or improve) that gptoss works around.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from gptoss_cli.doctor.probes import LITERAL, Forced, ProbeResult, Prompt
from gptoss_cli.harmony.tokens import CALL, RETURN, SPECIAL_TEXT
from gptoss_cli.servers.kinds import GENERIC_KIND
from gptoss_cli.servers.profiles import ServerProfile, finish_hint

Status = Literal["ok", "warn", "fail", "skip"]

REACHABLE = "reachable"
AUTH = "auth"
SERVER = "server"
MODELS = "models"
LIMIT = "generation limit"
TOKEN_IDS = "token-id prompts"
MARKERS = "control tokens"
RETURN_ENDS = "<|return|> ends"
CALL_ENDS = "<|call|> ends"
CONTENT = "<|end|> in content"
SPECIAL = "llama --special"
LATENCY = "first token"
SPEED = "tokens/s"
#: Every check in report order; ``SPECIAL`` appears only for llama.cpp with the llamacpp profile.
ORDER = (
    REACHABLE, AUTH, SERVER, MODELS, LIMIT, TOKEN_IDS, MARKERS, RETURN_ENDS, CALL_ENDS, CONTENT, SPECIAL,
    LATENCY, SPEED,
)  # fmt: skip
OPTIONAL = frozenset({SPECIAL})

_STRIPPED = re.compile(r"^\s*(analysis|commentary|final)|assistant(final|analysis|commentary)")


@dataclass(frozen=True)
class Check:
    """One row of the report."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


def snippet(text: str, limit: int = 60) -> str:
    """A short quoted excerpt of model output."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(text)


# ----------------------------------------------------------------------------------------------- fixes
#
# ``server`` is the profile of the server's own kind (its hints name its flags); ``profile`` is the
# one gptoss sends with, which may differ (``--kind``).


def strip_fix(server: ServerProfile, profile: ServerProfile) -> str:
    """How to make the server keep control tokens in its output."""
    keep = server.doctor.keep_specials
    if keep is None:
        return server.doctor.stripped
    sends = {**profile.defaults, **profile.endpoint_defaults.get(profile.endpoint, {})}
    return keep.sent if keep.request_field in sends else keep.unsent


def _hidden_fix(server: ServerProfile, profile: ServerProfile) -> str | None:
    if server.doctor.hidden_stop_is_stripped:
        return strip_fix(server, profile)
    return server.doctor.hidden_stop


def content_fix(server: ServerProfile, profile: ServerProfile) -> str:
    """How to stop special-token text in user content from becoming control tokens."""
    if server.token_id_prompts and not profile.token_id_prompts:
        return f"send token-id prompts: use --kind {server.kind}"
    return server.doctor.text_prompts


# -------------------------------------------------------------------------------------------- verdicts


def judge_markers(
    result: ProbeResult, server: ServerProfile, profile: ServerProfile, forced: Forced | None
) -> Check:
    """Do ``<|channel|>`` and ``<|message|>`` survive in the streamed text?"""
    text = result.text
    if "<|channel|>" in text and "<|message|>" in text:
        how = "forced " if forced is not None else ""
        return Check(MARKERS, "ok", f"<|channel|> and <|message|> arrive as text ({how}{snippet(text)})")
    if not text.strip():
        return Check(MARKERS, "fail", "the server streamed no text at all", strip_fix(server, profile))
    if forced is not None or _STRIPPED.search(text):
        detail = f"control tokens are stripped from the output: {snippet(text)}"
        return Check(MARKERS, "fail", detail, strip_fix(server, profile))
    return Check(
        MARKERS,
        "fail",
        f"no Harmony control tokens in the output: {snippet(text)}",
        strip_fix(server, profile) + "; and check that the model is a gpt-oss",
    )


def _named_by(result: ProbeResult, token: int) -> str:
    name = SPECIAL_TEXT[token]
    finish = result.finish
    if result.text.rstrip().endswith(name):
        return f"{name} is in the text"
    if finish is not None and finish.stop_reason in (token, name):
        return f"stop_reason {finish.stop_reason!r}"
    if finish is not None and finish.last_token_id == token:
        return f"the last token id is {token}"
    return "vLLM reports its primary EOS, <|return|>, as stop_reason null"


def judge_stop(
    result: ProbeResult,
    token: int,
    server: ServerProfile,
    profile: ServerProfile,
    *,
    forced: bool,
    limit: int,
) -> Check:
    """Does ``<|return|>`` (or ``<|call|>``) end generation, and can the client tell which one did?"""
    check = RETURN_ENDS if token == RETURN else CALL_ENDS
    name, other = SPECIAL_TEXT[token], SPECIAL_TEXT[CALL if token == RETURN else RETURN]
    text, finish = result.text, result.finish
    if result.error is not None:
        return Check(check, "fail", f"the probe failed: {result.error}", result.error.hint)
    at = text.find(name)
    if at >= 0 and text[at + len(name) :].strip():
        detail = f"generation went on after {name}: {snippet(text[at:])}"
        return Check(check, "fail", detail, server.doctor.ran_past)
    if finish is None:
        return Check(check, "fail", "the stream ended without a finish", None)
    if finish.reason == "length":
        if forced:
            detail = f"{name} did not end generation: the stream ran to max_tokens ({limit})"
            return Check(check, "fail", detail, server.doctor.ran_past)
        return Check(check, "warn", f"no end within {limit} tokens (the model kept writing: {snippet(text)})")
    hint = finish_hint(finish, server.kind, text_tail=text)
    if hint == name.strip("<|>"):
        return Check(check, "ok", f"generation stopped on {name} ({_named_by(result, token)})")
    if hint in ("call", "return"):
        return Check(check, "warn", f"the model ended with {other} instead: inconclusive ({snippet(text)})")
    if not server.doctor.tells_terminator:
        detail = (
            f"generation stopped ({finish.stop_type or finish.reason}); {server.title} never says which "
            "terminator ended it, so gptoss reads the last header's recipient"
        )
        return Check(check, "ok", detail)
    detail = (
        f"generation stopped (finish_reason {finish.reason}) but {name} is not in the text and no "
        "stop_reason or token id names it; gptoss falls back to the header's recipient"
    )
    return Check(check, "warn", detail, _hidden_fix(server, profile))


def judge_token_ids(profile: ServerProfile, plain: ProbeResult, retry: ProbeResult | None) -> Check:
    """Did the server take a token-id prompt? ``retry`` is the same probe as text after a refusal."""
    if not profile.token_id_prompts:
        return Check(TOKEN_IDS, "skip", f"the {profile.title} profile sends text prompts")
    if retry is None:
        if plain.error is not None:
            return Check(TOKEN_IDS, "skip", "not checked: the probe failed")
        return Check(TOKEN_IDS, "ok", f"accepted ({plain.prompt_tokens or 'no'} prompt tokens reported)")
    if retry.error is not None:
        return Check(TOKEN_IDS, "skip", "not checked: the probe failed with ids and with text")
    return Check(
        TOKEN_IDS,
        "fail",
        f"refused, but the same prompt as text works: {plain.error}",
        f"the {profile.title} profile sends ids: upgrade the server, or use --kind {GENERIC_KIND} (text)",
    )


def judge_content(
    prompt: Prompt, result: ProbeResult, server: ServerProfile, profile: ServerProfile
) -> Check:
    """Can the literal ``<|end|>`` in a user's text become the control token on the way in?"""
    count = result.prompt_tokens
    if result.sent_ids:
        sent = len(prompt.ids)
        if count is None or count == sent:
            confirmed = f" and the server counted {count}" if count is not None else ""
            detail = (
                f"sent {sent} token ids{confirmed}: the literal {LITERAL} in user text stays ordinary "
                "text, never the control token"
            )
            return Check(CONTENT, "ok", detail)
        return Check(CONTENT, "warn", f"sent {sent} token ids but the server counted {count} prompt tokens")
    as_text, parsed = prompt.text_count, prompt.parsed_count
    if count in (parsed, parsed + 1):
        detail = (
            f"the server turned the literal {LITERAL} in user text into the control token ({count} prompt "
            f"tokens; {as_text} if kept as text): user text can end a message and inject another"
        )
        return Check(CONTENT, "fail", detail, content_fix(server, profile))
    if count in (as_text, as_text + 1):
        detail = (
            f"the prompt goes as text with the literal {LITERAL} in user text neutralised (a word joiner "
            f"after '<'), and the server kept it as text ({count} prompt tokens)"
        )
        return Check(CONTENT, "ok", detail)
    seen = "no prompt-token count" if count is None else f"{count} prompt tokens"
    detail = (
        f"cannot tell: the prompt went as text and the server reported {seen} "
        f"({as_text} if kept as text, {parsed} if parsed)"
    )
    return Check(CONTENT, "warn", detail, content_fix(server, profile))


def judge_special(result: ProbeResult) -> Check:
    """llama.cpp only: does the server render terminators without the request's ``preserved_tokens``?"""
    if result.error is not None:
        return Check(SPECIAL, "warn", f"could not check: {result.error}")
    if result.text.rstrip().endswith("<|return|>"):
        return Check(SPECIAL, "ok", "llama-server renders control tokens itself (started with --special)")
    markers = "<|channel|>" in result.text and "<|message|>" in result.text
    what = "<|return|> and <|call|> are" if markers else "every control token is"
    detail = (
        f"llama-server runs without --special: {what} left out of the text unless a request sends "
        "preserved_tokens (gptoss does)"
    )
    return Check(SPECIAL, "warn", detail, "start llama-server with --special so that every client sees them")


def seconds(value: float) -> str:
    """``0.42 s``, or ``12 ms`` under a second."""
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def judge_latency(result: ProbeResult) -> Check:
    """Time to the first text of the plain probe."""
    if result.first_text_s is None:
        return Check(LATENCY, "skip", "no text arrived")
    prompt = f" (prompt of {result.prompt_tokens} tokens)" if result.prompt_tokens else ""
    return Check(LATENCY, "ok", f"{seconds(result.first_text_s)} to the first text{prompt}")


def judge_speed(result: ProbeResult) -> Check:
    """Generation speed of the plain probe, after its first token."""
    tokens, first, last = result.completion_tokens, result.first_text_s, result.last_text_s
    if first is None or last is None or tokens < 2 or last <= first:
        return Check(SPEED, "skip", "too few tokens to measure")
    rate = (tokens - 1) / (last - first)
    return Check(SPEED, "ok", f"{rate:.1f} tokens/s ({tokens} tokens in {seconds(last)})")
