"""The environment Terraform and boto3 run with for a stage.

Real stages use the caller's own AWS credentials and configuration untouched. The emulated
`local` stage points every AWS endpoint at the local emulator with test credentials: the
provider and boto3 honour AWS_ENDPOINT_URL, so no Terraform code differs between stages.
"""

import json
import os
from collections.abc import Mapping
from pathlib import Path

from deploy.paths import LOCAL_STATE_DIR
from deploy.stages import Stage

EMULATOR_URL_VARIABLE = "CODEGEN_EMULATOR_URL"
MIRROR_VARIABLE = "CODEGEN_TF_PROVIDER_MIRROR"
LOCAL_STACK_FILE = LOCAL_STATE_DIR / "stack.json"
# The credentials the local stack accepts (and checks SigV4 signatures against).
LOCAL_ACCESS_KEY = "test"
LOCAL_SECRET_KEY = "test"
_CLEARED_FOR_EMULATOR = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_DEFAULT_PROFILE",
)


class StageEnvironmentError(Exception):
    """The stage cannot run here yet; the message says what to do."""


def emulator_url(env: Mapping[str, str] = os.environ) -> str:
    """The local emulator's URL: $CODEGEN_EMULATOR_URL, else the running local stack's."""
    if env.get(EMULATOR_URL_VARIABLE):
        return env[EMULATOR_URL_VARIABLE].rstrip("/")
    try:
        state = json.loads(LOCAL_STACK_FILE.read_text(encoding="utf-8"))
        return str(state["emulator_url"]).rstrip("/")
    except (OSError, ValueError, KeyError) as exc:
        raise StageEnvironmentError(
            "the local stack is not running: start it with `invoke local.up` (or set "
            f"{EMULATOR_URL_VARIABLE} to an AWS emulator's URL)"
        ) from exc


def emulator_environment(url: str, region: str) -> dict[str, str]:
    """Variables that send boto3 and the AWS provider to the emulator at `url`."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_KEY,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def endpoint_overrides(env: Mapping[str, str]) -> list[str]:
    """The AWS_ENDPOINT_URL* variables set in `env`: they would send a real stage's calls to
    whatever they name (an emulator left over in the shell, say)."""
    return sorted(name for name in env if name.startswith("AWS_ENDPOINT_URL") and env[name])


def stage_environment(
    stage: Stage, work_root: Path, base: Mapping[str, str] = os.environ, url: str | None = None
) -> dict[str, str]:
    """Real stages never inherit AWS_ENDPOINT_URL*; the emulated one gets its own."""
    env = dict(base)
    env["TF_IN_AUTOMATION"] = "1"
    env.update(_cli_config(work_root, base))
    for name in endpoint_overrides(base):
        env.pop(name)
    if stage.emulated:
        for name in _CLEARED_FOR_EMULATOR:
            env.pop(name, None)
        env.update(emulator_environment(url or emulator_url(base), stage.region))
    else:
        env.setdefault("AWS_REGION", stage.region)
    return env


def _cli_config(work_root: Path, base: Mapping[str, str]) -> dict[str, str]:
    """With $CODEGEN_TF_PROVIDER_MIRROR, a CLI config that installs providers from that
    filesystem mirror (for machines without registry access)."""
    mirror = base.get(MIRROR_VARIABLE)
    if not mirror:
        configured = base.get("TF_CLI_CONFIG_FILE")
        if configured and not Path(configured).exists():
            return {"TF_CLI_CONFIG_FILE": ""}  # a dangling setting only makes Terraform warn
        return {}
    if not (Path(mirror) / "registry.terraform.io").is_dir():
        raise StageEnvironmentError(
            f"{MIRROR_VARIABLE}={mirror} is not a provider mirror (it should contain "
            f"registry.terraform.io/hashicorp/aws/<version>/<platform>/)"
        )
    config = work_root / "terraform.rc"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{Path(mirror).resolve()}"\n'
        '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n',
        encoding="utf-8",
    )
    return {"TF_CLI_CONFIG_FILE": str(config)}
