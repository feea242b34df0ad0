"""Stage names, and the rules the tooling and Terraform must agree on."""

import json
import re

import pytest

from deploy.paths import TERRAFORM_DIR
from deploy.stages import DEFAULTS_FILE, STAGE_NAME_PATTERN, StageError, load_stage, stage_names


@pytest.mark.parametrize("name", ["../etc", "dev/../../x", "", "Prod", "a" * 17, "-dev", "dev.x"])
def test_a_stage_name_that_is_not_a_plain_name_is_refused_before_it_becomes_a_path(name):
    with pytest.raises(StageError, match="invalid stage name"):
        load_stage(name)


def test_the_tooling_and_terraform_accept_the_same_stage_names():
    variables = (TERRAFORM_DIR / "variables.tf").read_text()
    assert f'regex("{STAGE_NAME_PATTERN}", var.stage)' in variables
    assert all(re.fullmatch(STAGE_NAME_PATTERN, name) for name in stage_names())


def test_every_real_stage_sets_a_cost_ceiling_and_says_whether_it_is_protected():
    for name in stage_names():
        stage = load_stage(name)
        assert "reserved_concurrency" in stage.variables, name
        if not stage.emulated:
            assert stage.variables["reserved_concurrency"] >= 1, name
    assert load_stage("prod").protected and not load_stage("dev").protected


def test_every_scanner_finding_skipped_in_terraform_says_why():
    skips = []
    for path in TERRAFORM_DIR.rglob("*.tf"):
        skips += re.findall(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?", path.read_text())
    assert skips
    for check, reason in skips:
        assert reason and len(reason.strip()) > 15, f"{check} is skipped without a reason"


# The checks a stage's own key (kms_key) answers: their skips claim which stages have one.
KEY_CHECKS = {"CKV_AWS_119", "CKV_AWS_145", "CKV_AWS_158"}


def test_the_key_checks_are_skipped_only_with_a_reason_true_of_every_stage():
    """Each skip of a check a customer-managed key answers says which stages have a key and
    which choose AWS's: the stage files must agree, and no stage may go unnamed."""
    claim = "where the stage's kms_key sets one (prod creates one); dev and local choose"
    skipped = set()
    for path in TERRAFORM_DIR.rglob("*.tf"):
        for check, reason in re.findall(r"#\s*checkov:skip=([A-Z0-9_]+):(.*)", path.read_text()):
            if check in KEY_CHECKS:
                skipped.add(check)
                assert claim in reason, f"{path}: {check}'s reason names no stages"
    assert skipped == KEY_CHECKS
    assert load_stage("prod").variables["kms_key"] == "create"
    assert load_stage("dev").variables["kms_key"] is None
    assert load_stage("local").variables["kms_key"] is None
    assert set(stage_names()) == {"dev", "local", "prod"}, "a new stage: name it in the reasons"


ARTIFACT_VARIABLES = {
    "function_zip_path",
    "function_zip_base64_sha256",
    "layer_zip_path",
    "layer_zip_base64_sha256",
}  # set by `invoke deploy` from the build, never by a stage


def declared_variables() -> dict[str, str]:
    text = (TERRAFORM_DIR / "variables.tf").read_text()
    return dict(re.findall(r'^variable "(\w+)" \{(.*?)^\}', text, re.S | re.M))


def test_terraforms_root_variables_have_no_defaults_of_their_own():
    for name, body in declared_variables().items():
        assert not re.search(r"^\s*default\s*=", body, re.M), f"{name} has a default in .tf"


@pytest.mark.parametrize("name", stage_names())
def test_terraform_and_the_tooling_see_the_same_value_of_every_variable(name):
    defaults = json.loads(DEFAULTS_FILE.read_text())
    stage = load_stage(name)
    own = json.loads(stage.var_file.read_text())
    declared = set(declared_variables()) - ARTIFACT_VARIABLES
    # Terraform reads exactly these files, in this order, and nothing else gives a value.
    assert stage.var_files == [DEFAULTS_FILE, stage.var_file]
    assert set(defaults) <= declared and set(own) <= declared, "a value for no variable"
    assert set(defaults) | set(own) == declared, "a variable Terraform would ask for"
    for variable in declared:
        terraform_sees = own[variable] if variable in own else defaults[variable]
        assert stage.variables[variable] == terraform_sees, variable


def test_terraforms_time_for_the_model_is_what_the_function_leaves_it():
    """terraform/main.tf's sync_overhead_seconds holds what the function spends on other
    things than the model (codegen.generation.producer: the store's budget, a connection, the
    answer) plus a first token's second; the unit tests' copy (sync_token_limit) is the same."""
    import sys

    sys.path.insert(0, str(TERRAFORM_DIR.parent / "lambda"))
    from codegen.generation.producer import ANSWER_MARGIN_S
    from codegen.settings import Settings
    from tests.unit.function.conftest import SYNC_OVERHEAD_S

    main = (TERRAFORM_DIR / "main.tf").read_text()
    overhead = int(re.search(r"sync_overhead_seconds\s*=\s*(\d+)", main).group(1))
    spent = Settings.storage_budget + Settings.connect_timeout + ANSWER_MARGIN_S
    assert overhead == SYNC_OVERHEAD_S == spent + 1


@pytest.mark.parametrize("name", stage_names())
def test_each_stages_synchronous_token_limit_is_answerable_and_published(name):
    from tests.unit.function.conftest import sync_token_limit

    values = load_stage(name).variables
    limit = values["max_tokens_limit"] or sync_token_limit(values)
    assert limit <= sync_token_limit(values)
    assert values["default_max_tokens"] <= limit
    spec = (TERRAFORM_DIR.parent / "lambda" / "openapi.yaml").read_text()
    rate = f"{values['model_tokens_per_second']} tokens/s"
    assert f"{limit} ({rate})" in " ".join(spec.split()), "openapi.yaml states each limit"


@pytest.mark.parametrize("name", stage_names())
def test_no_jobs_message_can_expire_before_its_job_is_settled(name):
    """A message whose retention runs out is deleted, never dead-lettered: its job would
    wait for its deadline with nothing to run it. terraform/modules/jobs keeps messages
    14 days and refuses a stage whose jobs' deadline is not shorter."""
    values = load_stage(name).variables
    visibility = values["job_visibility_timeout"] or 6 * values["worker_timeout"]
    deadline = (values["job_max_receive_count"] + 1) * visibility  # terraform/main.tf
    jobs_module = (TERRAFORM_DIR / "modules" / "jobs" / "variables.tf").read_text()
    retention = re.search(
        r'variable "message_retention_seconds" \{.*?default\s*=\s*(\d+)', jobs_module, re.S
    )
    assert deadline < int(retention.group(1)) == 14 * 86400
    assert visibility >= values["worker_timeout"] + 10
    # And the job's record outlives its deadline (terraform/main.tf's precondition).
    assert deadline <= values["job_ttl_days"] * 86400
