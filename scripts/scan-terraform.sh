#!/usr/bin/env bash
# Scan terraform/ with checkov, the IaC security scanner: every finding is either fixed or
# skipped at its resource with a one-line reason (`#checkov:skip=ID:reason`); any other finding
# fails. checkov lives in a venv of its own (scripts/tool.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(bash scripts/tool.sh checkov)"
# --skip-download: offline, no guideline fetch (it would print a traceback on machines without
# network); --compact/--quiet: only failures, with the resource they are in.
"$bin/checkov" --directory terraform --framework terraform --skip-download --compact --quiet
