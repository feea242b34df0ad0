"""Spend per caller through the whole local stack, on a stage with budgets (the BUDGET
variant): two callers, one over its budget getting 429 before any model call while the other
is served; many concurrent requests of one caller staying within its budget; a replay that
costs nothing; a job's reservation and settlement; and what `invoke usage` and the console
read equal to the answers' own usage. Every model call is scripted (its text, its input
tokens), so the counts are the scenario's, not the machine's."""

import concurrent.futures
import contextlib
import json
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
from botocore.credentials import Credentials

from codegen.generation.languages import find_language
from codegen.generation.prompt import system_prompt
from codegen.spend.ledger import input_upper_bound
from deploy.call import generate, submit_job, wait_for_job
from deploy.stages import load_stage
from deploy.usage import read_usage
from local_stage.contract import CONSOLE_PATH, TOKEN_HEADER
from tests.e2e.helpers import CREDENTIALS, emulator_client, send, set_script
from tests.e2e.variants import Variant

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.registry,
    pytest.mark.terraform,
    pytest.mark.model,
]

ACCOUNT = "123456789012"
MESSAGE = "a function that adds two numbers"
MAX_TOKENS = 100
INPUT_TOKENS = 50  # what the script says each request's input counted
ANSWER = "def add(a, b):\n    return a + b\n"
# What a request's input may count at most, as the function bounds it before the model.
BOUND = input_upper_bound(
    system_prompt(find_language("python"), load_stage("local").variables["system_prompt"]),
    MESSAGE,
)
TIGHT = BOUND + 30  # one request, capped to 30 output tokens, and nothing after it
CROWD = 3 * (BOUND + MAX_TOKENS) + BOUND // 2  # three reservations at once, not a fourth
BUDGET = Variant(
    "budget",
    {
        "spend_budget": {"tokens_per_day": 1_000_000},
        "spend_budget_overrides": {
            f"arn:aws:iam::{ACCOUNT}:role/tight": {"tokens_per_day": TIGHT},
            f"arn:aws:iam::{ACCOUNT}:role/crowd": {"tokens_per_day": CROWD},
        },
    },
)
pytestmark.append(pytest.mark.variants(BUDGET))
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
SCRIPTS = [
    {
        "path": "/model/*/converse",
        "text": ANSWER,
        "tokens_per_s": 200,
        "input_tokens": INPUT_TOKENS,
    },
    # A job's stream starts 3 s after its call: its reservation can be seen meanwhile.
    {
        "path": "/model/*/converse-stream",
        "text": ANSWER,
        "tokens_per_s": 200,
        "first_token_delay_s": 3.0,
        "input_tokens": INPUT_TOKENS,
    },
]


def script(local_stage, scripts: list[dict]) -> None:
    """The model server answers with `scripts` only."""
    model, token = local_stage.state.model_url, local_stage.state.token
    set_script(model, token, "DELETE")
    for rule in scripts:
        set_script(model, token, "POST", rule)


@pytest.fixture
def budgeted(local_stage):
    """The BUDGET variant, its model calls scripted."""
    script(local_stage, SCRIPTS)
    yield local_stage, local_stage.on(BUDGET)
    set_script(local_stage.state.model_url, local_stage.state.token, "DELETE")


def model_calls(local_stage) -> int:
    rules = set_script(local_stage.state.model_url, local_stage.state.token, "GET")["rules"]
    return sum(rule["hits"] for rule in rules)


def role_session(local_stage, role: str) -> tuple[Credentials, str]:
    """Credentials of a session of the emulator's role `role` (made once), and its caller id."""
    emulator = local_stage.state.emulator_url
    iam, sts = emulator_client(emulator, "iam"), emulator_client(emulator, "sts")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    issued = sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName=f"s-{uuid.uuid4().hex[:6]}"
    )
    credentials = issued["Credentials"]
    caller = f"{ACCOUNT}:{issued['AssumedRoleUser']['AssumedRoleId'].split(':')[0]}"
    session = Credentials(
        credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]
    )
    return session, caller


def put(stage, credentials=CREDENTIALS, headers=None):
    body = json.dumps({"message": MESSAGE, "key": "python", "max_tokens": MAX_TOKENS}).encode()
    status, answer_headers, data = send(
        stage.url(), body, credentials=credentials, headers=list((headers or {}).items())
    )
    return status, answer_headers, json.loads(data)


def counters(stage, caller: str, period: str | None = None) -> dict[str, int]:
    dynamodb = emulator_client(stage.stack.state.emulator_url, "dynamodb")
    key = period or f"day#{datetime.now(UTC):%Y-%m-%d}"
    item = dynamodb.get_item(
        TableName=stage.outputs["spend_table"],
        Key={"caller": {"S": caller}, "period": {"S": key}},
        ConsistentRead=True,
    ).get("Item", {})
    return {name: int(value["N"]) for name, value in item.items() if "N" in value}


def own_caller(stage) -> str:
    """The stack's own pair signs as the emulated account's root: its owner id is the
    account's (docs/service.md's table of callers)."""
    return f"{ACCOUNT}:{ACCOUNT}"


