#!/usr/bin/env bash
# Run the whole test suite (lint, the docs' build, then the unit, registry, Terraform, model
# and end-to-end tests), after making sure .venv is set up. Extra arguments go to pytest instead, e.g.
# `tests/e2e/test_jobs.py` or `-m "not slow"` (the fast loop needs no lint or scan: the README's
# `.venv/bin/python -m pytest tests/unit -n auto`).
#
# The run is spread over $CODEGEN_TEST_WORKERS pytest-xdist workers (default 4: most of the
# slow tests wait on Terraform, the model or timeouts rather than use a core); the tests of
# one local stack stay on one worker (tests/conftest.py). The slowest tests are listed last.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/shellcheck scripts/*.sh .ci/run
# The reference: a broken link, a missing anchor or a page left out of the nav fails it.
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet
if [ "$#" -gt 0 ]; then
  bash scripts/scan-terraform.sh
  exec .venv/bin/python -m pytest "$@"
fi
# The Terraform scan (checkov, ~25 s of one core) runs beside the tests; its verdict counts.
scan_log="$(mktemp)"
skips="$(mktemp)"
trap 'rm -f "$scan_log" "$skips"' EXIT
bash scripts/scan-terraform.sh >"$scan_log" 2>&1 &
scan=$!
status=0
CODEGEN_SKIP_SUMMARY="$skips" .venv/bin/python -m pytest -n "${CODEGEN_TEST_WORKERS:-4}" \
  --dist loadgroup --durations=10 || status=$?
scan_status=0
wait "$scan" || scan_status=$?
cat "$scan_log"
# Last, what did not run on this machine and how to make it run (one line per group).
if [ -s "$skips" ]; then
  echo "==> skipped on this machine:"
  cat "$skips"
fi
if [ "$scan_status" -ne 0 ]; then
  echo "error: the Terraform scan failed (above)" >&2
  exit "$scan_status"
fi
exit "$status"
