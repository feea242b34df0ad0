"""The tasks people type: `invoke --list` shows them. Thin: parse options, call packages, print.

Imports of the packages happen inside the tasks, so that a task that has nothing to do (a
no-op `build-layer`) costs no more than Python and invoke starting.
"""

import functools
import json
import sys

from invoke import Collection, Exit, task

from deploy.logs import DEFAULT_SINCE, FUNCTIONS
from deploy.stages import DEFAULT_STAGE, stage_names
from layer_builder.errors import UserError

_STAGE = f"{', '.join(stage_names())} (default {DEFAULT_STAGE})"


def _user_errors(body):
    """The one place an expected error becomes its message and exit code 1."""

    @functools.wraps(body)
    def run(*args, **kwargs):
        try:
            return body(*args, **kwargs)
        except UserError as exc:
            raise Exit(f"error: {exc}", code=1) from None

    return run


def _deployer(
    stage: str, yes: bool = False, allow_local_state: bool = False, skip_preflight: bool = False
):
    from deploy.deployer import StageDeployer
    from deploy.stages import load_stage

    return StageDeployer(
        load_stage(stage),
        confirm=_asker(yes),
        allow_local_state=allow_local_state,
        preflight=not skip_preflight,
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
        "stage": f"stage whose architecture to build for: {_STAGE}",
        "arch": "x86_64 or arm64 (default: the stage's architecture)",
        "python": "Lambda Python version (default: the stage's python_version)",
        "force": "rebuild even when the inputs are unchanged",
        "keep_services": "botocore models to keep: comma-separated, or 'all' "
        "(default: lambda/services.txt)",
    }
)
@_user_errors
def build_layer(c, stage=DEFAULT_STAGE, arch=None, python=None, force=False, keep_services=None):
    """Build the boto3 layer zip for the Lambda platform (reproducible; skipped if unchanged)."""
    from deploy.artifacts import build_stage_layer, describe, keep_services_for
    from deploy.stages import load_stage

    settings = load_stage(stage)
    keep = keep_services_for(keep_services)
    result = build_stage_layer(
        arch or settings.arch,
        python or settings.python_version,
        keep_services=keep,
        force=force,
    )
    print(describe(result))


@task(help={"force": "repackage even when the sources are unchanged"})
@_user_errors
def package(c, force=False):
    """Zip the function's source (lambda/) reproducibly; skipped if unchanged."""
    from deploy.artifacts import describe, package_stage_function

    print(describe(package_stage_function(force=force)))


_SKIP_PREFLIGHT = "do not read the account first (invoke preflight): knowingly, it says so"


@task(help={"stage": _STAGE, "allow_local_state": _LOCAL_STATE, "skip_preflight": _SKIP_PREFLIGHT})
@_user_errors
def plan(c, stage=DEFAULT_STAGE, allow_local_state=False, skip_preflight=False):
    """Run the preflight, build what changed and show what Terraform would change."""
    deployer = _deployer(stage, allow_local_state=allow_local_state, skip_preflight=skip_preflight)
    changed = deployer.plan()
    print(f"stage {stage}: {'changes pending' if changed else 'no changes'}")


@task(
    help={
        "stage": _STAGE,
        "yes": _YES,
        "allow_local_state": _LOCAL_STATE,
        "skip_preflight": _SKIP_PREFLIGHT,
    }
)
@_user_errors
def deploy(c, stage=DEFAULT_STAGE, yes=False, allow_local_state=False, skip_preflight=False):
    """Run the preflight, build what changed, then init, plan and apply the stage (a
    protected stage asks first); prints the endpoint."""
    deployer = _deployer(stage, yes, allow_local_state, skip_preflight)
    report = deployer.deploy()
    endpoint = deployer.target.endpoint(report.outputs)
    timings = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.timings.items())
    print(f"stage {stage} {'deployed' if report.changed else 'unchanged'} ({timings})")
    authorization = report.outputs["route_authorization"]
    print(f"endpoint: PUT {endpoint.generation_url}  (authorization: {authorization})")
    print(f"jobs:     POST {endpoint.jobs_url}, then GET {endpoint.jobs_url}/{{id}}")


