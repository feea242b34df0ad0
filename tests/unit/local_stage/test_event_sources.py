"""The local SQS pollers' rules (Lambda's): which messages of a batch stay on the queue after
an invocation, the event a function gets, how a mapping is read; and the emulator's SQS made
to answer as AWS does."""

import json

import boto3
import pytest
from moto import mock_aws

from local_stage.control_plane import SqsMapping
from local_stage.emulator import fidelity_sqs
from local_stage.event_sources.sqs import sqs_event, to_retry
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
