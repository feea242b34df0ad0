"""Where a stage deploys to, behind one interface: a real AWS account or the local emulator.

Everything that differs between the two lives in a target; the deployer, the tasks and the
`call` client ask it instead of branching on the kind of stage.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from deploy.call import Endpoint
from deploy.stages import Stage
from deploy.terraform import TerraformRunner
from deploy.workdir import Workdir
from layer_builder.progress import Reporter


class StageTarget(Protocol):
    # Destroying asks first (a real account's resources, not an emulator's memory).
    asks_before_destroy: bool
    # Whether the stage's alarms are evaluated where it runs (the local emulator keeps them
    # but never evaluates them).
    evaluates_alarms: bool

    def environment(self, base: Mapping[str, str], work_root: Path) -> dict[str, str]:
        """What Terraform and boto3 run with for this stage."""
        ...

    def before_changes(
        self, workdir: Workdir, env: Mapping[str, str], allow_local_state: bool
    ) -> None:
        """Raise DeployError unless it is safe to plan and apply here."""
        ...

    def before_reading(self, workdir: Workdir) -> None:
        """Called before outputs are read from the stage's state."""
        ...

    def adjust_plan(self, runner: TerraformRunner, workdir: Workdir) -> None:
        """Rewrite a plan with changes where the target cannot carry it out as it stands."""
        ...

    def endpoint(self, outputs: Mapping[str, Any]) -> Endpoint:
        """Where the deployed stage answers (its outputs' URLs, as this target reaches them)
        and the credentials to sign with (None when its routes take unsigned requests)."""
        ...

    def answered_by(self) -> str | None:
        """The model that really answers, when it is not the stage's own Bedrock model."""
        ...

    def client(self, service: str) -> Any:
        """A boto3 client for the stage's account: its resources (logs, metrics, alarms,
        queues), what the preflight reads, and the model (bedrock-runtime)."""
        ...


def target_for(
    stage: Stage,
    *,
    emulator_url: str | None = None,
    emulator_credentials: tuple[str, str] | None = None,
    report: Reporter,
) -> StageTarget:
    """The one place that tells an emulated stage from a real one."""
    if stage.emulated:
        from deploy.emulator_target import EmulatorTarget

        return EmulatorTarget(stage, emulator_url, report, credentials=emulator_credentials)
    from deploy.aws_target import AwsTarget

    return AwsTarget(stage, report)
