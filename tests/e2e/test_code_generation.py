"""The main job on the local stack: the real function deployed through `invoke deploy`'s code
path, a signed PUT /code-generation, code the local model wrote, the same bytes in the
emulator's bucket; then the failures around it (S3, Bedrock, a killed worker, no model)."""

import ast
import concurrent.futures
import json

import psutil
import pytest

from deploy.terraform import TerraformError
from local_stage.contract import running_model
from tests.e2e.helpers import emulator_client, send, set_faults, wait_for
from tests.e2e.variants import BASE, Variant

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.model,
]

# A stage whose system prompt is its own (the model is told it; each object names it).
OWN_PROMPT = "You write {language} only. Reply with one fenced ```{tag} block and nothing else."
PROMPT = Variant("prompt", {"system_prompt": OWN_PROMPT})
pytestmark.append(pytest.mark.variants(BASE))

PALINDROME = {
    "message": "a function that checks whether a string is a palindrome",
    "key": "python",
    "temperature": 0,
}


def base_url(local_stage) -> str:
    return local_stage.on(BASE).url()


@pytest.fixture
def deployed(local_stage):
    return local_stage.on(BASE).outputs


@pytest.fixture(scope="module")
def s3(local_stage):
    return emulator_client(local_stage.state.emulator_url, "s3")


@pytest.mark.runtime_client
def test_a_put_returns_generated_python_that_parses_and_stores_it(local_stage, deployed, s3):
    status, headers, data = send(base_url(local_stage), json.dumps(PALINDROME).encode(), timeout=60)
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
        base_url(local_stage),
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
    status, _, data = send(base_url(local_stage), json.dumps(body).encode(), timeout=60)
    reply = json.loads(data)
    assert status == 200 and reply["truncated"] is True and reply["stop_reason"] == "max_tokens"
    assert reply["usage"]["output_tokens"] == 3


def faults(local_stage, method: str, rule: dict | None = None) -> dict:
    return set_faults(local_stage.state.emulator_url, local_stage.state.token, method, rule)


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
        status, headers, data = send(
            base_url(local_stage), json.dumps(PALINDROME).encode(), timeout=60
        )
    finally:
        faults(local_stage, "DELETE")
    # A 200 with the code: the function answered within its timeout (cut off by it, the
    # caller would get the gateway's bare 500), whatever the machine's speed.
    assert status == 200, data
    reply = json.loads(data)
    ast.parse(reply["code"])
    assert "def " in reply["code"]
    assert reply["stored"] is False and reply["location"] is None
    assert "could not be stored" in reply["storage_error"]
    assert headers["X-Storage-Error"] == reply["storage_error"]
    # A failing rule answers itself, so no attempt (even one still hanging) reaches the bucket.
    assert s3.list_objects_v2(Bucket=deployed["bucket_name"]).get("KeyCount", 0) == before


def test_a_synchronous_limit_the_model_cannot_meet_is_refused_before_anything_changes(
    local_stage, deployed
):
    # local counts on 30 tokens/s: 28 s less 8 leave 600 tokens, not 601.
    with pytest.raises(TerraformError) as refused:
        local_stage.on(BASE).deployer(max_tokens_limit=601).deploy()
    message = " ".join(str(refused.value).split())
    assert "max_tokens_limit (601) is more than the model writes" in message
    assert "600 tokens" in message
    status, _, data = send(
        base_url(local_stage), json.dumps({**PALINDROME, "max_tokens": 601}).encode()
    )
    assert status == 400 and "a job (header Prefer: respond-async)" in json.loads(data)["message"]


def test_a_job_that_could_outlive_its_record_is_refused_before_anything_changes(
    local_stage, deployed
):
    # 5 deliveries and the deadline's one more, of 12 hours each: 72 hours; the record: 1 day.
    with pytest.raises(TerraformError) as refused:
        local_stage.on(BASE).deployer(
            job_ttl_days=1, job_visibility_timeout=43200, job_max_receive_count=5
        ).deploy()
    message = " ".join(str(refused.value).split())
    assert "A job may run until its deadline, 259200 s" in message
    assert "its record expires after job_ttl_days (1 days = 86400 s)" in message


def model_faults(local_stage, method: str, rule: dict | None = None) -> dict:
    return set_faults(local_stage.state.model_url, local_stage.state.token, method, rule)


def object_count(s3, bucket: str) -> int:
    return s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0)


