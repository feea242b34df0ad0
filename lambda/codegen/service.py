"""One request through the service: validate, generate, store, answer."""

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from codegen.access_log import log_request
from codegen.bedrock import Generation, generate
from codegen.errors import HttpError
from codegen.events import HttpRequest, parse_event, prefers_text, require_method
from codegen.prompt import extract_code
from codegen.request import GenerationRequest, parse_body
from codegen.responses import (
    TEXT_TYPE,
    error_result,
    internal_error_result,
    json_result,
    proxy_result,
)
from codegen.settings import Settings
from codegen.storage import StorageError, StoredObject, object_key, store_code

logger = logging.getLogger(__name__)
# The shortest model call worth starting; with less, answer 503 at once.
_MIN_MODEL_S = 2.0
# Kept for answering the caller after the last network call.
_ANSWER_MARGIN_S = 0.5


class CodeGenerationService:
    def __init__(
        self,
        settings: Settings,
        bedrock: Callable[[float], Any],
        s3: Any,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`bedrock(seconds)` gives a bedrock-runtime client whose calls wait at most that
        long for the model."""
        self.settings = settings
        self.bedrock = bedrock
        self.s3 = s3
        self.clock = clock

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        request_id = getattr(context, "aws_request_id", "") or "unknown"
        log: dict[str, Any] = {"request_id": request_id}
        try:
            http = parse_event(event)
            require_method(http, "PUT")
            request = parse_body(http.body, self.settings)
            log.update(language=request.language.name, model=self.settings.model_id)
            budget = _Budget(context)
            model_seconds = self._model_seconds(budget)
            generation = generate(
                self.bedrock(model_seconds),
                request,
                self.settings,
                budget.remaining_ms,
                read_timeout=model_seconds,
                reserved_s=self.settings.storage_budget,
            )
            log.update(
                input_tokens=generation.input_tokens,
                output_tokens=generation.output_tokens,
                stop_reason=generation.stop_reason,
            )
            result = self._answer(http, request, generation, request_id, log, budget)
        except HttpError as error:
            log.update(error=error.code)
            result = error_result(error, request_id)
        except Exception:
            logger.exception("unexpected failure in request %s", request_id)
            log.update(error="InternalError")
            result = internal_error_result(request_id)
        log_request(
            status=result["statusCode"],
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            **log,
        )
        return result

    def _answer(
        self,
        http: HttpRequest,
        request: GenerationRequest,
        generation: Generation,
        request_id: str,
        log: dict[str, Any],
        budget: "_Budget",
    ) -> dict[str, Any]:
        code = extract_code(generation.text, request.language)
        if self.settings.log_prompts:
            log.update(prompt=request.message)
        log.update(
            prompt_chars=len(request.message),
            prompt_sha256=hashlib.sha256(request.message.encode()).hexdigest(),
        )
        stored, storage_error = self._store(request, code, request_id, budget)
        log.update(
            stored=stored is not None,
            storage_error=storage_error,
            key=stored.key if stored else None,
        )
        headers = {"X-Request-Id": request_id, "X-Model-Id": self.settings.model_id}
        if stored:
            headers["X-Code-Location"] = stored.uri
        if storage_error:
            headers["X-Storage-Error"] = storage_error
        if prefers_text(http.headers):
            return proxy_result(200, code, TEXT_TYPE, headers)
        usage = {
            "input_tokens": generation.input_tokens,
            "output_tokens": generation.output_tokens,
            "total_tokens": generation.input_tokens + generation.output_tokens,
        }
        payload = {
            "code": code,
            "language": request.language.name,
            "extension": request.language.extension,
            "stored": stored is not None,
            "location": stored.uri if stored else None,
            "bucket": stored.bucket if stored else None,
            "key": stored.key if stored else None,
            "model": self.settings.model_id,
            "stop_reason": generation.stop_reason,
            "truncated": generation.stop_reason == "max_tokens",
            "usage": usage,
            "request_id": request_id,
        }
        if storage_error:
            payload["storage_error"] = storage_error
        return json_result(200, payload, headers)

    def _model_seconds(self, budget: "_Budget") -> float:
        """How long the model call may wait: its own limit, or what is left once the store's
        share and a connection are set aside; 503 when that is too short to be worth it."""
        left = budget.seconds() - self.settings.storage_budget - self.settings.connect_timeout
        seconds = min(self.settings.read_timeout, left - _ANSWER_MARGIN_S)
        if seconds < _MIN_MODEL_S:
            raise HttpError(503, "NoTimeLeft", "the request ran out of time; retry")
        return seconds

    def _store(
        self, request: GenerationRequest, code: str, request_id: str, budget: "_Budget"
    ) -> tuple[StoredObject | None, str | None]:
        key = object_key(self.settings.prefix, self.clock(), request_id, request.language)
        try:
            stored = store_code(
                self.s3,
                bucket=self.settings.bucket,
                key=key,
                code=code,
                language=request.language,
                model_id=self.settings.model_id,
                prompt=request.message,
                request_id=request_id,
                time_left=lambda: budget.seconds() - _ANSWER_MARGIN_S,
                attempt_seconds=(
                    self.settings.storage_connect_timeout + self.settings.storage_read_timeout
                ),
            )
            return stored, None
        except StorageError as exc:
            logger.error("storing %s in %s failed: %s", key, self.settings.bucket, exc.__cause__)
            return None, f"the code was generated but could not be stored: {exc}"


class _Budget:
    """The function's remaining time, from the Lambda context (unbounded without one)."""

    def __init__(self, context: Any) -> None:
        self._remaining = getattr(context, "get_remaining_time_in_millis", None)

    def remaining_ms(self) -> float:
        return float("inf") if self._remaining is None else float(self._remaining())

    def seconds(self) -> float:
        return self.remaining_ms() / 1000
