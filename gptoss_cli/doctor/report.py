"""What ``gptoss doctor`` is asked (:class:`DoctorOptions`) and what it answers (:class:`DoctorReport`),
as pure values; :mod:`gptoss_cli.doctor.run` fills them in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gptoss_cli.doctor.checks import Check
from gptoss_cli.harmony import DEFAULT_FORM, HarmonyForm
from gptoss_cli.servers.profiles import PROFILES
from gptoss_cli.transport.client import Timeouts

DOCTOR_TIMEOUTS = Timeouts(connect=3.0, read=60.0, write=10.0, pool=3.0)
DEFAULT_KEY_ENVS = ("GPTOSS_API_KEY", "OPENAI_API_KEY")


@dataclass(frozen=True)
class DoctorOptions:
    """What to check: the server, and optionally the model, the profile and the key (with its env var)."""

    base_url: str
    model: str | None = None
    profile_kind: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_key_env: str | None = None
    """The name of the variable the key came from (or should come from), for messages."""
    timeouts: Timeouts = DOCTOR_TIMEOUTS
    harmony: HarmonyForm = DEFAULT_FORM
    """The Harmony form the probes' prompts are rendered in (the one gptoss would send)."""
    max_tokens: int | None = None
    """The profile's cap on the generation limit."""


@dataclass(frozen=True)
class DoctorReport:
    """Every check, in order, and what was learnt about the server."""

    base_url: str
    checks: tuple[Check, ...]
    kind: str | None = None
    version: str | None = None
    profile: str | None = None
    model: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the server can serve Harmony correctly: no check failed."""
        return not self.failures

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "fail")

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "warn")

    def check(self, name: str) -> Check:
        """The check called ``name``; KeyError when it was not run."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def summary(self) -> str:
        """One line: the verdict, naming the URL."""
        if self.ok:
            profile = PROFILES.get(self.kind or "")
            server = profile.title if profile is not None else "server"
            version = f" {self.version}" if self.version else ""
            warned = len(self.warnings)
            notes = f"; {warned} warning{'s' if warned != 1 else ''}" if warned else ""
            return f"{self.base_url} can serve Harmony ({server}{version}{notes})"
        first = self.failures[0]
        more = len(self.failures) - 1
        rest = f" (and {more} more failed check{'s' if more != 1 else ''})" if more else ""
        return f"{self.base_url} cannot serve Harmony: {first.name}: {first.detail}{rest}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the key is never included)."""
        return {
            "base_url": self.base_url,
            "can_serve_harmony": self.ok,
            "summary": self.summary(),
            "server": {
                "kind": self.kind,
                "version": self.version,
                "profile": self.profile,
                "model": self.model,
            },
            "checks": [c.to_dict() for c in self.checks],
        }
