"""Harmony core throughput: render, parse, tokenizer load and import time (run by hand, never a test).

    .venv/bin/python benchmarks/harmony.py            # table
    .venv/bin/python benchmarks/harmony.py --json     # machine-readable
    .venv/bin/python benchmarks/harmony.py --profile  # plus cProfile hotspots of render and parse

When openai-harmony is importable, its figures are measured in the same run on the same inputs
(it reads the vocabulary shipped in ``gptoss_cli/harmony/data`` offline through
``TIKTOKEN_ENCODINGS_BASE``) and the ratio ours/reference is printed (above 1 means we are faster).
Every figure is the best of N timed runs after a warm-up, measured with ``time.perf_counter``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "gptoss_cli" / "harmony" / "data"
# Before openai-harmony is imported anywhere: read the shipped vocabulary, never the network.
os.environ.setdefault("TIKTOKEN_ENCODINGS_BASE", str(DATA))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gptoss_cli import harmony as H  # noqa: E402
from gptoss_cli.harmony import tokens as T  # noqa: E402

RENDER_SIZES = (1_000, 10_000, 100_000)
PARSE_SIZE = 10_000
CHUNK_CHARS = 20
SEED = 20240605

# --- realistic content --------------------------------------------------------------------

_WORD_TEXT = (
    "the a an of to in for on with as by from at about into over after before between through "
    "we you it they this that these those which what when where why how if then else because so "
    "is are was were be been being has have had do does did can could should would will may might "
    "must not only also just still even more most less very quite rather really "
    "request response server client cache index query table column row schema migration deploy "
    "build test suite coverage latency throughput memory thread process queue buffer socket stream "
    "token parser renderer message channel header content function argument value result error "
    "config option default path file directory module package version release branch commit "
    "user customer order invoice payment account balance report chart metric dashboard alert "
    "weather forecast temperature city region country morning evening weekend holiday trip "
    "simple clear fast slow large small new old first last next previous same different careful "
    "check verify compare measure handle return update create delete read write parse render send "
    "think consider assume note suppose expect mean need want try use make take give find keep"
)
_WORDS = tuple(_WORD_TEXT.split())
_NAMES = ("Paris", "Tokyo", "Zürich", "São Paulo", "Kraków", "Montréal", "München", "Reykjavík")
_UNICODE = ("café", "naïve", "résumé", "—", "→", "≈", "°C", "€", "日本語", "✓", "🙂", "🚀")


def _sentence(rng: random.Random, lo: int = 6, hi: int = 22) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(lo, hi))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), rng.choice(_NAMES))
    if rng.random() < 0.2:
        words.insert(rng.randrange(len(words)), rng.choice(_UNICODE))
    if rng.random() < 0.25:
        words.insert(rng.randrange(len(words)), str(rng.choice((3, 12, 42, 128, 1024, 2.5, 99.9))))
    if rng.random() < 0.15:
        words.insert(rng.randrange(len(words)), f"`{rng.choice(_WORDS)}_{rng.choice(_WORDS)}()`")
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".....?!:")


def _paragraph(rng: random.Random, lo: int = 2, hi: int = 5) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(lo, hi)))


def _code(rng: random.Random) -> str:
    name = f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}"
    lines = [f"def {name}(items, limit={rng.randint(1, 100)}):", '    """' + _sentence(rng, 4, 10) + '"""']
    lines += [
        "    out = []",
        "    for item in items:",
        f"        if item.{rng.choice(_WORDS)} > limit:",
        f"            out.append(item.{rng.choice(_WORDS)})",
        "    return sorted(out)",
    ]
    return "```python\n" + "\n".join(lines) + "\n```"


def _user(rng: random.Random) -> str:
    text = " ".join(_sentence(rng, 5, 16) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.2:
        text += "\n\n" + _code(rng)
    return text


def _analysis(rng: random.Random, paragraphs: tuple[int, int] = (2, 4)) -> str:
    return "\n\n".join(_paragraph(rng, 2, 6) for _ in range(rng.randint(*paragraphs)))


def _final(rng: random.Random, sections: tuple[int, int] = (1, 3)) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(*sections)):
        parts.append(f"## {_sentence(rng, 2, 5).rstrip('.?!:')}")
        parts.append(_paragraph(rng, 1, 3))
        parts.append("\n".join(f"- **{rng.choice(_WORDS)}**: {_sentence(rng, 4, 12)}" for _ in range(3)))
        roll = rng.random()
        if roll < 0.3:
            parts.append(_code(rng))
        elif roll < 0.5:
            rows = [
                f"| {rng.choice(_NAMES)} | {rng.randint(-5, 35)} °C | {rng.randint(0, 100)} % |"
                for _ in range(4)
            ]
            parts.append("| City | Temp | Rain |\n|---|---|---|\n" + "\n".join(rows))
    return "\n\n".join(parts)


_TOOLS: list[dict[str, Any]] = [
    {
        "name": "get_weather",
        "description": "Gets the current weather and a short forecast for a location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and country, e.g. Paris, France"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
                "days": {"type": "integer", "description": "Days of forecast", "default": 1},
            },
            "required": ["location"],
        },
    },
    {
        "name": "search_orders",
        "description": "Searches the customer's orders.\nResults are sorted by date, newest first.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "status": {"type": "string", "enum": ["open", "shipped", "cancelled"]},
                "limit": {"type": "number", "default": 10},
                "tags": {"type": "array", "items": {"type": "string"}},
                "since": {
                    "type": "object",
                    "properties": {"year": {"type": "integer"}, "month": {"type": "integer"}},
                },
            },
            "required": ["query"],
        },
    },
    {"name": "get_time", "description": "Current local time of the user."},
]


def _message(role: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "role": role,
        "name": extra.pop("name", None),
        "content": [{"type": "text", "text": text}],
        **extra,
    }


def _turn(rng: random.Random) -> list[dict[str, Any]]:
    out = [_message("user", _user(rng))]
    out.append(_message("assistant", _analysis(rng), channel="analysis"))
    if rng.random() < 0.3:  # a function call and its result, then a little more thinking
        tool = rng.choice(("get_weather", "search_orders"))
        args = (
            {"location": rng.choice(_NAMES), "unit": "celsius", "days": rng.randint(1, 5)}
            if tool == "get_weather"
            else {"query": " ".join(rng.choice(_WORDS) for _ in range(3)), "limit": 5}
        )
        out.append(
            _message(
                "assistant",
                json.dumps(args, ensure_ascii=False),
                channel="commentary",
                recipient=f"functions.{tool}",
                content_type="<|constrain|>json",
            )
        )
        result = {
            "ok": True,
            "items": [{"id": rng.randint(1000, 9999), "note": _sentence(rng, 3, 9)} for _ in range(3)],
        }
        out.append(
            _message(
                "tool",
                json.dumps(result, ensure_ascii=False),
                name=f"functions.{tool}",
                channel="commentary",
                recipient="assistant",
            )
        )
        out.append(_message("assistant", _analysis(rng, (1, 2)), channel="analysis"))
    out.append(_message("assistant", _final(rng), channel="final"))
    return out


def _short_turn(rng: random.Random) -> list[dict[str, Any]]:
    return [
        _message("user", _sentence(rng, 4, 12)),
        _message("assistant", _sentence(rng, 4, 16), channel="analysis"),
        _message("assistant", _sentence(rng, 4, 24), channel="final"),
    ]


def conversation_dict(target_tokens: int, seed: int = SEED) -> dict[str, Any]:
    """A conversation (openai-harmony JSON) whose completion rendering is about ``target_tokens``."""
    rng = random.Random(seed + target_tokens)
    system = {
        "role": "system",
        "name": None,
        "content": [
            {
                "model_identity": "You are ChatGPT, a large language model trained by OpenAI.",
                "reasoning_effort": "High",
                "conversation_start_date": "2025-08-05",
                "knowledge_cutoff": "2024-06",
                "channel_config": {
                    "valid_channels": ["analysis", "commentary", "final"],
                    "channel_required": True,
                },
                "type": "system_content",
            }
        ],
    }
    developer = {
        "role": "developer",
        "name": None,
        "content": [
            {
                "instructions": "You are a helpful support assistant for an online shop.\n"
                "Answer concisely, use the tools when the answer depends on live data, and format "
                "answers in Markdown.",
                "tools": {"functions": {"name": "functions", "tools": _TOOLS}},
                "type": "developer_content",
            }
        ],
    }
    messages: list[dict[str, Any]] = [system, developer]
    last = _message("user", _user(rng))

    def rendered() -> int:
        conv = H.Conversation.from_dict({"messages": [*messages, last]})
        return len(H.render_conversation_for_completion(conv))

    size = rendered()
    misses = 0
    while size < target_tokens * 0.95 and misses < 200:
        turn = _turn(rng) if misses < 20 else _short_turn(rng)
        grown = size + _count(turn)
        if grown > target_tokens * 1.05:  # too long for what is left: draw another turn
            misses += 1
            continue
        messages.extend(turn)
        # Exact while the first turn's analysis may still be dropped; then sizes simply add up.
        size = rendered() if len(messages) < 16 else grown
    messages.append(last)
    return {"messages": messages}


def _count(messages: list[dict[str, Any]]) -> int:
    """Tokens of these messages rendered alone (each message renders on its own, so sizes add up)."""
    return len(H.render_conversation(H.Conversation.from_dict({"messages": messages}), None))


def completion_pieces(target_tokens: int, seed: int = SEED) -> list[H.Piece]:
    """A completion after ``<|start|>assistant``: analysis (~60%) then final (~40%)."""
    rng = random.Random(seed)
    enc = H.get_tokenizer().encode
    analysis: list[str] = []
    while len(enc("\n\n".join(analysis))) < target_tokens * 0.6:
        analysis.append(_paragraph(rng, 3, 7))
    final: list[str] = []
    budget = target_tokens - len(enc("\n\n".join(analysis))) - 12
    while len(enc("\n\n".join(final))) < budget:
        final.append(_final(rng, (1, 1)))
    return [
        *(T.CHANNEL, "analysis", T.MESSAGE, "\n\n".join(analysis), T.END),
        *(T.START, "assistant", T.CHANNEL, "final", T.MESSAGE, "\n\n".join(final)),
        T.RETURN,
    ]


# --- timing -------------------------------------------------------------------------------


def best_of(fn: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    """Best wall time of ``repeat`` runs of ``fn`` after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _subprocess_seconds(code: str, repeat: int) -> float | None:
    """Best of ``repeat`` fresh interpreters printing a duration they measured themselves."""
    best = float("inf")
    for _ in range(repeat):
        run = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env=os.environ,
        )
        if run.returncode != 0:
            print(f"warning: subprocess failed: {run.stderr.strip()[-300:]}", file=sys.stderr)
            return None
        best = min(best, float(run.stdout.strip().splitlines()[-1]))
    return best


