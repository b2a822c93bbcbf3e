"""The vocabulary as a rank table that loads in a millisecond, and byte-pair encoding with it.

tiktoken's ``Encoding`` takes about a second of CPU to build from the 200,000 ranks (reading them
and hashing them into its tables), longer than the rest of a ``gptoss ask``. For a prompt this
module encodes without it:

- :class:`RankTable`: every token's bytes (a blob and its offsets) and an open-addressing hash
  table from bytes to rank (``zlib.crc32``, linear probing), as flat arrays. Its file form
  (:meth:`RankTable.to_bytes`) is read whole and used in place; it names the vocabulary it was
  built from (sha256) and carries a CRC of its contents, so a stale or damaged file is refused
  (:meth:`RankTable.from_bytes` returns None) and rebuilt by the caller.
- :func:`encode`: tiktoken's split and merge. The split is ``tokens._PATTERN`` run on a proxy of
  the text (:data:`PROXY`), where every character stands for its class in that pattern (upper,
  lower, both, mark, number, white space, other) by its Unicode category, so that Python's ``re``,
  which has no ``\\p{...}``, can run it (:data:`SPLIT`); the pieces are then cut from the text
  itself. The merge is tiktoken's ``_byte_pair_merge``: the adjacent pair of least rank, leftmost on
  ties, until none is in the vocabulary. ``tests/harmony/test_tokens.py`` holds both to tiktoken,
  every assigned character in many contexts included.
"""

from __future__ import annotations

import re
import struct
import sys
import unicodedata
import zlib
from array import array
from collections.abc import Iterable

_W = r"\t\n\x0b\x0c\r "  # \s in ASCII (Unicode White_Space; not \x1c-\x1f, which Python's isspace takes)
_S = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?"  # (?i:'s|'t|'re|'ve|'m|'ll|'d)?
SPLIT = re.compile(
    "|".join(
        [
            rf"[^\r\nA-Za-z0-9\x01]?[A-Z\x01\x02]*[a-z\x01\x02]+{_S}",
            rf"[^\r\nA-Za-z0-9\x01]?[A-Z\x01\x02]+[a-z\x01\x02]*{_S}",
            r"[0-9]{1,3}",
            rf" ?[^{_W}A-Za-z0-9\x01]+[\r\n/]*",
            rf"[{_W}]*[\r\n]+",
            rf"[{_W}]+(?![^{_W}])",
            rf"[{_W}]+",
        ]
    )
)
"""tiktoken's o200k split, run on the text's :data:`PROXY` (each Unicode class spelt in ASCII)."""

VERIFIED_UNICODE = ("14.0.0",)
"""Python Unicode databases whose categories give tiktoken's split for every assigned character
(``tests/harmony/test_tokens.py``); under another, only ASCII text is encoded here."""

_WHITE_SPACE = frozenset([0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000])
_CLASS = {
    "Lu": "A", "Lt": "A", "Ll": "a", "Lm": "\x01", "Lo": "\x01",  # \x01: upper and lower (Lm, Lo)
    "Mn": "\x02", "Mc": "\x02", "Me": "\x02",  # \x02: upper and lower, yet not a letter (M)
    "Nd": "0", "Nl": "0", "No": "0",
}  # fmt: skip


class _Proxy(dict[int, str]):
    """``str.translate`` table: each character to one of its class in :data:`SPLIT`.

    ASCII stands for itself (``\x01`` and ``\x02``, ordinary controls, for ``!``); white space to
    ``\t``, letters, marks and numbers by category, anything else to ``!``. A character whose class
    may not be tiktoken's (unassigned here, a surrogate, or U+017F long s, which ``(?i)`` takes for s)
    raises LookupError, so ``translate`` leaves it as it is: not ASCII, the text goes to tiktoken.
    """

    def __missing__(self, code: int) -> str:
        if code in _WHITE_SPACE:
            proxy = "\t"
        else:
            category = unicodedata.category(chr(code))
            if (
                category in ("Cn", "Cs")
                or code == 0x17F
                or unicodedata.unidata_version not in VERIFIED_UNICODE
            ):
                raise LookupError(code)
            proxy = _CLASS.get(category, "!")
        self[code] = proxy
        return proxy


PROXY = _Proxy({code: chr(code) for code in range(128)} | {1: "!", 2: "!"})

LONGEST_PIECE = 512
"""Bytes: a longer piece (merging is quadratic in its length) is left to tiktoken."""

_MAGIC = b"gptoss-rank-table\x00"
_HEADER = struct.Struct(f"<{len(_MAGIC)}s32s2sBIIII")  # magic, vocab sha256, byte order, item size,
_ITEM = array("I").itemsize  #                           tokens, slots, blob bytes, CRC of the rest
_NONE = 1 << 62


