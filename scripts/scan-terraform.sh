#!/usr/bin/env bash
# Scan terraform/ with checkov, the IaC security scanner: every finding is either fixed or
# skipped at its resource with a one-line reason (`#checkov:skip=ID:reason`); any other finding
# fails. checkov has many dependencies of its own, so it lives in its own venv (.tools/checkov),
# made once; the quick start never needs it.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOV="checkov==3.3.30"
venv=.tools/checkov
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$CHECKOV" ]; then
  echo "==> installing $CHECKOV into $venv (once)"
  rm -rf "$venv"
  .venv/bin/python -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$CHECKOV"
  echo "$CHECKOV" > "$venv/.installed"
fi
# --skip-download: offline, no guideline fetch (it would print a traceback on machines without
# network); --compact/--quiet: only failures, with the resource they are in.
"$venv/bin/checkov" --directory terraform --framework terraform --skip-download --compact --quiet
