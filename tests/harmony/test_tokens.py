"""The rank table (harmony/bpe.py) and the tokenizer built on it give tiktoken's token ids, and the
table's cache file is reused when whole and rebuilt when damaged or stale."""

from __future__ import annotations

import functools
import os
import random
import unicodedata
from pathlib import Path

import pytest
import tiktoken

from gptoss_cli.harmony import bpe
from gptoss_cli.harmony import tokens as T
from gptoss_cli.harmony.bpe import LONGEST_PIECE, RankTable

README = Path(__file__).resolve().parents[2] / "README.md"


@functools.cache
def reference() -> tiktoken.Encoding:
    """tiktoken's encoder straight from the shipped vocabulary, as the tokenizer used to build it."""
    return tiktoken.Encoding(
        name="reference", pat_str=T._PATTERN, mergeable_ranks=T._load_ranks(), special_tokens=T.SPECIAL_IDS
    )


def _ascii_texts() -> list[str]:
    """Random ASCII strings over every character, and over the ones the split rules are about."""
    rng = random.Random(20240605)
    every = [chr(i) for i in range(128)]
    rules = list(
        "abcxyzABCXYZ019 \t\n\r\x0b\x0c\x1c\x1f\x00'sStTmMdDlLrReEvV.,;:!?-_/\\\"()[]{}<>@#$%^&*+=|~`"
    )
    texts = []
    for n in range(6000):
        pool = every if n % 3 == 0 else rules
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 60)))
        if n % 4 == 0:
            text = text.replace(" ", "  \n ").replace("s", "'S ")
        texts.append(text)
    text = README.read_text(encoding="utf-8")
    texts.append("".join(c for c in text if c.isascii()))
    texts += ["", " ", "\n\n\n", "   x", "x   ", "don't I'LL we'Re", "1234567", "a" * 300, "!" * 700]
    return texts


@functools.cache
def table() -> RankTable:
    return RankTable.build(T._load_ranks())


def test_ascii_text_encodes_as_tiktoken_does() -> None:
    ref = reference()
    for text in _ascii_texts():
        ids = bpe.encode(text, table())
        if ids is None:  # a piece too long to merge here: tiktoken's business
            assert any(len(p) > LONGEST_PIECE for p in text.split())
            continue
        assert ids == ref.encode_ordinary(text), repr(text)


CONTEXTS = [
    "{c}", "a{c}", "{c}a", "A{c}", "{c}A", "Aa{c}a", " {c}", "{c} ", "1{c}", "{c}1", "\n{c}", "{c}\n", "'{c}",
    "{c}'s", "!{c}", "{c}!", "{c}{c}", "x {c}{c} y", "{c}\t", "A{c}B", "a{c}b", "{c}/", "{c}  x",
]  # fmt: skip


def _assigned(codes: range) -> list[str]:
    """Characters with a category here (not the long s, left to tiktoken: see the test below)."""
    return [
        chr(c)
        for c in codes
        if c != 0x17F and not 0xD800 <= c < 0xE000 and unicodedata.category(chr(c)) != "Cn"
    ]


@pytest.mark.parametrize(
    ("name", "chars"),
    [
        ("every character below U+3000", _assigned(range(0x80, 0x3000))),
        ("every 11th above", _assigned(range(0x3000, 0x110000, 11))),
    ],
)
def test_any_character_splits_as_in_tiktoken(name: str, chars: list[str]) -> None:
    # Each class of the split pattern (upper, lower, both, mark, number, white space, other) is read
    # from the character's category: every assigned character, in contexts where its class shows.
    if unicodedata.unidata_version not in bpe.VERIFIED_UNICODE:
        chars = [c for c in chars if c.isascii()]
    ref = reference()
    for context in CONTEXTS:
        for start in range(0, len(chars), 40):
            text = "a|".join(context.format(c=c) for c in chars[start : start + 40])
            ids = bpe.encode(text, table())
            assert ids is not None, (context, chars[start : start + 40])
            assert ids == ref.encode_ordinary(text), (context, chars[start : start + 40])


def test_characters_the_split_cannot_class_are_left_to_tiktoken() -> None:
    unassigned = next(chr(c) for c in range(0x3000, 0x110000) if unicodedata.category(chr(c)) == "Cn")
    for text in [f"a {unassigned} b", "the ſ's", "lone \udc80 surrogate", "x" * (LONGEST_PIECE + 1)]:
        assert bpe.encode(text, table()) is None, text
        assert T.Tokenizer().encode(text) == reference().encode_ordinary(text)


