"""Write a tiny gpt-oss checkpoint in Hugging Face form: random weights, the real o200k_harmony tokenizer.

usage: make_hf_model.py OUT_DIR

Run with the vLLM tier's venv (scripts/vllm_tier/install.sh): it needs torch, transformers, tokenizers
and tiktoken. OUT_DIR gets config.json, model.safetensors, generation_config.json, tokenizer.json and
tokenizer_config.json: what vLLM loads for ``openai/gpt-oss-20b``, at 26M parameters.

* Model: ``GptOssForCausalLM`` with 2 layers (sliding then full attention), hidden size 64, 4 heads
  of 64 dimensions (vLLM's CPU attention refuses head_dim 16), 2 KV heads, 4 experts (2 per token),
  bfloat16, random weights from a fixed seed. The weights are random, so the model babbles; the tier
  forces exact output with a logits processor (force_ids.py).
* Tokenizer: byte-level BPE built from the vocabulary the package ships
  (gptoss_cli/harmony/data/o200k_base.tiktoken) with o200k's split pattern, and the Harmony special
  tokens 199998..200018 added one by one in id order as special, unnormalised tokens (transformers
  5.19's tiktoken converter no longer registers special tokens passed to it). Before anything is
  written, the tokenizer is checked against gptoss's own o200k_harmony (tiktoken) on ordinary text
  and on Harmony text with special tokens.
* generation_config.json: the real gpt-oss's end-of-generation ids, 200002 199999 200012
  (``<|return|>`` ``<|endoftext|>`` ``<|call|>``), which vLLM adds to every request's stop ids.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # gptoss_cli.harmony.tokens: standard library + tiktoken only

from gptoss_cli.harmony import tokens as T  # noqa: E402

LAST_ADDED = 200018  # the real gpt-oss tokenizer.json's added tokens end here (<|endofprompt|>)
NAMED = T.NAMED_SPECIALS | {"<|endofprompt|>": LAST_ADDED}
SEED = 1234
CONFIG = {
    "num_hidden_layers": 2,
    "hidden_size": 64,
    "intermediate_size": 64,
    "head_dim": 64,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_local_experts": 4,
    "num_experts_per_tok": 2,
    "sliding_window": 128,
    "vocab_size": 201088,
    "max_position_embeddings": 131072,
    "bos_token_id": T.STARTOFTEXT,
    "eos_token_id": T.RETURN,
    "pad_token_id": T.ENDOFTEXT,
    "tie_word_embeddings": False,
}
GENERATION_CONFIG = {
    "bos_token_id": T.STARTOFTEXT,
    "do_sample": True,
    "eos_token_id": [T.RETURN, T.ENDOFTEXT, T.CALL],
    "pad_token_id": T.ENDOFTEXT,
}
CHECK_TEXTS = [
    "Hello, world! What is 2+2?",
    "  leading spaces, trailing tabs\t\t\nand CRLF\r\nlines",
    "Numbers 1234567 and 3.14159, dates 2026-12-02, ids a1b2c3.",
    "Unicode: héllo wörld, 日本語のテキスト, emoji 🙂👍🏽, Ελληνικά, русский.",
    "def f(x):\n    return {'a': [x, x ** 2]}  # code\n\n\n",
    "It's they're we'll I'd HE'S — quotes “like this” and ‘this’.",
    '{"location":"Paris","unit":"celsius"}',
    "Say <|end|> literally? <|start|> is text here.",
]
HARMONY_TEXTS = [
    "<|start|>system<|message|>You are ChatGPT.\nReasoning: low<|end|>"
    "<|start|>user<|message|>What is 2+2?<|end|><|start|>assistant",
    "<|channel|>analysis<|message|>Easy.<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>",
    "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json"
    '<|message|>{"a":1}<|call|>',
    "<|startoftext|><|endoftext|><|reserved_200001|><|reserved_200017|>",
]


def special_texts() -> list[tuple[int, str]]:
    """(id, text) of every added special token, in id order."""
    by_id = {i: t for t, i in NAMED.items()}
    return [(i, by_id.get(i, f"<|reserved_{i}|>")) for i in range(T.FIRST_SPECIAL, LAST_ADDED + 1)]


def build_tokenizer(vocab: Path):  # type: ignore[no-untyped-def]
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import BPE
    from transformers.convert_slow_tokenizer import TikTokenConverter

    vocab_map, merges = TikTokenConverter(vocab_file=str(vocab)).extract_vocab_merges_from_model(str(vocab))
    if len(vocab_map) != T.T_VOCAB:
        sys.exit(f"{vocab}: {len(vocab_map)} tokens, expected {T.T_VOCAB}")
    tok = Tokenizer(BPE(vocab_map, merges, fuse_unk=False, ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(T._PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    for token_id, text in special_texts():
        tok.add_special_tokens([AddedToken(text, special=True, normalized=False)])
        got = tok.token_to_id(text)
        if got != token_id:
            sys.exit(f"special token {text} got id {got}, expected {token_id}")
    return tok


def check_tokenizer(tok) -> None:  # type: ignore[no-untyped-def]
    """The HF tokenizer must give tiktoken o200k_harmony's ids (and decode back to the same text)."""
    oracle = T.get_tokenizer()
    for text in CHECK_TEXTS:
        want = oracle.encode(text)
        got = tok.encode(text, add_special_tokens=False).ids
        # ordinary text; the special-looking literal in the last sample is parsed by both here
        if "<|" in text:
            want = oracle.encode_with_specials(text)
        if got != want:
            sys.exit(f"tokenizer mismatch on {text!r}:\n  hf       {got}\n  tiktoken {want}")
        if tok.decode(got, skip_special_tokens=False) != text:
            sys.exit(f"tokenizer does not decode {text!r} back")
    for text in HARMONY_TEXTS:
        want = oracle.encode_with_specials(text)
        got = tok.encode(text, add_special_tokens=False).ids
        if got != want:
            sys.exit(f"tokenizer mismatch on {text!r}:\n  hf       {got}\n  tiktoken {want}")
    if tok.encode("<|start|>", add_special_tokens=False).ids != [T.START]:
        sys.exit("<|start|> is not one token")


def write(out: Path, vocab: Path) -> None:
    import torch
    from transformers import GptOssConfig, GptOssForCausalLM, PreTrainedTokenizerFast

    tok = build_tokenizer(vocab)
    check_tokenizer(tok)
    stage = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)

    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|startoftext|>",
        eos_token="<|return|>",
        pad_token="<|endoftext|>",
        model_max_length=CONFIG["max_position_embeddings"],
    )
    fast.save_pretrained(stage)

    torch.manual_seed(SEED)
    config = GptOssConfig(**CONFIG)
    model = GptOssForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(stage, safe_serialization=True)
    (stage / "generation_config.json").write_text(json.dumps(GENERATION_CONFIG, indent=2) + "\n")

    # the saved tokenizer, reloaded as vLLM loads it, must still match
    check_tokenizer(PreTrainedTokenizerFast.from_pretrained(stage).backend_tokenizer)
    params = sum(p.numel() for p in model.parameters())
    shutil.rmtree(out, ignore_errors=True)
    os.replace(stage, out)
    print(f"wrote {out}: {params / 1e6:.1f}M parameters, tokenizer checked against o200k_harmony")


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1] if __doc__ else "usage: make_hf_model.py OUT_DIR")
    vocab = ROOT / "gptoss_cli" / "harmony" / "data" / T.VOCAB_FILE
    write(Path(sys.argv[1]), vocab)


if __name__ == "__main__":
    main()
