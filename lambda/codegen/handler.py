"""Lambda entry point: `codegen.handler.lambda_handler`.

Settings and clients are built on the first invocation and reused while the container lives.
"""

import logging
from functools import cache
from typing import Any

from codegen.clients import bedrock_client, dynamodb_client, s3_client, sqs_client
from codegen.generation import Producer
from codegen.job_api import JobApi
from codegen.jobs import JobStore
from codegen.responses import internal_error_result
from codegen.service import CodeGenerationService
from codegen.settings import ConfigError, load_settings

logging.getLogger().setLevel(logging.INFO)
logger = logging.getLogger(__name__)


@cache
def _service() -> CodeGenerationService:
    settings = load_settings()
    producer = Producer(
        settings, lambda read_timeout: bedrock_client(settings, read_timeout), s3_client(settings)
    )
    store = JobStore(dynamodb_client(settings), settings.jobs.table)
    return CodeGenerationService(settings, producer, JobApi(settings, store, sqs_client(settings)))


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        service = _service()
    except ConfigError as exc:
        logger.error("function misconfigured: %s", exc)
        return internal_error_result(getattr(context, "aws_request_id", "unknown"))
    return service.handle(event, context)
