#!/usr/bin/env bash
# The real llama-server test tier: install (or reuse) llama-server and the tiny model, then run
# tests/llama. Extra arguments go to pytest. PYTHON selects the interpreter (default: the clone's
# .venv if present, else python3); it must have the project installed with its [test] extra.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
export PYTHON
t0=$SECONDS
bash "$ROOT/scripts/llama_tier/setup.sh"
echo "llama tier: setup took $((SECONDS - t0)) s" >&2
cd "$ROOT"
export GPTOSS_LLAMA_TIER=1  # tests/conftest.py leaves tests/llama out of the default run
exec "$PYTHON" -m pytest tests/llama -q "$@"
