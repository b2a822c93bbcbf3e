"""What the tier's random-weight model answers to ``gptoss doctor``'s probes: a trained gpt-oss's answers.

The tier's logits processor (scripts/vllm_tier/force_ids.py) reads this file from
``$GPTOSS_VLLM_REPLIES``: a request whose prompt ends with an entry's ``prompt_suffix`` (and that names
no ``vllm_xargs.force_ids`` of its own) gets exactly that entry's ids. The suffixes are the ends of the
prompts doctor renders (gptoss_cli/doctor/probes.py), the user's words included, so no other prompt of
the tests matches them; the answers are what openai/gpt-oss writes for them: "OK" on the final channel
ended by ``<|return|>``, and ``{}`` to ``functions.ping`` ended by ``<|call|>``. Each prompt is listed
in both forms doctor may send: gptoss's token ids, and its text as vLLM tokenizes it (a profile that
sends text, such as ``--kind openai``).

    python -m tests.vllm.replies OUT.json     # what scripts/vllm_tier/start_server.sh runs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gptoss_cli.doctor.probes import call_prompt, final_prompt, plain_prompt
from gptoss_cli.harmony.tokens import get_tokenizer

#: Prompt ids kept as the suffix: the end of the user's message and the assistant's header.
SUFFIX_LEN = 24

PLAIN_ANSWER = "<|channel|>final<|message|>OK<|return|>"
FINAL_ANSWER = "OK<|return|>"
CALL_ANSWER = "{}<|call|>"


def ids(text: str) -> list[int]:
    return get_tokenizer().encode_with_specials(text)


def replies() -> list[dict[str, Any]]:
    """The entries, one per doctor probe (distinct suffixes, checked)."""
    entries: dict[tuple[int, ...], list[int]] = {}
    for prompt, answer in (
        (plain_prompt(), PLAIN_ANSWER),
        (final_prompt(), FINAL_ANSWER),
        (call_prompt(), CALL_ANSWER),
    ):
        for form in (list(prompt.ids), ids(prompt.text)):
            suffix = tuple(form[-SUFFIX_LEN:])
            if entries.get(suffix, ids(answer)) != ids(answer):
                raise ValueError("two doctor probes end with the same ids: raise SUFFIX_LEN")
            entries[suffix] = ids(answer)
    return [{"prompt_suffix": list(suffix), "ids": answer} for suffix, answer in entries.items()]


def write(path: Path) -> Path:
    path.write_text(json.dumps(replies()) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.vllm.replies OUT.json")
    write(Path(sys.argv[1]))
