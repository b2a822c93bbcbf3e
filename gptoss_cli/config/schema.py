"""The config as values: defaults in code (frozen dataclasses) and the schema that checks a file.

Every key a config file may hold is in :data:`FIELDS` (``profiles.*`` stands for any profile
name; ``profiles.*.options`` is a free table of extra request fields). Checking a file against
it is :mod:`.validate`'s job.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from gptoss_cli.servers import kinds

__all__ = [
    "COLOR_CHOICES",
    "DEFAULT_BASE_URL",
    "DEFAULT_IDENTITY",
    "DEFAULT_KNOWLEDGE_CUTOFF",
    "DEFAULT_PROFILE",
    "FIELDS",
    "HARMONY_CHOICES",
    "KIND_CHOICES",
    "OPTION_VALUE",
    "REASONING_CHOICES",
    "SECTIONS",
    "Config",
    "DisplayConfig",
    "Field",
    "HistoryConfig",
    "ProfileConfig",
    "PromptConfig",
    "describe",
    "field_for",
]

# Equal to gptoss_cli.harmony.types' constants (a test keeps them so); not imported, so that reading
# the config does not import the Harmony package.
DEFAULT_IDENTITY = "You are ChatGPT, a large language model trained by OpenAI."
DEFAULT_KNOWLEDGE_CUTOFF = "2024-06"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_PROFILE = "default"

Reasoning = Literal["low", "medium", "high"]
REASONING_CHOICES: tuple[str, ...] = ("low", "medium", "high")
KIND_CHOICES: tuple[str, ...] = kinds.KIND_CHOICES
COLOR_CHOICES: tuple[str, ...] = ("auto", "always", "never")
HARMONY_CHOICES: tuple[str, ...] = ("openai", "oss")
"""Equal to ``gptoss_cli.harmony.HARMONY_FORMS`` (a test keeps them so)."""
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# ---------------------------------------------------------------------------------------- values


@dataclass(frozen=True)
class PromptConfig:
    """``[prompt]``: what goes into the system and developer messages."""

    reasoning: str = "medium"
    identity: str = DEFAULT_IDENTITY
    knowledge_cutoff: str = DEFAULT_KNOWLEDGE_CUTOFF
    date: str = "today"
    """``"today"``, ``"none"`` (no date in the system message) or a fixed ``YYYY-MM-DD``."""
    instructions: str = ""
    harmony: str = "openai"
    """Which reference's rendering every prompt follows: ``"openai"`` (openai-harmony 0.0.8) or
    ``"oss"`` (oss-harmony 0.0.11); a profile's own ``harmony`` wins."""

    def conversation_start_date(self, today: dt.date | None = None) -> str | None:
        """The date for the system message: today's, the fixed one, or None for ``"none"``."""
        if self.date == "none":
            return None
        if self.date == "today":
            return (today or dt.date.today()).isoformat()
        return self.date


@dataclass(frozen=True)
class DisplayConfig:
    """``[display]``: how answers are shown."""

    show_reasoning: bool = False
    markdown: bool = True
    stats: bool = False
    color: str = "auto"
    """``"auto"`` (colour on a terminal unless ``NO_COLOR`` is set), ``"always"`` or ``"never"``."""


@dataclass(frozen=True)
class HistoryConfig:
    """``[history]``: automatic saving of conversations."""

    save: bool = True


@dataclass(frozen=True)
class ProfileConfig:
    """``[profiles.NAME]``: one server. The API key is never here, only the env var that holds it."""

    base_url: str = DEFAULT_BASE_URL
    model: str | None = None
    kind: str = "auto"
    api_key_env: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    connect_timeout: float = 5.0
    read_timeout: float = 600.0
    harmony: str | None = None
    """This server's Harmony form; None follows ``[prompt] harmony``."""
    max_tokens: int | None = None
    """A cap on the generation limit; None: the room left in the server's context (servers/limits.py)."""

    def to_dict(self) -> dict[str, Any]:
        return _section_dict(self)


