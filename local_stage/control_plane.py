"""What Terraform created, read back from the emulator: APIs, stages, routes, integrations,
functions and their permissions, event source mappings. Read with boto3 (moto's public API)
and cached until the emulator reports a configuration change; the front doors (the gateway,
the event source pollers) read configuration only here."""

import fnmatch
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from local_stage.contract import DEFAULT_CREDENTIALS
from local_stage.emulator.changes import ChangeCounter


def function_name_of(arn_or_name: str) -> str | None:
    """The function a function ARN, an invoke ARN (.../functions/<function ARN>/invocations)
    or a plain name names, without its version or alias."""
    if ":function:" in arn_or_name:
        tail = arn_or_name.split(":function:", 1)[1]
        return tail.split("/", 1)[0].split(":", 1)[0]
    return arn_or_name or None


@dataclass(frozen=True)
class Integration:
    integration_id: str
    integration_type: str
    uri: str
    payload_format_version: str
    timeout_ms: int

    @property
    def function_name(self) -> str | None:
        """The function an AWS_PROXY integration invokes (from a function or invoke ARN)."""
        return function_name_of(self.uri)


@dataclass(frozen=True)
class Route:
    route_key: str
    authorization_type: str
    integration: Integration | None

    @property
    def method(self) -> str:
        return "" if self.route_key == "$default" else self.route_key.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return "" if self.route_key == "$default" else self.route_key.split(" ", 1)[1]


@dataclass(frozen=True)
class Stage:
    name: str
    rate_limit: float | None
    burst_limit: int | None
    route_limits: dict[str, tuple[float | None, int | None]]
    variables: dict[str, str]
    # Where and how the stage writes its access log (AccessLogSettings), when it does.
    access_log_destination: str | None = None
    access_log_format: str | None = None


@dataclass(frozen=True)
class Api:
    api_id: str
    name: str
    routes: list[Route]
    stages: dict[str, Stage]


def apis_with_stage(apis: Mapping[str, Api], stage: str) -> list[Api]:
    """The APIs that have a stage called `stage`: one is the API of that stage; more than one
    is ambiguous (the gateway answers 404, the console says so)."""
    return [api for api in apis.values() if stage in api.stages]


@dataclass(frozen=True)
class Layer:
    arn: str
    code_sha256: str

    @property
    def name_and_version(self) -> tuple[str, int]:
        parts = self.arn.split(":")
        return parts[-2], int(parts[-1])


@dataclass(frozen=True)
class Function:
    name: str
    arn: str
    handler: str
    runtime: str
    timeout: int
    memory: int
    environment: dict[str, str]
    code_sha256: str
    layers: tuple[Layer, ...]
    reserved_concurrency: int | None
    permissions: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def version_key(self) -> str:
        """Changes whenever what a worker runs changes (code, layers, settings)."""
        return json.dumps(
            [
                self.code_sha256,
                [layer.code_sha256 for layer in self.layers],
                self.handler,
                self.runtime,
                self.timeout,
                self.memory,
                sorted(self.environment.items()),
            ]
        )

    def allows(self, source_arn: str) -> bool:
        """True when a resource policy lets API Gateway invoke it from `source_arn`."""
        for statement in self.permissions:
            if statement.get("Effect") != "Allow":
                continue
            principal = statement.get("Principal", {})
            service = principal.get("Service") if isinstance(principal, dict) else principal
            if service != "apigateway.amazonaws.com":
                continue
            condition = statement.get("Condition", {}).get("ArnLike", {})
            pattern = condition.get("AWS:SourceArn") or condition.get("aws:SourceArn")
            if pattern is None or fnmatch.fnmatchcase(source_arn, pattern):
                return True
        return False


@dataclass(frozen=True)
class SqsMapping:
    uuid: str
    queue_arn: str
    function_name: str
    batch_size: int
    max_concurrency: int
    report_batch_item_failures: bool

    @classmethod
    def from_api(cls, item: dict[str, Any], default_concurrency: int) -> "SqsMapping":
        scaling = item.get("ScalingConfig") or {}
        return cls(
            uuid=item["UUID"],
            queue_arn=item["EventSourceArn"],
            function_name=function_name_of(item["FunctionArn"]) or "",
            batch_size=max(1, min(int(item.get("BatchSize") or 10), 10)),
            max_concurrency=int(scaling.get("MaximumConcurrency") or default_concurrency),
            report_batch_item_failures="ReportBatchItemFailures"
            in (item.get("FunctionResponseTypes") or []),
        )


