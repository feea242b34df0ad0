"""Who may sign requests to the local gateway: the stage's key (the account's root), the
active keys of IAM users in the emulator and its assumed-role sessions, each with the identity
API Gateway reports."""

import json

import boto3
from moto import mock_aws

from local_stage.emulator.principals import Principals


@mock_aws
def test_emulator_users_sign_as_themselves_and_only_while_their_key_is_active():
    principals = Principals({"test": "test"})
    assert principals.get("test") == "test"
    assert principals.identity("test", None)["userArn"] == "arn:aws:iam::123456789012:root"
    assert principals.get("AKIANOBODY") is None
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    assert principals.get(key["AccessKeyId"]) == key["SecretAccessKey"]
    identity = principals.identity(key["AccessKeyId"], None)
    assert identity["userArn"] == "arn:aws:iam::123456789012:user/alice"
    assert identity["accessKey"] == key["AccessKeyId"] and identity["accountId"] == "123456789012"
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert principals.get(key["AccessKeyId"]) is None
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Active")
    iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
    assert principals.get(key["AccessKeyId"]) is None


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


@mock_aws
def test_assumed_role_sessions_sign_with_their_token_and_are_reported_as_api_gateway_does():
    principals = Principals({"test": "test"})
    iam = boto3.client("iam", region_name="us-east-1")
    role_id = iam.create_role(RoleName="builder", AssumeRolePolicyDocument=TRUST)["Role"]["RoleId"]
    sts = boto3.client("sts", region_name="us-east-1")
    arn = "arn:aws:iam::123456789012:role/builder"
    first = sts.assume_role(RoleArn=arn, RoleSessionName="ci-1")["Credentials"]
    second = sts.assume_role(RoleArn=arn, RoleSessionName="ci-2")["Credentials"]
    assert principals.get(first["AccessKeyId"]) == first["SecretAccessKey"]
    identity = principals.identity(first["AccessKeyId"], first["SessionToken"])
    assert identity is not None
    assert identity["userArn"] == "arn:aws:sts::123456789012:assumed-role/builder/ci-1"
    assert identity["userId"] == f"{role_id}:ci-1" and role_id.startswith("AROA")
    other = principals.identity(second["AccessKeyId"], second["SessionToken"])
    assert other is not None and other["userId"] == f"{role_id}:ci-2"
    # A temporary key without its own session's token is refused, as AWS refuses it.
    assert principals.identity(first["AccessKeyId"], None) is None
    assert principals.identity(first["AccessKeyId"], second["SessionToken"]) is None
