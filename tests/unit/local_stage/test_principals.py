"""Who may sign requests to the local gateway: the stage's key (the account's root) and the
active keys of IAM users in the emulator, each with the identity API Gateway reports."""

import boto3
from moto import mock_aws

from local_stage.gateway.principals import Principals


@mock_aws
def test_emulator_users_sign_as_themselves_and_only_while_their_key_is_active():
    principals = Principals({"test": "test"})
    assert principals.get("test") == "test"
    assert principals.identity("test")["userArn"] == "arn:aws:iam::123456789012:root"
    assert principals.get("AKIANOBODY") is None
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    assert principals.get(key["AccessKeyId"]) == key["SecretAccessKey"]
    identity = principals.identity(key["AccessKeyId"])
    assert identity["userArn"] == "arn:aws:iam::123456789012:user/alice"
    assert identity["accessKey"] == key["AccessKeyId"] and identity["accountId"] == "123456789012"
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert principals.get(key["AccessKeyId"]) is None
    iam.update_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"], Status="Active")
    iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
    assert principals.get(key["AccessKeyId"]) is None
