"""Write the code and store it: the step a synchronous request and a job's worker share."""

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from codegen.generation.bedrock import Generation, Progress, generate
from codegen.generation.prompt import extract_code, template_sha256
from codegen.generation.repair import FAILED, NO_TIME, REPAIRED, TRUNCATED, repair_turns
from codegen.generation.request import GenerationRequest
from codegen.generation.storage import (
    Generated,
    StorageError,
    StoredObject,
    find_stored,
    job_object_key,
    object_key,
    store_code,
)
from codegen.generation.syntax import ERROR, OK, SyntaxVerdict, check_syntax
from codegen.http.errors import HttpError
from codegen.settings import Settings

logger = logging.getLogger(__name__)
# The shortest model call worth starting; with less, answer 503 at once.
_MIN_MODEL_S = 2.0
# Kept for answering after the last network call.
ANSWER_MARGIN_S = 0.5


class Budget:
    """The function's remaining time, from the Lambda context (unbounded without one), less
    `reserve_s` kept for what must follow (a job's record write)."""

    def __init__(self, context: Any, reserve_s: float = 0.0) -> None:
        self._remaining = getattr(context, "get_remaining_time_in_millis", None)
        self._reserve_ms = reserve_s * 1000

    def remaining_ms(self) -> float:
        if self._remaining is None:
            return float("inf")
        return float(self._remaining()) - self._reserve_ms

    def seconds(self) -> float:
        return self.remaining_ms() / 1000


def _sum_or_none(first: int | None, second: int | None) -> int | None:
    return None if first is None or second is None else first + second


def answer_fields(
    request: GenerationRequest, stored: StoredObject | None, generated: Generated
) -> dict[str, Any]:
    """An answer's fields but its code: the same for a synchronous response and a job."""
    return {
        "language": request.language.name,
        "extension": request.language.extension,
        "stored": stored is not None,
        "location": stored.uri if stored else None,
        "bucket": stored.bucket if stored else None,
        "key": stored.key if stored else None,
        "model": generated.model_id,
        "stop_reason": generated.stop_reason,
        "truncated": generated.stop_reason == "max_tokens",
        "syntax": generated.syntax.as_record(),
        "usage": {
            "input_tokens": generated.input_tokens,
            "output_tokens": generated.output_tokens,
            "total_tokens": generated.input_tokens + generated.output_tokens,
        },
    }


def stored_job_answer(
    s3: Any, settings: Settings, request: GenerationRequest, job_id: str
) -> dict[str, Any] | None:
    """A job's answer fields (but its code) from its object, if a delivery stored it already
    (its record may not say so: that delivery was cut off, or its record write failed)."""
    key = job_object_key(settings.prefix, job_id, request.language)
    found = find_stored(s3, settings.bucket, key)
    return None if found is None else answer_fields(request, *found)


@dataclass(frozen=True)
class Produced:
    code: str
    generated: Generated
    stored: StoredObject | None
    storage_error: str | None  # why it was not stored: safe to show the caller

    def fields(self, request: GenerationRequest) -> dict[str, Any]:
        """The synchronous answer's fields."""
        fields = {"code": self.code, **answer_fields(request, self.stored, self.generated)}
        if self.storage_error:
            fields["storage_error"] = self.storage_error
        return fields


