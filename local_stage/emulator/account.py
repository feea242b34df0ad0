"""The account questions moto cannot answer, answered by the emulator as AWS answers them.

A preflight (`invoke preflight`) reads an account before anything is created: Bedrock's model
catalogue and a model's availability, Lambda's account settings, Bedrock's quotas in Service
Quotas. moto 5.2.5 serves none of these, so the local stage answers them here, for the model
its model server stands in for, with the same shapes (held to botocore's service model by
tests/integration/test_emulator_account.py):

- bedrock: GetFoundationModel, ListFoundationModels, GetFoundationModelAvailability,
  GetInferenceProfile, ListInferenceProfiles;
- lambda: GetAccountSettings, and PutFunctionConcurrency refused as AWS refuses it when it
  would leave less than the account's unreserved minimum;
- service-quotas: ListServiceQuotas, GetServiceQuota (and their AWS-default twins) for
  ServiceCode `bedrock`; every other service code goes on to moto.

What a test (or a curious user) wants to be otherwise is set through `/_local/account` (the
stack's token required, JSON only): a LEGACY model, one the Region does not offer, a
NOT_AUTHORIZED availability, an account limit of 10, a quota of 0.

    POST   /_local/account {"concurrency_limit": 10}
    POST   /_local/account {"model": ID, "lifecycle": "LEGACY", "legacy_time": ISO,
                            "end_of_life_time": ISO}
    POST   /_local/account {"model": ID, "offered": false}
    POST   /_local/account {"model": ID, "availability": {"authorizationStatus": "NOT_AUTHORIZED"}}
    POST   /_local/account {"quota": NAME_OR_CODE, "value": 0}
    GET    /_local/account   (what is in force)
    DELETE /_local/account   (back to the stack's start: its limit, every model ACTIVE)
"""

import io
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local_stage.access.guard import is_json
from local_stage.access.sigv4 import credential_scope
from local_stage.contract import ACCOUNT_ID, LAMBDA_UNRESERVED_MINIMUM

PATH = "/_local/account"
# AWS's default Regional limit of concurrent executions (Lambda quotas page, read 2026-12-06).
DEFAULT_CONCURRENCY_LIMIT = 1000
_SERVICE_NAME = "Amazon Bedrock"
_PROFILE_GEOGRAPHIES = {
    "us": ("US", ["us-east-1", "us-east-2", "us-west-2"]),
    "eu": ("EU", ["eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"]),
    "global": ("Global", ["us-east-1", "us-east-2", "us-west-2", "eu-west-1"]),
}


@dataclass(frozen=True)
class CatalogueModel:
    """A model of the emulator's catalogue: the local model answers for it."""

    model_id: str
    name: str
    provider: str
    launched: datetime
    profiles: tuple[str, ...]  # geographies with a system-defined inference profile
    # Service Quotas' defaults for it (tokens): cross-Region and on-demand per minute, a day.
    cross_region_tpm: float = 5_000_000
    on_demand_tpm: float = 2_500_000
    tokens_per_day: float = 7_200_000_000


# The Claude model the stages use (its card, read 2026-12-06: launched 2026-10-07, Active).
CATALOGUE = (
    CatalogueModel(
        "anthropic.claude-haiku-5-5",
        "Claude Haiku 5.5",
        "Anthropic",
        datetime(2026, 10, 7, tzinfo=UTC),
        ("us", "eu", "global"),
    ),
)


def quota_names(model: CatalogueModel) -> dict[str, float]:
    """Service Quotas' names of a model's token quotas (as AWS names them) -> default value."""
    who = f"{model.provider} {model.name}"
    return {
        f"Cross-region model inference tokens per minute for {who}": model.cross_region_tpm,
        f"On-demand model inference tokens per minute for {who}": model.on_demand_tpm,
        f"Model invocation max tokens per day for {who}": model.tokens_per_day,
    }


@dataclass
class ModelState:
    offered: bool = True
    lifecycle: dict[str, Any] = field(default_factory=lambda: {"status": "ACTIVE"})
    availability: dict[str, Any] = field(default_factory=dict)


