"""What a command costs when it has nothing to do, against its floor, in one run:

- `invoke build-layer` with unchanged inputs, as a whole command, against the Python
  interpreter starting and exiting (`python -c pass`);
- a no-op deploy of the local stage as a whole command (a fresh Python: imports, artifact
  checks, plan, outputs) against one bare `terraform plan` of the same stage directory with
  the same variables and environment.

Runs against its own moto server and working directory; needs Terraform (and
CODEGEN_TF_PROVIDER_MIRROR where the registry is out of reach).

    python bench/noops.py
"""

import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import print_table, record

from deploy.paths import REPO_ROOT
from deploy.scratch import scratch_deployer
from local_stage.emulator.server import Emulator

RUNS = 5
# A whole `invoke deploy` of this bench's stage: a new interpreter, the same code path.
DEPLOY_COMMAND = """
import sys
from deploy.scratch import scratch_deployer
from pathlib import Path
report = scratch_deployer(Path(sys.argv[1]), sys.argv[2]).deploy()
assert not report.changed, "the bench's deploy was not a no-op"
"""


def seconds(command: list[str], **options) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **options)
    return time.perf_counter() - start


def alternating(first: list[str], second: list[str], **options) -> tuple[float, float]:
    """Medians of RUNS runs of each, interleaved so that both see the same machine."""
    a, b = [], []
    for _ in range(RUNS):
        a.append(seconds(first, **options))
        b.append(seconds(second, **options))
    return statistics.median(a), statistics.median(b)


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
    python = sys.executable
    invoke = str(Path(python).with_name("invoke"))
    subprocess.run([invoke, "build-layer"], check=True, capture_output=True, cwd=REPO_ROOT)
    layer_s, bare_python_s = alternating(
        [invoke, "build-layer"], [python, "-c", "pass"], cwd=REPO_ROOT
    )
    server = Emulator()  # moto, answering as the local stage's emulator does
    server.start()
    url = server.url
    try:
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch)
            deployer = scratch_deployer(work, url)
            deployer.deploy()  # the first deploy; every one after is a no-op
            workdir = deployer.workdir
            var_files = [f"-var-file={path}" for path in workdir.var_files()]
            plan = [
                deployer.runner.binary,
                "plan",
                "-input=false",
                "-no-color",
                "-detailed-exitcode",
                *var_files,
                f"-out={workdir.plan_file}",
            ]
            deploy = [python, "-c", DEPLOY_COMMAND, str(work), url]
            deploy_s, plan_s = [], []
            for _ in range(RUNS):
                deploy_s.append(seconds(deploy, cwd=REPO_ROOT, env={**os.environ}))
                start = time.perf_counter()
                subprocess.run(plan, cwd=workdir.path, env=deployer.env, capture_output=True)
                plan_s.append(time.perf_counter() - start)
            workdir.plan_file.unlink(missing_ok=True)
    finally:
        server.stop()
    deploy_median, plan_median = statistics.median(deploy_s), statistics.median(plan_s)
    ms = 1000
    record(
        "no-op build-layer, whole command",
        layer_s,
        "s",
        baseline=bare_python_s,
        baseline_name="python -c pass",
    )
    record(
        "no-op deploy, whole command",
        deploy_median,
        "s",
        baseline=plan_median,
        baseline_name="bare terraform plan",
    )
    print_table(
        f"no-op commands, median of {RUNS} each, interleaved",
        [
            ("invoke build-layer, inputs unchanged", f"{layer_s * ms:.0f} ms (goal < 300 ms)"),
            ("python -c pass (baseline)", f"{bare_python_s * ms:.0f} ms"),
            ("build-layer / bare python", f"{layer_s / bare_python_s:.2f}x"),
            ("no-op deploy of the local stage, whole command", f"{deploy_median:.2f} s"),
            ("bare terraform plan, same directory (baseline)", f"{plan_median:.2f} s"),
            ("no-op deploy / bare plan", f"{deploy_median / plan_median:.2f}x (goal <= 1.1x)"),
        ],
    )


if __name__ == "__main__":
    main()
