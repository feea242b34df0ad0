"""The tasks people type: `invoke --list` shows them. Thin: parse options, call packages, print."""

import json
import sys

from invoke import Collection, Exit, task

from deploy.artifacts import (
    build_stage_layer,
    describe,
    keep_services_for,
    package_stage_function,
)
from deploy.call import build_body, describe_failure
from deploy.call import call as call_endpoint
from deploy.deployer import DeployError, StageDeployer
from deploy.endpoints import EndpointError, invoke_url, signing_credentials
from deploy.stages import DEFAULT_STAGE, LAMBDA_PYTHON, StageError, load_stage
from deploy.terraform import TerraformError
from layer_builder import BuildError
from local_stage import supervisor
from local_stage.interpreter import RuntimeSetupError

_EXPECTED = (
    BuildError,
    StageError,
    DeployError,
    TerraformError,
    EndpointError,
    supervisor.LocalStageError,
    RuntimeSetupError,
)


def _fail(message: str) -> Exit:
    return Exit(f"error: {message}", code=1)


def _deployer(stage: str, yes: bool = False, allow_local_state: bool = False) -> StageDeployer:
    return StageDeployer(
        load_stage(stage), confirm=_asker(yes), allow_local_state=allow_local_state
    )


def _asker(yes: bool):
    """Answers the deployer's questions: yes with --yes, else the person at the terminal; with
    no terminal to ask (CI, a pipe) the answer is no, so nothing irreversible runs unasked."""

    def ask(question: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        return input(f"{question} [y/N] ").strip().lower() in {"y", "yes"}

    return ask


_YES = "confirm without asking (for automation)"
_LOCAL_STATE = "let a protected stage (prod) keep its Terraform state on this machine"


@task(
    help={
        "stage": f"stage whose architecture to build for (default {DEFAULT_STAGE})",
        "arch": "x86_64 or arm64 (default: the stage's architecture)",
        "python": f"Lambda Python version (default {LAMBDA_PYTHON})",
        "force": "rebuild even when the inputs are unchanged",
        "keep_services": "botocore models to keep: comma-separated, or 'all' "
        "(default: lambda/services.txt)",
    }
)
def build_layer(
    c, stage=DEFAULT_STAGE, arch=None, python=LAMBDA_PYTHON, force=False, keep_services=None
):
    """Build the boto3 layer zip for the Lambda platform (reproducible; skipped if unchanged)."""
    try:
        target_arch = arch or load_stage(stage).arch
        keep = keep_services_for(keep_services)
        result = build_stage_layer(target_arch, python, keep_services=keep, force=force)
    except _EXPECTED as exc:
        raise _fail(str(exc)) from None
    print(describe(result))


@task(help={"force": "repackage even when the sources are unchanged"})
def package(c, force=False):
    """Zip the function's source (lambda/) reproducibly; skipped if unchanged."""
    try:
        result = package_stage_function(force=force)
    except _EXPECTED as exc:
        raise _fail(str(exc)) from None
    print(describe(result))


@task(
    help={
        "stage": f"dev, prod or local (default {DEFAULT_STAGE})",
        "allow_local_state": _LOCAL_STATE,
    }
)
def plan(c, stage=DEFAULT_STAGE, allow_local_state=False):
    """Build what changed and show what Terraform would change on a stage."""
    try:
        changed = _deployer(stage, allow_local_state=allow_local_state).plan()
    except _EXPECTED as exc:
        raise _fail(str(exc)) from None
    print(f"stage {stage}: {'changes pending' if changed else 'no changes'}")


@task(
    help={
        "stage": f"dev, prod or local (default {DEFAULT_STAGE})",
        "yes": _YES,
        "allow_local_state": _LOCAL_STATE,
    }
)
def deploy(c, stage=DEFAULT_STAGE, yes=False, allow_local_state=False):
    """Build what changed, then init, plan and apply the stage (a protected stage asks
    first); prints the endpoint."""
    try:
        deployer = _deployer(stage, yes, allow_local_state)
        report = deployer.deploy()
        url = invoke_url(deployer.stage, report.outputs)
    except _EXPECTED as exc:
        raise _fail(str(exc)) from None
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.timings.items())
    print(f"stage {stage} {'deployed' if report.changed else 'unchanged'} ({timings})")
    print(f"endpoint: PUT {url}  (authorization: {report.outputs['route_authorization']})")