@task(help={"stage": _STAGE, "yes": _YES, "allow_local_state": _LOCAL_STATE})
@_user_errors
def destroy(c, stage=DEFAULT_STAGE, yes=False, allow_local_state=False):
    """Destroy everything Terraform created for a stage (shows the plan and asks first on a
    real stage). A protected stage is refused: turn protected_stage off and deploy first."""
    from deploy.deployer import require_destroyable
    from deploy.stages import load_stage

    require_destroyable(load_stage(stage))  # before credentials, AWS or Terraform
    destroyed = _deployer(stage, yes, allow_local_state).destroy()
    print(f"stage {stage} destroyed" if destroyed else f"stage {stage}: nothing to destroy")


@task(help={"stage": _STAGE})
@_user_errors
def preflight(c, stage=DEFAULT_STAGE):
    """Read the account before anything is created: credentials and account, the model's
    lifecycle and access, its first call, Lambda concurrency, Bedrock quotas, the state
    backend. One line per check, each problem with its fix; exits 1 on any ✗. Read only."""
    report = _deployer(stage).preflight_report()
    print(report.render())
    if report.failed:
        raise Exit(code=1)


@task(help={"stage": _STAGE})
@_user_errors
def models(c, stage=DEFAULT_STAGE):
    """The Region's text models that stream (Converse), their lifecycle and dates, and the
    inference profiles that route to each; the stage's own is marked."""
    from deploy.bedrock_models import text_models
    from deploy.stages import load_stage

    deployer = _deployer(stage)
    chosen = str(load_stage(stage).variables["model_id"])
    for entry in text_models(deployer.target.client("bedrock")):
        ours = chosen == entry.model_id or chosen in entry.profiles
        dates = ", ".join(
            f"{label} {entry.lifecycle[key]:%Y-%m-%d}"
            for key, label in (("legacyTime", "legacy"), ("endOfLifeTime", "end of life"))
            if entry.lifecycle.get(key)
        )
        print(
            f"{'*' if ours else ' '} {entry.model_id:<48} {entry.lifecycle.get('status', '?'):<7}"
            f" {entry.provider} {entry.name}{f' ({dates})' if dates else ''}"
        )
        if entry.profiles:
            print(f"    profiles: {', '.join(entry.profiles)}")
    print(f"(* stage {stage}'s model_id: {chosen})")


@task(name="enable", help={"stage": _STAGE})
@_user_errors
def model_enable(c, stage=DEFAULT_STAGE):
    """Make the stage's model's first call (one output token) with your own credentials, so
    Bedrock's Marketplace subscription starts under a principal that may subscribe (never the
    functions' roles); prints what it cost. Run once per account and model."""
    from deploy.model_enable import enable_model

    deployer = _deployer(stage)
    enabled = enable_model(deployer.stage, deployer.target.client, deployer.workdir.path)
    print(
        f"{enabled.model_id} answered {enabled.caller}: {enabled.input_tokens} input and "
        f"{enabled.output_tokens} output tokens, ${enabled.cost_usd:.6f} at the stage's prices"
    )
    print(f"next: invoke preflight --stage {stage}")


@task(help={"stage": _STAGE})
@_user_errors
def outputs(c, stage=DEFAULT_STAGE):
    """Print the stage's Terraform outputs as JSON."""
    print(json.dumps(_deployer(stage).outputs(), indent=2, sort_keys=True))