_TIMED = "import time\n{setup}\n_t = time.perf_counter()\n{body}\nprint(time.perf_counter() - _t)\n"


@dataclass
class Row:
    name: str
    tokens: int
    ours_s: float | None
    ref_s: float | None = None
    unit: str = "tok/s"  # "tok/s" rows compare throughput; "ms" rows compare durations

    @property
    def ours_rate(self) -> float | None:
        return self.tokens / self.ours_s if self.ours_s and self.unit == "tok/s" else None

    @property
    def ref_rate(self) -> float | None:
        return self.tokens / self.ref_s if self.ref_s and self.unit == "tok/s" else None

    @property
    def ratio(self) -> float | None:
        """Ours relative to the reference, above 1 when ours is faster."""
        if self.ours_s is None or self.ref_s is None:
            return None
        return self.ref_s / self.ours_s

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(ours_rate=self.ours_rate, ref_rate=self.ref_rate, ratio=self.ratio)
        return out


# --- the reference --------------------------------------------------------------------------


class Reference:
    """openai-harmony, when importable."""

    def __init__(self) -> None:
        import openai_harmony as oh

        self.oh = oh
        self.encoding = oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS)
        self.version = _version("openai-harmony")

    def conversation(self, data: dict[str, Any]) -> Any:
        return self.oh.Conversation.from_json(json.dumps(data))

    def render(self, conversation: Any) -> list[int]:
        result: list[int] = self.encoding.render_conversation_for_completion(
            conversation, self.oh.Role.ASSISTANT
        )
        return result

    def render_core(self, conversation_json: str) -> list[int]:
        """The Rust core alone, the conversation already serialised (no pydantic ``to_json``)."""
        result: list[int] = self.encoding._inner.render_conversation_for_completion(
            conversation_json=conversation_json,
            next_turn_role="assistant",
            config={"auto_drop_analysis": True},
        )
        return result

    def parse(self, tokens: list[int]) -> Any:
        parser = self.oh.StreamableParser(self.encoding, self.oh.Role.ASSISTANT)
        process = parser.process
        for token in tokens:
            process(token)
        parser.process_eos()
        return parser


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def load_reference() -> Reference | None:
    try:
        return Reference()
    except ImportError:
        return None