class RankTable:
    """Token bytes by rank, and rank by token bytes (``rank``), over flat arrays."""

    def __init__(self, slots: memoryview, offsets: memoryview, blob: bytes) -> None:
        self._slots = slots  # rank + 1 at crc32(bytes) & mask (or the next free slot); 0: empty
        self._offsets = offsets  # token r is blob[offsets[r]:offsets[r + 1]]
        self._blob = blob
        self._mask = len(slots) - 1

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def rank(self, token: bytes) -> int | None:
        """The rank of ``token``'s bytes, None when they are not one token."""
        slots, offsets, blob, mask = self._slots, self._offsets, self._blob, self._mask
        h = zlib.crc32(token) & mask
        while entry := slots[h]:
            r = entry - 1
            if blob[offsets[r] : offsets[r + 1]] == token:
                return r
            h = (h + 1) & mask
        return None

    def token(self, rank: int) -> bytes:
        """The bytes of token ``rank`` (``IndexError`` outside the table)."""
        if not 0 <= rank < len(self):
            raise IndexError(rank)
        return self._blob[self._offsets[rank] : self._offsets[rank + 1]]

    def tokens(self) -> list[bytes]:
        """Every token's bytes, in rank order."""
        blob, offsets = self._blob, self._offsets
        return [blob[offsets[r] : offsets[r + 1]] for r in range(len(self))]

    @classmethod
    def build(cls, tokens: Iterable[bytes]) -> RankTable:
        """The table of ``tokens`` (rank = position)."""
        items = list(tokens)
        size = 1 << max(4, (len(items) * 2).bit_length())  # under half full: short probes
        mask = size - 1
        slots = array("I", bytes(size * _ITEM))
        offsets = array("I", [0])
        at = 0
        for rank, token in enumerate(items):
            h = zlib.crc32(token) & mask
            while slots[h]:
                h = (h + 1) & mask
            slots[h] = rank + 1
            at += len(token)
            offsets.append(at)
        return cls(memoryview(slots), memoryview(offsets), b"".join(items))

    def to_bytes(self, vocab_sha256: str) -> bytes:
        """The file form: a header naming the vocabulary, then slots, offsets and blob."""
        body = b"".join([self._slots.tobytes(), self._offsets.tobytes(), self._blob])
        order = sys.byteorder[:2].encode()
        head = _HEADER.pack(
            _MAGIC, bytes.fromhex(vocab_sha256), order, _ITEM, len(self), len(self._slots),
            len(self._blob), zlib.crc32(body),
        )  # fmt: skip
        return head + body

    @classmethod
    def from_bytes(cls, data: bytes, vocab_sha256: str) -> RankTable | None:
        """The table in ``data``, or None unless it is whole, undamaged, built here from that vocabulary."""
        if len(data) < _HEADER.size:
            return None
        magic, vocab, order, item, count, size, blob_len, crc = _HEADER.unpack_from(data)
        expected = (_MAGIC, bytes.fromhex(vocab_sha256), sys.byteorder[:2].encode(), _ITEM)
        if (magic, vocab, order, item) != expected or size & (size - 1) or size <= count:
            return None
        start = _HEADER.size
        end_slots = start + size * _ITEM
        end_offsets = end_slots + (count + 1) * _ITEM
        if len(data) != end_offsets + blob_len or zlib.crc32(memoryview(data)[start:]) != crc:
            return None
        view = memoryview(data)
        offsets = view[end_slots:end_offsets].cast("I")
        if offsets[0] != 0 or offsets[count] != blob_len:
            return None
        return cls(view[start:end_slots].cast("I"), offsets, data[end_offsets:])


def encode(text: str, table: RankTable) -> list[int] | None:
    """tiktoken's ``encode_ordinary`` of ``text``; None when it is tiktoken's to do (a character
    :data:`PROXY` cannot class, or a piece too long to merge here)."""
    proxy = text if text.isascii() and "\x01" not in text and "\x02" not in text else text.translate(PROXY)
    if not proxy.isascii():
        return None
    out: list[int] = []
    rank = table.rank
    for match in SPLIT.finditer(proxy):
        piece = text[match.start() : match.end()].encode()
        r = rank(piece)
        if r is not None:
            out.append(r)
        elif len(piece) > LONGEST_PIECE:
            return None
        else:
            out += _merge(piece, table)
    return out


def _merge(piece: bytes, table: RankTable) -> list[int]:
    """Byte-pair merging of one piece: tiktoken's ``_byte_pair_merge``, step for step."""
    rank = table.rank
    bounds = list(range(len(piece) + 1))  # part k is piece[bounds[k]:bounds[k + 1]]

    def pair(k: int) -> int:
        found = rank(piece[bounds[k] : bounds[k + 2]])
        return _NONE if found is None else found

    ranks = [pair(k) for k in range(len(piece) - 1)]
    while ranks:
        least = min(ranks)
        if least == _NONE:
            break
        k = ranks.index(least)  # the leftmost of equal ranks, as tiktoken
        del bounds[k + 1]
        del ranks[k]
        if k < len(ranks):
            ranks[k] = pair(k)
        if k:
            ranks[k - 1] = pair(k - 1)
    out = []
    for k in range(len(bounds) - 1):
        r = rank(piece[bounds[k] : bounds[k + 1]])
        if r is None:  # every single byte is a token of a byte-level BPE
            raise KeyError(piece[bounds[k] : bounds[k + 1]])
        out.append(r)
    return out
