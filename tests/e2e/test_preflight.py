"""`invoke preflight` through the shared local stack: the same code that reads an AWS account
reads the emulator's, and every trouble AWS can have is injected through the real emulator
(its /_local/account answers, its fault rules) and reported with its ✗ or ⚠ and its fix. A
stage that does not fit its account stops `invoke deploy` before Terraform starts.
"""

import json
import os
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from deploy.paths import REPO_ROOT
from deploy.preflight import ENABLED_RECORD, PreflightFailed
from deploy.status import read_model
from local_stage.contract import TOKEN_HEADER
from local_stage.emulator.account import CATALOGUE, PATH, quota_names
from tests.e2e.helpers import CREDENTIALS, emulator_client, set_faults

# The account's reservations (every stage's functions) must not change while a test reads them.
pytestmark = [pytest.mark.e2e, pytest.mark.settled]

MODEL = CATALOGUE[0].model_id
CHECKS = [
    "account",
    "model",
    "model access",
    "first invocation",
    "Lambda concurrency",
    "Bedrock quotas",
    "state backend",
]


@pytest.fixture
def account(local_stage):
    """Changes the stack's emulated account; back to the stack's start after the test."""

    def change(body: dict | None = None, method: str = "POST") -> dict:
        request = urllib.request.Request(
            local_stage.state.emulator_url + PATH,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={TOKEN_HEADER: local_stage.state.token, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    yield change
    change(method="DELETE")
    set_faults(local_stage.state.emulator_url, local_stage.state.token, "DELETE")


def checks(report) -> dict:
    return {check.name: check for check in report.checks}


def test_the_local_stage_passes_every_check_through_the_cli(local_stage, account):
    env = {
        **os.environ,
        "CODEGEN_EMULATOR_URL": local_stage.state.emulator_url,
        "AWS_ACCESS_KEY_ID": CREDENTIALS.access_key,
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS.secret_key,
    }
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "preflight", "--stage", "local"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for name in CHECKS:
        assert any(line.startswith(f"✓ {name}: ") for line in lines), (name, done.stdout)
    assert "preflight passes: 0 failed, 0 to look at, 7 checks" in done.stdout
    assert f"Anthropic Claude Haiku 5.5 ({MODEL})" in done.stdout


def test_a_legacy_model_warns_with_its_dates_and_the_active_choices(local_stage, account):
    end = datetime.now(UTC) + timedelta(days=45, hours=1)
    account(
        {
            "model": MODEL,
            "lifecycle": "LEGACY",
            "legacy_time": "2026-11-01T00:00:00+00:00",
            "end_of_life_time": end.isoformat(),
        }
    )
    report = local_stage.deployer().preflight_report()
    model = checks(report)["model"]
    assert model.level == "warn" and not report.failed
    assert "LEGACY" in model.summary and "legacy since 2026-11-01" in model.summary
    assert f"end of life {end:%Y-%m-%d}" in model.summary and "45 days left" in model.summary
    assert "invoke models --stage local" in model.fix
    # `invoke status` reads the same lifecycle: 45 days out warns, 20 days out turns it red.
    client = local_stage.deployer().target.client
    far = read_model(client, MODEL, datetime.now(UTC).timestamp())
    assert far.text.startswith("⚠") and not far.urgent
    account(
        {
            "model": MODEL,
            "lifecycle": "LEGACY",
            "end_of_life_time": (datetime.now(UTC) + timedelta(days=20)).isoformat(),
        }
    )
    assert read_model(client, MODEL, datetime.now(UTC).timestamp()).urgent


def test_an_unknown_or_retired_model_fails_and_names_the_models_to_choose(local_stage, account):
    report = local_stage.deployer(
        model_id="anthropic.claude-3-5-haiku-20241022-v1:0"
    ).preflight_report()
    model = checks(report)["model"]
    assert model.level == "fail" and "is not offered in us-east-1" in model.summary
    assert f"{MODEL} (Anthropic Claude Haiku 5.5) via " in model.fix
    assert f"us.{MODEL}" in model.fix
    # What depends on the model says it could not look, and is no verdict.
    assert checks(report)["model access"].level == "warn"
    assert [check.name for check in report.failed] == ["model"]
    account({"model": MODEL, "offered": False})
    retired = local_stage.deployer().preflight_report()
    assert checks(retired)["model"].level == "fail"


def test_access_that_is_not_granted_fails_with_each_fix(local_stage, account):
    account(
        {
            "model": MODEL,
            "availability": {
                "authorizationStatus": "NOT_AUTHORIZED",
                "agreementAvailability": {"status": "NOT_AVAILABLE"},
            },
        }
    )
    access = checks(local_stage.deployer().preflight_report())["model access"]
    assert access.level == "fail"
    assert (
        "agreement NOT_AVAILABLE" in access.summary
        and "authorization NOT_AUTHORIZED" in access.summary
    )
    assert "put-use-case-for-model-access" in access.fix
    assert f"create-foundation-model-agreement --model-id {MODEL}" in access.fix


def test_the_first_call_is_asked_for_until_the_account_is_entitled(local_stage, account):
    account({"model": MODEL, "availability": {"entitlementAvailability": "NOT_AVAILABLE"}})
    deployer = local_stage.deployer()
    (deployer.workdir.path / ENABLED_RECORD).unlink(missing_ok=True)
    first = checks(deployer.preflight_report())["first invocation"]
    assert first.level == "fail" and "invoke model.enable --stage local" in first.fix
    assert "aws-marketplace:Subscribe" in first.fix
    # model.enable's one call is made (through the stack's model server) and recorded.
    from deploy.model_enable import enable_model

    enabled = enable_model(deployer.stage, deployer.target.client, deployer.workdir.path)
    assert enabled.output_tokens == 1 and enabled.cost_usd == 0  # local prices are 0
    after = checks(deployer.preflight_report())["first invocation"]
    assert after.level == "warn" and "invoke model.enable` called it on" in after.summary
    account(method="DELETE")
    entitled = checks(deployer.preflight_report())["first invocation"]
    assert entitled.level == "ok" and "done" in entitled.summary


def test_a_new_accounts_concurrency_limit_fails_with_the_arithmetic(local_stage, account):
    account({"concurrency_limit": 10})
    report = local_stage.deployer(reserved_concurrency=5).preflight_report()
    concurrency = checks(report)["Lambda concurrency"]
    assert concurrency.level == "fail"
    assert "5 (API) + 0 (job routes) + 4 (worker) = 9" in concurrency.summary
    assert "limit is 10" in concurrency.summary and "keeps 10 unreserved" in concurrency.summary
    assert "--quota-code L-B99A9384 --desired-value" in concurrency.fix
    assert '"reserved_concurrency": -1' in concurrency.fix


def test_a_quota_of_zero_fails_and_a_small_one_warns(local_stage, account):
    name = next(n for n in quota_names(CATALOGUE[0]) if n.startswith("On-demand"))
    account({"quota": name, "value": 0})
    quotas = checks(local_stage.deployer().preflight_report())["Bedrock quotas"]
    assert quotas.level == "fail" and "a quota of 0" in quotas.summary
    assert "request-service-quota-increase --service-code bedrock" in quotas.fix
    account({"quota": name, "value": 1000})
    short = checks(local_stage.deployer().preflight_report())["Bedrock quotas"]
    assert short.level == "warn" and "tokens/minute" in short.summary
    assert "x 5 (output burndown)" in short.summary


def test_a_read_the_deployer_may_not_make_is_a_warning_naming_the_permission(local_stage, account):
    set_faults(
        local_stage.state.emulator_url,
        local_stage.state.token,
        "POST",
        {
            "method": "GET",
            "path": "/foundation-model-availability/*",
            "service": "bedrock",
            "status": 403,
            "code": "AccessDeniedException",
        },
    )
    report = local_stage.deployer().preflight_report()
    access = checks(report)["model access"]
    assert access.level == "warn" and "could not check" in access.summary
    assert "bedrock:GetFoundationModelAvailability" in access.fix
    # The other checks still ran, and nothing failed.
    assert [check.name for check in report.checks] == CHECKS and not report.failed
    assert checks(report)["Lambda concurrency"].level == "ok"


def test_a_stage_over_the_accounts_limit_stops_the_deploy_before_terraform(
    local_stage, account, monkeypatch
):
    account({"concurrency_limit": 50})
    deployer = local_stage.deployer(reserved_concurrency=10, job_max_concurrency=2)
    terraform_ran = []
    for step in ("init", "plan", "apply"):
        monkeypatch.setattr(
            deployer.runner, step, lambda *args, _step=step, **kwargs: terraform_ran.append(_step)
        )
    functions_before = emulator_client(local_stage.state.emulator_url, "lambda").list_functions()
    with pytest.raises(PreflightFailed) as caught:
        deployer.deploy()
    assert "Lambda concurrency" in str(caught.value) and "nothing was created" in str(caught.value)
    with pytest.raises(PreflightFailed):
        deployer.plan()
    # Terraform was never started, and the emulator holds what it held.
    assert terraform_ran == []
    functions_after = emulator_client(local_stage.state.emulator_url, "lambda").list_functions()
    assert functions_after["Functions"] == functions_before["Functions"]
