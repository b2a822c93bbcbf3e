#!/usr/bin/env bash
# Start the tier's vLLM by hand, in the foreground, with the flags and environment the tests use
# (tests/vllm/server.py): e.g. to try `gptoss doctor --base-url http://127.0.0.1:8000` on it.
#
#   scripts/vllm_tier/start_server.sh 8000 [vllm args...]
#
# Run scripts/vllm_tier/setup.sh first. The server answers gptoss doctor's probes as a trained gpt-oss
# would (tests/vllm/replies.py, written with PYTHON, default: the clone's .venv or python3) and forces
# the token ids a request names in vllm_xargs (scripts/vllm_tier/force_ids.py). Ready after a minute
# or two on 2 cores (watch for "Application startup complete").
set -euo pipefail
PORT=${1:?usage: start_server.sh PORT [vllm args...]}
shift
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
V=${GPTOSS_CACHE:-$HOME/.cache/gptoss-cli}/vllm
ENV_FILE=$V/current.env
[ -f "$ENV_FILE" ] || { echo "no $ENV_FILE: run scripts/vllm_tier/setup.sh" >&2; exit 1; }
get() { sed -n "s/^$1=//p" "$ENV_FILE"; }
REPLIES=$V/doctor-replies.json
(cd "$ROOT" && "$PYTHON" -m tests.vllm.replies "$REPLIES")
# Keep in step with tests/vllm/server.py (FLAGS and server_env).
export PYTHONPATH=$HERE VLLM_CPU_KVCACHE_SPACE=1 VLLM_CACHE_ROOT=$(get VLLM_CACHE_ROOT) \
    VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 GPTOSS_VLLM_REPLIES=$REPLIES
exec "$(get VLLM_PYTHON)" -m vllm.entrypoints.openai.api_server --model "$(get VLLM_MODEL)" \
    --host 127.0.0.1 --port "$PORT" --served-model-name tiny-gpt-oss --max-model-len 4096 \
    --dtype bfloat16 --enforce-eager --logits-processors force_ids:ForceIds "$@"
