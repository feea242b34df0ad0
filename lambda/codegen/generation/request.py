"""Validate a code-generation request body into a GenerationRequest, or say what to fix."""

import json
import math
from dataclasses import dataclass, replace
from typing import Any

from codegen.generation.languages import Language, find_language
from codegen.http.errors import HttpError, bad_request
from codegen.settings import Settings

ALLOWED_FIELDS = ("message", "key", "temperature", "top_p", "top_k", "max_tokens", "async")
_MAX_LANGUAGE_CHARS = 64
# Control characters other than tab, newline and carriage return are never instructions.
_FORBIDDEN_CONTROLS = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}


@dataclass(frozen=True)
class Sampling:
    """What the model is sent; None means "leave it to the model"."""

    max_tokens: int
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    # The settings the caller chose (the rest are the stage's defaults): when the model
    # rejects a request, this tells the caller's mistake (400) from the operator's (5xx).
    chosen_by_caller: tuple[str, ...] = ()


@dataclass(frozen=True)
class GenerationRequest:
    message: str
    language: Language
    sampling: Sampling
    # Answered later, through a job (202), rather than in this response.
    asynchronous: bool = False

    @property
    def max_tokens(self) -> int:
        return self.sampling.max_tokens

    def with_max_tokens(self, max_tokens: int) -> "GenerationRequest":
        """The same request allowed fewer output tokens (what the caller's budget leaves)."""
        return replace(self, sampling=replace(self.sampling, max_tokens=max_tokens))


def parse_body(
    body: bytes, settings: Settings, *, async_preferred: bool = False
) -> GenerationRequest:
    """The request, validated; `async_preferred` (a `Prefer: respond-async` header) or the
    body's `"async": true` makes it a job, which may ask for more tokens."""
    if len(body) > settings.max_body_bytes:
        raise HttpError(
            413,
            "PayloadTooLarge",
            f"the body is {len(body)} bytes; send at most {settings.max_body_bytes} bytes",
        )
    data = _json_object(body)
    unknown = sorted(set(data) - set(ALLOWED_FIELDS))
    if unknown:
        raise bad_request(
            f"unknown field(s) {', '.join(map(repr, unknown))}; accepted fields are "
            f"{', '.join(ALLOWED_FIELDS)}",
            unknown[0],
        )
    asynchronous = _flag(data, "async") or async_preferred
    message = _message(data.get("message"), settings.max_message_chars)
    language = _language(data.get("key"))
    limit = settings.jobs.max_tokens_limit if asynchronous else settings.max_tokens_limit
    try:
        sampling = _sampling(data, settings, limit)
    except HttpError as error:
        if error.details.get("field") == "max_tokens" and settings.jobs.max_tokens_limit > limit:
            error.message += (
                f"; a job (header Prefer: respond-async) may ask for up to "
                f"{settings.jobs.max_tokens_limit}"
            )
        raise
    return GenerationRequest(message, language, sampling, asynchronous)


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise bad_request(
            'the body is empty; send JSON like {"message": "a function that adds two numbers", '
            '"key": "python"}'
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request("the body is not valid UTF-8") from exc
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise bad_request(f"the body is not valid JSON: {_short(exc)}") from exc
    if not isinstance(data, dict):
        raise bad_request(f"the body must be a JSON object, not {_json_type(data)}")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _message(value: Any, max_chars: int) -> str:
    if value is None:
        raise bad_request("'message' is required: say what code to write", "message")
    if not isinstance(value, str):
        raise bad_request(f"'message' must be a string, not {_json_type(value)}", "message")
    if not value.strip():
        raise bad_request("'message' is empty: say what code to write", "message")
    if len(value) > max_chars:
        raise bad_request(
            f"'message' has {len(value)} characters; send at most {max_chars}", "message"
        )
    _require_clean_text(value, "message")
    return value.strip()


def _language(value: Any) -> Language:
    if value is None:
        raise bad_request("'key' (the language) is required, e.g. \"python\"", "key")
    if not isinstance(value, str):
        raise bad_request(f"'key' must be a string, not {_json_type(value)}", "key")
    if not value.strip():
        raise bad_request("'key' is empty: name the language, e.g. \"python\"", "key")
    if len(value) > _MAX_LANGUAGE_CHARS:
        return find_language(value[:_MAX_LANGUAGE_CHARS] + "…")
    _require_clean_text(value, "key")
    return find_language(value)


def _require_clean_text(value: str, field_name: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise bad_request(
            f"'{field_name}' contains invalid Unicode (an unpaired surrogate)", field_name
        ) from exc
    if any(char in _FORBIDDEN_CONTROLS for char in value):
        raise bad_request(
            f"'{field_name}' contains control characters; only tab and newlines are allowed",
            field_name,
        )


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise bad_request(f"'{name}' must be true or false, not {_json_type(value)}", name)
    return value


def _sampling(data: dict[str, Any], settings: Settings, max_tokens_limit: int) -> Sampling:
    defaults = settings.defaults
    temperature = _number(data, "temperature", 0.0, 1.0)
    top_p = _number(data, "top_p", 0.0, 1.0)
    top_k = _integer(data, "top_k", 0, 500)
    max_tokens = _integer(data, "max_tokens", 1, max_tokens_limit)
    # Newer models refuse temperature and top_p together: a default fills in only when the
    # caller chose neither, so a caller's choice of one never gets the other added.
    caller_chose_sampling = temperature is not None or top_p is not None
    chosen = {"temperature": temperature, "top_p": top_p, "top_k": top_k, "max_tokens": max_tokens}
    return Sampling(
        max_tokens=max_tokens if max_tokens is not None else defaults.max_tokens,
        temperature=temperature if caller_chose_sampling else defaults.temperature,
        top_p=top_p if caller_chose_sampling else defaults.top_p,
        top_k=top_k if top_k is not None else defaults.top_k,
        chosen_by_caller=tuple(name for name, value in chosen.items() if value is not None),
    )


def _number(data: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"'{name}' must be a number from {low} to {high}", name)
    if not math.isfinite(value) or not low <= value <= high:
        raise bad_request(f"'{name}' is {value}; it must be from {low} to {high}", name)
    return float(value)


def _integer(data: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'{name}' must be a whole number from {low} to {high}", name)
    if not low <= value <= high:
        raise bad_request(f"'{name}' is {value}; it must be from {low} to {high}", name)
    return value


def _json_type(value: Any) -> str:
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def _short(exc: Exception) -> str:
    return str(exc)[:200] if not isinstance(exc, RecursionError) else "nested too deeply"


# -- a validated request kept for a job, and read back by its worker --------------------------
def request_record(request: GenerationRequest) -> dict[str, Any]:
    """What the worker needs to run the request again, exactly as it was validated."""
    sampling = request.sampling
    return {
        "message": request.message,
        "language": request.language.name,
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "top_k": sampling.top_k,
        "chosen_by_caller": list(sampling.chosen_by_caller),
    }


def request_from_record(record: dict[str, Any]) -> GenerationRequest:
    """The request a job was submitted with; ValueError when the record is not one."""
    try:
        sampling = Sampling(
            max_tokens=int(record["max_tokens"]),
            temperature=record["temperature"],
            top_p=record["top_p"],
            top_k=record["top_k"],
            chosen_by_caller=tuple(record["chosen_by_caller"]),
        )
        return GenerationRequest(
            str(record["message"]), find_language(str(record["language"])), sampling, True
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the job's request record is not one: {exc!r}") from exc
    except HttpError as exc:  # find_language's answer to an unknown language
        raise ValueError(f"the job's request record is not one: {exc}") from exc
