"""Idempotency-Key through the local stack: the real function behind the gateway, the model
server's script answering and counting its calls. A retry after the gateway gave up gets the
first answer and the model ran once; a duplicate sent meanwhile gets 409, another request
with the key 422; keys are per caller, and every session of one role is one caller."""

import concurrent.futures
import io
import json
import uuid

import pytest
from botocore.credentials import Credentials

from deploy.call import generate
from tests.e2e.helpers import CREDENTIALS, emulator_client, send, set_script, wait_for
from tests.e2e.variants import Variant

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.model,
]

REQUEST = {"message": "a function that adds two numbers", "key": "python", "max_tokens": 48}
BODY = json.dumps(REQUEST).encode()
# The real function with a 1 s integration timeout: the gateway answers 503 after it while
# the function runs on.
IDEMPOTENT = Variant(
    "idem", {"timeout": 20, "integration_timeout_ms": 1000, "default_max_tokens": 200}
)
pytestmark.append(pytest.mark.variants(IDEMPOTENT))
# Every model call is scripted: its first token 4 s after the call (past the gateway's 1 s,
# within the 12 s the function's 20 s leave the model), then 40 tokens in 1 s, whatever the
# machine's speed.
SCRIPT = {
    "path": "/model/*/converse",
    "text": "def add(a: int, b: int) -> int:\n    return a + b\n" * 5,
    "first_token_delay_s": 4.0,
    "tokens_per_s": 40,
}


@pytest.fixture
def stage(local_stage):
    """The IDEMPOTENT variant, every model call scripted past its 1 s, and calls counted."""
    model = local_stage.state.model_url
    set_script(model, local_stage.state.token, "POST", SCRIPT)
    yield local_stage, local_stage.on(IDEMPOTENT)
    set_script(model, local_stage.state.token, "DELETE")


def model_calls(local_stage) -> int:
    """The model calls the script has answered."""
    rules = set_script(local_stage.state.model_url, local_stage.state.token, "GET")["rules"]
    return rules[0]["hits"]


def keyed_put(stage, key: str, body: bytes = BODY, credentials=CREDENTIALS):
    headers = [("Idempotency-Key", key)]
    return send(stage.url(), body, headers=headers, credentials=credentials)


def objects(s3, bucket: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_a_retry_past_the_gateways_timeout_gets_the_first_answer_from_one_model_call(stage):
    local_stage, idempotent = stage
    s3 = emulator_client(local_stage.state.emulator_url, "s3")
    bucket = idempotent.outputs["bucket_name"]
    before = objects(s3, bucket)
    notices = io.StringIO()
    key = str(uuid.uuid4())
    payload = generate(
        idempotent.endpoint(),
        BODY,
        progress=notices,
        idempotency_key=key,
    )
    assert "HTTP 503" in notices.getvalue()  # the first try was cut off by the gateway
    assert model_calls(local_stage) == 1
    assert objects(s3, bucket) - before == {payload["key"]}
    # Sent once more, it is the same answer again, marked as a replay.
    status, headers, data = keyed_put(idempotent, key)
    assert status == 200 and json.loads(data) == payload
    assert headers["Idempotent-Replayed"] == "true"
    assert headers["X-Request-Id"] == payload["request_id"]
    assert model_calls(local_stage) == 1


def test_a_duplicate_sent_while_the_first_runs_is_a_409_and_another_body_a_422(stage):
    local_stage, idempotent = stage
    key = str(uuid.uuid4())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(keyed_put, idempotent, key)
        wait_for(lambda: model_calls(local_stage) == 1, 20, "the first request to reach the model")
        status, headers, data = keyed_put(idempotent, key)
        if status == 503:  # a second worker's cold start can outlast the 1 s: once more
            status, headers, data = keyed_put(idempotent, key)
        assert status == 409 and json.loads(data)["error"] == "RequestInProgress"
        assert int(headers["Retry-After"]) >= 1
        first.result()
    other = json.dumps({**REQUEST, "message": "a function that multiplies"}).encode()
    status, _, data = keyed_put(idempotent, key, other)
    assert status == 422 and json.loads(data)["error"] == "IdempotencyKeyReused"
    assert model_calls(local_stage) == 1


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def test_keys_belong_to_the_caller_and_every_session_of_a_role_is_one_caller(stage):
    local_stage, idempotent = stage
    emulator = local_stage.state.emulator_url
    iam, sts = emulator_client(emulator, "iam"), emulator_client(emulator, "sts")
    suffix = uuid.uuid4().hex[:8]
    iam.create_user(UserName=f"bob-{suffix}")
    bob_key = iam.create_access_key(UserName=f"bob-{suffix}")["AccessKey"]
    bob = Credentials(bob_key["AccessKeyId"], bob_key["SecretAccessKey"])
    role = iam.create_role(RoleName=f"builder-{suffix}", AssumeRolePolicyDocument=TRUST)["Role"]

    def session(name: str) -> Credentials:
        issued = sts.assume_role(RoleArn=role["Arn"], RoleSessionName=name)["Credentials"]
        return Credentials(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])

    def answer(credentials: Credentials, key: str) -> dict:
        return generate(idempotent.endpoint(credentials), BODY, idempotency_key=key)

    key = str(uuid.uuid4())
    mine = answer(CREDENTIALS, key)
    bobs = answer(bob, key)  # the same key, another caller: a request of its own
    assert bobs["request_id"] != mine["request_id"] and model_calls(local_stage) == 2
    role_key = str(uuid.uuid4())
    first = answer(session("ci-1"), role_key)
    again = answer(session("ci-2"), role_key)  # another session of the same role
    assert again == first and model_calls(local_stage) == 3
