import json
import math

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from deploy.paths import TERRAFORM_DIR
from tests.unit.function.helpers import (
    ALERT_TOPIC_ARN,
    BUCKET,
    FIXED_NOW,
    IDEMPOTENCY_TABLE,
    JOBS_OWNER_INDEX,
    JOBS_QUEUE_URL,
    JOBS_TABLE,
    MODEL,
    SPEND_TABLE,
    build_service,
    create_jobs_backend,
)

# What a synchronous request's time leaves the model, as terraform/main.tf counts it.
SYNC_OVERHEAD_S = 8


def sync_token_limit(values: dict) -> int:
    """terraform/main.tf's synchronous max_tokens limit for a stage's resolved values."""
    rate, timeout = values["model_tokens_per_second"], values["timeout"]
    return max(1, math.floor(rate * (timeout - SYNC_OVERHEAD_S)))


def stage_environment() -> dict[str, str]:
    """What Terraform sets for a stage that takes every default (terraform/main.tf and the
    function module map terraform/defaults.tfvars.json to these; null becomes "")."""
    defaults = json.loads((TERRAFORM_DIR / "defaults.tfvars.json").read_text())

    def text(name: str) -> str:
        return "" if defaults[name] is None else str(defaults[name])

    visibility = defaults["job_visibility_timeout"] or 6 * defaults["worker_timeout"]
    answerable = sync_token_limit(defaults)
    deadline = (defaults["job_max_receive_count"] + 1) * visibility  # terraform/main.tf

    return {
        "DEFAULT_TEMPERATURE": text("default_temperature"),
        "DEFAULT_TOP_P": text("default_top_p"),
        "DEFAULT_TOP_K": text("default_top_k"),
        "DEFAULT_MAX_TOKENS": text("default_max_tokens"),
        "MAX_TOKENS_LIMIT": str(defaults["max_tokens_limit"] or answerable),
        "ASYNC_MAX_TOKENS_LIMIT": text("async_max_tokens_limit"),
        "JOB_TTL_DAYS": text("job_ttl_days"),
        "JOB_MAX_RECEIVE_COUNT": text("job_max_receive_count"),
        "JOB_DEADLINE_SECONDS": str(deadline),
        "JOBS_OWNER_INDEX": JOBS_OWNER_INDEX,
        "MAX_UNFINISHED_JOBS_PER_CALLER": text("max_unfinished_jobs_per_caller"),
        "IDEMPOTENCY_WINDOW_SECONDS": text("idempotency_window_seconds"),
        "BEDROCK_READ_TIMEOUT": str(max(defaults["timeout"] - 3, 1)),
        "OUTPUT_PREFIX": "code-output/",
        "STAGE": "test",
        "METRICS_NAMESPACE": "CodeGen",
        "SYSTEM_PROMPT": defaults["system_prompt"],
        "SYNTAX_REPAIR": str(defaults["syntax_repair"]).lower(),
        "MODEL_REQUEST_FIELDS": json.dumps(defaults["model_request_fields"]),
        "SPEND_DEFAULT_BUDGET": ""
        if defaults["spend_budget"] is None
        else json.dumps(defaults["spend_budget"]),
        "SPEND_RETENTION_DAYS": text("spend_retention_days"),
        "SPEND_ALERT_SHARE": text("spend_alert_share"),
        "PRICE_PER_1000_INPUT_TOKENS": text("price_per_1000_input_tokens"),
        "PRICE_PER_1000_OUTPUT_TOKENS": text("price_per_1000_output_tokens"),
    }


@pytest.fixture
def env(monkeypatch):
    values = {
        **stage_environment(),
        "MODEL_ID": MODEL,
        "OUTPUT_BUCKET": BUCKET,
        "JOBS_TABLE": JOBS_TABLE,
        "JOBS_QUEUE_URL": JOBS_QUEUE_URL,
        "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
        "SPEND_TABLE": SPEND_TABLE,
        "ALERT_TOPIC_ARN": ALERT_TOPIC_ARN,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    ):
        monkeypatch.delenv(name, raising=False)
    return values


@pytest.fixture
def s3(env):
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        create_jobs_backend()
        yield client


@pytest.fixture
def bedrock(env):
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def service(s3, bedrock):
    return build_service(lambda _seconds: bedrock[0], s3, clock=lambda: FIXED_NOW)


@pytest.fixture
def stubber(bedrock):
    return bedrock[1]
