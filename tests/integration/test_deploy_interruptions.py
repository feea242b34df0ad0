"""A deploy interrupted mid-apply, and two deploys of one stage at once, against moto's
server with the real Terraform: the rerun converges with no manual step, and the state is
never corrupted."""

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import psutil
import pytest

from deploy.deployer import StageDeployer
from deploy.paths import REPO_ROOT
from deploy.scratch import scratch_deployer
from deploy.workdir import StageBusy
from local_stage.contract import DEFAULT_CREDENTIALS, TOKEN_HEADER

pytestmark = [pytest.mark.terraform, pytest.mark.slow, pytest.mark.registry]

# A whole deploy in a process of its own, into the test's directory (work/, build/).
DEPLOY = """
import sys
from pathlib import Path
from deploy.scratch import scratch_deployer
scratch_deployer(Path(sys.argv[1]), sys.argv[2]).deploy()
"""


@pytest.fixture
def moto_url():
    """An emulator of the test's own, empty before and after: moto keeps its resources in
    this process, shared by every server it runs, and each test deploys from nothing."""
    from local_stage.emulator.server import Emulator

    server = Emulator()
    server.start()
    url = server.url
    reset = urllib.request.Request(
        f"{url}/moto-api/reset", method="POST", headers={TOKEN_HEADER: server.token}
    )
    urllib.request.urlopen(reset, timeout=10).close()
    yield url
    urllib.request.urlopen(reset, timeout=10).close()
    server.stop()


def applying(process: subprocess.Popen) -> bool:
    """True once the deploy has started `terraform apply`."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        return False
    for child in children:
        try:
            if "apply" in child.cmdline():
                return True
        except psutil.Error:  # a child that just ended (init, plan)
            continue
    return False


def start_deploy_and_wait_for_resources(moto_url: str, root: Path) -> subprocess.Popen:
    """A whole deploy in its own process, returned once its apply has created something: a
    DynamoDB table, among the first resources (no dependency), where the bucket waits for the
    queues (~25 s of the provider's attribute checks). The build and plan come first: on a
    loaded 2-core machine they alone took over a minute, hence the generous deadline."""
    command = [sys.executable, "-c", DEPLOY, str(root), moto_url]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=DEFAULT_CREDENTIALS[0],
        aws_secret_access_key=DEFAULT_CREDENTIALS[1],
    )
    deadline = time.monotonic() + 300
    while True:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        is_applying = applying(process)  # one walk of its process tree per round
        if is_applying and dynamodb.list_tables()["TableNames"]:
            return process
        stage = "applying" if is_applying else "building or planning"
        assert time.monotonic() < deadline, f"the apply never created anything (still {stage})"
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_a_deploy_stopped_mid_apply_leaves_a_true_state_and_the_rerun_converges(
    moto_url, tmp_path, how
):
    process = start_deploy_and_wait_for_resources(moto_url, tmp_path)
    process.send_signal(getattr(signal, how))
    # Told to stop, it lets the apply end: most of it, the queues' checks included.
    _, errors = process.communicate(timeout=300)
    assert process.returncode != 0
    if how == "SIGTERM":  # told to stop: it lets the apply finish, then says so
        assert "interrupted: `terraform apply` ended" in errors
    # Killed outright, its apply goes on alone; the rerun waits for its state lock.
    rerun = scratch_deployer(tmp_path, moto_url)
    report = rerun.deploy()
    assert "PUT /code-generation" in report.outputs["route_keys"]
    assert not rerun.deploy().changed  # converged: nothing left to do, nothing orphaned
    if how == "SIGKILL":  # (once is enough: it is about the stage's lock, not the signal)
        assert_a_second_deploy_stops_at_once_and_changes_nothing(rerun, tmp_path, moto_url)


def assert_a_second_deploy_stops_at_once_and_changes_nothing(
    first: StageDeployer, root: Path, moto_url: str
) -> None:
    """On a deployed stage (the converged one above: a deploy of its own from nothing would
    cost this suite another two minutes): while one deploy holds the stage, a second deploy or
    destroy stops at once, and the state still describes the stack afterwards."""
    second = scratch_deployer(root, moto_url)
    with first.workdir.exclusive():  # a deploy in progress
        with pytest.raises(StageBusy, match=r"stage local is being changed by pid \d+"):
            second.deploy()
        with pytest.raises(StageBusy):
            second.destroy()
    assert not second.deploy().changed  # the state is intact and still describes the stack