@task(
    help={
        "stage": f"dev, prod or local (default {DEFAULT_STAGE})",
        "yes": _YES,
        "allow_local_state": _LOCAL_STATE,
    }
)
def destroy(c, stage=DEFAULT_STAGE, yes=False, allow_local_state=False):
    """Destroy everything Terraform created for a stage (shows the plan and asks first on a
    real stage)."""
    try:
        destroyed = _deployer(stage, yes, allow_local_state).destroy()
    except _EXPECTED as exc:
        raise _fail(str(exc)) from None
    print(f"stage {stage} destroyed" if destroyed else f"stage {stage}: nothing to destroy")


@task(help={"stage": f"dev, prod or local (default {DEFAULT_STAGE})"})
def outputs(c, stage=DEFAULT_STAGE):
    """Print the stage's Terraform outputs as JSON."""
    try:
        values = _deployer(stage).outputs()
    except _EXPECTED as exc:
        raise _fail(str(exc)) from None
    print(json.dumps(values, indent=2, sort_keys=True))


@task(
    help={
        "stage": f"dev, prod or local (default {DEFAULT_STAGE})",
        "message": "what code to write",
        "language": "the language (python, go, rust, ...)",
        "raw": "print the whole JSON response instead of just the code",
    }
)
def call(c, message, language="python", stage=DEFAULT_STAGE, raw=False):
    """Send PUT /code-generation to a stage (SigV4-signed when the route needs it)."""
    try:
        deployer = _deployer(stage)
        values = deployer.outputs()
        url = invoke_url(deployer.stage, values)
        credentials = signing_credentials(deployer.stage, values)
        result = call_endpoint(
            url,
            build_body(message, language),
            region=deployer.stage.region,
            credentials=credentials,
        )
    except _EXPECTED as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"cannot reach {stage}'s endpoint: {exc}") from None
    if result.status != 200:
        raise _fail(describe_failure(result))
    payload = result.json()
    if raw:
        print(json.dumps(payload, indent=2))
        return
    print(payload["code"], end="" if payload["code"].endswith("\n") else "\n")
    where = payload["location"] or f"not stored: {payload.get('storage_error')}"
    model = payload["model"]
    local_model = supervisor.status().model if deployer.stage.emulated else None
    if local_model is not None:
        model += f" (answered locally by {local_model.model})"
    print(f"# {payload['language']} from {model}, stored at {where}", file=sys.stderr)


@task(
    name="up",
    help={
        "model": "a GGUF file for the local model server (default: SmolLM2-135M-Instruct)",
        "openai_url": "forward model calls to this OpenAI-compatible server instead",
        "openai_model": "the model name to ask the OpenAI-compatible server for",
        "bedrock_url": "use this Bedrock-compatible endpoint; start no model server",
    },
)
def local_up(c, model=None, openai_url=None, openai_model=None, bedrock_url=None):
    """Start the local stage (AWS emulator, HTTP API gateway, Lambda runtime, model server)."""
    choice = supervisor.ModelChoice(
        gguf=model, openai_url=openai_url, openai_model=openai_model, bedrock_url=bedrock_url
    )
    try:
        state, started = supervisor.up(model=choice)
    except _EXPECTED as exc:
        raise _fail(str(exc)) from None
    print(f"local stage {'started' if started else 'already running'} (pid {state.pid})")
    _print_stack(supervisor.status())
    if started:
        print("next: invoke deploy --stage local")


@task(name="down")
def local_down(c):
    """Stop the local stage and every process it started."""
    stopped = supervisor.down()
    print("local stage stopped" if stopped else "local stage was not running")


@task(name="status")
def local_status(c):
    """Say whether the local stage runs, and where."""
    current = supervisor.status()
    if not current.running or current.state is None:
        print("local stage: not running (start it with `invoke local.up`)")
        raise Exit(code=3)
    health = "healthy" if current.healthy else "NOT answering"
    print(f"local stage: running (pid {current.state.pid}, {health})")
    _print_stack(current)


def _print_stack(current: supervisor.Status) -> None:
    if current.state is None:
        return
    print(f"  gateway:  {current.state.gateway_url}")
    print(f"  emulator: {current.state.emulator_url}")
    if current.model is not None:
        print(
            f"  model:    {current.model.url} ({current.model.model} via "
            f"{current.model.backend}; answers for every Bedrock model id)"
        )
    elif current.state.model_url:
        print(f"  model:    {current.state.model_url} (your Bedrock-compatible endpoint)")


local = Collection("local", up=local_up, down=local_down, status=local_status)
namespace = Collection(build_layer, package, plan, deploy, destroy, outputs, call, local)
