#!/usr/bin/env bash
# The main job on the local stage, from a fresh clone, with no AWS account: set everything up,
# start the local stack (AWS emulator, HTTP API gateway, Lambda runtime, local model server),
# deploy the `local` stage with Terraform, and send a real PUT /code-generation.
#
#   bash scripts/quickstart.sh ["what to write"] [language]
#
# Safe to run again: it reuses the environment, the running stack and the deployment.
set -euo pipefail
cd "$(dirname "$0")/.."
message="${1:-a function that checks whether a string is a palindrome}"
language="${2:-python}"

# Terraform deploys the local stage too: say so now, not after minutes of setup.
if [ -z "${CODEGEN_TERRAFORM:-}" ] && ! command -v terraform >/dev/null 2>&1; then
  echo "error: Terraform >= 1.5 is needed (it deploys the local stage too) and is not on PATH." >&2
  echo "       Install it (https://developer.hashicorp.com/terraform/install) or set" >&2
  echo "       CODEGEN_TERRAFORM=/path/to/terraform, then run this again." >&2
  exit 1
fi
bash scripts/setup.sh
invoke=.venv/bin/invoke
"$invoke" local.up
"$invoke" deploy --stage local
echo "==> PUT /code-generation {\"message\": \"$message\", \"key\": \"$language\"}"
"$invoke" call --stage local --message "$message" --language "$language"
echo "==> see it in your browser (the URL holds the stack's token: keep it to yourself):"
"$invoke" local.console
echo "==> the local stage keeps running: call it again with" \
     "'.venv/bin/invoke call --message \"...\" --language go', stop it with '.venv/bin/invoke local.down'"
