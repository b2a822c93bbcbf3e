"""Finding, reading and creating the config file.

The file is ``--config PATH``, else ``$GPTOSS_CONFIG``, else ``config.toml`` in the config dir
(``$GPTOSS_HOME`` when set, see :mod:`gptoss_cli.paths`). A missing default file means "all
defaults"; a missing file that was asked for by name is an error. Broken TOML is reported with
the file, line and column ``tomllib`` found it at.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gptoss_cli.config.schema import Config
from gptoss_cli.config.tomlscan import Scan, scan
from gptoss_cli.config.validate import config_from_dict, config_problems
from gptoss_cli.errors import ConfigError
from gptoss_cli.paths import app_dirs, atomic_write_text

__all__ = [
    "ENV_CONFIG",
    "ConfigFile",
    "config_file_path",
    "init_config",
    "load_config",
    "read_config_file",
    "template_text",
]

ENV_CONFIG = "GPTOSS_CONFIG"
_TOML_POSITION = re.compile(
    r"^(?P<msg>.*) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)


@dataclass(frozen=True)
class ConfigFile:
    """A config file as read: where it is, its text, tomllib's dict and the checked :class:`Config`."""

    path: Path
    exists: bool
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    config: Config = field(default_factory=Config)
    where: Scan | None = None
    """Key positions in ``text`` (None when the file does not exist)."""

    def line_of(self, dotted: tuple[str, ...]) -> int | None:
        """The line defining a key (or the closest line that explains it), if the file has it."""
        return self.where.line_of(dotted) if self.where is not None else None

    def problems(self) -> list[ConfigError]:
        """Every problem in the file (empty when valid): for a ``config check``-style listing."""
        return config_problems(self.data, file=str(self.path), where=self.where)


def config_file_path(
    explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """The config file to use: ``explicit`` (``--config``), ``$GPTOSS_CONFIG``, or the default."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit).expanduser()
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    return app_dirs(env).config_file


def read_config_file(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None, check: bool = True
) -> ConfigFile:
    """Read and check the config file (see :func:`config_file_path` for which one).

    Raises :class:`ConfigError` for a named file that is missing, a file that cannot be read, broken
    TOML, and (when ``check``) the first unknown key or wrong type.
    """
    env = os.environ if env is None else env
    named = bool(path) or bool(env.get(ENV_CONFIG))
    file = config_file_path(path, env)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        if named:
            raise ConfigError(
                "config file not found",
                file=str(file),
                hint=f"create one with `gptoss config init --config {file}`",
            ) from None
        return ConfigFile(file, exists=False)
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror or exc}", file=str(file)) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError("not UTF-8 text", file=str(file), line=line) from exc
    data = parse_toml(text, file=str(file))
    where = scan(text)
    config = config_from_dict(data, file=str(file), where=where) if check else Config()
    return ConfigFile(file, True, text, data, config, where)


def load_config(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> Config:
    """The config file merged over the defaults (no environment or flags: see ``resolve``)."""
    return read_config_file(path, env=env).config


def parse_toml(text: str, *, file: str | None = None) -> dict[str, Any]:
    """``tomllib.loads`` with errors as :class:`ConfigError` carrying the line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line, column = _toml_position(str(exc), text)
        raise ConfigError(
            f"invalid TOML at column {column}: {message}",
            file=file,
            line=line,
            hint="fix the file or run `gptoss config init --force`",
        ) from exc


def _toml_position(error: str, text: str) -> tuple[str, int, int]:
    """tomllib's message without its position suffix, and the line and column it names."""
    match = _TOML_POSITION.match(error)
    if match is None:
        return error, 1, 1
    message = match["msg"]
    if match["line"]:
        line, column = int(match["line"]), int(match["col"])
    else:  # "at end of document": where the unclosed value starts, else the last line
        lines = text.rstrip("\n").split("\n")
        line, column = len(lines), len(lines[-1]) + 1
        if message.startswith(("Unterminated", "Unclosed")):
            opened = _last_value(text)
            if opened is not None:
                line, column = opened
    if message.startswith("Cannot overwrite") or message.startswith("Cannot declare"):
        again = scan(text).duplicate()  # tomllib often reports these at the end of the document
        if again is not None:
            key = ".".join(again.path)
            line_text = text.split("\n")[again.line - 1]
            return f"{key} is defined twice", again.line, len(line_text) - len(line_text.lstrip()) + 1
    return message, line, column


def _last_value(text: str) -> tuple[int, int] | None:
    """Line and column where the last ``key = value`` value starts (the one left open)."""
    pairs = [e for e in scan(text).entries if e.kind == "pair"]
    if not pairs:
        return None
    start = pairs[-1].value_start
    line_start = text.rfind("\n", 0, start) + 1
    return pairs[-1].line, start - line_start + 1


def template_text() -> str:
    """The commented config template shipped with gptoss (``gptoss config init`` writes it)."""
    from importlib import resources  # only for `config init` and `config set`

    return resources.files("gptoss_cli").joinpath("data", "config_template.toml").read_text(encoding="utf-8")


def init_config(
    path: str | os.PathLike[str] | None = None, *, force: bool = False, env: Mapping[str, str] | None = None
) -> Path:
    """Write the commented template to the config file (atomically) and return its path.

    Raises :class:`ConfigError` when the file exists and ``force`` is false.
    """
    file = config_file_path(path, env)
    if file.exists() and not force:
        raise ConfigError("config file already exists", file=str(file), hint="use --force to overwrite it")
    try:
        atomic_write_text(file, template_text())
    except OSError as exc:
        raise ConfigError(f"cannot write config file: {exc.strerror or exc}", file=str(file)) from exc
    return file
