"""Readers of what servers say about themselves: the context length, the models served.

Each reads the JSON of one GET (named by a :class:`ContextSource` or :class:`ModelSource` in a
server's profile) and returns None when the answer does not say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gptoss_cli.transport.client import ModelInfo

# ------------------------------------------------------------------------------------ context length

ContextReader = Callable[[Any, "str | None"], "int | None"]


def positive(value: Any) -> int | None:
    """``value`` when it is a positive int (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _model_entry(data: Any, model: str | None, key: str = "id") -> Mapping[str, Any] | None:
    """The entry of an OpenAI-style model list for ``model`` (or the only one listed)."""
    entries = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        return None
    listed = [e for e in entries if isinstance(e, Mapping)]
    for entry in listed:
        if model is not None and entry.get(key) == model:
            return entry
    return listed[0] if len(listed) == 1 else None


def read_max_model_len(data: Any, model: str | None) -> int | None:
    """``GET /v1/models``: ``max_model_len`` (vLLM, SGLang), else ``meta.n_ctx`` (llama-server)."""
    entry = _model_entry(data, model)
    if entry is None:
        return None
    meta = entry.get("meta")
    return positive(entry.get("max_model_len")) or (
        positive(meta.get("n_ctx")) if isinstance(meta, Mapping) else None
    )


def read_llamacpp_props(data: Any, model: str | None) -> int | None:
    """``GET /props`` of llama-server: ``default_generation_settings.n_ctx`` (the slot's context)."""
    if not isinstance(data, Mapping):
        return None
    settings = data.get("default_generation_settings")
    if isinstance(settings, Mapping) and positive(settings.get("n_ctx")):
        return positive(settings.get("n_ctx"))
    return positive(data.get("n_ctx"))


def read_lmstudio_loaded(data: Any, model: str | None) -> int | None:
    """``GET /api/v1/models`` of LM Studio >= 0.4: ``models[].loaded_instances[].config.context_length``."""
    entries = data.get("models") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if not isinstance(entry, Mapping) or (model is not None and entry.get("key") != model):
            continue
        for instance in entry.get("loaded_instances") or ():
            config = instance.get("config") if isinstance(instance, Mapping) else None
            if isinstance(config, Mapping) and positive(config.get("context_length")):
                return positive(config.get("context_length"))
    return None


def read_lmstudio_models(data: Any, model: str | None) -> int | None:
    """``GET /api/v0/models`` of LM Studio: the model's ``max_context_length`` (not loaded yet)."""
    entry = _model_entry(data, model)
    if entry is None:
        return None
    return positive(entry.get("loaded_context_length")) or positive(entry.get("max_context_length"))


@dataclass(frozen=True)
class ContextSource:
    """Where a server says how long its context is: a GET path and a reader of its JSON."""

    path: str
    read: ContextReader


# ---------------------------------------------------------------------------------------------- models

ModelsReader = Callable[[Any], "list[ModelInfo] | None"]


def read_ollama_tags(data: Any) -> list[ModelInfo] | None:
    """``GET /api/tags`` of Ollama: ``models[].name``."""
    entries = data.get("models") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        return None
    names = [e.get("name") for e in entries if isinstance(e, Mapping)]
    return [ModelInfo(name) for name in names if isinstance(name, str)]


@dataclass(frozen=True)
class ModelSource:
    """Where a server lists its models when ``/v1/models`` does not: a GET path and a reader of its JSON."""

    path: str
    read: ModelsReader
