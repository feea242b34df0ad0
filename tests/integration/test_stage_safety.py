"""A real AWS stage deploys only to the account it names, never through a leftover emulator
endpoint, keeps a protected stage's state off the laptop, and asks before it changes a
protected stage or destroys any real one. (STS is moto's here: account 123456789012.)"""

from pathlib import Path

import pytest
from moto import mock_aws

from deploy.deployer import DeployError, StageDeployer
from deploy.scratch import scratch_deployer

pytestmark = pytest.mark.terraform  # the deployer checks `terraform version` when made

MOTO_ACCOUNT = "123456789012"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def real_stage(tmp_path: Path, **variables) -> dict:
    """The dev stage's variables that a test sets over its own."""
    return variables


def deployer(tmp_path: Path, stage: dict, env: dict | None = None, **options) -> StageDeployer:
    reports: list[str] = []
    made = scratch_deployer(
        tmp_path,
        None,
        stage_file="dev",
        base_env={**CREDENTIALS, **(env or {})},
        report=reports.append,
        **options,
        **stage,
    )
    made.reports = reports  # type: ignore[attr-defined]
    return made


class FakeRunner:
    """Terraform's plan/apply, recorded: the questions come before any apply."""

    def __init__(self, changes: bool = True) -> None:
        self.changes = changes
        self.calls: list[str] = []

    def plan(self, var_files, out, *, destroy=False, replace=()):
        self.calls.append("plan -destroy" if destroy else "plan")
        return self.changes

    def apply(self, plan_file):
        self.calls.append("apply")

    def outputs(self):
        return {"route_authorization": "AWS_IAM"}


def scripted(made: StageDeployer, runner: FakeRunner) -> StageDeployer:
    made.runner = runner  # type: ignore[assignment]
    made._build = lambda: None  # type: ignore[method-assign]
    made._init = lambda: None  # type: ignore[method-assign]
    return made


@mock_aws
def test_credentials_for_another_account_stop_before_anything_is_built(tmp_path):
    made = deployer(tmp_path, real_stage(tmp_path, aws_account_id="111111111111"))
    with pytest.raises(DeployError) as raised:
        made.deploy()
    message = str(raised.value)
    assert "111111111111" in message and MOTO_ACCOUNT in message and "AWS_PROFILE" in message
    assert not (tmp_path / "build").exists()


@mock_aws
def test_a_real_stage_that_names_no_account_says_which_one_to_name(tmp_path):
    made = deployer(tmp_path, real_stage(tmp_path, aws_account_id=None))
    with pytest.raises(DeployError, match=f'"aws_account_id": "{MOTO_ACCOUNT}"'):
        made.plan()


@mock_aws
def test_a_protected_stage_refuses_local_state_unless_told(tmp_path):
    stage = real_stage(tmp_path, aws_account_id=MOTO_ACCOUNT, protected_stage=True)
    with pytest.raises(DeployError, match=r"no remote state backend.*--allow-local-state"):
        deployer(tmp_path, stage).deploy()
    allowed = deployer(tmp_path, stage, allow_local_state=True, confirm=lambda q: True)
    scripted(allowed, FakeRunner()).deploy()
    assert any("--allow-local-state" in line for line in allowed.reports)  # type: ignore[attr-defined]


@mock_aws
@pytest.mark.parametrize(("answer", "applied"), [(False, False), (True, True)])
def test_a_protected_stage_shows_the_plan_and_applies_only_when_confirmed(
    tmp_path, answer, applied
):
    stage = real_stage(tmp_path, aws_account_id=MOTO_ACCOUNT, protected_stage=True)
    questions: list[str] = []
    made = deployer(
        tmp_path, stage, allow_local_state=True, confirm=lambda q: questions.append(q) or answer
    )
    runner = FakeRunner()
    if applied:
        scripted(made, runner).deploy()
    else:
        with pytest.raises(DeployError, match=r"not confirmed, nothing changed.*--yes"):
            scripted(made, runner).deploy()
    assert runner.calls == (["plan", "apply"] if applied else ["plan"])
    assert questions and "protected stage dev" in questions[0]


