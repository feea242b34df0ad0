"""What the end-to-end tests share: the stage's job timings, a signed HTTP client for the local
gateway (deploy/call.py's), function source trees to deploy, and waiting on a condition
instead of sleeping."""

import contextlib
import json
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
from botocore.credentials import Credentials

from deploy.call import call
from local_stage.contract import TOKEN_HEADER
from local_stage.model.scripted import Script

# The shared stacks' own signing pair (local.up makes a random one; the tests name theirs so
# that every module can sign): the well-known `test` pair is refused by them, as by any stack.
CREDENTIALS = Credentials("AKIAE2ETESTSTACK0001", "e2e-stack-secret-not-the-default")

# Every variant (tests/e2e/variants.py) starts from these, unless it says otherwise: job
# timings short enough that a redelivery is watched in seconds, yet leaving the model time to
# answer on a loaded 2-core machine (a worker keeps its storage budget back from its timeout).
WORKER_TIMEOUT_S = 20
JOB_VISIBILITY_S = 30  # the least the validation allows: worker_timeout + 10
JOB_MAX_RECEIVES = 5  # the least the validation allows
BASE_VARIABLES = {
    "worker_timeout": WORKER_TIMEOUT_S,
    "job_visibility_timeout": JOB_VISIBILITY_S,
    "job_max_receive_count": JOB_MAX_RECEIVES,
}

# A long job (on the variant LONG_JOBS, tests/e2e/variants.py): the model's answer is
# scripted, LONG_TOKENS tokens at 40 a second, 20 s on any machine.
LONG_JOB_DEADLINE_S = 120  # a test's wait for a LONG job: one worker run, with room to spare
LONG = {
    "message": (
        "a Python module of thirty small string utility functions, each with a docstring "
        "and type hints, and a test for each"
    ),
    "key": "python",
    "max_tokens": 1500,
    "temperature": 0,
}
LONG_ANSWER = "".join(
    f"def util_{n}(text: str) -> str:\n    return text.strip()\n\n\n" for n in range(114)
)
LONG_TOKENS = len(Script(LONG_ANSWER).tokens())  # 799
LONG_SCRIPT = {"path": "/model/*/converse-stream", "text": LONG_ANSWER, "tokens_per_s": 40}


def send(
    url: str,
    body: bytes = b"{}",
    *,
    method: str = "PUT",
    sign: bool = True,
    headers: list[tuple[str, str]] | None = None,
    credentials: Credentials = CREDENTIALS,
    timeout: float = 40.0,
):
    """(status, headers, body) of a real HTTP request through `invoke call`'s client; signed
    with SigV4 unless sign=False."""
    result = call(
        url,
        body,
        region="us-east-1",
        credentials=credentials if sign else None,
        method=method,
        headers=dict(headers or []),
        timeout=timeout,
    )
    return result.status, result.headers, result.body


def emulator_client(emulator_url: str, service: str):
    """A boto3 client of the local stage's emulator, with its credentials."""
    return boto3.client(
        service,
        endpoint_url=emulator_url,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS.access_key,
        aws_secret_access_key=CREDENTIALS.secret_key,
    )


def write_function(root: Path, handler_source: str, files: dict[str, str] | None = None) -> Path:
    """A function source tree whose codegen/handler.py is `handler_source`."""
    source = root / "lambda"
    if source.exists():
        shutil.rmtree(source)
    (source / "codegen").mkdir(parents=True)
    (source / "codegen" / "__init__.py").write_text("")
    (source / "codegen" / "handler.py").write_text(handler_source)
    for name, text in (files or {}).items():
        (source / name).write_text(text)
    return source


def set_faults(server_url: str, token: str, method: str, rule: dict | None = None) -> dict:
    """POST a fault rule to a local server (the emulator or the model server), GET its
    rules, or DELETE them, with the stack's `token`; its JSON answer."""
    return _local_rules(f"{server_url}/_local/faults", token, method, rule)


def set_script(model_url: str, token: str, method: str, rule: dict | None = None) -> dict:
    """POST a script rule to the model server (local_stage.model.scripted: the requests it
    matches are answered with its text at its rate, on the scenario's clock), GET its rules,
    or DELETE them; its JSON answer."""
    return _local_rules(f"{model_url}/_local/script", token, method, rule)


@contextlib.contextmanager
def scripted(local_stage, rule: dict) -> Iterator[None]:
    """The stack's model answers the requests `rule` matches with its script, until the end of
    the block (every script rule is then removed)."""
    model, token = local_stage.state.model_url, local_stage.state.token
    set_script(model, token, "POST", rule)
    try:
        yield
    finally:
        set_script(model, token, "DELETE")


def _local_rules(url: str, token: str, method: str, rule: dict | None) -> dict:
    data = json.dumps(rule).encode() if rule is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", TOKEN_HEADER: token},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_for(
    condition: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.05
) -> None:
    """Return once `condition()` holds (asked every `interval_s`); fail the test with `what`
    after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        time.sleep(interval_s)
