"""Configuration: defaults in code, a commented TOML file, environment, flags.

Precedence, later wins: defaults < ``OPENAI_BASE_URL``/``OPENAI_API_KEY`` < config file <
``GPTOSS_*`` environment < flags. The file is ``--config PATH``, ``$GPTOSS_CONFIG`` or
``config.toml`` in the config dir (``$GPTOSS_HOME`` moves it). Reading uses stdlib ``tomllib``;
``config set`` edits the text in place to keep comments (see :mod:`.edit`). Standard library plus
``tomli_w``; nothing here imports typer, rich or the Harmony package.

Modules: :mod:`.schema` (values, keys), :mod:`.validate` (checking a file), :mod:`.tomlscan` (key lines),
:mod:`.loader` (finding and reading the file), :mod:`.resolve` (settings in force),
:mod:`.edit` (get and set).
"""

from __future__ import annotations

from gptoss_cli.config.edit import SetResult, format_value, get_value, parse_value, set_value, split_key
from gptoss_cli.config.loader import (
    ENV_CONFIG,
    ConfigFile,
    config_file_path,
    init_config,
    load_config,
    read_config_file,
    template_text,
)
from gptoss_cli.config.resolve import ENV_VARS, FLAG_NAMES, REDACTED, Secret, Settings, resolve
from gptoss_cli.config.schema import (
    COLOR_CHOICES,
    DEFAULT_BASE_URL,
    DEFAULT_IDENTITY,
    DEFAULT_KNOWLEDGE_CUTOFF,
    DEFAULT_PROFILE,
    FIELDS,
    HARMONY_CHOICES,
    KIND_CHOICES,
    REASONING_CHOICES,
    Config,
    DisplayConfig,
    Field,
    HistoryConfig,
    ProfileConfig,
    PromptConfig,
)

__all__ = [
    "COLOR_CHOICES",
    "DEFAULT_BASE_URL",
    "DEFAULT_IDENTITY",
    "DEFAULT_KNOWLEDGE_CUTOFF",
    "DEFAULT_PROFILE",
    "ENV_CONFIG",
    "ENV_VARS",
    "FIELDS",
    "FLAG_NAMES",
    "HARMONY_CHOICES",
    "KIND_CHOICES",
    "REASONING_CHOICES",
    "REDACTED",
    "Config",
    "ConfigFile",
    "DisplayConfig",
    "Field",
    "HistoryConfig",
    "ProfileConfig",
    "PromptConfig",
    "Secret",
    "SetResult",
    "Settings",
    "config_file_path",
    "format_value",
    "get_value",
    "init_config",
    "load_config",
    "parse_value",
    "read_config_file",
    "resolve",
    "set_value",
    "split_key",
    "template_text",
]
