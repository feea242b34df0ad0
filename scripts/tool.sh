#!/usr/bin/env bash
# Print the bin directory of a pinned tool that lives in a venv of its own under .tools/
# (made once): tools with many dependencies of their own that the quick start never needs.
#   bash scripts/tool.sh checkov|schemathesis|plot
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  checkov) requirement="checkov==3.3.30" ;;        # the IaC scanner (scan-terraform.sh)
  schemathesis) requirement="schemathesis==4.32.5" ;;  # the API fuzzer (tests/e2e)
  plot) requirement="matplotlib==3.11.2" ;;             # the charts of bench and eval (bench/chart.py)
  *) echo "usage: bash scripts/tool.sh checkov|schemathesis|plot" >&2; exit 2 ;;
esac
venv=".tools/$1"
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$requirement" ]; then
  echo "==> installing $requirement into $venv (once)" >&2
  rm -rf "$venv"
  .venv/bin/python -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" >&2
  echo "$requirement" > "$venv/.installed"
fi
echo "$PWD/$venv/bin"