@mock_aws
def test_without_anyone_to_ask_a_protected_stage_is_not_changed(tmp_path):
    stage = real_stage(tmp_path, aws_account_id=MOTO_ACCOUNT, protected_stage=True)
    runner = FakeRunner()
    with pytest.raises(DeployError, match="not confirmed"):
        scripted(deployer(tmp_path, stage, allow_local_state=True), runner).deploy()
    assert "apply" not in runner.calls


@mock_aws
def test_destroying_a_real_stage_asks_after_showing_the_destroy_plan(tmp_path):
    stage = real_stage(tmp_path, aws_account_id=MOTO_ACCOUNT)
    runner = FakeRunner()
    with pytest.raises(DeployError, match="not confirmed"):
        scripted(deployer(tmp_path, stage, confirm=lambda q: False), runner).destroy()
    assert runner.calls == ["plan -destroy"]
    runner = FakeRunner()
    assert scripted(deployer(tmp_path, stage, confirm=lambda q: True), runner).destroy()
    assert runner.calls == ["plan -destroy", "apply"]


@mock_aws
def test_an_unprotected_real_stage_deploys_without_a_question(tmp_path):
    stage = real_stage(tmp_path, aws_account_id=MOTO_ACCOUNT)
    runner = FakeRunner()
    scripted(deployer(tmp_path, stage), runner).deploy()
    assert runner.calls == ["plan", "apply"]


@mock_aws
def test_a_real_stage_never_inherits_emulator_endpoints_and_says_so(tmp_path):
    leftovers = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5000",
    }
    made = deployer(tmp_path, real_stage(tmp_path, aws_account_id=MOTO_ACCOUNT), leftovers)
    assert not any(name.startswith("AWS_ENDPOINT_URL") for name in made.env)
    assert any("ignoring AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3" in line for line in made.reports)  # type: ignore[attr-defined]
    scripted(made, FakeRunner()).deploy()  # STS was asked at AWS's address, not the leftover


@mock_aws
def test_a_protected_stage_is_never_destroyed_even_when_confirmed(tmp_path):
    stage = real_stage(tmp_path, aws_account_id=MOTO_ACCOUNT, protected_stage=True)
    runner = FakeRunner()
    made = deployer(tmp_path, stage, confirm=lambda q: True, allow_local_state=True)
    with pytest.raises(DeployError, match=r"is protected .* set protected_stage to false"):
        scripted(made, runner).destroy()
    assert runner.calls == []  # nothing planned, nothing applied


@mock_aws
def test_a_real_stage_ignores_a_profiles_endpoint_url_for_its_calls_and_terraforms(tmp_path):
    config = tmp_path / "config"
    config.write_text(
        "[profile leftover]\nendpoint_url = http://127.0.0.1:9\n"
        "[default]\nendpoint_url = http://127.0.0.1:9\n"
    )
    env = {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "leftover"}
    made = deployer(tmp_path, real_stage(tmp_path, aws_account_id=MOTO_ACCOUNT), env)
    assert made.env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] == "true"  # for Terraform too
    assert any(
        "ignoring endpoint_url of profile leftover" in line
        for line in made.reports  # type: ignore[attr-defined]
    )
    scripted(made, FakeRunner()).deploy()  # STS at AWS's address, not the profile's
    # The tool's own readers (invoke logs, status) go to AWS, not to 127.0.0.1:9.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        assert made.target.client("lambda").list_functions()["Functions"] == []


@mock_aws
def test_a_real_stage_with_its_state_on_this_machine_says_so_on_every_deploy(tmp_path):
    made = deployer(tmp_path, real_stage(tmp_path, aws_account_id=MOTO_ACCOUNT))
    for _ in range(2):
        scripted(made, FakeRunner()).deploy()
    warnings = [line for line in made.reports if "state lives only in" in line]  # type: ignore[attr-defined]
    assert len(warnings) == 2 and "-migrate-state" in warnings[0]
