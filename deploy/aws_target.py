"""A real AWS account: the caller's own credentials, the stage's pinned account, AWS's own
endpoints, a protected stage's shared state, and a question before anything is destroyed."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import Credentials

from deploy.account import AccountError, caller_identity, require_stage_account
from deploy.call import Endpoint
from deploy.environment import (
    IGNORE_ENDPOINTS_VARIABLE,
    configured_endpoints,
    endpoint_overrides,
    terraform_environment,
)
from deploy.errors import DeployError, EndpointError
from deploy.stages import Stage
from deploy.terraform import TerraformRunner
from deploy.workdir import Workdir
from layer_builder.progress import Reporter


class AwsTarget:
    asks_before_destroy = True
    evaluates_alarms = True

    def __init__(self, stage: Stage, report: Reporter) -> None:
        self.stage = stage
        self.report = report

    def environment(self, base: Mapping[str, str], work_root: Path) -> dict[str, str]:
        ignored = endpoint_overrides(base)
        if ignored:
            self.report(
                f"stage {self.stage.name} is a real AWS stage: ignoring {', '.join(ignored)} "
                "from your environment"
            )
        configured = configured_endpoints(base)
        if configured:
            self.report(
                f"stage {self.stage.name} is a real AWS stage: ignoring {configured} from "
                "your AWS config file"
            )
        env = terraform_environment(base, work_root)
        env.setdefault("AWS_REGION", self.stage.region)
        # The SDKs' switch (Terraform's provider and boto3 alike): no endpoint from the shared
        # config file's profile (`endpoint_url`, a `services` section) either.
        env[IGNORE_ENDPOINTS_VARIABLE] = "true"
        return env

    def before_changes(
        self, workdir: Workdir, env: Mapping[str, str], allow_local_state: bool
    ) -> None:
        """Credentials for the stage's own account; shared state for a protected stage."""
        try:
            require_stage_account(self.stage, caller_identity(self.stage.region, env))
        except AccountError as exc:
            raise DeployError(str(exc)) from exc
        if workdir.backend_config is not None:
            return
        if not self.stage.protected:
            self.report(
                f"warning: stage {self.stage.name} is a real stage whose Terraform state lives "
                f"only in {workdir.state_file} (git-ignored: `git clean -fdx` or a lost laptop "
                "orphans everything it deployed). Move it to S3: copy "
                f"terraform/stages/dev.backend.json.example to terraform/stages/"
                f"{self.stage.name}.backend.json, fill it in, and copy the state there once with "
                f"`terraform -chdir=.stages/{self.stage.name} init -migrate-state "
                "-backend-config=backend.s3.tfbackend`"
            )
            return
        if not allow_local_state:
            raise DeployError(
                f"stage {self.stage.name} is protected and has no remote state backend: its "
                f"state would live only on this machine. Copy "
                f"terraform/stages/dev.backend.json.example to "
                f"terraform/stages/{self.stage.name}.backend.json and fill it in, or pass "
                f"--allow-local-state if that is really what you want"
            )
        self.report(
            f"warning: stage {self.stage.name} keeps its Terraform state in "
            f"{workdir.state_file} (--allow-local-state)"
        )

    def before_reading(self, workdir: Workdir) -> None:
        """Reading outputs changes nothing: no check needed."""

    def adjust_plan(self, runner: TerraformRunner, workdir: Workdir) -> None:
        """AWS carries out every plan as it stands."""

    def endpoint(self, outputs: Mapping[str, Any]) -> Endpoint:
        return Endpoint(
            str(outputs["invoke_url"]),
            str(outputs["jobs_url"]),
            self.stage.region,
            self._signing_credentials(outputs),
        )

    def _signing_credentials(self, outputs: Mapping[str, Any]) -> Credentials | None:
        if outputs.get("route_authorization") != "AWS_IAM":
            return None
        credentials = boto3.Session(region_name=self.stage.region).get_credentials()
        if credentials is None:
            raise EndpointError(
                "the route requires SigV4 (AWS_IAM) but no AWS credentials were found: run "
                "`aws configure` or set AWS_PROFILE"
            )
        return credentials.get_frozen_credentials()  # type: ignore[return-value]

    def answered_by(self) -> str | None:
        return None

    def client(self, service: str) -> Any:
        """The caller's own credentials, on AWS's own endpoints (never a configured one)."""
        config = Config(ignore_configured_endpoint_urls=True, retries={"mode": "standard"})
        return boto3.Session(region_name=self.stage.region).client(service, config=config)
