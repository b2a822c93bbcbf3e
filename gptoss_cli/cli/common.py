"""What the talking commands share: settings -> server target -> session, stdin, saving."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from ..config.resolve import Settings, resolve
from ..errors import UsageError
from ..session import ChatSettings, Session, Target


def read_stdin_if_piped() -> str | None:
    """Piped stdin as text (as ``llm`` does), or None when stdin is a terminal or empty."""
    stdin = sys.stdin
    if stdin is None or stdin.isatty():
        return None
    data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
    text = data.decode("utf-8", "replace")
    return text if text.strip() else None


def split_options(values: Sequence[str]) -> list[tuple[str, str]]:
    """``KEY=VALUE`` strings (what ``-o KEY VALUE`` became) as pairs."""
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise UsageError(f"bad option {value!r}", hint="use -o KEY VALUE")
        pairs.append((key, rest))
    return pairs


def chat_settings(settings: Settings) -> ChatSettings:
    """The system/developer message settings from resolved config."""
    from ..harmony import ReasoningEffort

    prompt = settings.prompt
    try:
        effort = ReasoningEffort.parse(prompt.reasoning)
    except ValueError:
        raise UsageError(
            f"unknown reasoning effort {prompt.reasoning!r}", hint="use low, medium or high"
        ) from None
    date = prompt.conversation_start_date()
    return ChatSettings(
        reasoning=effort,
        identity=prompt.identity or None,
        knowledge_cutoff=prompt.knowledge_cutoff or None,
        date=date if date is not None else "",
        instructions=prompt.instructions or None,
    )


def target_for(settings: Settings, call_options: Sequence[tuple[str, str]]) -> Target:
    """The server to talk to: its kind (configured or probed, cached), model and request options."""
    from ..client import Timeouts, list_models
    from ..paths import cache_dir
    from ..server_detect import resolve_server
    from ..servers import get_profile, parse_options

    profile = settings.profile
    api_key = settings.api_key.reveal() if settings.api_key is not None else None
    kind = None if profile.kind == "auto" else profile.kind
    info = resolve_server(profile.base_url, cache_dir=cache_dir(), kind=kind, api_key=api_key)
    server = get_profile(info.kind)
    model = profile.model
    if model is None and info.kind in ("vllm", "sglang", "lmstudio", "openai"):
        models = list_models(profile.base_url, api_key=api_key)
        if len(models) == 1:
            model = models[0].id
        elif models:
            names = ", ".join(m.id for m in models[:5])
            raise UsageError(
                f"the server lists {len(models)} models ({names})", hint="choose one with --model"
            )
    return Target(
        base_url=profile.base_url,
        profile=server,
        model=model,
        api_key=api_key,
        options=dict(profile.options),
        call_options=parse_options(list(call_options)),
        timeouts=Timeouts(connect=profile.connect_timeout, read=profile.read_timeout),
    )


def open_session(flags: dict[str, Any], call_options: Sequence[tuple[str, str]]) -> tuple[Session, Settings]:
    """Resolve config for these flags and open a session on its server."""
    settings = resolve(flags)
    return Session(target_for(settings, call_options), chat_settings(settings)), settings


def save_turn(session: Session, settings: Settings) -> None:
    """Save the conversation under the data dir (atomically), unless history saving is off."""
    if not settings.history.save or not session.results:
        return
    import importlib

    try:
        store: Any = importlib.import_module("gptoss_cli.store")
    except ImportError:  # pragma: no cover - the store module is being added
        return
    saver = getattr(store, "save_session", None)
    if saver is not None:
        saver(session, settings)
