"""terraform fmt / validate for every stage, and the driver's handling of Terraform."""

import pytest
from python_terraform import IsFlagged

from deploy.paths import TERRAFORM_DIR
from deploy.stages import load_stage, stage_names
from deploy.target import target_for
from deploy.terraform import TerraformError, TerraformRunner, check_version, find_terraform
from deploy.workdir import prepare_workdir

pytestmark = pytest.mark.terraform


def test_terraform_sources_are_fmt_clean(terraform_env, tmp_path):
    TerraformRunner(tmp_path, terraform_env, sink=None).fmt_check(TERRAFORM_DIR)


@pytest.mark.parametrize("stage_name", ["dev", "prod", "local"])
def test_every_stage_validates(stage_name, terraform_env, tmp_path):
    assert stage_name in stage_names()
    stage = load_stage(stage_name)
    target = target_for(stage, emulator_url="http://127.0.0.1:1", report=lambda line: None)
    env = target.environment(terraform_env, tmp_path)
    workdir = prepare_workdir(stage, tmp_path)
    runner = TerraformRunner(workdir.path, env, sink=None)
    runner.init(backend=False)
    runner.validate()


def test_terraform_errors_reach_the_user_with_terraforms_message(terraform_env, tmp_path):
    (tmp_path / "main.tf").write_text('variable "x" {\n  type = strin\n}\n')
    runner = TerraformRunner(tmp_path, terraform_env, sink=None)
    with pytest.raises(TerraformError) as raised:
        runner.init(backend=False)
    message = str(raised.value)
    assert message.startswith("terraform init failed (exit 1): ")
    assert "Invalid type specification" in message
    assert "type = strin" in message  # Terraform's own pointer at the offending line


def test_output_streams_live_while_being_captured(terraform_env, tmp_path):
    (tmp_path / "main.tf").write_text('output "x" {\n  value = 1\n}\n')
    lines: list[str] = []
    runner = TerraformRunner(tmp_path, terraform_env, sink=lines.append)
    runner.init(backend=False)
    # (What Terraform printed, if not: this failed once in CI, with an exit status of 0.)
    printed = "".join(lines)
    assert any("Terraform has been successfully initialized" in line for line in lines), printed


def test_destroy_uses_auto_approve_not_the_removed_force_flag(terraform_env, tmp_path):
    runner = TerraformRunner(tmp_path, terraform_env, sink=None)
    command = runner._command("destroy", auto_approve=IsFlagged, var_file=["a.tfvars.json"])
    assert "-auto-approve" in command and "-force" not in command
    assert command.count("-var-file=a.tfvars.json") == 1
    assert len([arg for arg in command if arg.startswith("-var-file")]) == 1


