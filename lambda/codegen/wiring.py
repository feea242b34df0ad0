"""How the API handler's service and the job worker are put together from settings and clients:
one wiring for both entry points and for the tests, which hand in fakes for what they replace.

A client left out is the real one (codegen.clients), made once per container.
"""

import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from codegen.clients import bedrock_client, dynamodb_client, s3_client, sns_client, sqs_client
from codegen.generation.producer import Producer
from codegen.http.idempotency import IdempotentAnswers
from codegen.http.service import CodeGenerationService
from codegen.jobs.api import JobApi
from codegen.jobs.store import JobStore
from codegen.jobs.worker import JobWorker
from codegen.settings import Settings
from codegen.spend.ledger import Prices, SpendLedger
from codegen.spend.limits import parse_limits

logger = logging.getLogger(__name__)
# A Bedrock runtime client whose calls wait at most the given seconds for the model.
BedrockFactory = Callable[[float], Any]


def producer(
    settings: Settings,
    *,
    bedrock: BedrockFactory | None = None,
    s3: Any = None,
    clock: Callable[[], datetime] | None = None,
) -> Producer:
    def real_bedrock(read_timeout: float) -> Any:
        return bedrock_client(settings, read_timeout)

    return Producer(
        settings,
        bedrock or real_bedrock,
        s3 if s3 is not None else s3_client(settings),
        **({"clock": clock} if clock is not None else {}),
    )


def job_store(
    settings: Settings, *, dynamodb: Any = None, clock: Callable[[], float] = time.time
) -> JobStore:
    client = dynamodb if dynamodb is not None else dynamodb_client(settings)
    return JobStore(client, settings.jobs.table, clock)


def spend_ledger(
    settings: Settings,
    *,
    dynamodb: Any = None,
    sns: Any = None,
    clock: Callable[[], datetime] | None = None,
) -> SpendLedger:
    """The stage's spend table, its prices and default budget; soft alerts to its topic."""
    spend = settings.spend
    topic = spend.alert_topic_arn

    def notify(subject: str, message: str) -> None:
        client = sns if sns is not None else sns_client(settings)
        try:
            client.publish(TopicArn=topic, Subject=subject[:100], Message=message)
        except Exception:  # an alert is not worth an answer: it is in the log
            logger.exception("the budget alert could not be published: %s", subject)

    return SpendLedger(
        dynamodb if dynamodb is not None else dynamodb_client(settings),
        spend.table,
        Prices(spend.price_per_1000_input_tokens, spend.price_per_1000_output_tokens),
        parse_limits(spend.default_budget or None, "SPEND_DEFAULT_BUDGET"),
        spend.retention_days,
        alert_share=spend.alert_share,
        notify=notify,
        **({"clock": clock} if clock is not None else {}),
    )


def api_service(
    settings: Settings,
    *,
    bedrock: BedrockFactory | None = None,
    s3: Any = None,
    dynamodb: Any = None,
    sqs: Any = None,
    sns: Any = None,
    clock: Callable[[], datetime] | None = None,
    job_clock: Callable[[], float] = time.time,
) -> CodeGenerationService:
    """The API function's service: generation now, or jobs submitted and read back."""
    dynamodb = dynamodb if dynamodb is not None else dynamodb_client(settings)
    s3 = s3 if s3 is not None else s3_client(settings)
    ledger = spend_ledger(settings, dynamodb=dynamodb, sns=sns, clock=clock)
    jobs = JobApi(
        settings,
        job_store(settings, dynamodb=dynamodb, clock=job_clock),
        sqs if sqs is not None else sqs_client(settings),
        s3,
        job_clock,
        ledger,
    )
    idempotent = IdempotentAnswers(
        settings.idempotency.table,
        settings.idempotency.window_seconds,
        dynamodb,
        settings.poll_after_seconds,
    )
    return CodeGenerationService(
        settings, producer(settings, bedrock=bedrock, s3=s3, clock=clock), jobs, idempotent, ledger
    )


def job_worker(
    settings: Settings,
    *,
    bedrock: BedrockFactory | None = None,
    s3: Any = None,
    dynamodb: Any = None,
    sns: Any = None,
    job_clock: Callable[[], float] = time.time,
    progress_writer: Executor | None = None,
) -> JobWorker:
    """The job worker: the same producer as the API's, on the jobs table; it settles each
    job's reservation in the spend table when the job ends."""
    dynamodb = dynamodb if dynamodb is not None else dynamodb_client(settings)
    return JobWorker(
        settings,
        producer(settings, bedrock=bedrock, s3=s3),
        job_store(settings, dynamodb=dynamodb, clock=job_clock),
        progress_writer,
        spend_ledger(settings, dynamodb=dynamodb, sns=sns),
    )
