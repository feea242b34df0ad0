"""The function's model access, read from Terraform's plan for both kinds of model id: a
plain model in the stage's Region only; an inference profile, and its foundation model only
through that profile, in the profile's geography."""

import json
from pathlib import Path

import pytest

from deploy.emulator_target import emulator_environment
from deploy.environment import terraform_environment
from deploy.paths import TERRAFORM_DIR
from deploy.terraform import TerraformRunner

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

ACCOUNT = "123456789012"
CONFIG = """
provider "aws" {{
  region                      = "us-east-1"
  skip_credentials_validation = true
}}

module "function" {{
  source                     = "{module}"
  function_name              = "model-access"
  handler                    = "codegen.handler.lambda_handler"
  runtime                    = "python3.12"
  architecture               = "x86_64"
  function_zip_path          = "{zip}"
  function_zip_base64_sha256 = "AAAA"
  layer_arn                  = "arn:aws:lambda:us-east-1:{account}:layer:deps:1"
  memory_size                = 512
  timeout                    = 28
  reserved_concurrency       = -1
  tracing_enabled            = false
  log_retention_days         = 14
  output_bucket_name         = "bucket"
  output_bucket_arn          = "arn:aws:s3:::bucket"
  output_prefix              = "code-output/"
  stored_keys                = "*"
  model_id                   = "{model_id}"
  environment                = {{}}
  additional_policy_json     = jsonencode({{ Version = "2012-10-17", Statement = [] }})
  kms_key_arn                = null
  streams_model              = false
}}
"""


def planned_statements(tmp_path: Path, moto_url: str, terraform_env, model_id: str) -> dict:
    root = tmp_path / model_id.replace(":", "_")
    root.mkdir()
    (root / "code.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (root / "main.tf").write_text(
        CONFIG.format(
            module=TERRAFORM_DIR / "modules" / "lambda_function",
            zip=root / "code.zip",
            account=ACCOUNT,
            model_id=model_id,
        )
    )
    env = terraform_environment(terraform_env, tmp_path / "work")
    env.update(emulator_environment(moto_url, "us-east-1"))
    runner = TerraformRunner(root, env, sink=None)
    runner.init()
    runner.plan([], root / "plan")
    plan = runner.show_plan(root / "plan")
    (policy,) = [
        change["change"]["after"]["policy"]
        for change in plan["resource_changes"]
        if change["address"] == "module.function.aws_iam_role_policy.this"
    ]
    return {s["Sid"]: s for s in json.loads(policy)["Statement"]}


def listed(value) -> list:
    return value if isinstance(value, list) else [value]


def test_a_plain_model_id_may_be_invoked_in_the_stages_region_only(
    tmp_path, moto_url, terraform_env
):
    model = "anthropic.claude-haiku-5-5"
    statements = planned_statements(tmp_path, moto_url, terraform_env, model)
    assert "InvokeModelThroughProfile" not in statements
    invoke = statements["InvokeConfiguredModel"]
    assert listed(invoke["Action"]) == ["bedrock:InvokeModel"]
    assert listed(invoke["Resource"]) == [f"arn:aws:bedrock:us-east-1::foundation-model/{model}"]


def test_an_inference_profiles_model_may_be_invoked_only_through_the_profile(
    tmp_path, moto_url, terraform_env
):
    profile = "us.anthropic.claude-haiku-5-5"
    statements = planned_statements(tmp_path, moto_url, terraform_env, profile)
    profile_arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{profile}"
    assert listed(statements["InvokeConfiguredModel"]["Resource"]) == [profile_arn]
    through = statements["InvokeModelThroughProfile"]
    assert listed(through["Resource"]) == [
        "arn:aws:bedrock:us-*::foundation-model/anthropic.claude-haiku-5-5"
    ]
    assert through["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile_arn}}
    # Nothing else of the model's, and no Region outside the profile's geography.
    every = [r for s in statements.values() for r in listed(s["Resource"])]
    assert not any(":bedrock:*:" in r for r in every)
