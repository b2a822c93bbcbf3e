"""Write a tiny gpt-oss-architecture GGUF: random weights, the real o200k_harmony vocabulary.

usage: make_gguf.py VOCAB_FILE OUT.gguf [--chat-template FILE]

Only the ``gguf`` and ``numpy`` packages are needed (no torch, no transformers, no checkpoint):
the tokenizer and the tensors are written straight into the GGUF the way llama.cpp loads an
``openai/gpt-oss`` model, so the server sees the same token ids, special tokens and EOG set as
for the real one. The weights are random (fixed seed), so the model babbles; tests force exact
output with a grammar (tests/llama/grammar.py).

Tokenizer, as transformers' tiktoken converter builds it for gpt-oss:
  * ids 0..199997: the o200k_base ranks, each token's bytes written in GPT-2 byte-to-unicode form;
  * merges: every split of a token into two tokens, ordered by the rank of the token they make
    (lowest rank merges first, which is tiktoken's rule);
  * ids 199998..200018: the Harmony special tokens (CONTROL); 200019..201087: ``<|reserved_N|>``
    padding up to the model's 201,088 rows (UNUSED).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import sys

import gguf
import numpy as np

VOCAB_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
N_VOCAB = 201088
FIRST_SPECIAL = 199998
LAST_NAMED_SPECIAL = 200018
SPECIALS = {
    199998: "<|startoftext|>",
    199999: "<|endoftext|>",
    200002: "<|return|>",
    200003: "<|constrain|>",
    200005: "<|channel|>",
    200006: "<|start|>",
    200007: "<|end|>",
    200008: "<|message|>",
    200012: "<|call|>",
    200018: "<|endofprompt|>",
}
BOS, EOS, PAD = 199998, 200002, 199999

# Model shape: as small as llama.cpp accepts for this architecture, sliding then full attention.
N_EMBD = 64
N_LAYER = 2
N_HEAD = 4
N_HEAD_KV = 2
HEAD_DIM = 16
N_EXPERT = 4
N_EXPERT_USED = 2
N_FF_EXP = 64
SLIDING_WINDOW = 128
CONTEXT = 131072
ORIG_CONTEXT = 4096
SEED = 1234


def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table used by byte-level BPE vocabularies."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def load_ranks(path: str) -> list[bytes]:
    with open(path, "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != VOCAB_SHA256:
        sys.exit(f"{path}: not the o200k_base vocabulary (sha256 mismatch)")
    tokens: list[bytes] = []
    for line in data.splitlines():
        if not line:
            continue
        b64, rank = line.split()
        if int(rank) != len(tokens):
            sys.exit(f"{path}: ranks are not dense at {int(rank)}")
        tokens.append(base64.b64decode(b64))
    if len(tokens) != FIRST_SPECIAL:
        sys.exit(f"{path}: expected {FIRST_SPECIAL} ranks, found {len(tokens)}")
    return tokens


def tokenizer(ranks: list[bytes]) -> tuple[list[str], list[int], list[str]]:
    """Token strings, token types and merges for a GGUF ``gpt2`` (byte-level BPE) tokenizer."""
    table = byte_to_unicode()

    def text(b: bytes) -> str:
        return "".join(table[x] for x in b)

    rank_of = {t: i for i, t in enumerate(ranks)}
    merges: list[tuple[int, int, int, str]] = []
    for rank, tok in enumerate(ranks):
        for cut in range(1, len(tok)):
            left, right = rank_of.get(tok[:cut]), rank_of.get(tok[cut:])
            if left is not None and right is not None:
                merges.append((rank, left, right, f"{text(tok[:cut])} {text(tok[cut:])}"))
    merges.sort()

    tokens = [text(t) for t in ranks]
    types = [int(gguf.TokenType.NORMAL)] * len(tokens)
    for i in range(FIRST_SPECIAL, N_VOCAB):
        if i in SPECIALS:
            tokens.append(SPECIALS[i])
            types.append(int(gguf.TokenType.CONTROL))
        elif i <= LAST_NAMED_SPECIAL:
            tokens.append(f"<|reserved_{i}|>")
            types.append(int(gguf.TokenType.CONTROL))
        else:
            tokens.append(f"[PAD{i}]")
            types.append(int(gguf.TokenType.UNUSED))
    return tokens, types, [m[3] for m in merges]


def tensors(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random weights. numpy shapes are ggml's dimensions reversed."""

    def w(*shape: int, scale: float = 0.02) -> np.ndarray:
        return (rng.standard_normal(shape, dtype=np.float32) * scale).astype(np.float16)

    def v(*shape: int, value: float | None = None) -> np.ndarray:
        if value is not None:
            return np.full(shape, value, dtype=np.float32)
        return rng.standard_normal(shape, dtype=np.float32) * 0.02

    q, kv = N_HEAD * HEAD_DIM, N_HEAD_KV * HEAD_DIM
    out = {
        "token_embd.weight": w(N_VOCAB, N_EMBD, scale=1.0),
        "output_norm.weight": v(N_EMBD, value=1.0),
        "output.weight": w(N_VOCAB, N_EMBD),
    }
    for i in range(N_LAYER):
        p = f"blk.{i}."
        out |= {
            p + "attn_norm.weight": v(N_EMBD, value=1.0),
            p + "post_attention_norm.weight": v(N_EMBD, value=1.0),
            p + "attn_q.weight": w(q, N_EMBD),
            p + "attn_q.bias": v(q),
            p + "attn_k.weight": w(kv, N_EMBD),
            p + "attn_k.bias": v(kv),
            p + "attn_v.weight": w(kv, N_EMBD),
            p + "attn_v.bias": v(kv),
            p + "attn_output.weight": w(N_EMBD, q),
            p + "attn_output.bias": v(N_EMBD),
            p + "attn_sinks.weight": v(N_HEAD),
            p + "ffn_gate_inp.weight": v(N_EXPERT, N_EMBD),
            p + "ffn_gate_inp.bias": v(N_EXPERT),
            p + "ffn_gate_exps.weight": w(N_EXPERT, N_FF_EXP, N_EMBD),
            p + "ffn_gate_exps.bias": v(N_EXPERT, N_FF_EXP),
            p + "ffn_up_exps.weight": w(N_EXPERT, N_FF_EXP, N_EMBD),
            p + "ffn_up_exps.bias": v(N_EXPERT, N_FF_EXP),
            p + "ffn_down_exps.weight": w(N_EXPERT, N_EMBD, N_FF_EXP),
            p + "ffn_down_exps.bias": v(N_EXPERT, N_EMBD),
        }
    return out