# --- ours -----------------------------------------------------------------------------------


def parse_tokens(tokens: list[int], strict: bool = False) -> H.StreamParser:
    parser = H.StreamParser(H.Role.ASSISTANT, strict=strict)
    process = parser.process
    for token in tokens:
        process(token)
    parser.finish()
    return parser


def parse_chunks(chunks: list[str], strict: bool = False) -> H.StreamParser:
    parser = H.StreamParser(H.Role.ASSISTANT, strict=strict)
    feed = parser.feed_text
    for chunk in chunks:
        feed(chunk)
    parser.finish()
    return parser


def _same_messages(ours: list[H.Message], ref: list[Any]) -> bool:
    def norm_ours(m: H.Message) -> tuple[Any, ...]:
        return (m.author.role.value, m.channel, m.recipient, m.text)

    def norm_ref(m: Any) -> tuple[Any, ...]:
        return (m.author.role.value, m.channel, m.recipient, "".join(c.text for c in m.content))

    return [norm_ours(m) for m in ours] == [norm_ref(m) for m in ref]


# --- the run --------------------------------------------------------------------------------


def run(repeat: int, load_repeat: int, ref: Reference | None) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    H.get_tokenizer()

    for target in RENDER_SIZES:
        data = conversation_dict(target)
        conv = H.Conversation.from_dict(data)
        tokens = H.render_conversation_for_completion(conv)
        n = len(tokens)
        label = f"{round(target / 1000)}k"
        reps = max(3, repeat // 2) if n > 50_000 else repeat
        ours = best_of(lambda conv=conv: H.render_conversation_for_completion(conv), reps)
        ref_s = core_s = None
        if ref is not None:
            ref_conv = ref.conversation(data)
            if ref.render(ref_conv) != tokens:
                notes.append(f"render {label}: token ids differ from openai-harmony's")
            ref_s = best_of(lambda ref_conv=ref_conv: ref.render(ref_conv), reps)
            js = ref_conv.to_json()
            core_s = best_of(lambda js=js: ref.render_core(js), reps)
        rows.append(Row(f"render {label}, token ids ({len(data['messages'])} msgs)", n, ours, ref_s))
        if ref is not None:
            rows.append(Row(f"render {label}, token ids vs ref core*", n, ours, core_s))
        text = best_of(lambda conv=conv: H.pieces_to_text(H.completion_pieces(conv)), reps)
        rows.append(Row(f"render {label}, text", n, text))

    pieces = completion_pieces(PARSE_SIZE)
    tokens = H.pieces_to_tokens(pieces)
    text = H.pieces_to_text(pieces)
    chunks = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]
    n = len(tokens)
    expected = parse_tokens(tokens, strict=True).messages
    for strict in (False, True):
        if (
            parse_chunks(chunks, strict).messages != expected
            or parse_tokens(tokens, strict).messages != expected
        ):
            notes.append(f"parse ({'strict' if strict else 'lenient'}): token and text results differ")
    ref_parse = None
    if ref is not None:
        if not _same_messages(expected, ref.parse(tokens).messages):
            notes.append("parse: messages differ from openai-harmony's")
        ref_parse = best_of(lambda: ref.parse(tokens), repeat)
    for strict in (False, True):
        mode = "strict" if strict else "lenient"
        ours = best_of(lambda strict=strict: parse_tokens(tokens, strict), repeat)
        rows.append(Row(f"parse 10k, token by token ({mode})", n, ours, ref_parse))
        ours = best_of(lambda strict=strict: parse_chunks(chunks, strict), repeat)
        rows.append(Row(f"parse 10k, {CHUNK_CHARS}-char text chunks ({mode})", n, ours))

    imp = _subprocess_seconds(_TIMED.format(setup="", body="import gptoss_cli.harmony"), load_repeat)
    tok = _subprocess_seconds(
        _TIMED.format(setup="import gptoss_cli.harmony as H", body="H.get_tokenizer()"), load_repeat
    )
    ref_imp = ref_tok = None
    if ref is not None:
        ref_imp = _subprocess_seconds(_TIMED.format(setup="", body="import openai_harmony"), load_repeat)
        ref_tok = _subprocess_seconds(
            _TIMED.format(
                setup="import openai_harmony as oh",
                body="oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS)",
            ),
            load_repeat,
        )
    rows.append(Row("import gptoss_cli.harmony / openai_harmony", 0, imp, ref_imp, unit="ms"))
    rows.append(Row("tokenizer cold load / load_harmony_encoding", 0, tok, ref_tok, unit="ms"))
    return rows, notes


