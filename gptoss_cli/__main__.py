"""``python -m gptoss_cli``: the same entry point as the ``gptoss`` console script."""

from __future__ import annotations

from gptoss_cli.cli import entry

if __name__ == "__main__":
    entry()