class ControlPlane:
    def __init__(
        self,
        endpoint_url: str,
        region: str,
        changes: ChangeCounter,
        credentials: tuple[str, str] = DEFAULT_CREDENTIALS,
    ) -> None:
        self.region = region
        self._endpoint_url = endpoint_url
        self._session = boto3.Session(
            aws_access_key_id=credentials[0],
            aws_secret_access_key=credentials[1],
            region_name=region,
        )
        self._apigw = self.client("apigatewayv2")
        self._lambda = self.client("lambda")
        self._changes = changes
        self._lock = threading.Lock()
        self._seen = -1
        self._apis: dict[str, Api] = {}
        self._functions: dict[str, Function | None] = {}
        self._mappings: frozenset[SqsMapping] | None = None

    def client(
        self, service: str, read_timeout: float = 60.0, max_pool_connections: int = 10
    ) -> Any:
        """A boto3 client of the emulator (one attempt per call: the emulator is local), with
        connections for up to `max_pool_connections` calls at once (botocore's default: 10)."""
        config = Config(
            retries={"max_attempts": 1},
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
        )
        return self._session.client(service, endpoint_url=self._endpoint_url, config=config)

    # Reads are cheap dictionary lookups until the emulator's configuration changes.
    def apis(self) -> dict[str, Api]:
        self._refresh()
        return self._apis

    def function(self, name: str) -> Function | None:
        self._refresh()
        if name not in self._functions:
            self._functions[name] = self._load_function(name)
        return self._functions[name]

    def function_versions(self) -> dict[str, tuple[str, str]]:
        """Every function's (LastModified, CodeSha256), from one listing: what tells a new or
        changed function from one already seen, without reading each one."""
        versions = {}
        for page in self._lambda.get_paginator("list_functions").paginate():
            for config in page.get("Functions", []):
                versions[config["FunctionName"]] = (
                    config.get("LastModified", ""),
                    config.get("CodeSha256", ""),
                )
        return versions

    @property
    def changes_seen(self) -> int:
        """The emulator's configuration change count (moves on every Lambda or API Gateway
        change)."""
        return self._changes.value

    def sqs_mappings(self, default_concurrency: int) -> frozenset[SqsMapping]:
        """The enabled event source mappings from SQS queues (ScalingConfig's maximum
        concurrency, else `default_concurrency`)."""
        self._refresh()
        if self._mappings is None:
            self._mappings = self._load_mappings(default_concurrency)
        return self._mappings

    def _refresh(self) -> None:
        current = self._changes.value
        if current == self._seen:
            return
        with self._lock:
            if current == self._seen:
                return
            self._apis = self._load_apis()
            self._functions = {}
            self._mappings = None
            self._seen = current

    def _load_apis(self) -> dict[str, Api]:
        apis = {}
        for item in self._apigw.get_apis().get("Items", []):
            api_id = item["ApiId"]
            integrations = {
                i["IntegrationId"]: Integration(
                    i["IntegrationId"],
                    i.get("IntegrationType", ""),
                    i.get("IntegrationUri", ""),
                    i.get("PayloadFormatVersion", "2.0"),
                    int(i.get("TimeoutInMillis", 30000)),
                )
                for i in self._apigw.get_integrations(ApiId=api_id).get("Items", [])
            }
            routes = []
            for route in self._apigw.get_routes(ApiId=api_id).get("Items", []):
                target = route.get("Target", "")
                integration = integrations.get(target.removeprefix("integrations/"))
                routes.append(
                    Route(route["RouteKey"], route.get("AuthorizationType", "NONE"), integration)
                )
            stages = {}
            for stage in self._apigw.get_stages(ApiId=api_id).get("Items", []):
                defaults = stage.get("DefaultRouteSettings", {})
                access = stage.get("AccessLogSettings") or {}
                per_route = {
                    key: (value.get("ThrottlingRateLimit"), value.get("ThrottlingBurstLimit"))
                    for key, value in (stage.get("RouteSettings") or {}).items()
                }
                stages[stage["StageName"]] = Stage(
                    stage["StageName"],
                    defaults.get("ThrottlingRateLimit"),
                    defaults.get("ThrottlingBurstLimit"),
                    per_route,
                    dict(stage.get("StageVariables") or {}),
                    access.get("DestinationArn") or None,
                    access.get("Format") or None,
                )
            apis[api_id] = Api(api_id, item.get("Name", ""), routes, stages)
        return apis

    def _load_mappings(self, default_concurrency: int) -> frozenset[SqsMapping]:
        mappings, marker = set(), None
        while True:
            page = self._lambda.list_event_source_mappings(**({"Marker": marker} if marker else {}))
            for item in page.get("EventSourceMappings", []):
                enabled = item.get("State", "Enabled") in ("Enabled", "Creating", "Updating")
                if enabled and ":sqs:" in item.get("EventSourceArn", ""):
                    mappings.add(SqsMapping.from_api(item, default_concurrency))
            marker = page.get("NextMarker")
            if not marker:
                return frozenset(mappings)

    def _load_function(self, name: str) -> Function | None:
        try:
            config = self._lambda.get_function_configuration(FunctionName=name)
        except ClientError:
            return None
        layers = []
        for layer in config.get("Layers", []):
            layer_name, number = Layer(layer["Arn"], "").name_and_version
            version = self._lambda.get_layer_version(LayerName=layer_name, VersionNumber=number)
            layers.append(Layer(layer["Arn"], version["Content"]["CodeSha256"]))
        try:
            policy = json.loads(self._lambda.get_policy(FunctionName=name)["Policy"])
            statements = tuple(policy.get("Statement", []))
        except ClientError:
            statements = ()
        try:
            reserved = self._lambda.get_function_concurrency(FunctionName=name).get(
                "ReservedConcurrentExecutions"
            )
        except ClientError:
            reserved = None
        return Function(
            name=config["FunctionName"],
            arn=config["FunctionArn"],
            handler=config["Handler"],
            runtime=config.get("Runtime") or "",  # a zip function always has one
            timeout=int(config.get("Timeout", 3)),
            memory=int(config.get("MemorySize", 128)),
            environment=dict((config.get("Environment") or {}).get("Variables", {})),
            code_sha256=config["CodeSha256"],
            layers=tuple(layers),
            reserved_concurrency=reserved,
            permissions=statements,
        )
