"""The local emulator's reading of aws:SecureTransport in bucket policies."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from local_stage.emulator.fidelity_s3 import as_seen_over_tls
from local_stage.emulator.server import Emulator

TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_a_statement_that_needs_insecure_transport_does_not_apply():
    assert as_seen_over_tls({"Version": "2012-10-17", "Statement": [TLS_ONLY]}) == {
        "Version": "2012-10-17",
        "Statement": [],
    }


def test_a_met_transport_condition_is_dropped_and_the_rest_kept():
    conditions = {
        "Bool": {"aws:SecureTransport": ["true"], "aws:MultiFactorAuthPresent": "true"},
        "StringEquals": {"s3:prefix": "x"},
    }
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
        "Condition": conditions,
    }
    (kept,) = as_seen_over_tls({"Statement": statement})["Statement"]
    assert kept["Condition"] == {
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
        "StringEquals": {"s3:prefix": "x"},
    }


def test_statements_without_the_condition_reach_moto_unchanged():
    deny_all = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}
    assert as_seen_over_tls({"Statement": [deny_all]})["Statement"] == [deny_all]


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def s3():
    emulator = Emulator()
    emulator.start()
    yield boto3.client(
        "s3",
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    emulator.stop()


def test_the_tls_only_bucket_accepts_objects_and_an_unconditional_deny_still_denies(s3):
    s3.create_bucket(Bucket="tls-only")
    s3.put_bucket_policy(Bucket="tls-only", Policy=policy(TLS_ONLY))
    s3.put_object(Bucket="tls-only", Key="k", Body=b"code")
    assert s3.get_object(Bucket="tls-only", Key="k")["Body"].read() == b"code"
    deny = {**TLS_ONLY, "Sid": "DenyAll"}
    del deny["Condition"]
    s3.put_bucket_policy(Bucket="tls-only", Policy=policy(TLS_ONLY, deny))
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket="tls-only", Key="k2", Body=b"code")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
