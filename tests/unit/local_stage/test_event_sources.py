"""The local SQS pollers' rules (Lambda's): which messages of a batch stay on the queue after
an invocation, the event a function gets, how a mapping is read; and the emulator's SQS made
to answer as AWS does."""

import asyncio
import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local_stage.control_plane import SqsMapping
from local_stage.emulator import fidelity_sqs
from local_stage.event_sources.sqs import LONG_POLL_S, long_poll, sqs_event, to_retry
from local_stage.runtime.invocation import InvokeResult

IDS = ["m1", "m2", "m3"]


def ok(payload: object) -> InvokeResult:
    return InvokeResult(True, json.dumps(payload).encode())


@pytest.mark.parametrize(
    ("result", "report", "kept"),
    [
        (None, True, set(IDS)),  # no answer in time: the whole batch comes back
        (InvokeResult(False, b"{}", "Runtime.ExitError"), True, set(IDS)),  # crashed
        (ok(None), True, set()),
        (ok({}), True, set()),
        (ok({"batchItemFailures": []}), True, set()),
        (ok({"batchItemFailures": [{"itemIdentifier": "m2"}]}), True, {"m2"}),
        (ok({"batchItemFailures": [{"itemIdentifier": "nope"}]}), True, set(IDS)),
        (ok({"batchItemFailures": [{"itemIdentifier": ""}]}), True, set(IDS)),
        (ok({"batchItemFailures": "m2"}), True, set(IDS)),
        (InvokeResult(True, b"not json"), True, set(IDS)),
        (ok({"batchItemFailures": [{"itemIdentifier": "m2"}]}), False, set()),  # not asked
    ],
)
def test_which_messages_stay_on_the_queue(result, report, kept):
    assert to_retry(result, IDS, report) == kept


def test_the_event_is_lambdas_sqs_event():
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "h1",
        "Body": '{"job_id": "j"}',
        "Attributes": {"ApproximateReceiveCount": "2"},
        "MD5OfBody": "abc",
    }
    event = sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")
    (record,) = event["Records"]
    assert record["messageId"] == "m1" and record["receiptHandle"] == "h1"
    assert record["body"] == '{"job_id": "j"}' and record["eventSource"] == "aws:sqs"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["eventSourceARN"].endswith(":q") and record["awsRegion"] == "us-east-1"


def test_a_mapping_is_read_with_its_concurrency_and_response_types():
    item = {
        "UUID": "u",
        "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:q",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:codegen-local-worker",
        "BatchSize": 1,
        "ScalingConfig": {"MaximumConcurrency": 3},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    mapping = SqsMapping.from_api(item, default_concurrency=4)
    assert mapping.function_name == "codegen-local-worker" and mapping.batch_size == 1
    assert mapping.max_concurrency == 3 and mapping.report_batch_item_failures
    bare = SqsMapping.from_api({**item, "ScalingConfig": {}, "FunctionResponseTypes": []}, 4)
    assert bare.max_concurrency == 4 and not bare.report_batch_item_failures


@mock_aws
def test_the_emulators_sqs_answers_as_aws_and_runs_no_mapping_itself():
    fidelity_sqs.install()
    sqs = boto3.client("sqs", region_name="us-east-1")
    dead = sqs.create_queue(
        QueueName="dlq",
        Attributes={"RedriveAllowPolicy": '{"redrivePermission":"allowAll"}'},
    )["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": 2})
    queue = sqs.create_queue(QueueName="jobs", Attributes={"RedrivePolicy": policy})["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["RedrivePolicy"] == json.dumps(json.loads(policy), separators=(",", ":"))
    allowed = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["All"])["Attributes"]
    assert allowed["RedriveAllowPolicy"] == '{"redrivePermission":"allowAll"}'
    # A mapping exists, yet a send leaves the message on the queue, never received.
    awslambda = boto3.client("lambda", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    awslambda.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=role,
        Handler="h.h",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    mapping = awslambda.create_event_source_mapping(
        EventSourceArn=attributes["QueueArn"], FunctionName="f", BatchSize=1
    )
    assert (
        awslambda.list_event_source_mappings()["EventSourceMappings"][0]["UUID"]
        == (mapping["UUID"])
    )
    sqs.send_message(QueueUrl=queue, MessageBody="x")
    (message,) = sqs.receive_message(
        QueueUrl=queue, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )["Messages"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"


def _queue(name: str = "jobs") -> tuple[object, str]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    return sqs, sqs.create_queue(QueueName=name)["QueueUrl"]


def _receive_count(sqs, queue: str) -> str | None:
    """The one visible message's receive count, None when none is visible."""
    messages = sqs.receive_message(
        QueueUrl=queue, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    ).get("Messages", [])
    return messages[0]["Attributes"]["ApproximateReceiveCount"] if messages else None


@mock_aws
def test_a_long_poll_is_answered_by_a_send_not_by_the_end_of_its_wait():
    sqs, queue = _queue()

    async def scenario() -> tuple[list[dict], float]:
        started = time.monotonic()
        poll = asyncio.ensure_future(long_poll(sqs, queue, 10, LONG_POLL_S))
        await asyncio.sleep(0.3)
        assert not poll.done()  # waiting, not answered empty
        await asyncio.to_thread(sqs.send_message, QueueUrl=queue, MessageBody="job")
        return await poll, time.monotonic() - started

    messages, elapsed = asyncio.run(scenario())
    assert [m["Body"] for m in messages] == ["job"]
    assert messages[0]["Attributes"]["ApproximateReceiveCount"] == "1"
    assert elapsed < LONG_POLL_S / 2  # woken by the send: it did not wait its 20 s out


@mock_aws
def test_a_stopped_poll_waits_for_nothing_and_puts_back_what_it_receives_after():
    sqs, queue = _queue()

    async def scenario() -> None:
        poll = asyncio.ensure_future(long_poll(sqs, queue, 10, LONG_POLL_S))
        await asyncio.sleep(0.3)
        poll.cancel()  # the poller stops (a mapping changed, the stack stops)
        with pytest.raises(asyncio.CancelledError):
            await poll
        # Its receive still waits in its thread, and gets this message...
        await asyncio.to_thread(sqs.send_message, QueueUrl=queue, MessageBody="job")
        # ...which is visible again at once, not after its visibility timeout (30 s).
        for _ in range(100):
            if await asyncio.to_thread(_receive_count, sqs, queue) is not None:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the message received by the stopped poll stayed hidden")

    asyncio.run(scenario())


@mock_aws
def test_a_long_poll_on_a_missing_queue_raises_its_error():
    sqs, queue = _queue()
    sqs.delete_queue(QueueUrl=queue)
    with pytest.raises(ClientError, match="does not exist"):
        asyncio.run(long_poll(sqs, queue, 1, 1))
