"""The job tests' fixtures: a controlled clock, the store, the API and the worker."""

import boto3
import pytest

from codegen.jobs.store import JobStore
from tests.unit.function.helpers import (
    JOBS_TABLE,
    Clock,
    StreamingClient,
    build_service,
    build_worker,
)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(s3, clock):
    return JobStore(boto3.client("dynamodb", region_name="us-east-1"), JOBS_TABLE, clock)


@pytest.fixture
def api(s3, bedrock, clock):
    return build_service(lambda _seconds: bedrock[0], s3, job_clock=clock)


@pytest.fixture
def model(bedrock):
    """The worker's model: the stubbed client, answering ConverseStream."""
    return StreamingClient(bedrock[0])


@pytest.fixture
def worker(s3, model, clock):
    return build_worker(lambda _seconds: model, s3, job_clock=clock)
