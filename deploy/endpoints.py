"""Where to send requests for a stage, and with which credentials."""

import json
from typing import Any

import boto3
from botocore.credentials import Credentials

from deploy.environment import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, LOCAL_STACK_FILE
from deploy.stages import Stage


class EndpointError(Exception):
    """No URL or credentials for the stage; the message says what to do."""


def invoke_url(stage: Stage, outputs: dict[str, Any]) -> str:
    """The stage's PUT /code-generation URL. For the emulated stage the AWS-shaped URL from
    Terraform does not resolve: the local gateway serves the same API at its own address."""
    if not stage.emulated:
        return str(outputs["invoke_url"])
    try:
        stack = json.loads(LOCAL_STACK_FILE.read_text(encoding="utf-8"))
        gateway = str(stack["gateway_url"]).rstrip("/")
    except (OSError, ValueError, KeyError) as exc:
        raise EndpointError(
            "the local gateway is not running: start it with `invoke local.up`"
        ) from exc
    return f"{gateway}/{outputs['stage_name']}/code-generation"


def signing_credentials(stage: Stage, outputs: dict[str, Any]) -> Credentials | None:
    """Credentials to sign with, or None when the route needs no signature."""
    if outputs.get("route_authorization") != "AWS_IAM":
        return None
    if stage.emulated:
        return Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY)
    credentials = boto3.Session(region_name=stage.region).get_credentials()
    if credentials is None:
        raise EndpointError(
            "the route requires SigV4 (AWS_IAM) but no AWS credentials were found: run "
            "`aws configure` or set AWS_PROFILE"
        )
    return credentials.get_frozen_credentials()  # type: ignore[return-value]
