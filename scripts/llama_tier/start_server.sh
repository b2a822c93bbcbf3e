#!/usr/bin/env bash
# Start the tier's llama-server by hand, in the foreground, with the flags the tests use
# (tests/llama/server.py): e.g. to try `gptoss doctor --base-url http://127.0.0.1:8080` on it.
#
#   scripts/llama_tier/start_server.sh 8080              # "good": --special (terminators shown)
#   scripts/llama_tier/start_server.sh 8080 --no-special # llama-server defaults (terminators hidden)
#
# Run scripts/llama_tier/setup.sh first. Further arguments go to llama-server.
set -euo pipefail
PORT=${1:?usage: start_server.sh PORT [--no-special] [llama-server args...]}
shift
SPECIAL=(--special)
if [ "${1:-}" = "--no-special" ]; then SPECIAL=(); shift; fi
ENV_FILE=${GPTOSS_CACHE:-$HOME/.cache/gptoss-cli}/llama/current.env
[ -f "$ENV_FILE" ] || { echo "no $ENV_FILE: run scripts/llama_tier/setup.sh" >&2; exit 1; }
LLAMA_SERVER=$(sed -n 's/^LLAMA_SERVER=//p' "$ENV_FILE")
LLAMA_MODEL=$(sed -n 's/^LLAMA_MODEL=//p' "$ENV_FILE")
exec "$LLAMA_SERVER" -m "$LLAMA_MODEL" --host 127.0.0.1 --port "$PORT" \
    -c 4096 -np 1 -t 2 --no-webui --jinja "${SPECIAL[@]}" "$@"