class AccountFacts:
    """What the emulated account is like; changed through /_local/account."""

    def __init__(self, concurrency_limit: int = DEFAULT_CONCURRENCY_LIMIT) -> None:
        self._start_limit = concurrency_limit
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.concurrency_limit = self._start_limit
            self.models = {model.model_id: ModelState() for model in CATALOGUE}
            self.quotas: dict[str, float] = {}  # quota code -> value over the default

    # -- changes -----------------------------------------------------------------------------
    def change(self, body: Any) -> None:
        """Apply one POSTed change; ValueError says what is wrong with it."""
        if not isinstance(body, dict) or not body:
            raise ValueError("send a JSON object: see local_stage/emulator/account.py")
        with self._lock:
            if "concurrency_limit" in body:
                limit = body["concurrency_limit"]
                if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                    raise ValueError("concurrency_limit must be a whole number >= 1")
                self.concurrency_limit = limit
            if "quota" in body:
                self.quotas[self._quota_code(str(body["quota"]))] = float(body["value"])
            if "model" in body:
                self._change_model(body)

    def _change_model(self, body: dict[str, Any]) -> None:
        state = self.models.get(str(body["model"]))
        if state is None:
            raise ValueError(f"the catalogue has no model {body['model']!r}")
        if "offered" in body:
            state.offered = bool(body["offered"])
        if "lifecycle" in body:
            status = str(body["lifecycle"])
            if status not in {"ACTIVE", "LEGACY"}:
                raise ValueError("lifecycle is ACTIVE or LEGACY (past end of life: offered false)")
            state.lifecycle = {"status": status}
            for key, name in (("legacy_time", "legacyTime"), ("end_of_life_time", "endOfLifeTime")):
                if body.get(key):
                    state.lifecycle[name] = datetime.fromisoformat(str(body[key]))
        if "availability" in body:
            if not isinstance(body["availability"], dict):
                raise ValueError("availability is an object of GetFoundationModelAvailability's")
            state.availability.update(body["availability"])

    def _quota_code(self, name_or_code: str) -> str:
        for quota in self._all_quotas():
            if name_or_code in (quota["QuotaCode"], quota["QuotaName"]):
                return str(quota["QuotaCode"])
        raise ValueError(f"no Bedrock quota named or coded {name_or_code!r}")

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "concurrency_limit": self.concurrency_limit,
                "models": {
                    model_id: {
                        "offered": state.offered,
                        "lifecycle": _jsonable(state.lifecycle),
                        "availability": self._availability(model_id),
                    }
                    for model_id, state in self.models.items()
                },
                "quotas": dict(self.quotas),
            }

    # -- Bedrock -----------------------------------------------------------------------------
    def _offered(self, model_id: str) -> CatalogueModel | None:
        for model in CATALOGUE:
            if model.model_id == model_id and self.models[model_id].offered:
                return model
        return None

    def foundation_model(self, model_id: str, region: str) -> dict[str, Any] | None:
        model = self._offered(_model_id_of(model_id))
        if model is None:
            return None
        lifecycle = {"startOfLifeTime": model.launched, **self.models[model.model_id].lifecycle}
        return {
            "modelArn": _foundation_model_arn(region, model.model_id),
            "modelId": model.model_id,
            "modelName": model.name,
            "providerName": model.provider,
            "inputModalities": ["TEXT", "IMAGE"],
            "outputModalities": ["TEXT"],
            "responseStreamingSupported": True,
            "customizationsSupported": [],
            "inferenceTypesSupported": ["INFERENCE_PROFILE"],
            "modelLifecycle": lifecycle,
        }

    def foundation_models(self, region: str, query: dict[str, str]) -> list[dict[str, Any]]:
        found = []
        for model in CATALOGUE:
            details = self.foundation_model(model.model_id, region)
            if details is None:
                continue
            if query.get("byProvider", details["providerName"]).lower() != (
                details["providerName"].lower()
            ):
                continue
            if query.get("byOutputModality", "TEXT") not in details["outputModalities"]:
                continue
            wanted_type = query.get("byInferenceType")
            if wanted_type and wanted_type not in details["inferenceTypesSupported"]:
                continue
            found.append(details)
        return found

    def availability(self, model_id: str) -> dict[str, Any] | None:
        if self._offered(_model_id_of(model_id)) is None:
            return None
        return {"modelId": model_id, **self._availability(_model_id_of(model_id))}

    def _availability(self, model_id: str) -> dict[str, Any]:
        given = self.models[model_id].availability
        return {
            "agreementAvailability": given.get("agreementAvailability", {"status": "AVAILABLE"}),
            "authorizationStatus": given.get("authorizationStatus", "AUTHORIZED"),
            "entitlementAvailability": given.get("entitlementAvailability", "AVAILABLE"),
            "regionAvailability": given.get("regionAvailability", "AVAILABLE"),
        }

    def inference_profiles(self, region: str) -> list[dict[str, Any]]:
        profiles = []
        for model in CATALOGUE:
            if not self.models[model.model_id].offered:
                continue
            for prefix in model.profiles:
                label, regions = _PROFILE_GEOGRAPHIES[prefix]
                profile_id = f"{prefix}.{model.model_id}"
                profiles.append(
                    {
                        "inferenceProfileName": f"{label} {model.provider} {model.name}",
                        "description": f"Routes requests to {model.name} in {label} Regions.",
                        "createdAt": model.launched,
                        "updatedAt": model.launched,
                        "inferenceProfileArn": (
                            f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:inference-profile/{profile_id}"
                        ),
                        "models": [
                            {"modelArn": _foundation_model_arn(where, model.model_id)}
                            for where in regions
                        ],
                        "inferenceProfileId": profile_id,
                        "status": "ACTIVE",
                        "type": "SYSTEM_DEFINED",
                    }
                )
        return profiles

    def inference_profile(self, identifier: str, region: str) -> dict[str, Any] | None:
        for profile in self.inference_profiles(region):
            if identifier in (profile["inferenceProfileId"], profile["inferenceProfileArn"]):
                return profile
        return None

    # -- Lambda ------------------------------------------------------------------------------
    def unreserved_minimum(self) -> int:
        return min(LAMBDA_UNRESERVED_MINIMUM, self.concurrency_limit)

    def account_settings(self, reserved: int, functions: int, code_size: int) -> dict[str, Any]:
        return {
            "AccountLimit": {
                "TotalCodeSize": 80_530_636_800,  # 75 GB, AWS's default
                "CodeSizeUnzipped": 262_144_000,
                "CodeSizeZipped": 52_428_800,
                "ConcurrentExecutions": self.concurrency_limit,
                "UnreservedConcurrentExecutions": self.concurrency_limit - reserved,
            },
            "AccountUsage": {"TotalCodeSize": code_size, "FunctionCount": functions},
        }

    # -- Service Quotas ----------------------------------------------------------------------
    def _all_quotas(self) -> list[dict[str, Any]]:
        quotas = []
        for index, model in enumerate(CATALOGUE):
            for offset, (name, value) in enumerate(quota_names(model).items()):
                code = f"L-10CA{index:02d}{offset:02d}"  # the emulator's own codes
                quotas.append(_quota(code, name, value))
        return quotas

    def service_quotas(self, defaults: bool) -> list[dict[str, Any]]:
        quotas = self._all_quotas()
        if not defaults:
            for quota in quotas:
                quota["Value"] = self.quotas.get(quota["QuotaCode"], quota["Value"])
        return quotas