def test_a_caller_over_its_budget_gets_429_before_the_model_while_another_is_served(budgeted):
    local_stage, stage = budgeted
    tight, tight_caller = role_session(local_stage, "tight")
    status, _, first = put(stage, tight)
    assert status == 200, first
    # What was left held the input and 30 output tokens: the request was capped, and said so.
    assert first["budget"] == {
        "limits": {"tokens_per_day": TIGHT},
        "max_tokens": 30,
        "capped": True,
    }
    calls = model_calls(local_stage)
    status, headers, refused = put(stage, tight)
    assert status == 429 and refused["error"] == "BudgetExceeded", refused
    assert refused["left"]["tokens_this_day"] == TIGHT - first["usage"]["total_tokens"]
    assert 0 < int(dict(headers)["Retry-After"]) <= 86_400
    assert model_calls(local_stage) == calls  # refused before any model call
    # The stack's own caller, on the stage's default budget, is served meanwhile.
    status, _, mine = put(stage)
    assert status == 200 and mine["budget"]["capped"] is False
    used = counters(stage, tight_caller)
    assert used["requests"] == 1 and used["committed_tokens"] == first["usage"]["total_tokens"]


def test_many_concurrent_requests_of_one_caller_stay_within_its_budget(budgeted):
    local_stage, stage = budgeted
    crowd, crowd_caller = role_session(local_stage, "crowd")
    # Each answer's first token 4 s after its call: the requests sent at once are all in
    # flight together, so the fourth and later find three reservations held.
    script(local_stage, [{**SCRIPTS[0], "first_token_delay_s": 4.0}])
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: put(stage, crowd), range(12)))
    served = [answer for status, _, answer in answers if status == 200]
    refused = [answer for status, _, answer in answers if status == 429]
    assert len(served) + len(refused) == 12, [status for status, _, _ in answers]
    assert served and refused
    assert {answer["error"] for answer in refused} == {"BudgetExceeded"}
    used = sum(answer["usage"]["total_tokens"] for answer in served)
    assert used <= CROWD  # the documented bound: no overshoot where no repair runs
    day = counters(stage, crowd_caller)
    assert day["committed_tokens"] == used and day["reserved_tokens"] == 0
    assert day["requests"] == len(served)
    # `invoke usage`'s report of this caller (its only requests) is the sum of the answers'.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    client = stage.deployer().target.client("dynamodb")
    (row,) = [
        r
        for r in read_usage(client, stage.outputs["spend_table"], start=today)
        if r.key == crowd_caller
    ]
    assert row.tokens == used and row.requests == len(served)
    assert row.input_tokens == sum(answer["usage"]["input_tokens"] for answer in served)
    assert row.arn.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/crowd/")


def test_a_replayed_answer_costs_nothing(budgeted):
    _, stage = budgeted
    caller = own_caller(stage)
    before = counters(stage, caller)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    status, _, first = put(stage, headers=key)
    status_again, headers, again = put(stage, headers=key)
    assert (status, status_again) == (200, 200) and dict(headers)["Idempotent-Replayed"] == "true"
    assert again["usage"] == first["usage"]
    after = counters(stage, caller)
    assert after.get("requests", 0) - before.get("requests", 0) == 1
    assert (
        after["committed_tokens"] - before.get("committed_tokens", 0)
        == first["usage"]["total_tokens"]
    )


def test_a_job_reserves_when_submitted_and_settles_when_it_ends(budgeted):
    _, stage = budgeted
    caller = own_caller(stage)
    before = counters(stage, caller)
    body = json.dumps({"message": MESSAGE, "key": "python", "max_tokens": MAX_TOKENS}).encode()
    result, job_url = submit_job(stage.endpoint(), body)
    assert result.status == 202, result.body
    held = counters(stage, caller)
    # Its input's bound and its max_tokens, until it ends (its stream starts 3 s later).
    assert held["reserved_tokens"] - before.get("reserved_tokens", 0) == BOUND + MAX_TOKENS
    done = wait_for_job(job_url, region="us-east-1", credentials=CREDENTIALS, limit_s=90).json()
    assert done["status"] == "succeeded", done
    settled = counters(stage, caller)
    assert settled["reserved_tokens"] == before.get("reserved_tokens", 0)
    grew = settled["committed_tokens"] - before.get("committed_tokens", 0)
    assert grew == done["usage"]["total_tokens"]


def test_invoke_usage_and_the_console_read_what_the_answers_used(budgeted):
    local_stage, stage = budgeted
    caller = own_caller(stage)
    answers = [
        generate(stage.endpoint(), json.dumps({"message": MESSAGE, "key": "python"}).encode())
        for _ in range(2)
    ]
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    deployer = stage.deployer()
    rows = read_usage(deployer.target.client("dynamodb"), stage.outputs["spend_table"], start=today)
    mine = next(row for row in rows if row.key == caller)
    day = counters(stage, caller)
    # The report reads the table: its totals are the day's counters, which the answers
    # (these and the earlier tests' of this caller) add up to.
    assert (mine.input_tokens, mine.output_tokens) == (day["input_tokens"], day["output_tokens"])
    assert mine.requests == day["requests"] and mine.arn
    assert all(a["usage"]["input_tokens"] == INPUT_TOKENS for a in answers)
    by_language = read_usage(
        deployer.target.client("dynamodb"), stage.outputs["spend_table"], start=today, by="language"
    )
    assert sum(row.tokens for row in by_language) == sum(row.tokens for row in rows)
    # The console's spend panel reads the same counters.
    request = urllib.request.Request(
        f"{local_stage.state.gateway_url}{CONSOLE_PATH}api/spend?stage={stage.stage}",
        headers={TOKEN_HEADER: local_stage.state.token},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        panel = json.loads(answer.read())
    row = next(row for row in panel["callers"] if row["caller"] == caller)
    assert row["day"]["input_tokens"] + row["day"]["output_tokens"] == mine.tokens
    assert row["month"]["requests"] >= row["day"]["requests"] == mine.requests
