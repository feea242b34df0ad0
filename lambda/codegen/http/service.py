"""One request through the service: route it, validate it, then answer it now (generate, store)
or later (a job)."""

import logging
import time
from collections.abc import Callable
from typing import Any

from codegen.generation.producer import Budget, Producer
from codegen.generation.request import GenerationRequest, parse_body, request_record
from codegen.http.errors import HttpError
from codegen.http.events import HttpRequest, parse_event, prefers_async, prefers_text
from codegen.http.idempotency import REPLAYED_HEADER, IdempotentAnswers, idempotency_key
from codegen.http.responses import (
    TEXT_TYPE,
    error_result,
    internal_error_result,
    json_result,
    proxy_result,
)
from codegen.http.routes import GENERATE, READ_JOB, SUBMIT_JOB, Route, route_of
from codegen.jobs.api import JobApi
from codegen.settings import Settings
from codegen.spend.ledger import SpendLedger
from codegen.spend.request import spend_bound
from codegen.telemetry.access_log import log_request
from codegen.telemetry.metrics import OTHER_ROUTE, metrics_target

logger = logging.getLogger(__name__)
# (request, request id, access-log fields, Lambda context) -> proxy result
Handler = Callable[[HttpRequest, str, dict[str, Any], Any], dict[str, Any]]


class CodeGenerationService:
    def __init__(
        self,
        settings: Settings,
        producer: Producer,
        jobs: JobApi,
        idempotent: IdempotentAnswers,
        spend: SpendLedger,
    ) -> None:
        self.settings = settings
        self.producer = producer
        self.jobs = jobs
        self.idempotent = idempotent
        self.spend = spend
        self.metrics = metrics_target(settings)
        self._handlers: dict[Route, Handler] = {
            GENERATE: self._generate,
            SUBMIT_JOB: self._submit_job,
            READ_JOB: lambda http, request_id, log, _context: jobs.read(http, request_id, log),
        }

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        request_id = getattr(context, "aws_request_id", "") or "unknown"
        # Lambda's id and API Gateway's (its access log's): `invoke logs` joins them.
        log: dict[str, Any] = {"request_id": request_id, "api_request_id": _api_request_id(event)}
        route_key = OTHER_ROUTE
        try:
            http = parse_event(event)
            route = route_of(http)
            route_key = route.key
            result = self._handlers[route](http, request_id, log, context)
        except HttpError as error:
            log.update(error=error.code)
            result = error_result(error, request_id)
        except Exception:
            logger.exception("unexpected failure in request %s", request_id)
            log.update(error="InternalError")
            result = internal_error_result(request_id)
        log_request(
            self.metrics,
            route_key,
            status=result["statusCode"],
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            **log,
        )
        return result

    def _submit_job(
        self, http: HttpRequest, request_id: str, log: dict[str, Any], context: Any
    ) -> dict[str, Any]:
        """POST /code-generation/jobs: the same request, always answered later (a job)."""
        return self._generate(http, request_id, log, context, job=True)

    def _generate(
        self,
        http: HttpRequest,
        request_id: str,
        log: dict[str, Any],
        context: Any,
        *,
        job: bool = False,
    ) -> dict[str, Any]:
        """PUT /code-generation: validate, then answer now, or later as a job; with an
        Idempotency-Key, a retry of the same request gets the first answer again."""
        asynchronous = job or prefers_async(http.headers)
        request = parse_body(http.body, self.settings, async_preferred=asynchronous)
        log.update(language=request.language.name, model=self.settings.model_id)
        key = idempotency_key(http.headers)
        if key is None:
            return self._answer(http, request, request_id, log, context)

        def answer() -> dict[str, Any]:
            try:
                return self._answer(http, request, request_id, log, context)
            except HttpError as error:  # kept (or not) like any other answer
                log.update(error=error.code)
                return error_result(error, request_id)

        # What a retry must repeat to be the same request: the validated body, and the
        # headers that change the answer's form.
        same_request = {
            "request": request_record(request),
            "asynchronous": request.asynchronous,
            "text": prefers_text(http.headers),
        }
        result = self.idempotent.answer(key, http.caller, same_request, context, answer)
        replayed = result.get("headers", {}).get(REPLAYED_HEADER) == "true"
        log.update(idempotency_key=True, replayed=replayed)
        return result

    def _answer(
        self,
        http: HttpRequest,
        request: GenerationRequest,
        request_id: str,
        log: dict[str, Any],
        context: Any,
    ) -> dict[str, Any]:
        if request.asynchronous:
            return self.jobs.submit(http, request, request_id, log)
        return self._answer_now(http, request, request_id, log, Budget(context))

    def _answer_now(
        self,
        http: HttpRequest,
        request: GenerationRequest,
        request_id: str,
        log: dict[str, Any],
        budget: Budget,
    ) -> dict[str, Any]:
        # The caller's budget holds before the model is called: 429 when nothing is left, and
        # a request that would cross it may use only what is left (its max_tokens capped).
        grant = self.spend.reserve(
            http.caller, http.caller_arn, spend_bound(request, self.settings), request.max_tokens
        )
        if grant.capped:
            request = request.with_max_tokens(grant.max_tokens)
            log.update(budget_capped_to=grant.max_tokens)
        try:
            produced = self.producer.produce(request, request_id, budget, log)
        except BaseException:
            self.spend.release(grant)  # a failed request counts nothing
            raise
        generated = produced.generated
        self.spend.settle(
            grant,
            generated.input_tokens,
            generated.output_tokens,
            request.language.name,
            generated.model_id,
        )
        headers = {"X-Request-Id": request_id, "X-Model-Id": self.settings.model_id}
        if produced.stored:
            headers["X-Code-Location"] = produced.stored.uri
        if produced.storage_error:
            headers["X-Storage-Error"] = produced.storage_error
        if prefers_text(http.headers):
            return proxy_result(200, produced.code, TEXT_TYPE, headers)
        payload = {**produced.fields(request), "request_id": request_id}
        if (shown := grant.answer_field()) is not None:
            payload["budget"] = shown
        return json_result(200, payload, headers)


def _api_request_id(event: Any) -> str | None:
    context = event.get("requestContext") if isinstance(event, dict) else None
    found = context.get("requestId") if isinstance(context, dict) else None
    return found if isinstance(found, str) else None