@dataclass(frozen=True)
class Config:
    """A config file merged over the defaults (environment and flags come later, in ``Settings``)."""

    default_profile: str | None = None
    """The profile used without ``--profile``; None picks the file's only profile, else ``default``."""
    prompt: PromptConfig = field(default_factory=PromptConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    profiles: dict[str, ProfileConfig] = field(default_factory=dict)
    """Profiles from the file; the built-in ``default`` profile is added unless the file has one."""
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``[tools.NAME]``: function tools always offered (keys as in a tool file)."""
    mcp: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``[mcp.NAME]``: MCP servers whose tools are always offered."""
    builtins: dict[str, Any] = field(default_factory=dict)
    """``[builtins]``: python, browser, python_timeout, search_command."""
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``[roles.NAME]``: saved instructions, effort, options and tools, chosen with ``--role NAME``."""

    def profile_names(self) -> list[str]:
        """Every selectable profile: the built-in ``default`` and the file's, sorted."""
        return sorted({DEFAULT_PROFILE, *self.profiles})

    def selected_profile_name(self) -> str:
        """``default_profile``, else the file's only profile, else ``default``."""
        if self.default_profile:
            return self.default_profile
        if len(self.profiles) == 1:
            return next(iter(self.profiles))
        return DEFAULT_PROFILE

    def profile(self, name: str) -> ProfileConfig | None:
        """A profile by name (``default`` is built in), or None."""
        if name in self.profiles:
            return self.profiles[name]
        return ProfileConfig() if name == DEFAULT_PROFILE else None

    def to_dict(self) -> dict[str, Any]:
        """The config as a TOML-ready dict (None values left out, as TOML has no null)."""
        out: dict[str, Any] = {}
        if self.default_profile is not None:
            out["default_profile"] = self.default_profile
        out["prompt"] = _section_dict(self.prompt)
        out["display"] = _section_dict(self.display)
        out["history"] = _section_dict(self.history)
        out["profiles"] = {name: p.to_dict() for name, p in self.profiles.items()}
        return out


def _section_dict(section: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(section):
        value = getattr(section, f.name)
        if value is not None:
            out[f.name] = dict(value) if isinstance(value, dict) else value
    return out


# ---------------------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Field:
    """One key: what it accepts, its default and a line of help."""

    expected: str
    """What a valid value is, in words ("a boolean", "one of low, medium, high")."""
    check: Callable[[Any], Any]
    """Returns the value to store, or raises ``ValueError`` when the value is not acceptable."""
    doc: str
    secret_value: bool = False
    """Never echo the value in an error (``api_key_env`` may hold a pasted key by mistake)."""


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


def _nonempty(value: Any) -> str:
    if not _string(value).strip():
        raise ValueError
    return str(value)


def _optional_string(value: Any) -> str | None:
    return _string(value) or None


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in choices:
            raise ValueError
        return value.lower()

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _seconds(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError
    return float(value)


def _token_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError
    return value


_HOST_PORT = re.compile(r"(localhost|[\w.-]+|\[[0-9a-fA-F:]+\]):\d{1,5}(/\S*)?")


def _url(value: Any) -> str:
    """An http(s) URL; ``host:port`` without a scheme means ``http://host:port``."""
    if isinstance(value, str) and _HOST_PORT.fullmatch(value.strip()):
        return "http://" + value.strip()
    if not isinstance(value, str) or not re.match(r"https?://[^\s/]+", value.strip()):
        raise ValueError
    return value.strip()


def _date(value: Any) -> str:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()  # an unquoted TOML date: 2025-08-07
    text = _string(value)
    if text.lower() in ("today", "none"):
        return text.lower()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError from None


def _env_name(value: Any) -> str | None:
    text = _string(value)
    if text and not _ENV_NAME.fullmatch(text):
        raise ValueError
    return text or None


def _table(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date; neither can go into a JSON request
        raise ValueError
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


def _argv(value: Any) -> list[str]:
    if isinstance(value, str) and value.strip():
        import shlex

        return shlex.split(value)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise ValueError


def _strings_table(value: Any) -> dict[str, str]:
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return dict(value)
    raise ValueError


APPROVE_CHOICES: tuple[str, ...] = ("ask", "auto")
_CHOICES = {
    "reasoning": REASONING_CHOICES,
    "kind": KIND_CHOICES,
    "color": COLOR_CHOICES,
    "approve": APPROVE_CHOICES,
    "harmony": HARMONY_CHOICES,
}


def _one_of(name: str) -> str:
    return "one of " + ", ".join(_CHOICES[name])


FIELDS: Mapping[str, Field] = {
    "default_profile": Field("a profile name", _nonempty, "profile used when --profile is not given"),
    "prompt.reasoning": Field(_one_of("reasoning"), _choice(REASONING_CHOICES), "reasoning effort"),
    "prompt.identity": Field("a string", _string, "model identity, first line of the system message"),
    "prompt.knowledge_cutoff": Field(
        "a string such as 2024-06", _nonempty, "knowledge cutoff in the system message"
    ),
    "prompt.date": Field('"today", "none" or a date YYYY-MM-DD', _date, "current date in the system message"),
    "prompt.instructions": Field("a string", _string, "developer instructions (the usual 'system prompt')"),
    "prompt.harmony": Field(
        _one_of("harmony"),
        _choice(HARMONY_CHOICES),
        "Harmony form of every prompt (openai-harmony or oss-harmony)",
    ),
    "display.show_reasoning": Field("true or false", _boolean, "show the analysis channel (dim, on stderr)"),
    "display.markdown": Field("true or false", _boolean, "render the final answer as Markdown on a terminal"),
    "display.stats": Field("true or false", _boolean, "print timings and token counts after each answer"),
    "display.color": Field(_one_of("color"), _choice(COLOR_CHOICES), "colour output"),
    "history.save": Field("true or false", _boolean, "save every conversation under the data dir"),
    "profiles.*.base_url": Field(
        "an http:// or https:// URL (or host:port)", _url, "server root (a trailing /v1 is fine)"
    ),
    "profiles.*.model": Field("a string", _optional_string, "model name sent to the server"),
    "profiles.*.kind": Field(_one_of("kind"), _choice(KIND_CHOICES), "server kind (auto = probe)"),
    "profiles.*.api_key_env": Field(
        "the NAME of an environment variable holding the key (letters, digits, _), not the key itself",
        _env_name,
        "env var holding the API key",
        secret_value=True,
    ),
    "profiles.*.options": Field("a table of request fields", _table, "extra fields for every request"),
    "profiles.*.connect_timeout": Field("a positive number of seconds", _seconds, "seconds to connect"),
    "profiles.*.read_timeout": Field("a positive number of seconds", _seconds, "seconds between two reads"),
    "profiles.*.harmony": Field(
        _one_of("harmony"), _choice(HARMONY_CHOICES), "this server's Harmony form (default: prompt.harmony)"
    ),
    "profiles.*.max_tokens": Field(
        "a positive whole number",
        _token_count,
        "cap on tokens per answer (default: the room left in the context)",
    ),
}
_ARGV = "a command: a list of strings (program and arguments), never run through a shell"
TOOL_FIELDS: Mapping[str, Field] = {
    "tools.*.description": Field("a string", _string, "what the tool does (the model reads it)"),
    "tools.*.command": Field(_ARGV, _argv, "runs with the arguments as JSON on stdin; answers on stdout"),
    "tools.*.parameters": Field("a table (a JSON Schema, or name = type)", _table, "the arguments"),
    "tools.*.approve": Field(_one_of("approve"), _choice(APPROVE_CHOICES), "ask before each call, or not"),
    "tools.*.timeout": Field("a positive number of seconds", _seconds, "seconds before the tool is stopped"),
    "tools.*.cwd": Field("a directory", _string, "working directory (relative to the config file)"),
    "tools.*.env": Field("a table of strings", _strings_table, "extra environment variables"),
    "tools.*.namespace": Field("a name", _nonempty, "namespace (default functions)"),
    "mcp.*.command": Field(_ARGV, _argv, "an MCP server started over stdio"),
    "mcp.*.url": Field("an http:// or https:// URL", _url, "an MCP server over streamable HTTP"),
    "mcp.*.namespace": Field("a name", _nonempty, "namespace for its tools (default: the server's name)"),
    "mcp.*.approve": Field(_one_of("approve"), _choice(APPROVE_CHOICES), "ask before each call, or not"),
    "mcp.*.env": Field("a table of strings", _strings_table, "environment for a stdio server"),
    "mcp.*.headers": Field("a table of strings", _strings_table, "HTTP headers for a URL server"),
    "mcp.*.timeout": Field("a positive number of seconds", _seconds, "seconds per call"),
    "builtins.python": Field("true or false", _boolean, "offer the built-in python tool"),
    "builtins.browser": Field("true or false", _boolean, "offer the built-in browser tool"),
    "builtins.python_timeout": Field("a positive number of seconds", _seconds, "seconds per python call"),
    "builtins.search_command": Field(_ARGV, _argv, "browser search: the query is its last argument"),
    "roles.*.system": Field("a string", _string, "the model identity (system message), as /system"),
    "roles.*.instructions": Field("a string", _string, "developer instructions (the usual 'system prompt')"),
    "roles.*.effort": Field(_one_of("reasoning"), _choice(REASONING_CHOICES), "reasoning effort"),
    "roles.*.options": Field("a table of request fields", _table, "request fields (over the profile's)"),
    "roles.*.tools": Field("a list of tool file paths", _argv, "tool files to offer, as --tools"),
}
ROLE_SETTINGS: Mapping[str, str] = {
    "system": "prompt.identity",
    "instructions": "prompt.instructions",
    "effort": "prompt.reasoning",
}
"""What a role's keys set (``options`` and ``tools`` are merged, not set)."""
OPTION_VALUE = Field("a JSON-compatible value (no dates or times)", _json_value, "request field")
SECTIONS = ("prompt", "display", "history")


def field_for(path: tuple[str, ...]) -> Field | None:
    """The schema field for a dotted key path (``("profiles", "x", "model")``), or None if unknown."""
    if len(path) >= 4 and path[0] == "profiles" and path[2] == "options":
        return OPTION_VALUE
    if len(path) == 3 and path[0] == "profiles":
        return FIELDS.get(f"profiles.*.{path[2]}")
    if len(path) == 3 and path[0] in ("tools", "mcp", "roles"):
        return TOOL_FIELDS.get(f"{path[0]}.*.{path[2]}")
    if len(path) == 2 and path[0] == "builtins":
        return TOOL_FIELDS.get(".".join(path))
    return FIELDS.get(".".join(path))


def describe(value: Any) -> str:
    """A value's TOML type and (shortened) value, for error messages."""
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"float {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dt.datetime):
        return "a date-time"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dt.time):
        return "a time"
    return type(value).__name__
