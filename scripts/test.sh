#!/usr/bin/env bash
# Run the whole test suite (fast unit tests, then the registry/Terraform/end-to-end ones),
# after making sure .venv is set up. Extra arguments go to pytest, e.g. `-m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
. scripts/terraform-env.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