def test_the_tokenizer_gives_tiktokens_ids_for_any_text() -> None:
    tok = T.Tokenizer()
    ref = reference()
    texts = [
        "hello world",
        "café, naïve — “quoted” 日本語のテキスト 🙂 ſ's",
        "x" * 5000 + " " + "y" * 600,
        "Ǆemal ǅ ǆ ʰa ̃b",
        "<|start|>user<|message|>hi",
    ]
    for text in texts:
        assert tok.encode(text) == ref.encode_ordinary(text), text
    assert tok.encode_with_specials(texts[-1]) == ref.encode(texts[-1], allowed_special="all")


def test_every_token_has_its_bytes_and_rank() -> None:
    ranks = T._load_ranks()
    built = table()
    assert len(built) == T.T_VOCAB
    for token, rank in ranks.items():
        assert built.token(rank) == token
        assert built.rank(token) == rank
    assert built.rank(b"\xff\xfe not a token \x00") is None
    tok = T.Tokenizer()
    assert tok.token_bytes(rank) == token
    assert tok.token_bytes(T.CHANNEL) == b"<|channel|>"
    with pytest.raises(KeyError):
        tok.token_bytes(T.LAST_SPECIAL + 1)
    assert tok._bytes[rank] == token


def test_the_table_is_cached_and_the_cache_is_what_was_built(home: Path) -> None:
    path = T._table_file()
    assert path.parent == home / "cache"
    assert not path.exists()
    first = T.Tokenizer()  # builds the table from the vocabulary and writes it
    assert first._ranks is not None
    written = path.read_bytes()
    again = T.Tokenizer()  # reads it
    assert again._ranks is None
    assert path.read_bytes() == written
    text = README.read_text(encoding="utf-8")[:4000].encode("ascii", "ignore").decode()
    assert again.encode(text) == first.encode(text) == reference().encode_ordinary(text)


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "flipped byte":
        data[len(data) // 2] ^= 0x40
    elif how == "truncated":
        del data[-100:]
    elif how == "empty":
        data = bytearray()
    elif how == "other vocabulary":
        data[20] ^= 1  # inside the vocabulary's sha256 in the header
    elif how == "not a table":
        data = bytearray(b"garbage" * 1000)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["flipped byte", "truncated", "empty", "other vocabulary", "not a table"])
def test_a_damaged_or_stale_cache_is_rebuilt(how: str) -> None:
    T.Tokenizer()
    path = T._table_file()
    good = path.read_bytes()
    _damage(path, how)
    assert RankTable.from_bytes(path.read_bytes(), T.VOCAB_SHA256) is None
    tok = T.Tokenizer()
    assert tok._ranks is not None  # read from the vocabulary again
    assert path.read_bytes() == good  # and written whole
    text = "A rebuilt table encodes as before: 12345 don't."
    assert tok.encode(text) == reference().encode_ordinary(text)


def test_an_unwritable_cache_dir_still_encodes(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "cache").write_text("a file where the cache dir would be")
    tok = T.Tokenizer()
    assert tok.encode("still fine") == reference().encode_ordinary("still fine")
    assert not T._table_file().exists()


def test_the_cache_file_is_replaced_atomically(home: Path) -> None:
    T.Tokenizer()
    path = T._table_file()
    before = os.stat(path).st_ino
    _damage(path, "flipped byte")
    T.Tokenizer()
    assert os.stat(path).st_ino != before  # a new file renamed over the old one, not rewritten in place
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_past_its_budget_the_tokenizer_builds_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(T, "TABLE_BUDGET", 200)
    tok = T.Tokenizer()
    first, second = "The first text, well within the budget. " * 3, "The second one spends the rest. " * 3
    assert tok.encode(first) == reference().encode_ordinary(first)
    assert tok._tiktoken is None  # the rank table did it
    assert tok.encode(second) == reference().encode_ordinary(second)
    assert tok._tiktoken is not None  # over the budget: tiktoken from now on
    assert tok.encode(first) == reference().encode_ordinary(first)


def test_a_vocabulary_that_is_not_the_one_shipped_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from gptoss_cli.errors import HarmonyError

    T.Tokenizer()  # a good table in the cache: it names the vocabulary it came from
    monkeypatch.setattr(T, "VOCAB_SHA256", "0" * 64)
    with pytest.raises(HarmonyError, match="is corrupt") as info:
        T.Tokenizer()
    assert info.value.hint == "reinstall gptoss-cli"