class Producer:
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

    def produce(
        self,
        request: GenerationRequest,
        key_id: str,
        budget: Budget,
        log: dict[str, Any],
        *,
        job: bool = False,
        progress: Progress | None = None,
    ) -> Produced:
        """Generate the code and store it under a key named by `key_id`: a request's, or a
        `job`'s (its one key, where an object already stored by another delivery is kept);
        with `progress`, streamed (codegen.generation.bedrock.generate). Raises HttpError when
        no code came back; a failed store still returns the code."""
        model_seconds = self._model_seconds(budget)
        before_s = budget.seconds()
        generation = self._ask_model(request, budget, model_seconds, progress)
        # Measured on the function's own clock (its context), which a test can move.
        took_s = before_s - budget.seconds() if math.isfinite(before_s) else 0.0
        code = extract_code(generation.text, request.language)
        # Whether it parses: said in the answer and the object, never an error of its own.
        syntax = check_syntax(code, request.language)
        if syntax.status == ERROR and self.settings.syntax_repair:
            code, generation, syntax = self._repair(
                request, generation, code, syntax, took_s, budget, progress
            )
        log.update(
            input_tokens=generation.input_tokens,
            output_tokens=generation.output_tokens,
            stop_reason=generation.stop_reason,
            model_latency_ms=generation.latency_ms,
        )
        if self.settings.log_prompts:
            log.update(prompt=request.message)
        log.update(
            prompt_chars=len(request.message),
            prompt_sha256=hashlib.sha256(request.message.encode()).hexdigest(),
        )
        log.update(syntax=syntax.status)
        if syntax.repair is not None:
            log.update(syntax_repair=syntax.repair)
        generated = Generated(
            self.settings.model_id,
            generation.stop_reason,
            generation.input_tokens,
            generation.output_tokens,
            syntax,
            template_sha256(self.settings.system_prompt),
        )
        stored, storage_error = self._store(request, code, generated, key_id, budget, job)
        log.update(
            stored=stored is not None,
            storage_error=storage_error,
            key=stored.key if stored else None,
        )
        return Produced(code, generated, stored, storage_error)

    def _ask_model(
        self,
        request: GenerationRequest,
        budget: Budget,
        seconds: float,
        progress: Progress | None,
        follow_up: Sequence[str] = (),
    ) -> Generation:
        """One model call waiting at most `seconds`, the store's share kept in reserve."""
        return generate(
            self.bedrock(seconds),
            request,
            self.settings,
            budget.remaining_ms,
            read_timeout=seconds,
            reserved_s=self.settings.storage_budget,
            progress=progress,
            follow_up=follow_up,
        )

    def _model_seconds(self, budget: Budget) -> float:
        """How long the model call may wait; 503 when that is too short to be worth it."""
        seconds = self._seconds_for_model(budget)
        if seconds < _MIN_MODEL_S:
            raise HttpError(503, "NoTimeLeft", "the request ran out of time; retry")
        return seconds

    def _seconds_for_model(self, budget: Budget) -> float:
        """The model call's own limit, or what is left once the store's share, a connection
        and the answer are set aside."""
        left = budget.seconds() - self.settings.storage_budget - self.settings.connect_timeout
        return min(self.settings.read_timeout, left - ANSWER_MARGIN_S)

    def _repair(
        self,
        request: GenerationRequest,
        first: Generation,
        code: str,
        verdict: SyntaxVerdict,
        took_s: float,
        budget: Budget,
        progress: Progress | None,
    ) -> tuple[str, Generation, SyntaxVerdict]:
        """One repair attempt (codegen.generation.repair): the second answer's code and verdict
        when it parses, else the first's; the generation counts both calls' tokens (both are
        paid)."""
        if first.stop_reason == "max_tokens":
            return code, first, replace(verdict, repair=TRUNCATED)
        seconds = self._seconds_for_model(budget)
        if seconds < max(took_s, _MIN_MODEL_S):  # a second answer may take as long
            return code, first, replace(verdict, repair=NO_TIME)
        already = first.output_tokens
        follow = None if progress is None else (lambda tokens: progress(already + tokens))
        try:
            turns = repair_turns(first.text, verdict, request.language)
            second = self._ask_model(request, budget, seconds, follow, turns)
        except HttpError as exc:
            logger.warning("the repair attempt failed (%s); the first answer is kept", exc.code)
            return code, first, replace(verdict, repair=FAILED)
        both = replace(
            first,
            input_tokens=first.input_tokens + second.input_tokens,
            output_tokens=first.output_tokens + second.output_tokens,
            latency_ms=_sum_or_none(first.latency_ms, second.latency_ms),
        )
        repaired_code = extract_code(second.text, request.language)
        repaired = check_syntax(repaired_code, request.language)
        if repaired.status != OK:
            return code, both, replace(verdict, repair=FAILED)
        answer = replace(both, text=second.text, stop_reason=second.stop_reason)
        return repaired_code, answer, replace(repaired, repair=REPAIRED)

    def _store(
        self,
        request: GenerationRequest,
        code: str,
        generated: Generated,
        key_id: str,
        budget: Budget,
        job: bool,
    ) -> tuple[StoredObject | None, str | None]:
        if job:
            key = job_object_key(self.settings.prefix, key_id, request.language)
        else:
            key = object_key(self.settings.prefix, self.clock(), key_id, request.language)
        try:
            stored = store_code(
                self.s3,
                bucket=self.settings.bucket,
                key=key,
                code=code,
                language=request.language,
                model_id=self.settings.model_id,
                prompt=request.message,
                request_id=key_id,
                generated=generated,
                keep_existing=job,
                time_left=lambda: budget.seconds() - ANSWER_MARGIN_S,
                attempt_seconds=(
                    self.settings.storage_connect_timeout + self.settings.storage_read_timeout
                ),
            )
            return stored, None
        except StorageError as exc:
            logger.error("storing %s in %s failed: %s", key, self.settings.bucket, exc.__cause__)
            return None, f"the code was generated but could not be stored: {exc}"
