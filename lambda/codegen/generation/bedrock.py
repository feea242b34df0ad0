"""Ask Bedrock for the code (Converse, or ConverseStream with progress as it is written), and
map its failures to honest HTTP statuses."""

import itertools
import logging
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from urllib3.exceptions import ProtocolError as StreamCut
from urllib3.exceptions import ReadTimeoutError as StreamReadTimeout

from codegen.generation.prompt import system_prompt
from codegen.generation.request import GenerationRequest
from codegen.http.errors import HttpError
from codegen.settings import Settings

logger = logging.getLogger(__name__)
# Worth another attempt: Bedrock says so itself (botocore retries the same codes).
_RETRYABLE = {
    "ThrottlingException",
    "ModelNotReadyException",
    "ServiceUnavailableException",
    "InternalServerException",
}
_BACKOFF_S = 0.25  # full-jitter exponential backoff base
_MARGIN_S = 1.0  # beyond the read timeout: connecting, answering the caller
# Told how many output tokens a streamed answer has so far (an estimate: see `estimate`).
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Generation:
    text: str
    stop_reason: str
    input_tokens: int
    output_tokens: int
    latency_ms: int | None


def converse_arguments(
    request: GenerationRequest,
    model_id: str,
    prompt_template: str,
    follow_up: Sequence[str] = (),
    model_fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The Converse call's arguments: only the sampling settings that are set are sent, with
    the stage's `model_fields` (its model's own request fields). `follow_up` continues the
    conversation after the caller's message: the assistant's turn, then the user's, and so on
    (codegen.generation.repair)."""
    model_fields = model_fields or {}
    sampling = request.sampling
    inference: dict[str, Any] = {"maxTokens": sampling.max_tokens}
    if sampling.temperature is not None:
        inference["temperature"] = sampling.temperature
    if sampling.top_p is not None:
        inference["topP"] = sampling.top_p
    arguments: dict[str, Any] = {
        "modelId": model_id,
        "system": [{"text": system_prompt(request.language, prompt_template)}],
        "messages": [
            {"role": role, "content": [{"text": text}]}
            for role, text in zip(
                itertools.cycle(("user", "assistant")), (request.message, *follow_up)
            )
        ],
        "inferenceConfig": inference,
    }
    additional = dict(model_fields)
    if sampling.top_k is not None:
        additional["top_k"] = sampling.top_k
    if additional:
        arguments["additionalModelRequestFields"] = additional
    return arguments


def generate(
    client: Any,
    request: GenerationRequest,
    settings: Settings,
    remaining_ms: Callable[[], float] | None = None,
    *,
    read_timeout: float | None = None,
    reserved_s: float = 0.0,
    progress: Progress | None = None,
    follow_up: Sequence[str] = (),
) -> Generation:
    """Call Converse (with `follow_up`, see converse_arguments); retry a throttled or
    briefly unavailable model only while a whole new attempt (up to `read_timeout`, the
    client's) still fits in the function's remaining time with `reserved_s` (the store's
    share) left over.

    botocore's own retries cannot see that deadline: a retried read timeout would outlive the
    function, and the caller would get the gateway's bare 500 instead of our 504.

    With `progress`, the answer is streamed (ConverseStream): the read timeout then bounds
    each wait for the next piece, not the whole answer, so a long answer is never cut while
    the model is still writing; the function's time bounds the whole (504 when it runs out),
    and `progress` hears the tokens so far after each piece.
    """
    arguments = converse_arguments(
        request,
        settings.model_id,
        settings.system_prompt,
        follow_up,
        settings.defaults.model_fields,
    )
    for attempt in range(1, settings.bedrock_max_attempts + 1):
        try:
            if progress is None:
                return _generation(client.converse(**arguments))
            response = client.converse_stream(**arguments)
            return _streamed(response["stream"], progress, remaining_ms, reserved_s)
        except ClientError as exc:
            code = _error_code(exc)
            delay = random.uniform(0, _BACKOFF_S * 2**attempt)
            wait_s = (settings.read_timeout if read_timeout is None else read_timeout) + reserved_s
            if (
                code in _RETRYABLE
                and attempt < settings.bedrock_max_attempts
                and _time_for_another(remaining_ms, delay, wait_s)
            ):
                logger.warning("Bedrock answered %s; retrying in %.2f s", code, delay)
                time.sleep(delay)
                continue
            raise _map_client_error(exc, settings, request) from exc
        except (ReadTimeoutError, ConnectTimeoutError, StreamReadTimeout) as exc:
            raise HttpError(
                504, "ModelTimeout", "the model did not answer in time; try again"
            ) from exc
        except StreamCut as exc:  # the connection ended inside a streamed answer
            logger.error("Bedrock's stream was cut: %s", exc)
            raise HttpError(502, "ModelError", "the model service failed; try again") from exc
        except EndpointConnectionError as exc:
            logger.error("cannot reach Bedrock: %s", exc)
            raise HttpError(502, "ModelUnreachable", "the model service cannot be reached") from exc
        except BotoCoreError as exc:
            logger.exception("Bedrock call failed")
            raise HttpError(502, "ModelError", "the model service failed; try again") from exc
    raise AssertionError("unreachable: the last attempt returns or raises")


def _error_code(exc: ClientError) -> str:
    """Bedrock's error code; an error inside an event stream spells it with a lower-case
    first letter (`throttlingException`)."""
    code = exc.response.get("Error", {}).get("Code", "")
    return code[:1].upper() + code[1:]


def estimate(chunks: int, characters: int) -> int:
    """Output tokens so far, before the model's own count at the end: the larger of the
    pieces received (a token each from some models, a few from others) and characters / 4
    (the usual rule of thumb)."""
    return max(chunks, math.ceil(characters / 4))


def _streamed(
    stream: Any,
    progress: Progress,
    remaining_ms: Callable[[], float] | None,
    reserved_s: float,
) -> Generation:
    """Read a ConverseStream answer to its end; 504 when the function's time (less
    `reserved_s` for what follows) runs out first."""
    pieces: list[str] = []
    characters = 0
    stop_reason = ""
    usage: dict[str, Any] = {}
    latency_ms = None
    for event in stream:
        delta = event.get("contentBlockDelta", {}).get("delta", {})
        if "text" in delta:
            pieces.append(delta["text"])
            characters += len(delta["text"])
            progress(estimate(len(pieces), characters))
        if "messageStop" in event:
            stop_reason = event["messageStop"].get("stopReason", "")
        if "metadata" in event:
            usage = event["metadata"].get("usage", {})
            latency_ms = event["metadata"].get("metrics", {}).get("latencyMs")
        if remaining_ms is not None and remaining_ms() < (reserved_s + _MARGIN_S) * 1000:
            _close(stream)
            raise HttpError(
                504, "ModelTimeout", "the model did not finish in time; try a shorter request"
            )
    return Generation(
        text="".join(pieces),
        stop_reason=stop_reason,
        input_tokens=int(usage.get("inputTokens", 0)),
        output_tokens=int(usage.get("outputTokens", 0)),
        latency_ms=latency_ms,
    )


def _close(stream: Any) -> None:
    """Stop reading the model's answer (botocore's EventStream closes its connection)."""
    close = getattr(stream, "close", None)
    if callable(close):
        close()


def _time_for_another(
    remaining_ms: Callable[[], float] | None, delay: float, wait_s: float
) -> bool:
    """True when a new attempt, waiting up to `wait_s` (its read timeout and what must be
    left after it, plus a second to connect and answer), ends before the function must."""
    if remaining_ms is None:
        return True
    needed_ms = (delay + wait_s + _MARGIN_S) * 1000
    return remaining_ms() > needed_ms


def _generation(response: dict[str, Any]) -> Generation:
    content = response.get("output", {}).get("message", {}).get("content", [])
    text = "".join(block.get("text", "") for block in content if isinstance(block, dict))
    usage = response.get("usage", {})
    return Generation(
        text=text,
        stop_reason=response.get("stopReason", ""),
        input_tokens=int(usage.get("inputTokens", 0)),
        output_tokens=int(usage.get("outputTokens", 0)),
        latency_ms=response.get("metrics", {}).get("latencyMs"),
    )


# What callers see when the stage itself is wrong (model access, model id, defaults the model
# refuses): no internals; the function's log has the details for the operator.
_OPERATOR_MESSAGE = (
    "the service's model is not set up correctly; the operator has the details in the "
    "function's log: quote the request id"
)
# Bedrock's words for a model id that must be called through an inference profile.
_NEEDS_PROFILE = ("inference profile", "on-demand throughput")


def _map_client_error(
    exc: ClientError, settings: Settings, request: GenerationRequest
) -> HttpError:
    code = _error_code(exc)
    detail = exc.response.get("Error", {}).get("Message", "")
    retry = {"Retry-After": str(settings.retry_after_seconds)}
    where = f"model {settings.model_id} in {settings.region}"
    if code in {"ThrottlingException", "ServiceQuotaExceededException", "TooManyRequests"}:
        return HttpError(
            429, "Throttled", "too many requests to the model; retry later", headers=retry
        )
    if code == "ModelNotReadyException":
        return HttpError(
            429, "ModelNotReady", "the model is warming up; retry shortly", headers=retry
        )
    if code == "ModelTimeoutException":
        return HttpError(504, "ModelTimeout", "the model took too long; try a shorter request")
    if code == "ServiceUnavailableException":
        return HttpError(
            503, "ModelUnavailable", "the model service is unavailable; retry later", headers=retry
        )
    if code == "AccessDeniedException":
        logger.error(
            "operator: access denied to %s: %s. Run `invoke preflight` for the stage: the "
            "account needs the model's use-case form, agreement and Marketplace subscription "
            "(`invoke model.enable` makes the first call with your own credentials), and the "
            "function's role bedrock:InvokeModel on the model (and its inference profile)",
            where,
            detail,
        )
        return HttpError(502, "ModelAccessDenied", _OPERATOR_MESSAGE)
    if code == "ResourceNotFoundException":
        logger.error("operator: %s does not exist or is not offered there: %s", where, detail)
        return HttpError(502, "ModelNotFound", _OPERATOR_MESSAGE)
    if code == "ValidationException":
        chosen = request.sampling.chosen_by_caller
        if chosen and not any(words in detail.lower() for words in _NEEDS_PROFILE):
            logger.warning("model rejected the caller's settings %s: %s", chosen, detail)
            return HttpError(
                400, "ModelRejectedRequest", f"the model rejected the request: {detail}"
            )
        logger.error(
            "operator: %s rejected the stage's own request (defaults %s): %s. Check "
            "the stage's default_* settings and model_id (some models must be called "
            "through an inference profile id)",
            where,
            settings.defaults,
            detail,
        )
        return HttpError(502, "ModelMisconfigured", _OPERATOR_MESSAGE)
    logger.error("Bedrock error %s for %s: %s", code, where, detail)
    return HttpError(502, "ModelError", "the model service failed; try again")