# `message` is a flag, not a positional argument: a positional one takes the next word, even
# `--help`, as its value.
@task(
    positional=[],
    help={
        "stage": _STAGE,
        "message": "what code to write (required)",
        "language": "the language (python, go, rust, ...)",
        "raw": "print the whole JSON response instead of just the code",
        "async": "submit a job (for answers past the API's 30 s) and poll it until it ends",
        "wait": "with --async: give up polling after this many seconds (the job goes on)",
        "max_tokens": "the longest answer to ask for, in tokens (default: the stage's)",
        "idempotency_key": "send this Idempotency-Key (default: a new random one); a 503/504, "
        "a lost connection or a 409 is retried with it, so the model is paid once",
    },
)
@_user_errors
def call(
    c,
    message=None,
    language="python",
    stage=DEFAULT_STAGE,
    raw=False,
    async_=False,
    wait=900,
    max_tokens=None,
    idempotency_key=None,
):
    """Send PUT /code-generation to a stage (SigV4-signed when the route needs it); with
    --async, as a job whose progress is shown while it runs. Retried safely (Idempotency-Key)."""
    if not message:
        raise Exit(
            'error: --message is required: say what code to write, e.g. --message "fizzbuzz"'
        )
    from deploy.call import build_body, generate

    deployer = _deployer(stage)
    values = deployer.outputs()
    settings = {"max_tokens": int(max_tokens)} if max_tokens is not None else None
    payload = generate(
        deployer.target.endpoint(values),
        build_body(message, language, settings),
        asynchronous=async_,
        wait_s=float(wait),
        progress=sys.stderr,
        failed_job_is_an_answer=raw,
        idempotency_key=idempotency_key,
    )
    if raw:
        print(json.dumps(payload, indent=2))
        return
    print(payload["code"], end="" if payload["code"].endswith("\n") else "\n")
    where = payload["location"] or f"not stored: {payload.get('storage_error')}"
    answered_by = deployer.target.answered_by()
    model = payload["model"] + (f" (answered locally by {answered_by})" if answered_by else "")
    print(f"# {payload['language']} from {model}, stored at {where}", file=sys.stderr)


@task(
    help={
        "stage": _STAGE,
        "since": f"from when: 10m, 2h, 30s, 1d ago, or an ISO time (default {DEFAULT_SINCE})",
        "follow": "keep printing lines as they arrive (Ctrl-C to stop)",
        "filter": "only lines holding this text",
        "request_id": "one request's lines, from its access-log line to its function's END "
        "(API Gateway's or Lambda's request id)",
        "job_id": "one job's lines: its submission, its deliveries, its reads",
        "function": f"{', '.join(FUNCTIONS)} (default all): api is the function and its access log",
        "json": "one JSON object per line (time, source, stream, event_id, message)",
    },
)
@_user_errors
def logs(
    c,
    stage=DEFAULT_STAGE,
    since=DEFAULT_SINCE,
    follow=False,
    filter_=None,
    request_id=None,
    job_id=None,
    function="all",
    json_=False,
):
    """Print the stage's logs, the API function's, the job routes', the worker's and the
    access log's, merged in time order and tagged with where each line came from."""
    from deploy.logs import LogReader, LogsError, parse_since, render, sources

    # The options are checked before the stage is looked at (Terraform, credentials).
    if request_id and job_id:
        raise LogsError("give --request-id or --job-id, not both")
    wanted = request_id or job_id
    if wanted and follow:
        raise LogsError("--follow shows every new line: use --filter with it, not an id")
    start = parse_since(since)
    deployer = _deployer(stage)
    reader = LogReader(deployer.target.client("logs"), sources(deployer.outputs(), function))
    if wanted:
        lines = reader.related(start, None, wanted)
    elif follow:
        lines = reader.follow(start, filter_)
    else:
        lines = reader.read(start, None, filter_)
    try:
        for text in render(lines, json_):
            print(text, flush=True)
    except KeyboardInterrupt:
        return
    except BrokenPipeError:  # `| head` has read enough: stop quietly, as other tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@task(
    help={
        "stage": _STAGE,
        "since": "the window: 7d (default), 2w, 12h, or a date such as 2026-12-01",
        "by": "group by caller (default), day, language or model",
        "json": "print the rows as JSON",
    }
)
@_user_errors
def usage(c, stage=DEFAULT_STAGE, since="7d", by="caller", json_=False):
    """Who used how many tokens and dollars on the stage, from its spend table: requests,
    input and output tokens and estimated cost per caller (its ARN too), day, language or
    model, top spenders first."""
    from datetime import UTC, datetime

    from deploy.usage import read_usage, render, since_start

    start = since_start(since, datetime.now(UTC))
    deployer = _deployer(stage)
    values = deployer.outputs()
    rows = read_usage(
        deployer.target.client("dynamodb"), str(values["spend_table"]), start=start, by=by
    )
    if json_:
        print(
            json.dumps(
                {"since": start.isoformat(), "by": by, "rows": [r.as_dict() for r in rows]},
                indent=2,
            )
        )
        return
    print(render(rows, by, start))


