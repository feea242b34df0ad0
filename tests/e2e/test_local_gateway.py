"""The local gateway serving what Terraform deployed to the emulator, checked with a real
HTTP client against API Gateway's rules; a redeploy, failures, and local.down."""

import base64
import json
import time

import psutil
import pytest
from botocore.credentials import Credentials

from deploy.call import signed_headers
from local_stage import supervisor
from local_stage.runtime.interpreter import HTTP_CLIENT_DIR
from tests.e2e.helpers import CREDENTIALS, send, wait_for
from tests.e2e.variants import BASE, Variant

TEST_HANDLER = """
import base64, json, os, sys, time
from pathlib import Path

VERSION = Path(__file__).with_name("version.txt").read_text().strip()
time.sleep(float(Path(__file__).with_name("import_delay.txt").read_text() or 0))
if Path(__file__).with_name("broken.txt").exists():
    raise ImportError("this module refuses to import")

def lambda_handler(event, context):
    mode = (event.get("queryStringParameters") or {}).get("mode", "echo")
    print(f"handling mode={mode} request={context.aws_request_id}")
    if mode == "echo":
        env = {k: os.environ.get(k) for k in ("AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION",
               "LAMBDA_TASK_ROOT", "AWS_LAMBDA_RUNTIME_API", "MODEL_ID", "AWS_ENDPOINT_URL")}
        return {"statusCode": 200, "headers": {"x-version": VERSION},
                "body": json.dumps({"event": event, "env": env, "version": VERSION,
                                    "python": sys.version_info[:2],
                                    "remaining": context.get_remaining_time_in_millis(),
                                    "arn": context.invoked_function_arn,
                                    "memory": context.memory_limit_in_mb,
                                    "client": getattr(sys.modules.get("runtime_client"),
                                                      "__file__", None)})}
    if mode == "big":  # a 5 MB answer: Lambda takes up to 6 MB
        return {"statusCode": 200, "body": "x" * (5 * 1024 * 1024)}
    if mode == "too-big":
        return {"statusCode": 200, "body": "x" * (7 * 1024 * 1024)}
    if mode == "plain":
        return {"hello": "world", "version": VERSION}
    if mode == "binary":
        return {"statusCode": 201, "isBase64Encoded": True,
                "body": base64.b64encode(bytes(range(256))).decode(),
                "headers": {"content-type": "application/octet-stream"},
                "cookies": ["a=1; Path=/", "b=2"]}
    if mode == "crash":
        raise RuntimeError("the handler crashed")
    if mode == "exit":
        os._exit(3)
    if mode == "sleep":
        time.sleep(float((event.get("queryStringParameters") or {}).get("s", "1")))
        return {"statusCode": 200, "body": "slept"}
    if mode == "hang":
        while True:
            time.sleep(1)
    return {"statusCode": 400, "body": "unknown mode"}
"""


TIMEOUT_S = 3  # the stub function's timeout
# A timeout too short for any model call leaves a synchronous request 1 token at most
# (terraform/main.tf): the stage's default must not ask for more.
STUB_VARIABLES = {"timeout": TIMEOUT_S, "default_max_tokens": 1}


def _files(version: str, delay: float = 0.0, broken: bool = False) -> dict[str, str]:
    files = {"codegen/version.txt": version, "codegen/import_delay.txt": str(delay)}
    if broken:
        files["codegen/broken.txt"] = "yes"
    return files


STUB = Variant("stub", STUB_VARIABLES, TEST_HANDLER, _files("v1"))
# The stub once more, for the one test that changes its stage in place (a redeploy).
REDEPLOYED = Variant("redeploy", STUB_VARIABLES, TEST_HANDLER, _files("v1"))
# The stub sleeping past its integration's 1 s, well within its own 10 s timeout.
SLOW = Variant(
    "slow",
    {"timeout": 10, "integration_timeout_ms": 1000, "default_max_tokens": 1},
    TEST_HANDLER,
    _files("v1"),
)
BROKEN = Variant("broken", STUB_VARIABLES, TEST_HANDLER, _files("v3", broken=True))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.variants(STUB),
]


@pytest.fixture
def deployed(local_stage):
    """The STUB variant's stage."""
    return local_stage.on(STUB)


def echo(stage, query: str = "mode=echo", body: bytes = b'{"k": "v"}', **kwargs):
    status, _, data = send(stage.url() + f"?{query}", body, **kwargs)
    assert status == 200, data
    return json.loads(data)


