"""Lambda entry point of the job worker: `codegen.worker.lambda_handler` (codegen.jobs.worker).

Settings and clients are built on the first invocation and reused while the container lives.
"""

import logging
from functools import cache
from typing import Any

from codegen.jobs.worker import JobWorker
from codegen.settings import ConfigError, load_settings
from codegen.wiring import job_worker

logging.getLogger().setLevel(logging.INFO)
logger = logging.getLogger(__name__)


@cache
def _worker() -> JobWorker:
    return job_worker(load_settings())


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        worker = _worker()
    except ConfigError:
        # Nothing can run: every record is delivered again (and ends in the dead-letter queue).
        logger.exception("worker misconfigured")
        raise
    return worker.handle(event, context)