@pytest.mark.parametrize(
    ("code", "status", "answer", "error"),
    [
        ("ThrottlingException", 429, 429, "Throttled"),
        ("ModelTimeoutException", 408, 504, "ModelTimeout"),
        ("ModelErrorException", 424, 502, "ModelError"),
        ("AccessDeniedException", 403, 502, "ModelAccessDenied"),
        ("ServiceUnavailableException", 503, 503, "ModelUnavailable"),
    ],
)
def test_bedrock_failures_reach_the_caller_as_documented_and_store_nothing(
    local_stage, deployed, s3, code, status, answer, error
):
    before = object_count(s3, deployed["bucket_name"])
    model_faults(local_stage, "POST", {"path": "/model/*/converse", "status": status, "code": code})
    try:
        got, headers, data = send(
            base_url(local_stage), json.dumps(PALINDROME).encode(), timeout=60
        )
        hits = model_faults(local_stage, "GET")["rules"][0]["hits"]
    finally:
        model_faults(local_stage, "DELETE")
    reply = json.loads(data)
    assert (got, reply["error"]) == (answer, error), reply
    assert reply["request_id"] and "anthropic" not in reply["message"]  # no operator detail
    if code in {"ThrottlingException", "ServiceUnavailableException"}:
        assert headers["Retry-After"] and hits == 2  # retried once, then answered
    else:
        assert hits == 1
    assert object_count(s3, deployed["bucket_name"]) == before


@pytest.mark.runtime_client
def test_a_worker_killed_mid_request_is_a_500_and_the_next_request_is_served(local_stage, deployed):
    model_faults(local_stage, "POST", {"path": "/model/*/converse", "delay_s": 5, "times": 1})
    server = psutil.Process(local_stage.state.pid)

    def kill_the_busy_worker() -> None:
        wait_for(
            lambda: model_faults(local_stage, "GET")["rules"][0]["hits"] == 1,
            30,
            "the function to call the model",
        )
        # Workers that talked to the model server keep a connection to it: the busy one and
        # warm idle ones alike.
        model_port = int(local_stage.state.model_url.rsplit(":", 1)[1])
        # The next request is sent at once: a killed idle worker whose exit the runtime has
        # not seen yet must not be handed it (tests/unit/local_stage/test_runtime_handoff.py).
        for child in server.children(recursive=True):
            connections = child.net_connections(kind="tcp")
            if any(c.raddr and c.raddr.port == model_port for c in connections):
                child.kill()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        killer = pool.submit(kill_the_busy_worker)
        status, _, data = send(base_url(local_stage), json.dumps(PALINDROME).encode(), timeout=60)
        killer.result()
    model_faults(local_stage, "DELETE")
    assert (status, json.loads(data)) == (500, {"message": "Internal Server Error"})
    status, _, data = send(base_url(local_stage), json.dumps(PALINDROME).encode(), timeout=60)
    assert status == 200 and json.loads(data)["stored"] is True


@pytest.mark.breaks_stack  # it stops the stack's model server for good
def test_with_the_model_server_down_the_caller_gets_502_at_once(local_stage, deployed):
    model = running_model(local_stage.state_dir)
    assert model is not None
    psutil.Process(model.pid).terminate()
    wait_for(
        lambda: (
            not psutil.pid_exists(model.pid)
            or psutil.Process(model.pid).status() == psutil.STATUS_ZOMBIE
        ),
        20,
        "the model server to stop",
    )
    stage = local_stage.on(BASE)
    logged = len(stage.function_log())
    status, _, data = send(stage.url(), json.dumps(PALINDROME).encode(), timeout=60)
    assert (status, json.loads(data)["error"]) == (502, "ModelUnreachable")
    # At once: one attempt, no backoff before the answer (the function's own record of it),
    # and not cut off by its timeout (that would be the gateway's bare 500, not this 502).
    log = stage.function_log()[logged:]
    assert log.count("cannot reach Bedrock") == 1, log
    assert "retrying in" not in log, log


@pytest.mark.variants(PROMPT)
def test_the_stages_prompt_is_its_own_checked_at_deploy_and_named_by_each_answer(local_stage, s3):
    """system_prompt is a stage setting: a template without {language} is refused before
    anything changes; another template is what the model is told, and each stored object
    names the prompt that made it (its SHA-256)."""
    import hashlib

    from deploy.stages import load_stage

    with pytest.raises(TerraformError) as refused:
        local_stage.on(BASE).deployer(system_prompt="Write good code.").deploy()
    assert "system_prompt must name the language as {language}" in str(refused.value)
    default = load_stage("local").variables["system_prompt"]
    for template, variant in ((default, BASE), (OWN_PROMPT, PROMPT)):
        stage = local_stage.on(variant)
        outputs = stage.outputs
        status, _, data = send(stage.url(), json.dumps(PALINDROME).encode())
        assert status == 200, data
        answer = json.loads(data)
        assert answer["syntax"]["status"] in ("ok", "error")  # python: always checked
        metadata = s3.head_object(Bucket=outputs["bucket_name"], Key=answer["key"])["Metadata"]
        assert metadata["system-prompt-sha256"] == hashlib.sha256(template.encode()).hexdigest()
        assert metadata["syntax"] == answer["syntax"]["status"]
