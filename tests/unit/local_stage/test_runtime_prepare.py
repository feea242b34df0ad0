"""The local runtime readies a function as it is deployed (its interpreter, its code and
layers unpacked and compiled), as Lambda does before a function turns Active: so the first
request does not wait for it with the gateway's clock running. Once per version: a look that
finds no configuration change, or no changed function, prepares nothing; a function that cannot
be prepared leaves the others prepared and is tried again after the next change."""

import asyncio

import pytest

import local_stage.runtime.service as service_module
from local_stage.control_plane import Function
from local_stage.runtime.service import RuntimeService, RuntimeSettings
from tests.unit.local_stage.functions import a_function, runtime_settings


class FakeControlPlane:
    """The emulator's functions, as the runtime reads them; `deploy` is a change."""

    def __init__(self) -> None:
        self.changes = 0
        self.looks = 0  # how often the watcher asked whether anything changed
        self.functions: dict[str, Function] = {}
        self.listings = 0

    @property
    def changes_seen(self) -> int:
        self.looks += 1
        return self.changes

    def deploy(self, function: Function) -> None:
        self.functions[function.name] = function
        self.changes += 1

    def function_versions(self) -> dict[str, tuple[str, str]]:
        self.listings += 1
        return {name: ("now", f.code_sha256) for name, f in self.functions.items()}

    def function(self, name: str) -> Function | None:
        return self.functions.get(name)


class RecordingRuntime(RuntimeService):
    """The product's watcher; what preparing one function does is recorded, not done (the code
    store's own tests cover the unpacking); a function named `bad` cannot be prepared."""

    def __init__(self, settings: RuntimeSettings) -> None:
        super().__init__(settings)
        self.prepared: list[tuple[str, str]] = []
        self.failed: list[str] = []

    async def prepare(self, function: Function) -> None:
        if function.name == "bad":
            self.failed.append(function.name)
            raise RuntimeError("no code")
        self.prepared.append((function.name, function.code_sha256))


@pytest.fixture
def runtime(tmp_path, monkeypatch) -> RecordingRuntime:
    monkeypatch.setattr(service_module, "PREPARE_CHECK_S", 0.01)
    settings = runtime_settings(tmp_path)
    return RecordingRuntime(settings)


def test_each_deployed_version_is_prepared_once_and_a_failure_is_tried_again(runtime):
    control = FakeControlPlane()

    async def until(condition, what: str) -> None:
        """Once `condition()` holds (the watcher runs on this loop; 10 s is only a bound)."""
        for _ in range(1000):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"never: {what}")

    async def scenario() -> None:
        watcher = asyncio.get_running_loop().create_task(runtime.prepare_deployed(control))
        try:
            control.deploy(a_function("api", code_sha256="djE="))
            control.deploy(a_function("bad", code_sha256="YmFk"))
            await until(lambda: runtime.failed == ["bad"], "the bad function tried")
            assert runtime.prepared == [("api", "djE=")]
            listings, looks = control.listings, control.looks
            await until(lambda: control.looks >= looks + 5, "five more looks")
            # No change: no listing, nothing prepared or tried again.
            assert control.listings == listings and runtime.prepared == [("api", "djE=")]
            assert runtime.failed == ["bad"]
            control.deploy(a_function("worker", code_sha256="djE="))
            control.deploy(a_function("api", code_sha256="djI="))  # a redeploy
            await until(lambda: len(runtime.prepared) == 3, "the new versions prepared")
            assert sorted(runtime.prepared) == [
                ("api", "djE="),
                ("api", "djI="),
                ("worker", "djE="),
            ]
            await until(lambda: runtime.failed == ["bad", "bad"], "the bad one tried again")
        finally:
            watcher.cancel()

    asyncio.run(scenario())


def test_preparing_makes_the_interpreter_and_unpacks_what_a_cold_start_would(tmp_path, monkeypatch):
    unpacked: list[tuple[str, str]] = []

    def unpack(store, function, python, region):
        unpacked.append((function.name, str(python)))
        return tmp_path / "task", []

    monkeypatch.setattr(service_module, "unpack_function", unpack)
    settings = runtime_settings(tmp_path)
    runtime = RuntimeService(settings)
    made: list[str] = []

    def interpreter(version, root, report=print, client=None):
        made.append(version)
        return service_module.RuntimeInterpreter(tmp_path / "python", version, exact=True)

    monkeypatch.setattr(service_module, "ensure_runtime", interpreter)
    asyncio.run(runtime.prepare(a_function("api")))
    asyncio.run(runtime.prepare(a_function("worker")))
    assert made == ["3.12"]  # one interpreter per runtime, made once
    assert unpacked == [("api", str(tmp_path / "python")), ("worker", str(tmp_path / "python"))]
