"""A local stack only its user can drive: every AWS API request to its emulator (and every
model call to its model server) must be signed with the stack's own pair or a key made in it;
the well-known `test` pair, or no signature, is refused. The AWS CLI works after
`eval "$(invoke local.env)"`."""

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

import tasks
from local_stage import supervisor
from tests.e2e.helpers import CREDENTIALS, emulator_client

pytestmark = [pytest.mark.e2e]


def client_with(url: str, service: str, key_id: str, secret: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


@pytest.mark.parametrize(
    ("key_id", "secret"),
    [("test", "test"), (CREDENTIALS.access_key, "a-wrong-secret"), ("AKIANOBODY0000000000", "x")],
)
def test_another_processs_keys_are_refused_by_the_emulator_and_the_model_server(
    local_stage, key_id, secret
):
    state = local_stage.state
    for service, call in (
        ("lambda", lambda c: c.list_functions()),
        ("s3", lambda c: c.list_buckets()),
        ("sts", lambda c: c.get_caller_identity()),
        ("dynamodb", lambda c: c.list_tables()),
    ):
        with pytest.raises(ClientError) as refused:
            call(client_with(state.emulator_url, service, key_id, secret))
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, service
    with pytest.raises(ClientError) as refused:
        client_with(state.model_url, "bedrock-runtime", key_id, secret).converse(
            modelId="anthropic.claude-haiku-5-5",
            messages=[{"role": "user", "content": [{"text": "hi"}]}],
        )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_unsigned_request_is_refused(local_stage):
    request = urllib.request.Request(f"{local_stage.state.emulator_url}/2015-03-31/functions/")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


def test_the_stacks_own_pair_and_keys_made_in_it_are_taken(local_stage):
    state = local_stage.state
    iam = emulator_client(state.emulator_url, "iam")
    assert emulator_client(state.emulator_url, "sts").get_caller_identity()["Account"]
    iam.create_user(UserName="local-credentials-test")
    key = iam.create_access_key(UserName="local-credentials-test")["AccessKey"]
    made = client_with(
        state.emulator_url, "sts", key["AccessKeyId"], key["SecretAccessKey"]
    ).get_caller_identity()
    assert made["Arn"].endswith("user/local-credentials-test")


def test_the_aws_cli_works_after_eval_local_env(local_stage, monkeypatch, capsys):
    aws = shutil.which("aws", path=os.path.dirname(sys.executable)) or shutil.which("aws")
    assert aws, "the AWS CLI (awscli, pinned in pyproject.toml) is not installed"
    # `invoke local.env` reads the stack of .local/; this test's stack lives elsewhere.
    of_this_stack = supervisor.status
    monkeypatch.setattr(supervisor, "status", lambda: of_this_stack(local_stage.state_dir))
    tasks.local_env.body(None)
    exports = capsys.readouterr().out
    assert f"export AWS_ACCESS_KEY_ID={CREDENTIALS.access_key}" in exports
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:" in exports
    done = subprocess.run(
        ["bash", "-c", f'eval "$(cat)"\n"{aws}" sts get-caller-identity --output json'],
        input=exports,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Account"] == "123456789012"
