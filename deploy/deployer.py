"""plan / deploy / destroy / outputs for a stage: artifacts, working directory, Terraform.

What differs between a real AWS account and the local emulator is asked of the stage's
target (deploy/target.py); this module does the same steps for both.
"""

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.artifacts import build_stage_layer, keep_services_for, package_stage_function
from deploy.environment import MIRROR_VARIABLE
from deploy.errors import DeployError
from deploy.paths import BUILD_DIR, FUNCTION_SOURCE_DIR
from deploy.preflight import Preflight, PreflightFailed, Report
from deploy.stages import Stage
from deploy.target import StageTarget, target_for
from deploy.terraform import Sink, TerraformError, TerraformRunner, check_version, stderr_sink
from deploy.workdir import WORK_ROOT, Workdir, prepare_workdir, write_artifact_vars
from layer_builder.progress import Reporter, stderr_reporter


def require_destroyable(stage: Stage) -> None:
    """Refuse to destroy a protected stage, whatever the flags, as deletion protection works:
    turn it off first. Reads only the stage's file: nothing else is touched before it."""
    if stage.protected:
        raise DeployError(
            f"stage {stage.name} is protected (protected_stage: true in {stage.var_file}): "
            "it is never destroyed, --yes or not. To destroy it, set protected_stage to false "
            f"there, run `invoke deploy --stage {stage.name}` (which lifts the table's and the "
            f"bucket's deletion protection), then `invoke destroy --stage {stage.name}`"
        )


