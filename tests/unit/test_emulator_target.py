"""The emulated stage's Terraform state belongs to one emulator instance: after the emulator
restarts (its resources are gone), the next deploy starts from an empty state by itself."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploy.emulator_target import EmulatorTarget
from deploy.errors import DeployError
from deploy.stages import load_stage
from deploy.workdir import prepare_workdir


class FakeEmulator:
    """Answers the health path with an instance id the test can change (a restart)."""

    def __init__(self) -> None:
        self.instance = "first"
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps({"status": "ok", "instance": emulator.instance}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def emulator():
    fake = FakeEmulator()
    yield fake
    fake.server.shutdown()


def test_state_kept_for_the_same_emulator_and_dropped_after_a_restart(emulator, tmp_path):
    reports: list[str] = []
    target = EmulatorTarget(load_stage("local"), emulator.url, reports.append)
    workdir = prepare_workdir(load_stage("local"), tmp_path)
    target.before_changes(workdir, {}, allow_local_state=False)  # first sight: marks it
    workdir.state_file.write_text('{"outputs": {}}')
    target.before_changes(workdir, {}, allow_local_state=False)
    assert workdir.state_file.is_file() and reports == []  # same emulator: state kept
    emulator.instance = "second"  # local.down + local.up
    target.before_reading(workdir)
    assert not workdir.state_file.exists()
    assert reports == ["the local emulator was restarted: its resources start empty"]


def test_no_emulator_answering_is_a_clear_error(tmp_path):
    target = EmulatorTarget(load_stage("local"), "http://127.0.0.1:9", lambda line: None)
    workdir = prepare_workdir(load_stage("local"), tmp_path)
    with pytest.raises(DeployError, match=r"local stack is not running.*invoke local\.up"):
        target.before_changes(workdir, {}, allow_local_state=False)


class PlanReader:
    """A runner that only shows a plan (with one API stage update) and re-plans."""

    def __init__(self) -> None:
        self.shown = 0
        self.replaced: list[list[str]] = []

    def show_plan(self, plan_file):
        self.shown += 1
        stage = "module.http_api.aws_apigatewayv2_stage.this"
        change = {"address": stage, "type": "aws_apigatewayv2_stage"}
        return {"resource_changes": [{**change, "change": {"actions": ["update"]}}]}

    def plan(self, var_files, out, *, replace=()):
        self.replaced.append(list(replace))
        return True


def test_an_api_stage_in_the_state_is_replaced_not_updated(tmp_path):
    target = EmulatorTarget(load_stage("local"), "http://127.0.0.1:9", lambda line: None)
    workdir = prepare_workdir(load_stage("local"), tmp_path)
    resources = [{"mode": "managed", "type": "aws_apigatewayv2_stage", "name": "this"}]
    workdir.state_file.write_text(json.dumps({"resources": resources}))
    runner = PlanReader()
    target.adjust_plan(runner, workdir)
    assert runner.shown == 1
    assert runner.replaced == [["module.http_api.aws_apigatewayv2_stage.this"]]


@pytest.mark.parametrize(
    "state", [None, {"resources": []}, {"resources": [{"type": "aws_sqs_queue"}]}]
)
def test_a_deploy_with_no_api_stage_yet_does_not_read_its_plan(tmp_path, state):
    target = EmulatorTarget(load_stage("local"), "http://127.0.0.1:9", lambda line: None)
    workdir = prepare_workdir(load_stage("local"), tmp_path)
    if state is not None:
        workdir.state_file.write_text(json.dumps(state))
    runner = PlanReader()
    target.adjust_plan(runner, workdir)
    assert runner.shown == 0 and runner.replaced == []


def test_an_unreadable_state_still_has_its_plan_read(tmp_path):
    target = EmulatorTarget(load_stage("local"), "http://127.0.0.1:9", lambda line: None)
    workdir = prepare_workdir(load_stage("local"), tmp_path)
    workdir.state_file.write_text("{not json")
    runner = PlanReader()
    target.adjust_plan(runner, workdir)
    assert runner.shown == 1
