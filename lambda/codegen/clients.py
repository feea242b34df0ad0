"""AWS clients, created once per container and reused by every invocation.

Endpoints come from the standard AWS_ENDPOINT_URL* variables that boto3 reads itself, so the
same code talks to AWS or to the local stack.
"""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from codegen.settings import Settings


@cache
def _session() -> boto3.Session:
    return boto3.Session()


def bedrock_client(settings: Settings, read_timeout: float) -> Any:
    """A client whose calls wait at most `read_timeout` (whole seconds, at least 1) for the
    model: one client per distinct timeout, so a request that starts late gets a shorter
    wait instead of one that outlives the function."""
    seconds = max(1, min(int(read_timeout), int(settings.read_timeout)))
    return _bedrock(settings.region, settings.connect_timeout, float(seconds))


def s3_client(settings: Settings) -> Any:
    return _s3(settings.region, settings.storage_connect_timeout, settings.storage_read_timeout)


@cache
def _bedrock(region: str, connect_timeout: float, read_timeout: float) -> Any:
    # One request per call: codegen.generation.bedrock retries (BEDROCK_MAX_ATTEMPTS)
    # itself, only while a new attempt still fits in the function's remaining time,
    # which botocore cannot see.
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": 1},
        user_agent_extra="codegen-deploy",
    )
    return _session().client("bedrock-runtime", region_name=region, config=config)


@cache
def _s3(region: str, connect_timeout: float, read_timeout: float) -> Any:
    # One request per call, short timeouts: codegen.generation.storage retries only while
    # time is left.
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": 1},
        user_agent_extra="codegen-deploy",
    )
    return _session().client("s3", region_name=region, config=config)


def dynamodb_client(settings: Settings) -> Any:
    return _quick("dynamodb", settings.region)


def sqs_client(settings: Settings) -> Any:
    return _quick("sqs", settings.region)


def sns_client(settings: Settings) -> Any:
    return _quick("sns", settings.region)


# Job records and queue messages are small and fast: short timeouts, botocore's retries.
QUICK_CONNECT_S, QUICK_READ_S = 1.0, 3.0
QUICK_ATTEMPT_S = QUICK_CONNECT_S + QUICK_READ_S  # one request of such a client, at most


@cache
def _quick(service: str, region: str) -> Any:
    config = Config(
        connect_timeout=QUICK_CONNECT_S,
        read_timeout=QUICK_READ_S,
        retries={"mode": "standard", "total_max_attempts": 3},
        user_agent_extra="codegen-deploy",
    )
    return _session().client(service, region_name=region, config=config)
