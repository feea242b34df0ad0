"""Lambda entry point: `codegen.handler.lambda_handler`.

Settings and clients are built on the first invocation and reused while the container lives.
"""

import logging
from functools import cache
from typing import Any

from codegen.http.responses import internal_error_result
from codegen.http.service import CodeGenerationService
from codegen.settings import ConfigError, load_settings
from codegen.wiring import api_service

logging.getLogger().setLevel(logging.INFO)
logger = logging.getLogger(__name__)


@cache
def _service() -> CodeGenerationService:
    return api_service(load_settings())


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        service = _service()
    except ConfigError as exc:
        logger.error("function misconfigured: %s", exc)
        return internal_error_result(getattr(context, "aws_request_id", "unknown"))
    return service.handle(event, context)
