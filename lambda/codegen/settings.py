"""The function's configuration, read once per container from environment variables.

Terraform sets these; nothing here knows whether it runs on AWS or on the local stack.
"""

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


class ConfigError(Exception):
    """An environment variable is missing or malformed (an operator's mistake)."""


@dataclass(frozen=True)
class SamplingDefaults:
    """The stage's defaults, as Terraform passes them (from terraform/defaults.tfvars.json and
    the stage's file: their one home); None means "not sent to the model"."""

    temperature: float | None
    top_p: float | None
    top_k: int | None
    max_tokens: int
    # The model's own request fields, sent with every call beside top_k (e.g. thinking off).
    model_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobSettings:
    """Asynchronous jobs, as Terraform sets them for every stage."""

    table: str  # the DynamoDB table of job records
    queue_url: str  # the SQS queue the worker takes jobs from
    max_tokens_limit: int  # async requests may ask for more tokens than sync ones
    ttl_days: int  # a job's record expires this long after it was submitted
    max_receives: int  # deliveries of a job's message before it goes to the dead-letter queue
    deadline_seconds: int  # a job not finished this long after its submission is failed
    owner_index: str  # the table's index of each caller's jobs (owner, created_at)
    max_unfinished_per_caller: int  # more queued or running jobs than this: 429


@dataclass(frozen=True)
class IdempotencySettings:
    """Idempotency-Key answers (codegen.http.idempotency), as Terraform sets them."""

    table: str  # the DynamoDB table of kept answers
    window_seconds: int  # how long a key's answer is kept and replayed


@dataclass(frozen=True)
class SpendSettings:
    """Spend per caller (codegen.spend), as Terraform sets it for every stage."""

    table: str  # the stage's spend table: counters per caller and period, budget overrides
    default_budget: str  # the stage's budget for every caller, as JSON ("" for none)
    retention_days: int  # counters are kept this long after their period ends
    alert_share: float  # a caller crossing this share of a limit is notified, once a period
    price_per_1000_input_tokens: float  # USD: the stage's prices (0 on local)
    price_per_1000_output_tokens: float
    alert_topic_arn: str  # where a soft budget alert is published (the alarm topic)


@dataclass(frozen=True)
class Settings:
    # Set by Terraform for every stage: required, so no default here can drift from its.
    model_id: str
    bucket: str
    region: str
    prefix: str
    defaults: SamplingDefaults
    max_tokens_limit: int
    read_timeout: float  # the most a model call may wait; less when time is short
    jobs: JobSettings
    idempotency: IdempotencySettings
    spend: SpendSettings
    stage: str  # the stage's name: a dimension of its metrics
    metrics_namespace: str  # where its metrics go (codegen.telemetry.metrics)
    system_prompt: str  # the stage's prompt template (codegen.generation.prompt)
    # one repair attempt for code that does not parse (codegen.generation.repair)
    syntax_repair: bool
    # The function's own limits: their one home is here (the environment may override them).
    max_body_bytes: int = 64 * 1024
    max_message_chars: int = 8000
    connect_timeout: float = 3.0
    # Kept back from the model call for storing its code: one S3 attempt (connect + read) and
    # the answer. The store gives up rather than outlive the function (stored: false).
    storage_budget: float = 3.5
    storage_connect_timeout: float = 1.0
    storage_read_timeout: float = 2.0
    bedrock_max_attempts: int = 2
    retry_after_seconds: int = 2  # Retry-After when Bedrock or the job service is busy
    poll_after_seconds: int = 2  # Retry-After on an unfinished job: when polling is worth it
    log_prompts: bool = False


