"""`invoke preflight`: read the account before anything is created, and say what would fail.

Read-only, a few seconds: one line per check (✓ / ⚠ / ✗) with the numbers it saw, and for
every ⚠ and ✗ the exact fix (a command, a stage-file line, a quota code). `invoke deploy` and
`invoke plan` run it before Terraform creates or changes anything, and stop on any ✗. The same
code reads AWS and the local emulator (which answers these questions: local_stage/emulator/
account.py); only the endpoint differs, through the stage's target.

A read the deployer may not make (AccessDenied) is a ⚠ that names the permission, never a
crash; the other checks still run.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from deploy.account import AccountError, Caller, require_stage_account
from deploy.bedrock_models import (
    ModelInfo,
    ModelNotOffered,
    active_choices,
    lifecycle_verdict,
    resolve,
)
from deploy.capacity import (
    LAMBDA_CONCURRENCY_QUOTA_CODE,
    Reservations,
    concurrency_verdict,
    quota_verdict,
    token_demand,
)
from deploy.errors import DeployError
from deploy.stages import Stage

OK, WARN, FAIL = "ok", "warn", "fail"
MARKS = {OK: "✓", WARN: "⚠", FAIL: "✗"}
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
}
ENABLED_RECORD = "model-enabled.json"  # in the stage's working directory: `invoke model.enable`


class PreflightFailed(DeployError):
    """A check failed: the report above says which and how to fix it."""


@dataclass(frozen=True)
class Check:
    name: str
    level: str
    summary: str
    fix: str = ""

    def render(self) -> str:
        line = f"{MARKS[self.level]} {self.name}: {self.summary}"
        return f"{line}\n    fix: {self.fix}" if self.fix else line


@dataclass
class Report:
    stage: str
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [check for check in self.checks if check.level == FAIL]

    def render(self) -> str:
        lines = [f"preflight for stage {self.stage}:"]
        lines += [check.render() for check in self.checks]
        worst = "fails" if self.failed else "passes"
        warnings = sum(check.level == WARN for check in self.checks)
        lines.append(
            f"preflight {worst}: {len(self.failed)} failed, {warnings} to look at, "
            f"{len(self.checks)} checks"
        )
        return "\n".join(lines)


@dataclass
class Preflight:
    """The checks of one stage. `client(service)` reads the account (the target's clients);
    `workdir` is the stage's Terraform directory (its backend, model.enable's record)."""

    stage: Stage
    client: Callable[[str], Any]
    workdir: Path
    backend_config: Path | None = None
    terraform_version: tuple[int, int, int] | None = None
    backend_needs: tuple[tuple[int, int, int], str] | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    _model: ModelInfo | None = field(default=None, init=False)
    _availability: dict[str, Any] | None = field(default=None, init=False)

    def run(self) -> Report:
        report = Report(self.stage.name)
        for name, action, check in (
            ("account", "sts:GetCallerIdentity", self._account),
            ("model", "bedrock:GetFoundationModel", self._model_offered),
            ("model access", "bedrock:GetFoundationModelAvailability", self._access),
            ("first invocation", "bedrock:GetFoundationModelAvailability", self._first_call),
            ("Lambda concurrency", "lambda:GetAccountSettings", self._concurrency),
            ("Bedrock quotas", "servicequotas:ListServiceQuotas", self._quotas),
            ("state backend", "s3:GetBucketVersioning", self._backend),
        ):
            report.checks.append(_guarded(name, action, check))
        return report

    # -- the checks ----------------------------------------------------------------------------
    def _account(self) -> Check:
        identity = self.client("sts").get_caller_identity()
        caller = Caller(str(identity["Account"]), str(identity["Arn"]))
        try:
            require_stage_account(self.stage, caller)
        except AccountError as exc:
            return Check("account", FAIL, f"credentials for {caller.account}", str(exc))
        return Check("account", OK, f"{caller.account} as {caller.arn}")

    def _model_offered(self) -> Check:
        model_id = str(self.stage.variables["model_id"])
        bedrock = self.client("bedrock")
        try:
            self._model = resolve(bedrock, model_id)
        except ModelNotOffered as exc:
            return Check(
                "model",
                FAIL,
                f"{model_id} is not offered in {self.stage.region} ({exc})",
                self._choose_another(bedrock),
            )
        model = self._model
        verdict = lifecycle_verdict(model, self.now)
        how = f" through the inference profile {model_id}" if model.through_profile else ""
        summary = f"{model.display_name} ({model.model_id}){how}: {verdict.text}"
        if verdict.level == OK:
            return Check("model", OK, summary)
        return Check("model", verdict.level, summary, self._choose_another(bedrock))

    def _choose_another(self, bedrock: Any) -> str:
        return (
            f'set "model_id" in {self.stage.var_file} to an ACTIVE model of '
            f"{self.stage.region} (an inference profile id where it has one): "
            f"{active_choices(bedrock)}; list them with `invoke models --stage {self.stage.name}`"
        )

    def _availability_of(self) -> dict[str, Any] | None:
        if self._model is None:
            return None
        if self._availability is None:
            self._availability = self.client("bedrock").get_foundation_model_availability(
                modelId=self._model.model_id
            )
        return self._availability

    def _access(self) -> Check:
        found = self._availability_of()
        if found is None:
            return Check("model access", WARN, "not checked: the model is not offered")
        model_id = self._model.model_id if self._model else ""
        problems, fixes = [], []
        agreement = found.get("agreementAvailability", {}).get("status", "NOT_AVAILABLE")
        if agreement == "PENDING":
            problems.append("agreement PENDING")
            fixes.append("wait a few minutes for the model's agreement, then run preflight again")
        elif agreement != "AVAILABLE":
            problems.append(f"agreement {agreement}")
            fixes.append(
                f"accept the model's offer: `aws bedrock list-foundation-model-agreement-offers "
                f"--model-id {model_id}`, then `aws bedrock create-foundation-model-agreement "
                f"--model-id {model_id} --offer-token <offerToken>`"
            )
        if found.get("authorizationStatus") != "AUTHORIZED":
            problems.append(f"authorization {found.get('authorizationStatus')}")
            fixes.append(
                "submit the provider's one-time use-case form (Anthropic's models ask for "
                "it): `aws bedrock put-use-case-for-model-access --form-data fileb://form.json`"
                " (or the Bedrock console's model catalogue), and check that no SCP or "
                "permission boundary denies bedrock:InvokeModel"
            )
        if found.get("regionAvailability") != "AVAILABLE":
            problems.append(f"Region {found.get('regionAvailability')}")
            fixes.append(
                f"{self.stage.region} does not offer it to this account: choose another "
                "Region (aws_region) or model (model_id)"
            )
        if not problems:
            return Check("model access", OK, "agreement AVAILABLE, AUTHORIZED, Region AVAILABLE")
        return Check("model access", FAIL, ", ".join(problems), "; ".join(fixes))

    def _first_call(self) -> Check:
        found = self._availability_of()
        if found is None:
            return Check("first invocation", WARN, "not checked: the model is not offered")
        record = self._enabled_record()
        enabled = (
            f"`invoke model.enable` called it on {record['at']} as {record['caller']}"
            if record
            else ""
        )
        fix = (
            f"run `invoke model.enable --stage {self.stage.name}` with credentials that hold "
            "aws-marketplace:Subscribe, Unsubscribe and ViewSubscriptions in an account with "
            "a payment method: its one call (one output token) starts the Marketplace "
            "subscription under you, not under the functions' roles, which may not subscribe"
        )
        if found.get("entitlementAvailability") == "AVAILABLE":
            return Check(
                "first invocation",
                OK,
                f"done: the account is entitled to the model{f' ({enabled})' if enabled else ''}",
            )
        if record:
            return Check(
                "first invocation",
                WARN,
                f"{enabled}, but the entitlement is still NOT_AVAILABLE (Bedrock can take "
                "about 2 minutes after a subscription)",
                f"wait, then run preflight again; if it stays so, {fix}",
            )
        return Check("first invocation", FAIL, "needed: the account is not entitled yet", fix)

    def _enabled_record(self) -> dict[str, Any] | None:
        try:
            record = json.loads((self.workdir / ENABLED_RECORD).read_text())
        except (OSError, ValueError):
            return None
        if self._model is None or record.get("model") != self._model.model_id:
            return None
        return record

    def _concurrency(self) -> Check:
        lam = self.client("lambda")
        limits = lam.get_account_settings()["AccountLimit"]
        limit = int(limits["ConcurrentExecutions"])
        unreserved = int(limits["UnreservedConcurrentExecutions"])
        reservations = Reservations.of_stage(self.stage.variables)
        verdict = concurrency_verdict(
            limit, unreserved, reservations.total, self._own_reservations(lam)
        )
        summary = verdict.arithmetic(reservations)
        if verdict.fits:
            return Check("Lambda concurrency", OK, summary)
        return Check(
            "Lambda concurrency",
            FAIL,
            summary,
            f"ask for a limit of {verdict.desired_limit}: `aws service-quotas "
            f"request-service-quota-increase --service-code lambda --quota-code "
            f"{LAMBDA_CONCURRENCY_QUOTA_CODE} --desired-value {verdict.desired_limit} "
            f"--region {self.stage.region}`; or, knowingly (no cost ceiling), set "
            f'"reserved_concurrency": -1 and "jobs_api_reserved_concurrency": -1 in '
            f"{self.stage.var_file} (the worker always reserves job_max_concurrency, "
            f"{reservations.worker})",
        )

    def _own_reservations(self, lam: Any) -> int:
        """What the stage's functions reserve already (a redeploy gives it back first)."""
        variables = self.stage.variables  # with terraform/defaults.tfvars.json's project
        name = f"{variables['project']}-{variables.get('stage', self.stage.name)}"
        total = 0
        for function in (name, f"{name}-jobs", f"{name}-worker"):
            try:
                answer = lam.get_function_concurrency(FunctionName=function)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    continue
                raise
            total += int(answer.get("ReservedConcurrentExecutions") or 0)
        return total

    def _quotas(self) -> Check:
        if self._model is None:
            return Check("Bedrock quotas", WARN, "not checked: the model is not offered")
        model = self._model
        quotas = _bedrock_quotas(self.client("service-quotas"))
        kind = "Cross-region" if model.through_profile else "On-demand"
        per_minute = _quota_for(quotas, f"{kind} model inference tokens per minute", model)
        per_day = _quota_for(quotas, "tokens per day", model)
        demand = token_demand(self.stage.variables, model.provider)
        request = (
            "`aws service-quotas request-service-quota-increase --service-code bedrock "
            f"--quota-code {{code}} --desired-value {{value}} --region {self.stage.region}`"
        )
        minute_value = per_minute["Value"] if per_minute else None
        verdict = quota_verdict(minute_value, demand)
        day = f"; {per_day['Value']:,.0f} tokens/day ({per_day['QuotaCode']})" if per_day else ""
        if verdict == "missing":
            return Check(
                "Bedrock quotas",
                WARN,
                f"no '{kind} model inference tokens per minute for {model.display_name}' in "
                "Service Quotas",
                f"look it up: `aws service-quotas list-service-quotas --service-code bedrock "
                f"--region {self.stage.region}`",
            )
        assert per_minute is not None
        code = per_minute["QuotaCode"]
        seen = f"{minute_value:,.0f} tokens/minute ({code}){day}"
        if verdict == "zero" or (per_day is not None and per_day["Value"] <= 0):
            zero_code = code if verdict == "zero" else per_day["QuotaCode"]  # type: ignore[index]
            return Check(
                "Bedrock quotas",
                FAIL,
                f"{seen}: a quota of 0 refuses every call",
                request.format(code=zero_code, value=demand.per_minute)
                + " (where AWS says it is not adjustable, use another Region)",
            )
        if verdict == "short":
            return Check(
                "Bedrock quotas",
                WARN,
                f"{seen}, under what the stage can ask for: {demand.spelled()}",
                request.format(code=code, value=demand.per_minute)
                + "; or lower the stage's concurrency (reserved_concurrency, job_max_concurrency)",
            )
        return Check("Bedrock quotas", OK, f"{seen}; the stage asks for at most {demand.spelled()}")

    def _backend(self) -> Check:
        version = ".".join(map(str, self.terraform_version)) if self.terraform_version else "?"
        needs = f" ({self.backend_needs[1]}: needs 1.10+)" if self.backend_needs else ""
        if self.backend_config is None:
            where = "local state in " + str(self.workdir / "terraform.tfstate")
            level = WARN if not self.stage.emulated else OK
            fix = (
                ""
                if level == OK
                else f"keep it in S3: terraform/stages/{self.stage.name}.backend.json"
                " (copy dev.backend.json.example)"
            )
            return Check("state backend", level, f"{where}; Terraform {version}", fix)
        settings = _backend_settings(self.backend_config)
        bucket, region = settings.get("bucket", ""), settings.get("region", self.stage.region)
        s3 = self.client("s3")
        try:
            location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in {"NoSuchBucket", "404"}:
                return Check(
                    "state backend",
                    FAIL,
                    f"the state bucket {bucket} does not exist",
                    f"create it (versioned) in {region}: `aws s3api create-bucket --bucket "
                    f"{bucket} --region {region}` and `aws s3api put-bucket-versioning "
                    f"--bucket {bucket} --versioning-configuration Status=Enabled`",
                )
            raise
        actual = location or "us-east-1"
        versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        summary = f"s3://{bucket} in {actual}, versioning {versioning or 'off'}; "
        summary += f"Terraform {version}{needs}"
        if actual != region:
            return Check(
                "state backend",
                FAIL,
                summary,
                f'the bucket is in {actual}, not {region}: set "region": "{actual}" in '
                f"terraform/stages/{self.stage.name}.backend.json",
            )
        if versioning != "Enabled":
            return Check(
                "state backend",
                WARN,
                summary,
                f"`aws s3api put-bucket-versioning --bucket {bucket} "
                "--versioning-configuration Status=Enabled` (a bad apply can then be undone)",
            )
        return Check("state backend", OK, summary)


