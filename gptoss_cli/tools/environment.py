"""The environment a tool process gets: an allow-list, never the user's secrets.

Model code (the python tool) and declared commands run with only what a program needs to work:
``PATH``, the locale (``LANG``, ``LANGUAGE``, ``LC_*``), ``TZ``, the temporary directory variables,
``USER``/``LOGNAME`` and, on Windows, the few system variables a process cannot start without.
``HOME`` is a directory of the tool's own, never the user's. Even among those, a variable is dropped
when any profile names it as its API key variable, or when its name looks like a secret
(``*_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*PASSWORD*``, ``*CREDENTIAL*``). A tool that needs more is
given it explicitly (``env = {...}`` in its declaration), which is applied last.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping

__all__ = ["ALLOWED", "looks_secret", "minimal_env", "protect", "tool_home"]

ALLOWED = frozenset(
    {
        "PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "USER", "LOGNAME",
        # Windows: a process cannot start (or find its own files) without these
        "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT",
    }
)  # fmt: skip
_SECRET_NAME = re.compile(r"(_KEY|_TOKEN|_SECRET|_KEYS|_TOKENS)$|PASSWORD|PASSWD|CREDENTIAL|^API_?KEY$", re.I)
_protected: set[str] = set()
_home: list[str] = []  # the one private home of this process, once made


def looks_secret(name: str) -> bool:
    """Whether a variable's name says it holds a secret."""
    return _SECRET_NAME.search(name) is not None


def protect(names: Iterable[str]) -> None:
    """Never hand these variables to a tool (the profiles' API key variables)."""
    _protected.update(n.upper() for n in names if n)


def minimal_env(
    *,
    home: str | None = None,
    extra: Mapping[str, str] | None = None,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a tool process: the allow-list from ``source`` (default ``os.environ``)
    minus secrets, ``HOME`` set to ``home`` (default: :func:`tool_home`), then ``extra``."""
    source = os.environ if source is None else source
    env = {
        name: value
        for name, value in source.items()
        if (name.upper() in ALLOWED or name.upper().startswith("LC_"))
        and name.upper() not in _protected
        and not looks_secret(name)
    }
    env["HOME"] = home if home is not None else tool_home()
    if os.name == "nt":
        env["USERPROFILE"] = env["HOME"]
    env.update(extra or {})
    return env


def tool_home() -> str:
    """A private, initially empty home directory for tools, removed when gptoss exits."""
    if not _home or not os.path.isdir(_home[0]):
        _home[:] = [tempfile.mkdtemp(prefix="gptoss-tool-home-")]
        atexit.register(shutil.rmtree, _home[0], True)
    return _home[0]
