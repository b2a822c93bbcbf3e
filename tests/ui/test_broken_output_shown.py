"""Property: however the model's output is broken, no reasoning reaches what ``ask`` prints on stdout.

Generated turns (analysis messages whose text is written in Greek capitals, then a final answer
or a tool call in either header form) are rendered, corrupted (special tokens stripped, all or
some; channel names garbled; ``<|start|>``, ``<|end|>`` or ``<|message|>`` missing; junk
inserted; cut off anywhere), streamed through the parser in random chunks and shown by the real
:class:`StreamView`. Its stdout must never hold a Greek capital.
"""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gptoss_cli.harmony import Role, StreamParser, get_tokenizer
from gptoss_cli.harmony.tokens import SPECIAL_IDS
from gptoss_cli.ui.stream import StreamView, ViewOptions

REASONING = "ΑΒΓΔΕ"
SETTINGS = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
_SPECIALS = ["<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>", "<|call|>"]


def shown(text: str, cuts: list[int], *, cut_off: bool = False, tokens: bool = False) -> tuple[str, str]:
    """What gptoss would print on stdout and stderr for this completion, streamed in pieces
    (text chunks cut at ``cuts``, or with ``tokens`` one token id at a time, as vLLM sends)."""
    out, err = io.StringIO(), io.StringIO()
    view = StreamView(ViewOptions(markdown=False, color=False), stdout=out, stderr=err)
    parser = StreamParser(Role.ASSISTANT)
    if tokens:
        for token in get_tokenizer().encode_with_specials(text):
            for event in parser.feed_tokens([token]):
                view.handle(event)
        text, cuts = "", []
    last = 0
    for cut in [*sorted(c for c in cuts if c <= len(text)), len(text)]:
        for event in parser.feed_text(text[last:cut]):
            view.handle(event)
        last = cut
    for event in parser.finish(cut_off=cut_off):
        view.handle(event)
    view.close()
    return out.getvalue(), err.getvalue()


# --- generated turns ------------------------------------------------------------------------

_mention = st.sampled_from(
    ["", ' "assistantfinal" ', " assistantfinal then ", " the final answer ", " `final` "]
)
_reasoning = st.builds(
    lambda a, m, b: a + m + b,
    st.text(alphabet=REASONING + " .", min_size=1, max_size=10).filter(lambda s: s.strip(" .") != ""),
    _mention,
    st.text(alphabet=REASONING + " .", max_size=6),
)
_answer = st.text(alphabet="xyz .,!", min_size=1, max_size=10)


@st.composite
def turns(draw: st.DrawFn) -> str:
    """A rendered assistant turn (the prompt ended with ``<|start|>assistant``)."""
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        parts.append(f"<|channel|>analysis<|message|>{draw(_reasoning)}<|end|>")
    if draw(st.booleans()):
        args = json.dumps({"q": draw(_answer)})
        if draw(st.booleans()):
            header = " to=functions.lookup<|channel|>commentary <|constrain|>json"
        else:
            header = "<|channel|>commentary to=functions.lookup <|constrain|>json"
        parts.append(f"{header}<|message|>{args}<|call|>")
    else:
        parts.append(f"<|channel|>final<|message|>{draw(_answer)}<|return|>")
    return "<|start|>assistant".join(parts)


# --- corruptions ----------------------------------------------------------------------------


def _strip_all(text: str, _draw: st.DrawFn) -> str:
    for special in SPECIAL_IDS:
        text = text.replace(special, "")
    return text


def _strip_some(text: str, draw: st.DrawFn) -> str:
    for special in draw(st.lists(st.sampled_from(_SPECIALS), min_size=1, max_size=4, unique=True)):
        text = text.replace(special, "")
    return text


def _garble_analysis(text: str, draw: st.DrawFn) -> str:
    name = draw(
        st.sampled_from(["Analysis", "analysis?", "finalanalysis", "analysis.", "ANALYSIS", " analysis"])
    )
    return text.replace("<|channel|>analysis", "<|channel|>" + name)


def _garble_final(text: str, draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(["fnal", "", "final_answer", "Final", "final??", None]))
    return text.replace("<|channel|>final", "" if name is None else "<|channel|>" + name)


def _drop(token: str) -> object:
    def corrupt(text: str, draw: st.DrawFn) -> str:
        if draw(st.booleans()):
            return text.replace(token, "")
        at = [i for i in range(len(text)) if text.startswith(token, i)]
        if not at:
            return text
        i = draw(st.sampled_from(at))
        return text[:i] + text[i + len(token) :]

    return corrupt


def _junk(text: str, draw: st.DrawFn) -> str:
    """Junk where a token boundary is: before the output, between messages, around a marker."""
    starts = [(i, s) for s in _SPECIALS for i in range(len(text)) if text.startswith(s, i)]
    bounds = sorted({0, len(text)} | {i for i, _ in starts} | {i + len(s) for i, s in starts})
    i = draw(st.sampled_from(bounds))
    junk = draw(st.text(alphabet="qzj#%@ \n", min_size=1, max_size=6))
    return text[:i] + junk + text[i:]


def _plain_role(text: str, _draw: st.DrawFn) -> str:
    return text.replace("<|start|>assistant", "assistant")


CORRUPTIONS = {
    "strip_all": _strip_all,
    "strip_some": _strip_some,
    "garble_analysis": _garble_analysis,
    "garble_final": _garble_final,
    "no_start": _drop("<|start|>"),
    "no_end": _drop("<|end|>"),
    "no_message": _drop("<|message|>"),
    "plain_role": _plain_role,
    "junk": _junk,
}


@st.composite
def broken(draw: st.DrawFn) -> tuple[str, list[str], bool]:
    text = draw(turns())
    names = draw(st.lists(st.sampled_from(sorted(CORRUPTIONS)), max_size=3))
    for name in names:
        text = CORRUPTIONS[name](text, draw)  # type: ignore[operator]
    cut_off = draw(st.booleans())
    if cut_off:
        text = text[: draw(st.integers(0, len(text)))]
        names.append("cut")
    return text, names, cut_off


@SETTINGS
@given(case=broken(), cuts=st.lists(st.integers(0, 300), max_size=8), tokens=st.booleans())
def test_no_reasoning_on_stdout(case: tuple[str, list[str], bool], cuts: list[int], tokens: bool) -> None:
    text, names, cut_off = case
    out, _ = shown(text, cuts, cut_off=cut_off, tokens=tokens)
    assert not set(out) & set(REASONING), (names, text, out)


@SETTINGS
@given(text=turns())
def test_clean_turns_show_their_answer(text: str) -> None:
    out, _ = shown(text, [])
    if "<|channel|>final" in text:
        answer = text.rsplit("<|message|>", 1)[1].removesuffix("<|return|>")
        assert out == answer.rstrip("\n") + "\n" if answer else out == ""
    else:
        assert out == ""


def test_held_answer_is_printed_when_known() -> None:
    out, err = shown("analysisΑΒΓ.assistantfinalParis.", list(range(40)))
    assert out == "Paris.\n" and "ΑΒΓ" not in err


def test_unclear_text_is_not_printed() -> None:
    out, _ = shown(
        "<|channel|>analysis<|message|>ΑΒΓ<|end|><|start|>assistant<|channel|>fnal<|message|>maybe", []
    )
    assert out == ""
