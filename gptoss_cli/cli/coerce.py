"""Typer's parameter values without pydantic for the plain cases (``history list`` in half the time).

Typer (0.29) checks every parameter value through a pydantic ``TypeAdapter``, built on first use; the
first one imports pydantic, which costs more than the rest of a short command put together (even the
``--help`` option of each subcommand builds one). :func:`install` puts a step in front of Typer's
builder: for the annotations gptoss uses (``str``, ``int`` with ``min``/``max``, ``bool``,
``list[str]``), the values whose result is beyond doubt are taken here (a ``str`` as it is, a run of
ASCII digits in range as ``int``); every other value, and every other annotation, goes to Typer's own
adapter, built then, so its results and error messages are Typer's. ``tests/cli/test_coerce.py``
holds this to Typer's answers for every parameter of every command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_MISS = object()


def _str(value: Any, info: Any) -> Any:
    return value if type(value) is str else _MISS


def _int(value: Any, info: Any) -> Any:
    if type(value) is int:
        number = value
    elif type(value) is str and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return _MISS
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        return _MISS  # Typer's message says which bound
    return number


def _bool(value: Any, info: Any) -> Any:
    return value if type(value) is bool else _MISS


def _strs(value: Any, info: Any) -> Any:
    if isinstance(value, (list, tuple)) and all(type(item) is str for item in value):
        return list(value)  # Typer's adapter gives a list
    return _MISS


def _fast(descriptor: Any) -> Callable[[Any, Any], Any] | None:
    """The fast path for a parameter's annotation, or None for Typer's alone."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None or info.clamp:
        return None
    annotation = descriptor.annotation
    if annotation is str:
        return _str
    if annotation is bool:
        return _bool
    if annotation is int:
        return _int
    if annotation == list[str]:
        return _strs
    return None


def install() -> None:
    """Route Typer's runtime parameters through :func:`_fast` first (once; a no-op if Typer changed)."""
    try:
        import typer.core
        from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
    except ImportError:
        return
    if getattr(typer.core, "build_runtime_param", None) is not build_runtime_param:
        return  # already installed, or Typer no longer builds its parameters there

    @dataclass(frozen=True)
    class Plain(RuntimeParam):
        """Plain values here; the rest through the adapter Typer would have built."""

        descriptor: TypeDescriptor
        fast: Callable[[Any, Any], Any]
        typer_param: list[RuntimeParam] = field(default_factory=list, compare=False)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            result = self.fast(value, self.parameter_info)
            if result is not _MISS:
                return result
            if not self.typer_param:
                self.typer_param.append(build_runtime_param(self.descriptor))
            return self.typer_param[0]._coerce_value(value, param=param, ctx=ctx)

    def build(descriptor: TypeDescriptor) -> RuntimeParam:
        try:
            fast = _fast(descriptor)
            if fast is not None:
                return Plain(
                    parameter_info=descriptor.parameter_info,
                    annotation=descriptor.annotation,
                    descriptor=descriptor,
                    fast=fast,
                )
        except (AttributeError, TypeError):
            pass  # Typer's descriptor or RuntimeParam changed shape: its own way, as before
        return build_runtime_param(descriptor)

    typer.core.build_runtime_param = build  # type: ignore[attr-defined]