@task(help={"stage": _STAGE})
@_user_errors
def status(c, stage=DEFAULT_STAGE):
    """One screen on a deployed stage: endpoint, code, alarms, the last hour's requests,
    latency, tokens and cost, jobs, the model's lifecycle. Exits 1 while an alarm is firing
    or the model is 30 days or less from its end of life (for scripts)."""
    from deploy.status import read_status, render

    deployer = _deployer(stage)
    values = deployer.outputs()
    current = read_status(
        deployer.target.client,
        values,
        deployer.target.endpoint(values).generation_url,
        alarms_evaluated=deployer.target.evaluates_alarms,
    )
    print(render(current))
    if current.firing or (current.model is not None and current.model.urgent):
        raise Exit(code=1)


@task(
    name="up",
    help={
        "model": "a GGUF file for the local model server (default: SmolLM2-135M-Instruct)",
        "openai_url": "forward model calls to this OpenAI-compatible server instead",
        "openai_model": "the model name to ask the OpenAI-compatible server for",
        "bedrock_url": "use this Bedrock-compatible endpoint; start no model server",
        "account_concurrency": "the emulated account's Lambda concurrency limit (default "
        "AWS's, 1000; 10 is a new account's)",
    },
)
@_user_errors
def local_up(
    c, model=None, openai_url=None, openai_model=None, bedrock_url=None, account_concurrency=None
):
    """Start the local stage (AWS emulator, HTTP API gateway, Lambda runtime, model server)."""
    from deploy.stages import load_stage
    from local_stage import supervisor

    choice = supervisor.ModelChoice(
        gguf=model, openai_url=openai_url, openai_model=openai_model, bedrock_url=bedrock_url
    )
    state, started = supervisor.up(
        model=choice,
        python=load_stage("local").python_version,
        account_concurrency=None if account_concurrency is None else int(account_concurrency),
    )
    print(f"local stage {'started' if started else 'already running'} (pid {state.pid})")
    _print_stack(supervisor.status())
    if started:
        print("next: invoke deploy --stage local")


@task(name="down")
@_user_errors
def local_down(c):
    """Stop the local stage and every process it started."""
    from local_stage import supervisor

    stopped = supervisor.down()
    print("local stage stopped" if stopped else "local stage was not running")


@task(name="status")
@_user_errors
def local_status(c):
    """Say whether the local stage runs, and where."""
    from local_stage import supervisor

    current = supervisor.status()
    if not current.running or current.state is None:
        print("local stage: not running (start it with `invoke local.up`)")
        raise Exit(code=3)
    health = "healthy" if current.healthy else "NOT answering"
    print(f"local stage: running (pid {current.state.pid}, {health})")
    _print_stack(current)


def _print_stack(current) -> None:
    if current.state is None:
        return
    print(f"  gateway:  {current.state.gateway_url}")
    print(f"  emulator: {current.state.emulator_url}")
    print(f"  console:  {current.state.console_url}")
    if current.model is not None:
        print(
            f"  model:    {current.model.url} ({current.model.model} via "
            f"{current.model.backend}; answers for every Bedrock model id)"
        )
    elif current.state.model_url:
        print(f"  model:    {current.state.model_url} (your Bedrock-compatible endpoint)")