def _own(env: Mapping[str, str], name: str, field: str, parse):
    """One of the function's own limits: the variable when set, else the Settings field's
    default (its one home); never empty."""
    default = next(item.default for item in fields(Settings) if item.name == field)
    return _present(parse(env, name, default), name)


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    defaults = SamplingDefaults(
        temperature=_float(env, "DEFAULT_TEMPERATURE"),
        top_p=_float(env, "DEFAULT_TOP_P"),
        top_k=_int(env, "DEFAULT_TOP_K"),
        max_tokens=_present(_int(env, "DEFAULT_MAX_TOKENS"), "DEFAULT_MAX_TOKENS"),
        model_fields=_model_fields(env),
    )
    settings = Settings(
        model_id=_required(env, "MODEL_ID"),
        bucket=_required(env, "OUTPUT_BUCKET"),
        region=env.get("AWS_REGION") or _required(env, "AWS_DEFAULT_REGION"),
        prefix=_prefix(_required(env, "OUTPUT_PREFIX")),
        defaults=defaults,
        max_tokens_limit=_present(_int(env, "MAX_TOKENS_LIMIT"), "MAX_TOKENS_LIMIT"),
        read_timeout=_present(_float(env, "BEDROCK_READ_TIMEOUT"), "BEDROCK_READ_TIMEOUT"),
        jobs=JobSettings(
            table=_required(env, "JOBS_TABLE"),
            queue_url=_required(env, "JOBS_QUEUE_URL"),
            max_tokens_limit=_positive(env, "ASYNC_MAX_TOKENS_LIMIT"),
            ttl_days=_positive(env, "JOB_TTL_DAYS"),
            max_receives=_positive(env, "JOB_MAX_RECEIVE_COUNT"),
            deadline_seconds=_positive(env, "JOB_DEADLINE_SECONDS"),
            owner_index=_required(env, "JOBS_OWNER_INDEX"),
            max_unfinished_per_caller=_positive(env, "MAX_UNFINISHED_JOBS_PER_CALLER"),
        ),
        idempotency=IdempotencySettings(
            table=_required(env, "IDEMPOTENCY_TABLE"),
            window_seconds=_positive(env, "IDEMPOTENCY_WINDOW_SECONDS"),
        ),
        spend=SpendSettings(
            table=_required(env, "SPEND_TABLE"),
            default_budget=env.get("SPEND_DEFAULT_BUDGET", "").strip(),
            retention_days=_positive(env, "SPEND_RETENTION_DAYS"),
            alert_share=_present(_float(env, "SPEND_ALERT_SHARE"), "SPEND_ALERT_SHARE"),
            price_per_1000_input_tokens=_price(env, "PRICE_PER_1000_INPUT_TOKENS"),
            price_per_1000_output_tokens=_price(env, "PRICE_PER_1000_OUTPUT_TOKENS"),
            alert_topic_arn=_required(env, "ALERT_TOPIC_ARN"),
        ),
        stage=_required(env, "STAGE"),
        metrics_namespace=_required(env, "METRICS_NAMESPACE"),
        system_prompt=_prompt_template(env),
        syntax_repair=_switch(env, "SYNTAX_REPAIR"),
        max_body_bytes=_own(env, "MAX_BODY_BYTES", "max_body_bytes", _int),
        max_message_chars=_own(env, "MAX_MESSAGE_CHARS", "max_message_chars", _int),
        connect_timeout=_own(env, "BEDROCK_CONNECT_TIMEOUT", "connect_timeout", _float),
        storage_budget=_own(env, "STORAGE_BUDGET_SECONDS", "storage_budget", _float),
        bedrock_max_attempts=_own(env, "BEDROCK_MAX_ATTEMPTS", "bedrock_max_attempts", _int),
        retry_after_seconds=_own(env, "RETRY_AFTER_SECONDS", "retry_after_seconds", _int),
        poll_after_seconds=_own(env, "POLL_AFTER_SECONDS", "poll_after_seconds", _int),
        log_prompts=env.get("LOG_PROMPTS", "false").strip().lower() in {"1", "true", "yes"},
    )
    from codegen.spend.limits import parse_limits

    try:
        parse_limits(settings.spend.default_budget or None, "SPEND_DEFAULT_BUDGET")
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if not 0 < settings.spend.alert_share <= 1:
        raise ConfigError("SPEND_ALERT_SHARE must be in (0, 1]")
    if defaults.max_tokens > settings.max_tokens_limit:
        raise ConfigError("DEFAULT_MAX_TOKENS must not exceed MAX_TOKENS_LIMIT")
    if defaults.max_tokens > settings.jobs.max_tokens_limit:
        raise ConfigError("DEFAULT_MAX_TOKENS must not exceed ASYNC_MAX_TOKENS_LIMIT")
    one_store = settings.storage_connect_timeout + settings.storage_read_timeout
    if settings.storage_budget < one_store:
        raise ConfigError(f"STORAGE_BUDGET_SECONDS must be at least {one_store} (one S3 attempt)")
    return settings


_UNSET = object()


def _present(value, name: str):
    if value is None:
        raise ConfigError(f"environment variable {name} must not be empty")
    return value


def _positive(env: Mapping[str, str], name: str) -> int:
    value = _present(_int(env, name), name)
    if value < 1:
        raise ConfigError(f"{name}={value} must be at least 1")
    return value


def _price(env: Mapping[str, str], name: str) -> float:
    value = _present(_float(env, name), name)
    if value < 0:
        raise ConfigError(f"{name}={value} must not be negative")
    return value


def _switch(env: Mapping[str, str], name: str) -> bool:
    """A required on/off setting, as Terraform writes a bool: true or false."""
    value = _required(env, name).lower()
    if value not in {"true", "false"}:
        raise ConfigError(f"{name}={value!r} must be true or false")
    return value == "true"


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def _prefix(value: str) -> str:
    value = value.strip().strip("/")
    return f"{value}/" if value else ""


def _raw(env: Mapping[str, str], name: str, default: object) -> str | None:
    """The variable's text; None for an explicit "send none" (empty, none, null). A variable
    without a default must be set: Terraform sets every one of them."""
    raw = env.get(name)
    if raw is None:
        if default is _UNSET:
            raise ConfigError(f"environment variable {name} is not set")
        return None if default is None else str(default)
    return None if raw.strip().lower() in {"", "none", "null"} else raw


def _float(env: Mapping[str, str], name: str, default: object = _UNSET) -> float | None:
    raw = _raw(env, name, default)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc
    if not math.isfinite(value):
        raise ConfigError(f"{name}={raw!r} is not a finite number")
    return value


def _int(env: Mapping[str, str], name: str, default: object = _UNSET) -> int | None:
    raw = _raw(env, name, default)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not an integer") from exc


def _model_fields(env: Mapping[str, str]) -> dict[str, Any]:
    """MODEL_REQUEST_FIELDS: a JSON object Terraform writes ({} for none)."""
    raw = _required(env, "MODEL_REQUEST_FIELDS")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"MODEL_REQUEST_FIELDS={raw!r} is not JSON") from exc
    if not isinstance(value, dict) or "top_k" in value:
        raise ConfigError("MODEL_REQUEST_FIELDS must be a JSON object without top_k")
    return value


def _prompt_template(env: Mapping[str, str]) -> str:
    """The stage's prompt template; Terraform checks it too, so this only catches a function
    configured by hand."""
    from codegen.generation.prompt import LANGUAGE_PLACEHOLDER

    template = _required(env, "SYSTEM_PROMPT")
    if LANGUAGE_PLACEHOLDER not in template:
        raise ConfigError(f"SYSTEM_PROMPT must name the language as {LANGUAGE_PLACEHOLDER}")
    return template