@pytest.mark.runtime_client
def test_event_follows_payload_2_0(local_stage, deployed):
    reply = echo(
        deployed,
        "mode=echo&x=1&x=2&empty=",
        headers=[("Cookie", "c1=a; c2=b"), ("X-Custom", "Hi")],
    )
    event = reply["event"]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "PUT /code-generation"
    # The stage prefix stays in the path.
    assert event["rawPath"] == f"/{deployed.stage}/code-generation"
    assert event["rawQueryString"] == "mode=echo&x=1&x=2&empty="
    assert event["queryStringParameters"] == {"mode": "echo", "x": "1,2", "empty": ""}
    assert event["cookies"] == ["c1=a", "c2=b"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "Hi"  # names lower-cased
    assert event["body"] == '{"k": "v"}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == deployed.stage and context["routeKey"] == "PUT /code-generation"
    assert context["http"]["method"] == "PUT"
    assert context["http"]["path"] == f"/{deployed.stage}/code-generation"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["accountId"] == "123456789012" and len(context["requestId"]) == 36
    assert context["authorizer"]["iam"]["accessKey"] == CREDENTIALS.access_key
    assert abs(context["timeEpoch"] / 1000 - time.time()) < 60
    assert reply["env"]["AWS_LAMBDA_FUNCTION_NAME"] == deployed.function_name
    assert reply["env"]["MODEL_ID"] == "anthropic.claude-haiku-5-5"
    assert reply["env"]["AWS_ENDPOINT_URL"] == local_stage.state.emulator_url
    assert reply["python"] == [3, 12]
    assert 0 < reply["remaining"] <= 3000


@pytest.mark.runtime_client
def test_the_function_runs_under_the_stacks_runtime_client(local_stage, deployed):
    reply = echo(deployed)
    client = reply["client"]
    if local_stage.client == "http":  # macOS's default
        assert client == str(HTTP_CLIENT_DIR / "runtime_client.py")
    else:
        assert client.endswith(".so") and "awslambdaric" not in client  # the C++ module
    # The context awslambdaric builds from the Runtime API's headers, whichever client.
    assert (
        reply["arn"].endswith(f":function:{deployed.function_name}") and reply["memory"] == "512"
    )  # local.tfvars.json
    assert 0 < reply["remaining"] <= 3000


def test_repeated_headers_are_joined_with_commas(local_stage, deployed):
    import http.client

    url = deployed.url() + "?mode=echo"
    body = b"{}"
    # SigV4 signs a repeated header as its comma-joined values; send it twice.
    headers = signed_headers(url, body, "us-east-1", CREDENTIALS, {"X-Multi": "a,b"})
    host, port = url.split("/")[2].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("PUT", f"/{deployed.stage}/code-generation?mode=echo")
    for name, value in headers.items():
        if name != "X-Multi":
            connection.putheader(name, value)
    connection.putheader("X-Multi", "a")
    connection.putheader("X-Multi", "b")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    data = response.read()
    assert response.status == 200, data
    assert json.loads(data)["event"]["headers"]["x-multi"] == "a,b"


@pytest.mark.runtime_client
def test_binary_bodies_arrive_base64_encoded(local_stage, deployed):
    payload = bytes(range(256))
    reply = echo(deployed, body=payload, headers=[("Content-Type", "application/octet-stream")])
    event = reply["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


@pytest.mark.runtime_client
def test_results_are_mapped_as_api_gateway_maps_them(local_stage, deployed):
    status, headers, data = send(deployed.url() + "?mode=plain")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(data) == {"hello": "world", "version": "v1"}
    status, headers, data = send(deployed.url() + "?mode=binary")
    assert status == 201 and data == bytes(range(256))
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert headers["apigw-requestid"]


@pytest.mark.runtime_client
def test_a_5_mb_answer_passes_and_one_over_lambdas_6_mb_is_a_function_error(local_stage, deployed):
    status, _, data = send(deployed.url() + "?mode=big")
    assert status == 200 and data == b"x" * (5 * 1024 * 1024)
    status, _, data = send(deployed.url() + "?mode=too-big")
    assert (status, json.loads(data)) == (500, {"message": "Internal Server Error"})
    log = deployed.function_log()
    assert "exceeded maximum allowed payload size (6291556 bytes)" in log
    assert echo(deployed)["version"] == "v1"  # the next request is served


def test_a_body_over_10_mb_gets_413_before_it_is_read(local_stage, deployed):
    import http.client

    host, port = local_stage.state.gateway_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("PUT", f"/{deployed.stage}/code-generation")
    connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
    connection.endheaders()  # the body is never sent: the answer must come anyway
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read()) == {"message": "Request Entity Too Large"}
    connection.close()
    status, _, _ = send(deployed.url(), b"x" * (10 * 1024 * 1024 + 1))
    assert status == 413


def test_unknown_routes_get_404(local_stage, deployed):
    for url, method in [
        (deployed.url(), "GET"),
        (deployed.url(path="/other"), "PUT"),
        (f"{local_stage.state.gateway_url}/nostage/code-generation", "PUT"),
    ]:
        status, _, data = send(url, method=method)
        assert (status, json.loads(data)) == (404, {"message": "Not Found"}), url


def test_aws_iam_routes_refuse_unsigned_and_badly_signed_requests(local_stage, deployed):
    status, _, data = send(deployed.url(), sign=False)
    assert (status, json.loads(data)) == (403, {"message": "Forbidden"})
    wrong_secret = Credentials(CREDENTIALS.access_key, "not-the-stack-secret")
    status, _, data = send(deployed.url(), credentials=wrong_secret)
    assert status == 403 and "signature" in json.loads(data)["message"]
    status, _, data = send(deployed.url(), credentials=Credentials("nobody", "test"))
    assert status == 403 and "security token" in json.loads(data)["message"]


@pytest.mark.runtime_client
def test_function_errors_and_crashes_give_500_and_the_next_request_works(local_stage, deployed):
    for mode in ("crash", "exit"):
        status, _, data = send(deployed.url() + f"?mode={mode}")
        assert (status, json.loads(data)) == (500, {"message": "Internal Server Error"}), mode
        assert echo(deployed)["version"] == "v1"
    log = deployed.function_log()
    assert "the handler crashed" in log
    assert "REPORT RequestId:" in log and "START RequestId:" in log


@pytest.mark.runtime_client
def test_a_hanging_handler_is_ended_by_the_function_timeout(local_stage, deployed):
    start = time.monotonic()
    status, _, data = send(deployed.url() + "?mode=hang")
    elapsed = time.monotonic() - start
    assert (status, json.loads(data)) == (500, {"message": "Internal Server Error"})
    # Not ended before its 3 s (a slow machine only adds to this); that the timeout ended it,
    # and not the client's 40 s, is the log's line below.
    assert elapsed > 2.9, elapsed
    log = deployed.function_log()
    assert "Task timed out after 3.00 seconds" in log
    assert echo(deployed)["version"] == "v1"


@pytest.mark.variants(REDEPLOYED)
def test_a_redeploy_is_served_without_restart(local_stage):
    stage = local_stage.on(REDEPLOYED)
    assert echo(stage)["version"] == "v1"
    source = local_stage.function_source("stub-v2", TEST_HANDLER, _files("v2", delay=0.5))
    assert stage.redeploy(source).changed
    assert echo(stage)["version"] == "v2"


@pytest.mark.variants(SLOW)
def test_past_the_integration_timeout_the_gateway_answers_503(local_stage):
    start = time.monotonic()
    status, _, data = send(local_stage.on(SLOW).url() + "?mode=sleep&s=5")
    # The gateway's 503, not the function's answer after its 5 s sleep; never before 1 s.
    assert (status, json.loads(data)) == (503, {"message": "Service Unavailable"})
    assert time.monotonic() - start > 0.9


@pytest.mark.runtime_client
@pytest.mark.variants(BROKEN)
def test_a_module_that_fails_to_import_gives_500_each_time(local_stage):
    broken = local_stage.on(BROKEN)
    for _ in range(2):
        status, _, _ = send(broken.url() + "?mode=echo")
        assert status == 500
    assert "this module refuses to import" in broken.function_log()


@pytest.mark.variants(BASE)
def test_the_real_function_runs_behind_the_gateway(local_stage):
    status, _, data = send(local_stage.on(BASE).url(), b"not json")
    assert status == 400 and "not valid JSON" in json.loads(data)["message"]
    status, _, data = send(
        local_stage.on(BASE).url(), json.dumps({"message": "m", "key": "klingon"}).encode()
    )
    assert status == 400 and "python" in json.loads(data)["accepted"]


@pytest.mark.breaks_stack
@pytest.mark.variants(BASE)
def test_down_leaves_no_process_behind(local_stage):
    root = local_stage.root
    pid = local_stage.state.pid
    server = psutil.Process(pid)
    send(local_stage.on(BASE).url(), b"{}")  # whatever is deployed: a worker now runs it
    assert any("awslambdaric" in " ".join(p.cmdline()) for p in server.children(recursive=True))
    assert supervisor.down(state_dir=local_stage.state_dir)

    def ours(process: psutil.Process) -> bool:
        """The stage server, or a worker it started (they run in this stage's code dir)."""
        command = " ".join(process.info["cmdline"] or [])
        try:
            runs_here = str(root) in (process.cwd() or "")
        except psutil.Error:
            runs_here = False
        return process.pid == pid or str(root) in command or runs_here

    wait_for(
        lambda: not any(map(ours, psutil.process_iter(["cmdline"]))),
        10,
        "the stage server and its workers to exit",
    )
    assert not supervisor.status(local_stage.state_dir).running
