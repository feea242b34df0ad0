"""The local emulator: test credentials, every AWS endpoint pointed at it, its URLs from the
running stack's state file, and a Terraform state that belongs to one emulator instance.

The emulator keeps its resources in memory. When it restarts, the state Terraform kept for
the previous instance describes nothing: it is dropped before the next plan (the emulator's
health answer names its instance), so a deploy after `local.up` always starts clean.
"""

import json
import os
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.credentials import Credentials

from deploy.call import Endpoint
from deploy.environment import terraform_environment
from deploy.errors import DeployError, EndpointError
from deploy.stages import Stage
from deploy.terraform import TerraformRunner
from deploy.workdir import Workdir, reset_state
from layer_builder.progress import Reporter
from local_stage import contract

EMULATOR_URL_VARIABLE = "CODEGEN_EMULATOR_URL"
# Variables that would sign the emulator's requests with someone's real credentials.
_CLEARED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_DEFAULT_PROFILE")
_INSTANCE_MARKER = ".emulator-instance"
_API_STAGE = "aws_apigatewayv2_stage"  # what the emulator cannot update in place
_NOT_RUNNING = "the local stack is not running: start it with `invoke local.up`"


def emulator_environment(
    url: str, region: str, credentials: tuple[str, str] = contract.DEFAULT_CREDENTIALS
) -> dict[str, str]:
    """Variables that send boto3, the AWS CLI and the AWS provider to the emulator at `url`,
    signing with `credentials` (the stack's own pair)."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": credentials[0],
        "AWS_SECRET_ACCESS_KEY": credentials[1],
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class EmulatorTarget:
    asks_before_destroy = False
    evaluates_alarms = False

    def __init__(
        self,
        stage: Stage,
        url: str | None,
        report: Reporter,
        state_dir: Path = contract.STATE_DIR,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.stage = stage
        self.report = report
        self.state_dir = state_dir
        self._url = url
        self._credentials = credentials  # the emulator's pair, when the caller knows it

    @property
    def url(self) -> str:
        """The emulator's URL: the one given, $CODEGEN_EMULATOR_URL, or the running stack's."""
        url = self._url or os.environ.get(EMULATOR_URL_VARIABLE)
        if not url:
            stack = contract.running_stack(self.state_dir)
            if stack is None:
                raise DeployError(
                    f"{_NOT_RUNNING} (or set {EMULATOR_URL_VARIABLE} to an AWS emulator's URL)"
                )
            url = stack.emulator_url
        return url.rstrip("/")

    @property
    def credentials(self) -> tuple[str, str]:
        """The pair this target was given; else the running stack's own pair when its
        emulator is this one (`local.up`
        makes a random one per stack); for an emulator named by $CODEGEN_EMULATOR_URL, the
        keys in $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY when set (as `invoke local.env`
        exports them); else the default pair of an emulator started on its own (a test's)."""
        if self._credentials is not None:
            return self._credentials
        stack = contract.running_stack(self.state_dir)
        if stack is not None and stack.emulator_url.rstrip("/") == self.url:
            return stack.credentials
        key_id, secret = (
            os.environ.get("AWS_ACCESS_KEY_ID"),
            os.environ.get("AWS_SECRET_ACCESS_KEY"),
        )
        if self._url is None and os.environ.get(EMULATOR_URL_VARIABLE) and key_id and secret:
            return key_id, secret
        return contract.DEFAULT_CREDENTIALS

    def environment(self, base: Mapping[str, str], work_root: Path) -> dict[str, str]:
        env = terraform_environment(base, work_root)
        for name in _CLEARED:
            env.pop(name, None)
        env.update(emulator_environment(self.url, self.stage.region, self.credentials))
        return env

    def before_changes(
        self, workdir: Workdir, env: Mapping[str, str], allow_local_state: bool
    ) -> None:
        """Forget the state of an emulator instance that is gone."""
        instance = self._instance()
        marker = workdir.path / _INSTANCE_MARKER
        if instance is None or (marker.is_file() and marker.read_text() == instance):
            return
        if workdir.state_file.is_file():
            self.report("the local emulator was restarted: its resources start empty")
        reset_state(workdir)
        marker.write_text(instance)

    def before_reading(self, workdir: Workdir) -> None:
        self.before_changes(workdir, {}, allow_local_state=True)

    def adjust_plan(self, runner: TerraformRunner, workdir: Workdir) -> None:
        """The emulator cannot update an API stage in place (the provider would retry for ten
        minutes): replace such a stage instead. With no API stage in the state (a deploy from
        empty) there is none to update, and the plan is not read (`terraform show` costs about
        4 CPU-seconds)."""
        held = workdir.local_resource_types()
        if held is not None and _API_STAGE not in held:
            return
        plan = runner.show_plan(workdir.plan_file)
        stages = [
            change["address"]
            for change in plan.get("resource_changes", [])
            if change.get("type") == _API_STAGE and change["change"]["actions"] == ["update"]
        ]
        if stages:
            self.report(f"replacing {', '.join(stages)} (the emulator cannot update it)")
            runner.plan(workdir.var_files(), workdir.plan_file, replace=stages)

    def endpoint(self, outputs: Mapping[str, Any]) -> Endpoint:
        """The AWS-shaped URLs from Terraform do not resolve: the local gateway serves the
        same API at its own address, under the same paths."""
        stack = contract.running_stack(self.state_dir)
        if stack is None:
            raise EndpointError(_NOT_RUNNING)

        def local(url: Any) -> str:
            return f"{stack.gateway_url.rstrip('/')}{urllib.parse.urlsplit(str(url)).path}"

        signed = outputs.get("route_authorization") == "AWS_IAM"
        return Endpoint(
            local(outputs["invoke_url"]),
            local(outputs["jobs_url"]),
            self.stage.region,
            Credentials(*self.credentials) if signed else None,
        )

    def answered_by(self) -> str | None:
        model = contract.running_model(self.state_dir)
        return model.model if model is not None else None

    def client(self, service: str) -> Any:
        """The emulator's client; bedrock-runtime's is the stack's model server's."""
        url = self.url
        if service == "bedrock-runtime":
            stack = contract.running_stack(self.state_dir)
            if stack is None or not stack.model_url:
                raise EndpointError(f"{_NOT_RUNNING} (with a model server)")
            url = stack.model_url
        key_id, secret = self.credentials
        return boto3.Session(
            aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=self.stage.region
        ).client(service, endpoint_url=url)

    def _instance(self) -> str | None:
        """The running emulator's instance id (None: an emulator that does not say, or not
        to us: another stack's, whose token we do not hold)."""
        stack = contract.running_stack(self.state_dir)
        token = stack.token if stack and stack.emulator_url.rstrip("/") == self.url else ""
        try:
            with urllib.request.urlopen(
                contract.health_request(self.url, token), timeout=5
            ) as answer:
                return str(json.loads(answer.read())["instance"])
        except OSError as exc:
            if getattr(exc, "code", None) is not None:  # it answered, without an instance id
                return None
            raise DeployError(f"{_NOT_RUNNING} (no answer from {self.url}: {exc})") from exc
        except (ValueError, KeyError, TypeError):
            return None