def write(path: str, vocab_path: str, chat_template: str | None) -> None:
    arch = "gpt-oss"
    tokens, types, merges = tokenizer(load_ranks(vocab_path))
    tmp = f"{path}.tmp{os.getpid()}"
    writer = gguf.GGUFWriter(tmp, arch)
    writer.add_name("tiny-gpt-oss (random weights, test only)")
    writer.add_file_type(int(gguf.LlamaFileType.MOSTLY_F16))
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF_EXP)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_key_length(HEAD_DIM)
    writer.add_value_length(HEAD_DIM)
    writer.add_rope_dimension_count(HEAD_DIM)
    writer.add_rope_freq_base(150000.0)
    writer.add_rope_scaling_type(gguf.RopeScalingType.YARN)
    writer.add_rope_scaling_factor(32.0)
    writer.add_rope_scaling_orig_ctx_len(ORIG_CONTEXT)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_expert_count(N_EXPERT)
    writer.add_expert_used_count(N_EXPERT_USED)
    writer.add_expert_feed_forward_length(N_FF_EXP)
    writer.add_sliding_window(SLIDING_WINDOW)

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-4o")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(BOS)
    writer.add_eos_token_id(EOS)
    writer.add_pad_token_id(PAD)
    writer.add_add_bos_token(False)
    if chat_template:
        with open(chat_template, encoding="utf-8") as f:
            writer.add_chat_template(f.read())

    for name, data in tensors(np.random.default_rng(SEED)).items():
        writer.add_tensor(name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(tmp, path)
    print(f"wrote {path}: {len(tokens)} tokens, {len(merges)} merges")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("vocab")
    ap.add_argument("out")
    ap.add_argument("--chat-template")
    args = ap.parse_args()
    write(args.out, args.vocab, args.chat_template)


if __name__ == "__main__":
    main()