def _guarded(name: str, action: str, check: Callable[[], Check]) -> Check:
    """A check's verdict; a refused read is a ⚠ naming the permission it needs."""
    try:
        return check()
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _DENIED or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
            operation = exc.operation_name
            service = action.split(":", 1)[0]
            return Check(
                name,
                WARN,
                f"could not check: {operation} was refused ({code})",
                f"needs `{service}:{operation}` for the credentials that run preflight",
            )
        return Check(name, WARN, f"could not check: {exc}")
    except (BotoCoreError, OSError) as exc:
        return Check(name, WARN, f"could not check: {exc}")
    except Exception as exc:  # an endpoint that answers nothing we know: still no crash
        return Check(name, WARN, f"could not check: {type(exc).__name__}: {exc}")


def _bedrock_quotas(quotas: Any) -> list[dict[str, Any]]:
    pages = quotas.get_paginator("list_service_quotas").paginate(ServiceCode="bedrock")
    return [quota for page in pages for quota in page.get("Quotas", [])]


def _quota_for(quotas: list[dict[str, Any]], kind: str, model: ModelInfo) -> dict[str, Any] | None:
    """The quota named `<kind> for <provider> <model>` (Service Quotas' own naming, e.g.
    "Cross-region model inference tokens per minute for Anthropic Claude Haiku 5.5"); a name
    with a suffix after the model's (" V1", a context length) only when no exact one exists."""
    wanted = model.display_name.lower()
    exact, suffixed = [], []
    for quota in quotas:
        name = str(quota.get("QuotaName", ""))
        if kind.lower() not in name.lower() or " for " not in name:
            continue
        target = name.rsplit(" for ", 1)[1].strip().lower()
        if target == wanted:
            exact.append(quota)
        elif target.startswith(wanted + " "):
            suffixed.append(quota)
    chosen = exact or sorted(suffixed, key=lambda q: len(q["QuotaName"]))
    return chosen[0] if chosen else None


def _backend_settings(config: Path) -> dict[str, str]:
    """The `key = "value"` lines deploy/workdir.py wrote from the stage's backend file."""
    settings = {}
    for line in config.read_text().splitlines():
        key, _, value = line.partition(" = ")
        try:
            settings[key.strip()] = json.loads(value)
        except ValueError:
            continue
    return settings


def enabled_record(caller_arn: str, model_id: str, cost_usd: float, now: datetime) -> dict:
    """What `invoke model.enable` leaves in the stage's directory for preflight to read."""
    return {
        "model": model_id,
        "caller": caller_arn,
        "at": f"{now:%Y-%m-%d %H:%M} UTC",
        "cost": cost_usd,
    }