def _quota(code: str, name: str, value: float) -> dict[str, Any]:
    per_day = "per day" in name
    return {
        "ServiceCode": "bedrock",
        "ServiceName": _SERVICE_NAME,
        "QuotaArn": f"arn:aws:servicequotas:us-east-1:{ACCOUNT_ID}:bedrock/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "Value": value,
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
        "Period": {"PeriodValue": 1, "PeriodUnit": "DAY" if per_day else "MINUTE"},
        "QuotaAppliedAtLevel": "ACCOUNT",
    }


def _foundation_model_arn(region: str, model_id: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


def _model_id_of(identifier: str) -> str:
    """A model id from an id or a foundation-model ARN."""
    return identifier.rsplit("/", 1)[-1] if identifier.startswith("arn:") else identifier


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


# -- the WSGI side -------------------------------------------------------------------------------
_CONCURRENCY = re.compile(r"^/2017-10-31/functions/([^/]+)/concurrency/?$")
Reservations = Callable[[str], tuple[int, dict[str, int], int]]
StartResponse = Callable[..., Any]


def answering_account(
    app: Callable[..., Iterable[bytes]], facts: AccountFacts, reservations: Reservations
):
    """WSGI middleware: the account answers above, the control path, else moto.
    `reservations(region)` is (reserved concurrency of all functions, each function's,
    and the deployed code's total size), read from moto's Lambda backend."""

    def middleware(environ: dict[str, Any], start_response: StartResponse):
        path = environ.get("PATH_INFO", "")
        if path == PATH:
            return _control(environ, start_response, facts)
        scope = credential_scope(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is None:
            return app(environ, start_response)
        region, service = scope
        method = environ.get("REQUEST_METHOD", "GET")
        if service == "bedrock" and method == "GET":
            answer = _bedrock(path, environ, facts, region)
            if answer is not None:
                return _json(start_response, *answer)
        elif service == "lambda":
            answer = _lambda(method, path, environ, facts, reservations, region)
            if answer is not None:
                return _json(start_response, *answer)
        elif service == "servicequotas" and method == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(size)
            environ["wsgi.input"] = io.BytesIO(raw)  # moto reads it again if not ours
            answer = _quotas(environ.get("HTTP_X_AMZ_TARGET", ""), raw, facts)
            if answer is not None:
                return _json(start_response, *answer, amz_json=True)
        return app(environ, start_response)

    return middleware


def _bedrock(
    path: str, environ: dict[str, Any], facts: AccountFacts, region: str
) -> tuple[int, Any] | None:
    from urllib.parse import parse_qsl, unquote

    query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    parts = [unquote(part) for part in path.strip("/").split("/", 1)]
    kind, identifier = parts[0], (parts[1] if len(parts) > 1 else None)
    if kind == "foundation-models" and identifier is None:
        return 200, {"modelSummaries": facts.foundation_models(region, query)}
    if kind == "foundation-models":
        details = facts.foundation_model(identifier, region)
        if details is None:
            return _not_found(f"The model {identifier} does not exist or is not offered here.")
        return 200, {"modelDetails": details}
    if kind == "foundation-model-availability" and identifier:
        found = facts.availability(identifier)
        return (200, found) if found else _not_found(f"The model {identifier} does not exist.")
    if kind == "inference-profiles" and identifier is None:
        profiles = facts.inference_profiles(region)
        if query.get("typeEquals", "SYSTEM_DEFINED") != "SYSTEM_DEFINED":
            profiles = []
        return 200, {"inferenceProfileSummaries": profiles}
    if kind == "inference-profiles":
        profile = facts.inference_profile(identifier, region)
        if profile is None:
            return _not_found(f"The inference profile {identifier} does not exist.")
        return 200, profile
    return None


def _lambda(
    method: str,
    path: str,
    environ: dict[str, Any],
    facts: AccountFacts,
    reservations: Reservations,
    region: str,
) -> tuple[int, Any] | None:
    if method == "GET" and path.rstrip("/") == "/2016-08-19/account-settings":
        reserved, functions, code_size = reservations(region)
        return 200, facts.account_settings(reserved, len(functions), code_size)
    match = _CONCURRENCY.match(path)
    if method != "PUT" or match is None:
        return None
    size = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(size)
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        wanted = int(json.loads(raw)["ReservedConcurrentExecutions"])
    except (ValueError, KeyError, TypeError):
        return None  # moto answers a malformed request as it does
    reserved, functions, _ = reservations(region)
    name = match.group(1).rsplit(":", 1)[-1]
    after = reserved - functions.get(name, 0) + wanted
    minimum = facts.unreserved_minimum()
    if facts.concurrency_limit - after >= minimum:
        return None
    return 400, {
        "__type": "InvalidParameterValueException",
        "Type": "User",
        "message": (
            "Specified ReservedConcurrentExecutions for function decreases account's "
            f"UnreservedConcurrentExecution below its minimum value of [{minimum}]."
        ),
    }


def _quotas(target: str, raw: bytes, facts: AccountFacts) -> tuple[int, Any] | None:
    operation = target.rsplit(".", 1)[-1]
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return None
    if body.get("ServiceCode") != "bedrock":
        return None
    defaults = "AWSDefault" in operation
    quotas = facts.service_quotas(defaults)
    if operation in ("ListServiceQuotas", "ListAWSDefaultServiceQuotas"):
        if body.get("QuotaCode"):
            quotas = [quota for quota in quotas if quota["QuotaCode"] == body["QuotaCode"]]
        return 200, {"Quotas": quotas}
    if operation in ("GetServiceQuota", "GetAWSDefaultServiceQuota"):
        for quota in quotas:
            if quota["QuotaCode"] == body.get("QuotaCode"):
                return 200, {"Quota": quota}
        return 400, {
            "__type": "NoSuchResourceException",
            "Message": f"The quota {body.get('QuotaCode')} does not exist for bedrock.",
        }
    return None


def _not_found(message: str) -> tuple[int, Any]:
    return 404, {"__type": "ResourceNotFoundException", "message": message}


def _json(
    start_response: StartResponse, status: int, payload: Any, amz_json: bool = False
) -> list[bytes]:
    body = json.dumps(payload, default=_timestamp).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1" if amz_json else "application/json"),
        ("Content-Length", str(len(body))),
    ]
    if status >= 400:
        headers.append(("x-amzn-ErrorType", str(payload.get("__type", ""))))
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    start_response(f"{status} {reason}", headers)
    return [body]


def _timestamp(value: Any) -> Any:
    """Timestamps as rest-json and json services send them: epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _control(environ: dict[str, Any], start_response: StartResponse, facts: AccountFacts):
    method = environ.get("REQUEST_METHOD")
    status, answer = "200 OK", None
    try:
        if method == "DELETE":
            facts.reset()
        elif method == "POST":
            if not is_json(environ.get("CONTENT_TYPE")):
                raise TypeError("a change is sent as Content-Type: application/json")
            size = int(environ.get("CONTENT_LENGTH") or 0)
            facts.change(json.loads(environ["wsgi.input"].read(size) or b"null"))
        elif method != "GET":
            status, answer = "405 Method Not Allowed", {"error": "GET, POST a change, or DELETE"}
    except TypeError as exc:
        status, answer = "415 Unsupported Media Type", {"error": str(exc)}
    except (ValueError, KeyError) as exc:
        status, answer = "400 Bad Request", {"error": str(exc)}
    body = json.dumps(answer or {"status": "ok", **facts.describe()}).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
