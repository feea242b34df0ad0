"""The function's configuration, read once per container from environment variables.

Terraform sets these; nothing here knows whether it runs on AWS or on the local stack.
"""

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigError(Exception):
    """An environment variable is missing or malformed (an operator's mistake)."""


@dataclass(frozen=True)
class SamplingDefaults:
    """Stage defaults; None means "not sent to the model"."""

    temperature: float | None = 0.1
    top_p: float | None = None
    top_k: int | None = 250
    max_tokens: int = 2048


@dataclass(frozen=True)
class Settings:
    model_id: str
    bucket: str
    region: str
    prefix: str = "code-output/"
    defaults: SamplingDefaults = SamplingDefaults()
    max_tokens_limit: int = 4096
    max_body_bytes: int = 64 * 1024
    max_message_chars: int = 8000
    connect_timeout: float = 3.0
    read_timeout: float = 25.0  # the most a model call may wait; less when time is short
    # Kept back from the model call for storing its code: one S3 attempt (connect + read) and
    # the answer. The store gives up rather than outlive the function (stored: false).
    storage_budget: float = 3.5
    storage_connect_timeout: float = 1.0
    storage_read_timeout: float = 2.0
    bedrock_max_attempts: int = 2
    retry_after_seconds: int = 2
    log_prompts: bool = False


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    defaults = SamplingDefaults(
        temperature=_optional_float(env, "DEFAULT_TEMPERATURE", 0.1),
        top_p=_optional_float(env, "DEFAULT_TOP_P", None),
        top_k=_optional_int(env, "DEFAULT_TOP_K", 250),
        max_tokens=_optional_int(env, "DEFAULT_MAX_TOKENS", 2048) or 2048,
    )
    settings = Settings(
        model_id=_required(env, "MODEL_ID"),
        bucket=_required(env, "OUTPUT_BUCKET"),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        prefix=_prefix(env.get("OUTPUT_PREFIX", "code-output/")),
        defaults=defaults,
        max_tokens_limit=_optional_int(env, "MAX_TOKENS_LIMIT", 4096) or 4096,
        max_body_bytes=_optional_int(env, "MAX_BODY_BYTES", 64 * 1024) or 64 * 1024,
        max_message_chars=_optional_int(env, "MAX_MESSAGE_CHARS", 8000) or 8000,
        connect_timeout=_optional_float(env, "BEDROCK_CONNECT_TIMEOUT", 3.0) or 3.0,
        read_timeout=_optional_float(env, "BEDROCK_READ_TIMEOUT", 25.0) or 25.0,
        storage_budget=_optional_float(env, "STORAGE_BUDGET_SECONDS", 3.5) or 3.5,
        bedrock_max_attempts=_optional_int(env, "BEDROCK_MAX_ATTEMPTS", 2) or 2,
        retry_after_seconds=_optional_int(env, "RETRY_AFTER_SECONDS", 2) or 2,
        log_prompts=env.get("LOG_PROMPTS", "false").strip().lower() in {"1", "true", "yes"},
    )
    if defaults.max_tokens > settings.max_tokens_limit:
        raise ConfigError("DEFAULT_MAX_TOKENS must not exceed MAX_TOKENS_LIMIT")
    one_store = settings.storage_connect_timeout + settings.storage_read_timeout
    if settings.storage_budget < one_store:
        raise ConfigError(f"STORAGE_BUDGET_SECONDS must be at least {one_store} (one S3 attempt)")
    return settings


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def _prefix(value: str) -> str:
    value = value.strip().strip("/")
    return f"{value}/" if value else ""


def _optional_float(env: Mapping[str, str], name: str, default: float | None) -> float | None:
    raw = env.get(name)
    if raw is None:
        return default
    if raw.strip() in {"", "none", "null"}:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc
    if not math.isfinite(value):
        raise ConfigError(f"{name}={raw!r} is not a finite number")
    return value


def _optional_int(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = env.get(name)
    if raw is None:
        return default
    if raw.strip() in {"", "none", "null"}:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not an integer") from exc