@dataclass
class DeployReport:
    changed: bool
    outputs: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class StageDeployer:
    stage: Stage
    work_root: Path = WORK_ROOT
    base_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    emulator_url: str | None = None  # the emulated stage's emulator, if not the running one
    emulator_credentials: tuple[str, str] | None = None  # its signing pair, if known
    sink: Sink | None = stderr_sink
    report: Reporter = stderr_reporter
    keep_services: str | None = None  # None: lambda/services.txt
    build_dir: Path = BUILD_DIR
    function_source: Path = FUNCTION_SOURCE_DIR
    # Asked (with a question) before a protected stage is changed or any real stage is
    # destroyed; None answers no, so only a caller that can ask (or says --yes) goes on.
    confirm: Callable[[str], bool] | None = None
    # A protected stage refuses local Terraform state unless this is set.
    allow_local_state: bool = False
    # Read the account (deploy/preflight.py) before Terraform changes anything; off only when
    # asked (--skip-preflight), and then said.
    preflight: bool = True

    def __post_init__(self) -> None:
        self.target: StageTarget = target_for(
            self.stage,
            emulator_url=self.emulator_url,
            emulator_credentials=self.emulator_credentials,
            report=self.report,
        )
        self.env = self.target.environment(self.base_env, self.work_root)
        self.workdir: Workdir = prepare_workdir(self.stage, self.work_root)
        self.runner = TerraformRunner(self.workdir.path, self.env, sink=self.sink)
        self.terraform_version = check_version(self.runner, self.workdir.backend_needs)

    # -- tasks ---------------------------------------------------------------------------
    def plan(self) -> bool:
        """Build what changed and show Terraform's plan; True when it would change things."""
        with self.workdir.exclusive():
            self._before_changes()
            self._check_account()
            self._prepare()
            return self._plan()

    def deploy(self) -> DeployReport:
        with self.workdir.exclusive():
            return self._deploy()

    def destroy(self) -> bool:
        """Plan the destruction, show it, ask (real stages), then carry out that very plan;
        False when there was nothing to destroy. Never for a protected stage."""
        require_destroyable(self.stage)
        with self.workdir.exclusive():
            return self._destroy()

    def _deploy(self) -> DeployReport:
        timings: dict[str, float] = {}
        self._before_changes()
        self._timed(timings, "preflight", self._check_account)
        self._timed(timings, "build", self._build)
        self._timed(timings, "init", self._init)
        changed = self._timed(timings, "plan", self._plan)
        if changed and self.stage.protected:
            self._confirm(f"Apply the plan above to the protected stage {self.stage.name}?")
        if changed:
            self._timed(timings, "apply", lambda: self.runner.apply(self.workdir.plan_file))
        else:
            self.report(f"stage {self.stage.name}: no changes, nothing applied")
        self.workdir.plan_file.unlink(missing_ok=True)
        outputs = self._timed(timings, "outputs", self._outputs)
        return DeployReport(changed, outputs, timings)

    def _destroy(self) -> bool:
        self._before_changes()
        self._prepare()
        plan_file = self.workdir.plan_file
        try:
            if not self.runner.plan(self.workdir.var_files(), plan_file, destroy=True):
                return False
            if self.target.asks_before_destroy:
                self._confirm(f"Destroy everything above in stage {self.stage.name}?")
            self.runner.apply(plan_file)
            return True
        finally:
            plan_file.unlink(missing_ok=True)

    def outputs(self) -> dict[str, Any]:
        self.target.before_reading(self.workdir)
        if self.workdir.needs_init():
            self._init()
        outputs = self._outputs()
        if not outputs:
            raise DeployError(
                f"stage {self.stage.name} has no outputs: deploy it first "
                f"(invoke deploy --stage {self.stage.name})"
            )
        return outputs

    def preflight_report(self) -> Report:
        """What the account says of this stage, read only (`invoke preflight`)."""
        return Preflight(
            self.stage,
            self.target.client,
            self.workdir.path,
            self.workdir.backend_config,
            self.terraform_version,
            self.workdir.backend_needs,
        ).run()

    # -- steps ---------------------------------------------------------------------------
    def _check_account(self) -> None:
        """The preflight, before Terraform changes anything; its ✗ stop the deploy."""
        if not self.preflight:
            self.report(
                f"preflight skipped (--skip-preflight): stage {self.stage.name}'s model, "
                "Lambda concurrency and Bedrock quotas were not checked before Terraform"
            )
            return
        report = self.preflight_report()
        self.report(report.render())
        if report.failed:
            names = ", ".join(check.name for check in report.failed)
            raise PreflightFailed(
                f"stage {self.stage.name}: the preflight failed ({names}): nothing was created "
                "or changed. Fix what it says above, or pass --skip-preflight if you know "
                "better"
            )

    def _plan(self) -> bool:
        changed = self.runner.plan(self.workdir.var_files(), self.workdir.plan_file)
        if changed:
            self.target.adjust_plan(self.runner, self.workdir)
        return changed

    def _outputs(self) -> dict[str, Any]:
        """The stage's outputs: straight from a local state file when there is one (what
        `terraform output` would print, without starting Terraform), else from Terraform."""
        local = self.workdir.local_outputs()
        return local if local is not None else self.runner.outputs()

    def _prepare(self) -> None:
        self._build()
        self._init()

    def _build(self) -> None:
        layer = build_stage_layer(
            self.stage.arch,
            self.stage.python_version,
            keep_services=keep_services_for(self.keep_services),
            report=self.report,
            build_dir=self.build_dir,
        )
        function = package_stage_function(
            report=self.report, source_dir=self.function_source, build_dir=self.build_dir
        )
        write_artifact_vars(self.workdir, layer, function)

    def _init(self) -> None:
        if not self.workdir.needs_init():
            return
        self.report(f"terraform init for stage {self.stage.name}")
        try:
            self.runner.init(backend_config=self.workdir.backend_config)
        except TerraformError as exc:
            if MIRROR_VARIABLE in self.base_env:
                raise
            raise TerraformError(
                f"{exc}\nhint: if this machine cannot reach registry.terraform.io, point "
                f"{MIRROR_VARIABLE} at a provider mirror directory"
            ) from None
        self.workdir.mark_initialised()

    def _before_changes(self) -> None:
        self.target.before_changes(self.workdir, self.env, self.allow_local_state)

    def _confirm(self, question: str) -> None:
        if self.confirm is None or not self.confirm(question):
            raise DeployError(
                f"stage {self.stage.name}: not confirmed, nothing changed (answer yes, or "
                f"pass --yes to confirm without asking)"
            )

    @staticmethod
    def _timed(timings: dict[str, float], name: str, action: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            return action()
        finally:
            timings[name] = time.perf_counter() - start


__all__ = ["DeployError", "DeployReport", "StageDeployer", "TerraformError"]
