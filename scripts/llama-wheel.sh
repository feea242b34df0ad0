#!/usr/bin/env bash
# Print the directory holding a llama-cpp-python wheel built for this machine, building it the
# first time (about 4 minutes on 2 cores) and reusing it afterwards.
#
# PyPI has no llama-cpp-python wheels for Linux, and its default "native" build crashes on
# CPUs with AMX (it compiles AMX kernels the CPU cannot run), so on x86_64 we build for a
# portable AVX2 baseline. The wheel is cached outside the repository, keyed by version, CPU
# architecture and build flags: it compiles once per machine, not once per checkout or CI run.
#   CODEGEN_WHEEL_CACHE   where to cache (default: ${XDG_CACHE_HOME:-~/.cache}/codegen-deploy/wheels)
#   CODEGEN_LLAMA_CMAKE_ARGS  build flags to use instead of ours
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${1:-.venv/bin/python}"

version="$(sed -n 's/.*"llama-cpp-python==\([^"]*\)".*/\1/p' pyproject.toml | head -n1)"
if [ -z "$version" ]; then
  echo "error: pyproject.toml pins no llama-cpp-python==VERSION" >&2
  exit 1
fi
machine="$(uname -m)"
if [ -n "${CODEGEN_LLAMA_CMAKE_ARGS:-}" ]; then
  cmake_args="$CODEGEN_LLAMA_CMAKE_ARGS"
elif [ "$machine" = "x86_64" ]; then
  cmake_args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF"
else
  cmake_args="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF"
fi
key="$(printf '%s\n' "$version" "$machine" "$(uname -s)" "$cmake_args" | sha256sum | cut -c1-16)"
cache="${CODEGEN_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codegen-deploy/wheels}/llama-cpp-python-$version-$key"

if ! ls "$cache"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then
  for tool in cmake gcc g++; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "error: building llama-cpp-python needs $tool: install a C/C++ toolchain and cmake" >&2
      exit 1
    fi
  done
  echo "==> building llama-cpp-python $version for this machine (once; about 4 minutes)" >&2
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  started=$SECONDS
  if ! CMAKE_ARGS="$cmake_args" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc 2>/dev/null || echo 2)" \
      "$PYTHON" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-cache-dir \
      --no-binary llama-cpp-python "llama-cpp-python==$version" -w "$scratch" >"$scratch/build.log" 2>&1; then
    tail -n 30 "$scratch/build.log" >&2
    echo "error: building llama-cpp-python failed (log above)" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$cache")"
  # Publish the finished wheel atomically: a build cut short never leaves a half wheel.
  mv "$scratch" "$cache.partial.$$" && rm -f "$cache.partial.$$/build.log"
  if ! mv -T "$cache.partial.$$" "$cache" 2>/dev/null; then
    rm -rf "$cache.partial.$$"  # another build finished first; use its wheel
  fi
  trap - EXIT
  echo "==> built llama-cpp-python in $((SECONDS - started)) s, cached in $cache" >&2
fi
echo "$cache"