@task(name="env", help={"json": "one JSON object instead of shell export lines"})
def local_env(c, json_=False):
    """Print what sends the AWS CLI, boto3 and other AWS tools to the local stage, signed with
    its own credentials: `eval "$(invoke local.env)"` (they are the stack's secret)."""
    import shlex

    from deploy.emulator_target import emulator_environment
    from deploy.stages import load_stage
    from local_stage import supervisor

    current = supervisor.status()
    if not current.running or current.state is None:
        print("local stage: not running (start it with `invoke local.up`)", file=sys.stderr)
        raise Exit(code=3)
    state = current.state
    variables = emulator_environment(
        state.emulator_url, load_stage("local").region, state.credentials
    )
    if state.model_url:
        variables["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = state.model_url
    if json_:
        print(json.dumps(variables, indent=2, sort_keys=True))
        return
    print("unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_DEFAULT_PROFILE")
    for name, value in sorted(variables.items()):
        print(f"export {name}={shlex.quote(value)}")


@task(name="console", help={"open": "open it in your web browser too"})
def local_console(c, open=False):
    """Print the local console's URL (it holds the stack's token: keep it to yourself)."""
    import webbrowser

    from local_stage import supervisor

    current = supervisor.status()
    if not current.running or current.state is None:
        print("local stage: not running (start it with `invoke local.up`)")
        raise Exit(code=3)
    print(current.state.console_url)
    if open and not webbrowser.open(current.state.console_url):
        print("no web browser found here: open the URL above in one")


@task(
    help={
        "only": "run only these scripts (comma-separated, e.g. noops.py,layer_build.py)",
        "readme": "write the run's figures, date and machine into bench/README.md",
    }
)
def bench(c, only=None, readme=False):
    """Run every benchmark; one table of figures, build/bench/bench.json and bench.png."""
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve().parent
    command = [sys.executable, str(here / "bench" / "run_all.py")]
    if only:
        command += ["--only", *only.split(",")]
    if readme:
        command.append("--readme")
    raise Exit(code=subprocess.run(command, cwd=here, check=False).returncode)


@task(
    name="eval",
    help={
        "stage": _STAGE,
        "only": "some tasks of the suite, comma-separated (default: all of them)",
        "compare": "an earlier run's report (eval-<stage>.json) to show the change against",
        "out": "where the report and its chart go (default build/bench)",
        "unconfined": "run a stage in AWS's code even where the sandbox cannot confine it",
    },
)
@_user_errors
def eval_(c, stage=DEFAULT_STAGE, only=None, compare=None, out=None, unconfined=False):
    """Measure the code a stage writes: each task of the built-in suite through the stage's
    real API (temperature 0), its answer run against the task's tests in a sandbox; prints
    pass@1, the share that parse, latency p50/p95, tokens and cost per task. It runs
    model-written code on this machine (see docs/eval.md)."""
    from pathlib import Path

    from deploy.evaluation.stage import (
        check_confinement,
        chosen_tasks,
        earlier_run,
        run_on_stage,
        summary_lines,
    )
    from deploy.paths import BUILD_DIR

    tasks = chosen_tasks(only)  # options first: before the stage is looked at
    earlier = earlier_run(compare)
    deployer = _deployer(stage)
    check_confinement(deployer.stage.emulated, unconfined)
    record = run_on_stage(
        deployer, tasks, Path(out) if out else BUILD_DIR / "bench", earlier, print
    )
    for line in summary_lines(record):
        print(line)


local = Collection(
    "local",
    up=local_up,
    down=local_down,
    status=local_status,
    console=local_console,
    env=local_env,
)
model = Collection("model", enable=model_enable)
namespace = Collection(
    build_layer,
    package,
    preflight,
    models,
    plan,
    deploy,
    destroy,
    outputs,
    call,
    logs,
    status,
    usage,
    bench,
    eval_,
    local,
    model,
)
