"""Permissions removed at once (as Terraform removes them, one per route, in parallel) all go
on the local emulator: none is left behind by a removal that ran into another."""

import threading

import boto3
from moto import mock_aws

from local_stage.emulator import fidelity_lambda


class Interleaving(list):
    """A policy's statements that, while a removal walks them, give another removal time to
    run in between (what the server's threads may do at any time)."""

    walking = threading.Event()

    def __iter__(self):
        for index, item in enumerate(list.__iter__(self)):
            yield item
            if index == 0:
                Interleaving.walking.set()
                threading.Event().wait(0.3)  # another removal, unless a lock holds it back


@mock_aws
def test_a_removal_that_runs_into_another_still_removes_its_statement():
    fidelity_lambda.install()
    client = boto3.client("lambda", region_name="us-east-1")
    role = boto3.client("iam", region_name="us-east-1").create_role(
        RoleName="r", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    client.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=role,
        Handler="h.h",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    for sid in ("first", "second", "third"):
        client.add_permission(
            FunctionName="f",
            StatementId=sid,
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
        )
    from moto.awslambda.models import lambda_backends

    policy = lambda_backends["123456789012"]["us-east-1"].get_function("f").policy
    policy.statements = Interleaving(policy.statements)
    errors: list[Exception] = []

    def remove(sid: str) -> None:
        try:
            client.remove_permission(FunctionName="f", StatementId=sid)
        except Exception as exc:  # a removal that lost its statement says "not found"
            errors.append(exc)

    walker = threading.Thread(target=remove, args=("second",))
    walker.start()
    assert Interleaving.walking.wait(5)
    other = threading.Thread(target=remove, args=("first",))
    other.start()
    walker.join()
    other.join()
    assert errors == []
    left = client.get_policy(FunctionName="f")["Policy"]
    assert '"third"' in left and '"first"' not in left and '"second"' not in left
