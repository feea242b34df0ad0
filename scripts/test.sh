#!/usr/bin/env bash
# Run the whole test suite (lint, then the unit, registry, Terraform, model and end-to-end
# tests), after making sure .venv is set up. Extra arguments go to pytest instead, e.g.
# `-m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/shellcheck scripts/*.sh .ci/run
bash scripts/scan-terraform.sh
if [ "$#" -gt 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
.venv/bin/python -m pytest
if [ "$(uname -s)" = Linux ]; then
  # The end-to-end tests once more with the runtime client macOS uses (awslambdaric's
  # pure-Python bootstrap over http.client), so both clients stay proven on every run.
  echo "==> end-to-end tests again with CODEGEN_LAMBDA_RUNTIME_CLIENT=http"
  CODEGEN_LAMBDA_RUNTIME_CLIENT=http .venv/bin/python -m pytest -m e2e
fi
