"""Where gptoss keeps its files, and how it writes them (standard library only).

- Linux: ``$XDG_CONFIG_HOME/gptoss`` (``~/.config/gptoss``), ``$XDG_DATA_HOME/gptoss``
  (``~/.local/share/gptoss``), ``$XDG_CACHE_HOME/gptoss`` (``~/.cache/gptoss``).
- macOS: ``~/Library/Application Support/gptoss`` for config and data, ``~/Library/Caches/gptoss``.
- Windows: ``%APPDATA%\\gptoss`` for config and data, ``%LOCALAPPDATA%\\gptoss\\Cache``.

``GPTOSS_HOME`` moves everything: config file and conversations in ``$GPTOSS_HOME`` itself, cache
in ``$GPTOSS_HOME/cache`` (tests point it at a temporary directory). As the XDG spec says, an XDG
variable that is empty or not an absolute path is ignored. Every file gptoss writes goes through
:func:`atomic_write_text`, so a crash mid-write leaves the previous file whole.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "APP_NAME",
    "CONFIG_FILE_NAME",
    "ENV_HOME",
    "AppDirs",
    "app_dirs",
    "atomic_write_bytes",
    "atomic_write_text",
    "cache_dir",
    "config_dir",
    "data_dir",
    "default_config_file",
]

APP_NAME = "gptoss"
ENV_HOME = "GPTOSS_HOME"
CONFIG_FILE_NAME = "config.toml"


@dataclass(frozen=True, slots=True)
class AppDirs:
    """The three directories gptoss uses (not created until something is written)."""

    config: Path
    data: Path
    cache: Path

    @property
    def config_file(self) -> Path:
        """The default config file, ``<config>/config.toml``."""
        return self.config / CONFIG_FILE_NAME

    @property
    def conversations(self) -> Path:
        """Where conversations are saved automatically, ``<data>/conversations``."""
        return self.data / "conversations"


def app_dirs(
    env: Mapping[str, str] | None = None, *, platform: str | None = None, home: Path | None = None
) -> AppDirs:
    """The directories for this platform; ``env``, ``platform`` and ``home`` are for tests."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    override = env.get(ENV_HOME, "")
    if override:
        root = Path(override).expanduser()
        return AppDirs(config=root, data=root, cache=root / "cache")
    home = Path.home() if home is None else home
    if platform == "win32":
        roaming = _env_dir(env, "APPDATA") or home / "AppData" / "Roaming"
        local = _env_dir(env, "LOCALAPPDATA") or home / "AppData" / "Local"
        return AppDirs(config=roaming / APP_NAME, data=roaming / APP_NAME, cache=local / APP_NAME / "Cache")
    if platform == "darwin":
        support = home / "Library" / "Application Support" / APP_NAME
        return AppDirs(config=support, data=support, cache=home / "Library" / "Caches" / APP_NAME)
    return AppDirs(
        config=(_env_dir(env, "XDG_CONFIG_HOME") or home / ".config") / APP_NAME,
        data=(_env_dir(env, "XDG_DATA_HOME") or home / ".local" / "share") / APP_NAME,
        cache=(_env_dir(env, "XDG_CACHE_HOME") or home / ".cache") / APP_NAME,
    )


def _env_dir(env: Mapping[str, str], name: str) -> Path | None:
    """An absolute directory from the environment, or None when unset, empty or relative."""
    value = env.get(name, "")
    if not value or not (os.path.isabs(value) or _is_windows_absolute(value)):
        return None
    return Path(value)


def _is_windows_absolute(value: str) -> bool:
    return len(value) > 2 and value[1] == ":" and value[2] in "\\/"


def config_dir() -> Path:
    """The config directory for this platform (or ``$GPTOSS_HOME``)."""
    return app_dirs().config


def data_dir() -> Path:
    """The data directory for this platform (or ``$GPTOSS_HOME``)."""
    return app_dirs().data


def cache_dir() -> Path:
    """The cache directory for this platform (or ``$GPTOSS_HOME/cache``)."""
    return app_dirs().cache


def default_config_file() -> Path:
    """``<config dir>/config.toml``."""
    return app_dirs().config_file


def atomic_write_text(path: Path, text: str, *, private: bool = False) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a part.

    The text goes to a temporary file in the same directory, is flushed and fsynced, and then
    replaces ``path`` with ``os.replace`` (atomic on POSIX and Windows). On any failure the
    temporary file is removed and the exception propagates; the old file is untouched. A new
    file gets mode 0600 when ``private`` (conversations), else 0644; an existing
    file keeps its mode. Raises ``OSError``; callers translate it into their error class.
    """
    atomic_write_bytes(path, text.encode("utf-8"), private=private)  # an encoding error writes nothing


def atomic_write_bytes(path: Path, data: bytes, *, private: bool = False) -> None:
    """:func:`atomic_write_text` for bytes."""
    import tempfile  # here: random and shutil come with it, and most commands write nothing

    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _target_mode(path, private)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # best effort: the original error is what matters
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _target_mode(path: Path, private: bool) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        # Not "0666 less the umask": reading the umask means setting it, which races other threads.
        return 0o600 if private else 0o644


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable where the platform allows opening a directory."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # some filesystems refuse; the data itself is already fsynced
    try:
        with contextlib.suppress(OSError):  # unsupported on some filesystems; the data is fsynced
            os.fsync(fd)
    finally:
        os.close(fd)