def _fmt_rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate / 1000:,.0f}k"


def _fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.2f}"


def table(rows: list[Row], ref: Reference | None) -> str:
    head = ("benchmark", "tokens", "ours tok/s", "ours ms", "ref tok/s", "ref ms", "ours/ref")
    body = [
        (
            r.name,
            f"{r.tokens:,}" if r.tokens else "",
            _fmt_rate(r.ours_rate),
            _fmt_ms(r.ours_s),
            _fmt_rate(r.ref_rate),
            _fmt_ms(r.ref_s),
            "-" if r.ratio is None else f"{r.ratio:.2f}x",
        )
        for r in rows
    ]
    widths = [max(len(x[i]) for x in (head, *body)) for i in range(len(head))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(head), "  ".join("-" * w for w in widths), *(line(b) for b in body)]
    if ref is None:
        out.append("(no reference: openai-harmony not importable, or --no-reference)")
    else:
        out.append(
            f"ref = openai-harmony {ref.version}; ours/ref > 1 means ours is faster. The reference's "
            "render is its public API (pydantic to_json included);\n*ref core = its Rust render on "
            "JSON serialised beforehand. Its parser is strict, fed with process()."
        )
        ref_rate = next((r.ref_rate for r in rows if r.name.startswith("parse") and r.ref_rate), None)
        chunk = next((r for r in rows if "text chunks (lenient)" in r.name), None)
        if ref_rate and chunk and chunk.ours_rate:
            ratio = chunk.ours_rate / ref_rate
            out.append(f"text chunks (lenient) vs the reference's token-by-token rate: {ratio:.2f}x")
    return "\n".join(out)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "tiktoken": _version("tiktoken"),
    }
    if hasattr(os, "getloadavg"):
        info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    return info


