# Sourced by the other scripts. If CODEGEN_TF_PROVIDER_MIRROR is unset and this machine has a
# filesystem mirror of Terraform providers (a directory holding registry.terraform.io/, as
# offline CI machines do), point the tooling at it; otherwise Terraform uses the registry.
if [ -z "${CODEGEN_TF_PROVIDER_MIRROR:-}" ]; then
  for candidate in $(find / -maxdepth 4 -type d -name registry.terraform.io \
      -not -path '*/.terraform/*' 2>/dev/null); do
    if [ -d "$candidate/hashicorp/aws" ]; then
      export CODEGEN_TF_PROVIDER_MIRROR="$(dirname "$candidate")"
      echo "==> using the Terraform provider mirror at $CODEGEN_TF_PROVIDER_MIRROR" >&2
      break
    fi
  done
fi
