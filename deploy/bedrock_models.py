"""What Bedrock's control plane says about a model: which foundation model a stage's model id
names (itself, or an inference profile's), its lifecycle, and the Region's text models that
could replace it. Read through `bedrock` (the same code on AWS and the local emulator).

Lifecycle, as AWS's "Model lifecycle" page words it (read 2026-12-06): a model is ACTIVE, then
LEGACY (for its card's legacy period: 6 months, or 45 days, before end of life), then past its
end of life, when every call fails with ResourceNotFoundException. GetFoundationModel's
`modelLifecycle` says which, with `legacyTime` and `endOfLifeTime` once they are known.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

# Bedrock's answers for an id it does not know (or no longer offers).
_GONE = {"ResourceNotFoundException", "ValidationException"}
# Days before end of life when a LEGACY model turns `invoke status` red.
STATUS_WARNING_DAYS = 30


class ModelNotOffered(Exception):
    """The Region offers no model (or profile) of that id; the message says what Bedrock said."""


@dataclass(frozen=True)
class ModelInfo:
    requested: str  # the stage's model_id
    model_id: str  # the foundation model's id
    name: str
    provider: str
    lifecycle: dict[str, Any]
    through_profile: bool
    streaming: bool = True

    @property
    def status(self) -> str:
        return str(self.lifecycle.get("status", "UNKNOWN"))

    @property
    def end_of_life(self) -> datetime | None:
        return self.lifecycle.get("endOfLifeTime")

    @property
    def display_name(self) -> str:
        """As Service Quotas names the model in its quotas' names."""
        return f"{self.provider} {self.name}"


@dataclass(frozen=True)
class LifecycleVerdict:
    level: str  # "ok", "warn", "fail"
    text: str
    days_left: int | None = None


@dataclass(frozen=True)
class CatalogueEntry:
    model_id: str
    name: str
    provider: str
    lifecycle: dict[str, Any]
    profiles: list[str] = field(default_factory=list)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _foundation_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def resolve(bedrock: Any, model_id: str) -> ModelInfo:
    """The foundation model `model_id` names: an inference profile's (an id of three or more
    dotted parts, e.g. `us.anthropic.claude-haiku-5-5`), or itself. ModelNotOffered when the
    Region knows neither."""
    through_profile = False
    foundation = model_id
    if len(model_id.split(".")) > 2:
        try:
            profile = bedrock.get_inference_profile(inferenceProfileIdentifier=model_id)
        except ClientError as exc:
            if _error_code(exc) not in _GONE:
                raise
        else:
            models = profile.get("models") or []
            if not models:
                raise ModelNotOffered(f"the inference profile {model_id} lists no model")
            foundation, through_profile = _foundation_id(models[0]["modelArn"]), True
    try:
        details = bedrock.get_foundation_model(modelIdentifier=foundation)["modelDetails"]
    except ClientError as exc:
        if _error_code(exc) in _GONE:
            message = exc.response.get("Error", {}).get("Message", "")
            raise ModelNotOffered(f"{_error_code(exc)}: {message}".rstrip(": ")) from exc
        raise
    return ModelInfo(
        requested=model_id,
        model_id=details["modelId"],
        name=details.get("modelName", details["modelId"]),
        provider=details.get("providerName", ""),
        lifecycle=details.get("modelLifecycle") or {},
        through_profile=through_profile,
        streaming=bool(details.get("responseStreamingSupported", False)),
    )


def lifecycle_verdict(info: ModelInfo, now: datetime) -> LifecycleVerdict:
    """ACTIVE is fine; LEGACY warns with its dates and the days left; past its end of life, or
    a state Bedrock does not name, fails."""
    dates = _dates(info.lifecycle)
    if info.status == "ACTIVE":
        return LifecycleVerdict("ok", f"ACTIVE{dates}")
    end = info.end_of_life
    if info.status == "LEGACY":
        if end is not None and end <= now:
            return LifecycleVerdict("fail", f"past its end of life{dates}", 0)
        days = None if end is None else (end - now).days
        left = "" if days is None else f", {days} days left"
        return LifecycleVerdict("warn", f"LEGACY{dates}{left}", days)
    return LifecycleVerdict("fail", f"lifecycle {info.status}{dates}")


def _dates(lifecycle: dict[str, Any]) -> str:
    named = (
        ("startOfLifeTime", "launched"),
        ("legacyTime", "legacy since"),
        ("endOfLifeTime", "end of life"),
    )
    parts = [
        f"{label} {lifecycle[key]:%Y-%m-%d}"
        for key, label in named
        if isinstance(lifecycle.get(key), datetime)
    ]
    return f" ({', '.join(parts)})" if parts else ""


def text_models(bedrock: Any) -> list[CatalogueEntry]:
    """The Region's models that take and write text and stream (what Converse and the worker's
    ConverseStream need; the API does not report Converse support itself), with the
    system-defined inference profiles that route to each, ACTIVE first."""
    summaries = bedrock.list_foundation_models(byOutputModality="TEXT")["modelSummaries"]
    profiles: dict[str, list[str]] = {}
    for profile in _profiles(bedrock):
        for model in profile.get("models") or []:
            profiles.setdefault(_foundation_id(model["modelArn"]), [])
            ids = profiles[_foundation_id(model["modelArn"])]
            if profile["inferenceProfileId"] not in ids:
                ids.append(profile["inferenceProfileId"])
    entries = [
        CatalogueEntry(
            summary["modelId"],
            summary.get("modelName", summary["modelId"]),
            summary.get("providerName", ""),
            summary.get("modelLifecycle") or {},
            sorted(profiles.get(summary["modelId"], [])),
        )
        for summary in summaries
        if "TEXT" in summary.get("inputModalities", [])
        and "TEXT" in summary.get("outputModalities", [])
        and summary.get("responseStreamingSupported")
    ]
    return sorted(entries, key=lambda e: (e.lifecycle.get("status") != "ACTIVE", e.model_id))


def _profiles(bedrock: Any) -> list[dict[str, Any]]:
    pages = bedrock.get_paginator("list_inference_profiles").paginate(typeEquals="SYSTEM_DEFINED")
    return [profile for page in pages for profile in page.get("inferenceProfileSummaries", [])]


def active_choices(bedrock: Any) -> str:
    """One line per ACTIVE text model, with its inference profiles: where a ⚠ or ✗ points."""
    lines = [
        f"{entry.model_id} ({entry.provider} {entry.name})"
        + (f" via {', '.join(entry.profiles)}" if entry.profiles else "")
        for entry in text_models(bedrock)
        if entry.lifecycle.get("status") == "ACTIVE"
    ]
    return "; ".join(lines) or "none: this Region offers no ACTIVE text model"
