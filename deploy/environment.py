"""The environment Terraform and boto3 start from, for any stage: the caller's own, with
Terraform told it runs in automation, pointed at a provider mirror when one is named, and
never any AWS_ENDPOINT_URL* the shell happens to hold (each target sets its own endpoints)."""

from collections.abc import Mapping
from pathlib import Path

from layer_builder.errors import UserError

MIRROR_VARIABLE = "CODEGEN_TF_PROVIDER_MIRROR"
IGNORE_ENDPOINTS_VARIABLE = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"


class StageEnvironmentError(UserError):
    """The stage cannot run here yet; the message says what to do."""


def endpoint_overrides(env: Mapping[str, str]) -> list[str]:
    """The AWS_ENDPOINT_URL* variables set in `env`: they would send a stage's calls to
    whatever they name (an emulator left over in the shell, say)."""
    return sorted(name for name in env if name.startswith("AWS_ENDPOINT_URL") and env[name])


def configured_endpoints(env: Mapping[str, str]) -> str | None:
    """What the shared config file's profile (AWS_PROFILE's, or the default) sets as
    endpoints, e.g. "endpoint_url of profile dev"; None when it sets none."""
    import botocore.session
    from botocore.exceptions import ProfileNotFound

    session = botocore.session.Session()
    for setting, variable in (("config_file", "AWS_CONFIG_FILE"), ("profile", "AWS_PROFILE")):
        if env.get(variable):
            session.set_config_variable(setting, env[variable])
    try:
        profile = session.get_scoped_config()
    except ProfileNotFound:  # the credentials check says so, with what to do
        return None
    found = [key for key in ("endpoint_url", "services") if profile.get(key)]
    if not found:
        return None
    return f"{' and '.join(found)} of profile {session.get_config_variable('profile') or 'default'}"


def terraform_environment(base: Mapping[str, str], work_root: Path) -> dict[str, str]:
    env = dict(base)
    env["TF_IN_AUTOMATION"] = "1"
    env.update(_cli_config(work_root, base))
    for name in endpoint_overrides(base):
        env.pop(name)
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
