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
