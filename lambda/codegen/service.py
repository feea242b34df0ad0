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
# Below this much remaining time a model call cannot finish; answer now instead.
_MIN_REMAINING_MS = 2000


class CodeGenerationService:
    def __init__(
        self,
        settings: Settings,
        bedrock: Any,
        s3: Any,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
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
            _require_time(context)
            generation = generate(
                self.bedrock,
                request,
                self.settings,
                getattr(context, "get_remaining_time_in_millis", None),
            )
            log.update(input_tokens=generation.input_tokens,
                       output_tokens=generation.output_tokens,
                       stop_reason=generation.stop_reason)  # fmt: skip
            result = self._answer(http, request, generation, request_id, log)
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
    ) -> dict[str, Any]:
        code = extract_code(generation.text, request.language)
        if self.settings.log_prompts:
            log.update(prompt=request.message)
        log.update(prompt_chars=len(request.message),
                   prompt_sha256=hashlib.sha256(request.message.encode()).hexdigest())  # fmt: skip
        stored, storage_error = self._store(request, code, request_id)
        log.update(stored=stored is not None, storage_error=storage_error,
                   key=stored.key if stored else None)  # fmt: skip
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

    def _store(
        self, request: GenerationRequest, code: str, request_id: str
    ) -> tuple[StoredObject | None, str | None]:
        key = object_key(self.settings.prefix, self.clock(), request_id, request.language)
        try:
            stored = store_code(
                self.s3, bucket=self.settings.bucket, key=key, code=code,
                language=request.language, model_id=self.settings.model_id,
                prompt=request.message, request_id=request_id,
            )  # fmt: skip
            return stored, None
        except StorageError as exc:
            logger.error("storing %s in %s failed: %s", key, self.settings.bucket, exc.__cause__)
            return None, f"the code was generated but could not be stored: {exc}"


def _require_time(context: Any) -> None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is not None and remaining() < _MIN_REMAINING_MS:
        raise HttpError(503, "NoTimeLeft", "the request ran out of time; retry")
