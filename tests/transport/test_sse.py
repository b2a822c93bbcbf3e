"""The SSE decoder: spec rules, llama.cpp extensions, and independence from chunk boundaries."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from gptoss_cli.transport.sse import LineSplitter, SSEDecoder, SSEEvent


def decode(*chunks: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    return events + decoder.close()


def test_data_events_and_done() -> None:
    events = decode(b'data: {"a":1}\n\ndata: [DONE]\n\n')
    assert events == [SSEEvent('{"a":1}'), SSEEvent("[DONE]")]
    assert [e.is_done for e in events] == [False, True]


def test_multiline_data_is_joined_with_newlines() -> None:
    assert decode(b"data: one\ndata: two\ndata:\n\n") == [SSEEvent("one\ntwo\n")]


def test_event_names_and_reset() -> None:
    events = decode(b"event: update\ndata: x\n\ndata: y\n\n")
    assert events == [SSEEvent("x", "update"), SSEEvent("y", "message")]


def test_event_without_data_dispatches_nothing_and_resets_the_name() -> None:
    assert decode(b"event: lonely\n\ndata: y\n\n") == [SSEEvent("y")]


def test_comments_pings_ids_and_unknown_fields_are_ignored() -> None:
    body = b":\n\n: keep-alive\n\nid: 7\nretry: 100\nfoo: bar\ndata: x\n\n:\n\n"
    assert decode(body) == [SSEEvent("x")]


def test_only_one_leading_space_is_removed() -> None:
    assert decode(b"data:  two spaces\n\ndata:none\n\n") == [SSEEvent(" two spaces"), SSEEvent("none")]


def test_field_without_colon() -> None:
    assert decode(b"data\n\n") == [SSEEvent("")]


def test_crlf_and_cr_line_ends() -> None:
    assert decode(b"data: a\r\n\r\ndata: b\r\rdata: c\n\n") == [SSEEvent("a"), SSEEvent("b"), SSEEvent("c")]


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert decode(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n") == [SSEEvent("a"), SSEEvent("b")]


def test_llamacpp_error_line_is_an_error_event() -> None:
    body = b'data: {"x":1}\n\nerror: {"code":500,"message":"boom"}\n\n'
    assert decode(body) == [SSEEvent('{"x":1}'), SSEEvent('{"code":500,"message":"boom"}', "error")]


def test_close_dispatches_a_last_event_without_blank_line() -> None:
    assert decode(b"data: [DONE]") == [SSEEvent("[DONE]")]
    assert decode(b"data: [DONE]\n") == [SSEEvent("[DONE]")]


def test_bom_is_skipped_once() -> None:
    assert decode(b"\xef\xbb\xbfdata: a\n\n") == [SSEEvent("a")]
    # A BOM split across chunks is still the BOM; a later one is part of a (then unknown) field name.
    assert decode(b"\xef", b"\xbb\xbfdata: a\n\n\xef\xbb\xbfdata: b\n\n") == [SSEEvent("a")]


def test_utf8_split_across_chunks() -> None:
    raw = "data: héllo ✓\n\n".encode()
    assert decode(raw[:8], raw[8:9], raw[9:]) == [SSEEvent("héllo ✓")]


def test_empty_chunks_do_not_disturb_state() -> None:
    assert decode(b"data: a\r", b"", b"\n\n") == [SSEEvent("a")]


def test_line_splitter() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b'{"a":1}\n{"b"') == ['{"a":1}']
    assert splitter.feed(b":2}\r\n") == ['{"b":2}']
    assert splitter.feed(b"tail") == []
    assert splitter.close() == ["tail"]
    assert splitter.close() == []


STREAM = (
    b"\xef\xbb\xbfdata: first\r\n\r\n: ping\r\n\r\n"
    b'data: {"choices":[{"text":"<|channel|>"}]}\n\n'
    b"event: custom\r\ndata: two\r\ndata: lines\r\n\r\n"
    b'error: {"message":"x"}\r\r'
    b"data: caf\xc3\xa9\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    SSEEvent("first"),
    SSEEvent('{"choices":[{"text":"<|channel|>"}]}'),
    SSEEvent("two\nlines", "custom"),
    SSEEvent('{"message":"x"}', "error"),
    SSEEvent("café"),
    SSEEvent("[DONE]"),
]


def test_every_single_split_point_gives_the_same_events() -> None:
    for cut in range(len(STREAM) + 1):
        assert decode(STREAM[:cut], STREAM[cut:]) == EXPECTED, cut


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(STREAM)]
    chunks = [STREAM[a:b] for a, b in itertools.pairwise(points)]
    assert decode(*chunks) == EXPECTED


def test_one_event_chunks_match_the_general_path() -> None:
    """The one-event-per-chunk fast path gives what line-by-line decoding gives."""
    chunks = [
        b": ping\n\n",
        b'data: {"a": 1}\n\n',
        b"event: error\n",
        b'data: {"b": 2}\n\n',
        b'data: {"c": "\xc3\xa9"}\n\n',
    ]
    fast = SSEDecoder()
    slow = SSEDecoder()
    got_fast = [e for c in chunks for e in fast.feed(c)]
    got_slow = [e for c in chunks for b in c for e in slow.feed(bytes([b]))]
    assert got_fast == got_slow
    assert [e.event for e in got_fast] == ["message", "error", "message"]