def test_missing_terraform_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("CODEGEN_TERRAFORM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TerraformError, match=r"Install Terraform >= 1\.5"):
        find_terraform()
    monkeypatch.setenv("CODEGEN_TERRAFORM", str(tmp_path / "nope"))
    with pytest.raises(TerraformError, match="not an executable"):
        find_terraform()


def test_remote_backend_is_configuration(tmp_path, monkeypatch):
    import json

    stages = tmp_path / "stages"
    stages.mkdir()
    (stages / "dev.tfvars.json").write_text('{"stage": "dev"}')
    (stages / "dev.backend.json").write_text(
        json.dumps({"type": "s3", "bucket": "state", "key": "dev.tfstate", "use_lockfile": True})
    )
    monkeypatch.setattr("deploy.stages.STAGE_VARS_DIR", stages)
    workdir = prepare_workdir(load_stage("dev"), tmp_path / "work")
    assert 'backend "s3"' in (workdir.path / "backend.tf").read_text()
    assert workdir.backend_config is not None
    config = workdir.backend_config.read_text()
    assert 'bucket = "state"' in config and "use_lockfile = true" in config
    assert workdir.backend_needs is not None and workdir.backend_needs[0] == (1, 10, 0)
    (stages / "dev.backend.json").unlink()
    workdir = prepare_workdir(load_stage("dev"), tmp_path / "work")
    assert 'backend "local"' in (workdir.path / "backend.tf").read_text()
    assert workdir.backend_config is None and workdir.backend_needs is None


class VersionOnly:
    def __init__(self, version: tuple[int, int, int]) -> None:
        self._version = version

    def version(self) -> tuple[int, int, int]:
        return self._version


def test_a_backend_with_s3_locking_needs_terraform_1_10_and_says_so():
    needs = ((1, 10, 0), "dev.backend.json sets use_lockfile (S3-native state locking)")
    with pytest.raises(TerraformError, match=r"1\.9\.5 is too old for this stage's state "):
        check_version(VersionOnly((1, 9, 5)), needs)  # type: ignore[arg-type]
    assert check_version(VersionOnly((1, 10, 0)), needs) == (1, 10, 0)  # type: ignore[arg-type]
    assert check_version(VersionOnly((1, 9, 5))) == (1, 9, 5)  # type: ignore[arg-type]
    with pytest.raises(TerraformError, match=r"1\.4\.0 is too old: install 1\.5\.0"):
        check_version(VersionOnly((1, 4, 0)))  # type: ignore[arg-type]


@pytest.mark.parametrize(("receives", "refused"), [(1, True), (4, True), (5, False), (10, False)])
def test_a_job_is_delivered_at_least_five_times(receives, refused, terraform_env, tmp_path):
    """The root's own validation of job_max_receive_count (its block, planned on its own)."""
    import json
    import re

    source = (TERRAFORM_DIR / "variables.tf").read_text()
    block = re.search(r'^variable "job_max_receive_count" \{\n.*?^\}\n', source, re.M | re.S)
    assert block is not None
    (tmp_path / "main.tf").write_text(block.group(0))
    values = tmp_path / "values.tfvars.json"
    values.write_text(json.dumps({"job_max_receive_count": receives}))
    runner = TerraformRunner(tmp_path, terraform_env, sink=None)
    runner.init(backend=False)
    if not refused:
        runner.plan([values], tmp_path / "plan")
        return
    with pytest.raises(TerraformError, match="from 5 to 10"):
        runner.plan([values], tmp_path / "plan")


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        ({"spend_budget": {"tokens_per_day": 1000, "usd_per_month": 5}}, None),
        ({"spend_budget": None}, None),
        ({"spend_budget": {"tokens_per_dya": 1000}}, "spend_budget takes"),
        ({"spend_budget": {"usd_per_day": -1}}, "spend_budget takes"),
        ({"spend_budget_overrides": {"123456789012:AIDAX": {"tokens_per_day": 5}}}, None),
        (
            {"spend_budget_overrides": {"arn:aws:iam::123456789012:role/ci": {"usd_per_day": 2}}},
            None,
        ),
        ({"spend_budget_overrides": {"alice": {"tokens_per_day": 5}}}, "spend_budget_overrides"),
        ({"spend_budget_overrides": {"1234:X": {"tokens": 5}}}, "spend_budget_overrides"),
    ],
)
def test_a_malformed_budget_is_refused_by_terraform_with_the_reason(
    values, refused, terraform_env, tmp_path
):
    """The root's validation of spend_budget and spend_budget_overrides (their blocks, planned
    on their own): a malformed budget never reaches a deploy."""
    import json
    import re

    source = (TERRAFORM_DIR / "variables.tf").read_text()
    blocks = [
        re.search(rf'^variable "{name}" \{{\n.*?^\}}\n', source, re.M | re.S).group(0)
        for name in ("spend_budget", "spend_budget_overrides")
    ]
    (tmp_path / "main.tf").write_text("\n".join(blocks))
    given = tmp_path / "values.tfvars.json"
    given.write_text(json.dumps({"spend_budget": None, "spend_budget_overrides": {}, **values}))
    runner = TerraformRunner(tmp_path, terraform_env, sink=None)
    runner.init(backend=False)
    if refused is None:
        runner.plan([given], tmp_path / "plan")
        return
    with pytest.raises(TerraformError, match=refused):
        runner.plan([given], tmp_path / "plan")
