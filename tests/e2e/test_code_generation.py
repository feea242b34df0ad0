"""The main job from a clean local stack: deploy the real function with `invoke deploy`'s
code path, send a signed PUT /code-generation, get code the local model wrote, find the same
bytes in the emulator's bucket."""

import ast
import json
import time
import urllib.request

import boto3
import pytest

from deploy.paths import LAMBDA_DIR
from tests.e2e.helpers import send

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.model,
]

PALINDROME = {
    "message": "a function that checks whether a string is a palindrome",
    "key": "python",
    "temperature": 0,
}


@pytest.fixture(scope="module")
def deployed(local_stage):
    report = local_stage.deployer(LAMBDA_DIR).deploy()
    assert report.changed
    return report.outputs


@pytest.fixture(scope="module")
def s3(local_stage):
    return boto3.client(
        "s3",
        endpoint_url=local_stage.state.emulator_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def test_a_put_returns_generated_python_that_parses_and_stores_it(local_stage, deployed, s3):
    status, headers, data = send(local_stage.url(), json.dumps(PALINDROME).encode(), timeout=60)
    assert status == 200, data
    reply = json.loads(data)
    ast.parse(reply["code"])
    assert "def " in reply["code"]
    assert reply["language"] == "python" and reply["extension"] == ".py"
    assert reply["stored"] is True and reply["bucket"] == deployed["bucket_name"]
    assert reply["key"].startswith("code-output/") and reply["key"].endswith(".py")
    assert reply["location"] == f"s3://{reply['bucket']}/{reply['key']}"
    assert reply["usage"]["output_tokens"] > 0 and reply["stop_reason"] == "end_turn"
    assert headers["X-Request-Id"] == reply["request_id"]
    stored = s3.get_object(Bucket=reply["bucket"], Key=reply["key"])
    assert stored["Body"].read() == reply["code"].encode("utf-8")
    assert stored["ContentType"].startswith("text/x-python")
    assert stored["Metadata"]["language"] == "python"
    assert stored["Metadata"]["request-id"] == reply["request_id"]


def test_text_plain_gets_the_code_alone_with_its_location(local_stage, deployed, s3):
    status, headers, data = send(
        local_stage.url(),
        json.dumps(PALINDROME).encode(),
        headers=[("Accept", "text/plain")],
        timeout=60,
    )
    assert status == 200, data
    ast.parse(data.decode())
    bucket, key = headers["X-Code-Location"].removeprefix("s3://").split("/", 1)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data


def test_the_local_models_limits_come_back_as_the_functions_statuses(local_stage, deployed):
    body = {**PALINDROME, "max_tokens": 3}
    status, _, data = send(local_stage.url(), json.dumps(body).encode(), timeout=60)
    reply = json.loads(data)
    assert status == 200 and reply["truncated"] is True and reply["stop_reason"] == "max_tokens"
    assert reply["usage"]["output_tokens"] == 3


def faults(local_stage, method: str, rule: dict | None = None) -> None:
    url = f"{local_stage.state.emulator_url}/_local/faults"
    data = json.dumps(rule).encode() if rule is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_a_slow_failing_s3_after_generation_still_answers_200_with_the_code(
    local_stage, deployed, s3
):
    before = s3.list_objects_v2(Bucket=deployed["bucket_name"]).get("KeyCount", 0)
    # Every PutObject hangs past the function's 2 s S3 read timeout, then fails.
    faults(
        local_stage,
        "POST",
        {"method": "PUT", "path": f"/{deployed['bucket_name']}/*", "delay_s": 3, "status": 503},
    )
    try:
        started = time.monotonic()
        status, headers, data = send(local_stage.url(), json.dumps(PALINDROME).encode(), timeout=60)
        elapsed = time.monotonic() - started
    finally:
        faults(local_stage, "DELETE")
    assert status == 200, data
    reply = json.loads(data)
    ast.parse(reply["code"])
    assert "def " in reply["code"]
    assert reply["stored"] is False and reply["location"] is None
    assert "could not be stored" in reply["storage_error"]
    assert headers["X-Storage-Error"] == reply["storage_error"]
    assert elapsed < 28  # answered within the function's timeout, not cut off by it
    # A failing rule answers itself, so no attempt (even one still hanging) reaches the bucket.
    assert s3.list_objects_v2(Bucket=deployed["bucket_name"]).get("KeyCount", 0) == before
