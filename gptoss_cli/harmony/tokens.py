"""The ``o200k_harmony`` tokenizer, built with tiktoken from the vocabulary shipped in the package.

The special-token tables are plain constants (no tokenizer needed to lex Harmony text); the
BPE itself loads lazily on first use, offline, and checks the vocabulary's sha256. The ranks are
kept in the cache dir as a rank table (:mod:`.bpe`) that loads in a millisecond, and a prompt
is encoded from it; tiktoken's ``Encoding`` (about a second of CPU to build) is built only past a
budget of text, or for what the table leaves to it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from gptoss_cli.errors import HarmonyError
from gptoss_cli.harmony import bpe
from gptoss_cli.harmony.bpe import RankTable

if TYPE_CHECKING:
    import tiktoken

VOCAB_FILE = "o200k_base.tiktoken"
VOCAB_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
ENCODING_NAME = "o200k_harmony"

STARTOFTEXT = 199998
ENDOFTEXT = 199999
RETURN = 200002
CONSTRAIN = 200003
CHANNEL = 200005
START = 200006
END = 200007
MESSAGE = 200008
CALL = 200012

FIRST_SPECIAL = 199998
T_VOCAB = 199998  # ordinary tokens in o200k_base
LAST_SPECIAL = 201088

NAMED_SPECIALS: dict[str, int] = {
    "<|startoftext|>": STARTOFTEXT,
    "<|endoftext|>": ENDOFTEXT,
    "<|return|>": RETURN,
    "<|constrain|>": CONSTRAIN,
    "<|channel|>": CHANNEL,
    "<|start|>": START,
    "<|end|>": END,
    "<|message|>": MESSAGE,
    "<|call|>": CALL,
}

#: Every special token's text by id (named ones, the rest ``<|reserved_N|>``).
SPECIAL_TEXT: dict[int, str] = {i: f"<|reserved_{i}|>" for i in range(FIRST_SPECIAL, LAST_SPECIAL + 1)} | {
    i: t for t, i in NAMED_SPECIALS.items()
}
#: Every special token's id by text.
SPECIAL_IDS: dict[str, int] = {t: i for i, t in SPECIAL_TEXT.items()}
#: The longest special token text (for holding back a partial one at a chunk boundary).
MAX_SPECIAL_LEN = max(len(t) for t in SPECIAL_IDS)

#: Tokens that end a message: ``<|return|>``, ``<|end|>``, ``<|call|>``.
STOP_TOKENS: frozenset[int] = frozenset({RETURN, END, CALL})
#: Tokens that end an assistant's turn (what a server should stop on): ``<|return|>``, ``<|call|>``.
STOP_TOKENS_FOR_ASSISTANT_ACTIONS: frozenset[int] = frozenset({RETURN, CALL})
#: What a server must stop a raw completion on, in the order sent as ``stop_token_ids``: ``<|return|>``,
#: ``<|call|>``, ``<|endoftext|>``. Never ``<|end|>``: a completion holds several messages.
COMPLETION_STOP_TOKENS: tuple[int, ...] = (RETURN, CALL, ENDOFTEXT)

#: The Harmony control tokens a server must keep in its output.
CONTROL_TOKEN_TEXTS: tuple[str, ...] = (
    "<|start|>",
    "<|end|>",
    "<|message|>",
    "<|channel|>",
    "<|constrain|>",
    "<|return|>",
    "<|call|>",
)

_PATTERN = "|".join(
    [
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
        r"\p{N}{1,3}",
        r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
        r"\s*[\r\n]+",
        r"\s+(?!\S)",
        r"\s+",
    ]
)


def is_special(token: int) -> bool:
    """Whether ``token`` is one of the 1,091 Harmony special tokens."""
    return FIRST_SPECIAL <= token <= LAST_SPECIAL


def _load_ranks() -> dict[bytes, int]:
    """The BPE ranks from the shipped file (rank = line number, checked), hash verified first."""
    from binascii import a2b_base64
    from importlib import resources

    data = resources.files(__package__).joinpath("data").joinpath(VOCAB_FILE).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != VOCAB_SHA256:
        raise HarmonyError(
            f"the shipped vocabulary {VOCAB_FILE} is corrupt (sha256 {digest})",
            hint="reinstall gptoss-cli",
        )
    fields = data.split()
    ranks = dict(zip(map(a2b_base64, fields[0::2]), range(len(fields) // 2), strict=True))
    if fields[-1] != str(len(ranks) - 1).encode() or len(ranks) != T_VOCAB:
        raise HarmonyError(
            f"the shipped vocabulary {VOCAB_FILE} is out of rank order", hint="reinstall gptoss-cli"
        )
    return ranks


TABLE_BUDGET = 1 << 19
"""Characters of text one tokenizer encodes from the rank table before it builds tiktoken's
``Encoding`` for the rest: about as long as that build takes (0.3 s), after which tiktoken, six
times quicker per character, pays for it. A render of a long conversation thus costs at most about
twice what it would with the better choice known in advance; a prompt, nothing more."""


def _table_file() -> Path:
    from gptoss_cli.paths import cache_dir

    return cache_dir() / f"o200k-ranks-{VOCAB_SHA256[:16]}.bin"


def load_table() -> tuple[RankTable, dict[bytes, int] | None]:
    """The rank table from the cache dir, else built from the vocabulary and written there.

    A cache file that is missing, damaged or from another vocabulary is rebuilt (and the ranks
    then read are returned too, so tiktoken need not read them again); one that cannot be written
    (a read-only cache dir) costs the next run the same build, nothing else.
    """
    path = _table_file()
    try:
        table = RankTable.from_bytes(path.read_bytes(), VOCAB_SHA256)
    except OSError:
        table = None
    if table is not None and len(table) == T_VOCAB:
        return table, None
    ranks = _load_ranks()
    table = RankTable.build(ranks)
    from gptoss_cli.paths import atomic_write_bytes

    with contextlib.suppress(OSError):
        atomic_write_bytes(path, table.to_bytes(VOCAB_SHA256))
    return table, ranks


class Tokenizer:
    """o200k_harmony: ordinary-text encoding, decoding, and per-token bytes.

    Text is encoded from the rank table (:mod:`.bpe`) up to a budget; beyond it, text the table
    leaves to tiktoken (:func:`.bpe.encode` returns None) and text with special tokens, by
    tiktoken, whose ``Encoding`` is built on first need. Both give the same ids.
    """

    def __init__(self) -> None:
        self._table, self._ranks = load_table()
        self._tiktoken: tiktoken.Encoding | None = None
        self._budget = TABLE_BUDGET
        self.encode_ordinary = functools.lru_cache(maxsize=4096)(self._encode_small)

    @property
    def _encoding(self) -> tiktoken.Encoding:
        """tiktoken's encoder (built on first use, from the ranks already read or the table)."""
        if self._tiktoken is None:
            import tiktoken

            ranks = self._ranks
            if ranks is None:
                tokens = self._table.tokens()
                ranks = dict(zip(tokens, range(len(tokens)), strict=True))
            self._tiktoken = tiktoken.Encoding(
                name=ENCODING_NAME,
                pat_str=_PATTERN,
                mergeable_ranks=ranks,
                special_tokens=SPECIAL_IDS,
            )
            self._ranks = None
        return self._tiktoken

    @functools.cached_property
    def _bytes(self) -> list[bytes]:
        """Every ordinary token's bytes by id."""
        return self._table.tokens()

    def _encode(self, text: str) -> list[int]:
        if self._tiktoken is None and len(text) <= self._budget:
            ids = bpe.encode(text, self._table)
            if ids is not None:
                self._budget -= len(text)
                return ids
        return self._encoding.encode_ordinary(text)

    def _encode_small(self, text: str) -> tuple[int, ...]:
        return tuple(self._encode(text))

    def encode(self, text: str) -> list[int]:
        """Encode ordinary text (special-token text stays ordinary text, as in the reference)."""
        if len(text) <= 64:
            return list(self.encode_ordinary(text))
        return self._encode(text)

    def encode_with_specials(self, text: str) -> list[int]:
        """Encode text in which special-token text becomes the special token."""
        return self._encoding.encode(text, allowed_special="all")

    def token_bytes(self, token: int) -> bytes:
        """The bytes of one token; a special token's text; ``KeyError`` for an unknown id."""
        if 0 <= token < T_VOCAB:
            return self._table.token(token)
        text = SPECIAL_TEXT.get(token)
        if text is None:
            raise KeyError(token)
        return text.encode()

    def decode(self, tokens: list[int]) -> str:
        """Decode ids to text, invalid UTF-8 replaced (special tokens appear as their text)."""
        return b"".join(self.token_bytes(t) for t in tokens).decode("utf-8", "replace")

    @property
    def vocab_size(self) -> int:
        return LAST_SPECIAL + 1


@functools.cache
def get_tokenizer() -> Tokenizer:
    """The shared tokenizer (loaded once, on first use)."""
    return Tokenizer()