# --- profiling ------------------------------------------------------------------------------


def profile(top: int) -> str:
    """cProfile hotspots of the render paths (100k), the parse paths (10k) and the tokenizer load."""
    conv = H.Conversation.from_dict(conversation_dict(RENDER_SIZES[-1]))
    pieces = completion_pieces(PARSE_SIZE)
    tokens = H.pieces_to_tokens(pieces)
    text = H.pieces_to_text(pieces)
    chunks = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]
    out = io.StringIO()
    cases: list[tuple[str, Callable[[], object]]] = [
        ("render 100k, token ids", lambda: H.render_conversation_for_completion(conv)),
        ("render 100k, text", lambda: H.pieces_to_text(H.completion_pieces(conv))),
        ("parse 10k, token by token (lenient), 5 runs", lambda: [parse_tokens(tokens) for _ in range(5)]),
        ("parse 10k, text chunks (lenient), 5 runs", lambda: [parse_chunks(chunks) for _ in range(5)]),
        ("parse 10k, text chunks (strict), 5 runs", lambda: [parse_chunks(chunks, True) for _ in range(5)]),
        ("tokenizer load (tiktoken already imported)", T.Tokenizer),
    ]
    for name, fn in cases:
        fn()
        prof = cProfile.Profile()
        prof.enable()
        fn()
        prof.disable()
        out.write(f"\n=== {name} (sorted by tottime) ===\n")
        pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs per figure, best taken (default 7)")
    ap.add_argument("--load-repeat", type=int, default=5, help="fresh interpreters per load time (default 5)")
    ap.add_argument("--no-reference", action="store_true", help="skip openai-harmony even if importable")
    ap.add_argument("--profile", action="store_true", help="also print cProfile hotspots")
    ap.add_argument("--top", type=int, default=15, help="hotspots per profile (default 15)")
    args = ap.parse_args(argv)

    ref = None if args.no_reference else load_reference()
    rows, notes = run(max(1, args.repeat), max(1, args.load_repeat), ref)
    if args.json:
        result: dict[str, Any] = {
            "machine": machine(),
            "reference": None if ref is None else {"name": "openai-harmony", "version": ref.version},
            "repeat": args.repeat,
            "chunk_chars": CHUNK_CHARS,
            "results": [r.to_dict() for r in rows],
            "notes": notes,
        }
        if args.profile:
            result["profile"] = profile(args.top)
        print(json.dumps(result, indent=2))
        return 0
    m = machine()
    print(
        f"Python {m['python']} on {m['platform']}, {m['cpus']} CPUs, load {m.get('loadavg')}, "
        f"tiktoken {m['tiktoken']}; best of {args.repeat}\n"
    )
    print(table(rows, ref))
    for note in notes:
        print(f"WARNING: {note}")
    if args.profile:
        print(profile(args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
