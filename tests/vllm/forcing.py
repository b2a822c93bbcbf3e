"""Forced completions for the vLLM tier, and ``gptoss`` run as a user runs it (a subprocess).

The tier's server loads scripts/vllm_tier/force_ids.py, which makes the random-weight model emit
exactly the token ids a request names in ``vllm_xargs``. gptoss passes any request field through
``-o KEY VALUE``, so a test forces a completion the way a user adds a server extension:

* ``force(completion)``: ``-o vllm_xargs {"force_ids": [...]}``, the completion's ids (Harmony text
  with special-token text turned into the real special-token ids: ``<|channel|>`` is 200005, never
  ``<`` ``|`` ``channel`` ...), for every request of the command;
* ``replies((prompt_end, completion), ...)``: ``-o vllm_xargs {"force_replies": "..."}``, a different
  completion for each request according to how its prompt ends (each step of a tool loop).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from gptoss_cli.harmony.tokens import get_tokenizer


def ids(harmony_text: str) -> list[int]:
    """Token ids of Harmony text, special-token text as special tokens."""
    return get_tokenizer().encode_with_specials(harmony_text)


def text_ids(text: str) -> list[int]:
    """Token ids of ordinary text (special-token text stays ordinary text, as gptoss renders user text)."""
    return get_tokenizer().encode(text)


def force(completion: str | list[int]) -> list[str]:
    """gptoss flags that make every completion of the command exactly ``completion``."""
    forced = ids(completion) if isinstance(completion, str) else completion
    return ["-o", "vllm_xargs", json.dumps({"force_ids": forced})]


def replies(*pairs: tuple[list[int], str]) -> list[str]:
    """gptoss flags that answer a prompt ending in ``pair[0]`` (ids) with the completion ``pair[1]``."""
    entries = [{"prompt_suffix": suffix, "ids": ids(completion)} for suffix, completion in pairs]
    return ["-o", "vllm_xargs", json.dumps({"force_replies": json.dumps(entries)})]


def gptoss_env(home: Path) -> dict[str, str]:
    """A clean environment: the test's GPTOSS_HOME, no colour, no GPTOSS_*/OPENAI_* from outside."""
    return {"GPTOSS_HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1"}


def gptoss(
    args: list[str], home: Path, stdin: str = "", timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``gptoss ARGS`` in a subprocess, stdin piped (so stdout is not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "gptoss_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=gptoss_env(home),
        check=False,
    )


def saved_conversations(home: Path) -> list[dict[str, object]]:
    """The conversations gptoss saved in the history under ``home`` (its GPTOSS_HOME), oldest first,
    each as its JSON file would hold it."""
    from gptoss_cli.store import Store

    store = Store(home / "history.db", legacy=None)
    try:
        return [store.load(s.id).to_dict() for s in reversed(store.summaries())]
    finally:
        store.close()
