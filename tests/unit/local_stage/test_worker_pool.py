"""The warm worker pool of one function, driven by a fake spawner: no processes, the same
Runtime API contract (a worker asks `take()` for work and finishes what it took)."""

import asyncio
import json

import pytest

from local_stage.runtime.invocation import Invocation, InvokeResult
from local_stage.runtime.pool import PoolRetired, WorkerPool
from tests.unit.local_stage.functions import a_function

FUNCTION = a_function()


class FakeWorker:
    """Takes invocations from the pool and answers each with its event, like a warm runtime."""

    def __init__(self, pool: WorkerPool, spawned_for: Invocation, *, init_fails: bool = False):
        self.pool = pool
        self.spawned_for = spawned_for
        self.init_error: bytes | None = None
        self.init_ms: float | None = None
        self.current: Invocation | None = None
        self.killed = False
        self.dead = False
        self.gone_unseen = False  # exited, but the pool has not been told yet
        self.handled: list[bytes] = []
        self._task = asyncio.get_running_loop().create_task(self._run(init_fails))

    async def _run(self, init_fails: bool) -> None:
        await asyncio.sleep(0)
        if init_fails:
            self.init_error = json.dumps({"errorType": "Runtime.ImportModuleError"}).encode()
            self.pool.worker_exited(self)  # type: ignore[arg-type]
            return
        self.init_ms = 1.0
        try:
            while not self.killed:
                invocation = await self.pool.take(self)  # type: ignore[arg-type]
                if self.dead:
                    return  # a process that is gone never answers what it was handed
                if self.gone_unseen:
                    # The runtime finds its connection closed: it hands the work back.
                    self.pool.hand_back(invocation)
                    return
                self.current = invocation
                await asyncio.sleep(0.01)
                self.handled.append(invocation.event)
                invocation.finish(InvokeResult(True, invocation.event))
                self.current = None
        except (PoolRetired, asyncio.CancelledError):
            pass

    def kill(self) -> None:
        self.killed = True
        self._task.cancel()

    def die(self) -> None:
        """The process exits while idle: its GET /next stays open, as a real one's does."""
        self.dead = True
        self.pool.worker_exited(self)  # type: ignore[arg-type]


class FakeSpawner:
    def __init__(self, *, fail_first: int = 0, init_fails_first: int = 0) -> None:
        self.started: list[FakeWorker] = []
        self.fail_first = fail_first
        self.init_fails_first = init_fails_first

    async def __call__(self, pool: WorkerPool, invocation: Invocation) -> FakeWorker:
        if self.fail_first:
            self.fail_first -= 1
            raise RuntimeError("no interpreter for python3.12")
        init_fails = self.init_fails_first > 0
        self.init_fails_first -= 1
        worker = FakeWorker(pool, invocation, init_fails=init_fails)
        pool.workers.add(worker)  # type: ignore[arg-type]
        self.started.append(worker)
        return worker


def run(scenario):
    return asyncio.run(asyncio.wait_for(scenario(), timeout=10))


def test_a_warm_worker_serves_the_next_invocation_without_a_new_start():
    async def scenario():
        spawner = FakeSpawner()
        pool = WorkerPool(FUNCTION, 4, spawner)
        for event in (b"1", b"2", b"3"):
            result = await pool.submit(event).future
            assert result.ok and result.payload == event
        assert len(spawner.started) == 1 and spawner.started[0].handled == [b"1", b"2", b"3"]

    run(scenario)


def test_a_worker_that_dies_while_idle_is_never_handed_the_next_invocation():
    async def scenario():
        spawner = FakeSpawner()
        pool = WorkerPool(FUNCTION, 4, spawner)
        assert (await pool.submit(b"1").future).ok
        (first,) = spawner.started
        first.die()
        result = await pool.submit(b"2").future
        assert result.ok and result.payload == b"2"
        assert first.handled == [b"1"] and len(spawner.started) == 2

    run(scenario)


@pytest.mark.parametrize("bound", [1, 4])
def test_an_invocation_handed_to_a_worker_that_died_unseen_goes_to_the_next_worker(bound):
    async def scenario():
        spawner = FakeSpawner()
        pool = WorkerPool(FUNCTION, bound, spawner)
        assert (await pool.submit(b"1").future).ok
        (first,) = spawner.started
        first.gone_unseen = True  # killed while idle; its exit is seen only later
        invocation = pool.submit(b"2")
        await asyncio.sleep(0.05)
        first.die()  # now the pool learns of it (with a bound of 1, only now can one start)
        result = await invocation.future
        assert result.ok and result.payload == b"2"
        assert first.handled == [b"1"] and len(spawner.started) == 2

    run(scenario)


def test_concurrent_invocations_start_workers_up_to_the_bound_and_all_finish():
    async def scenario():
        spawner = FakeSpawner()
        pool = WorkerPool(FUNCTION, 2, spawner)
        invocations = [pool.submit(str(n).encode()) for n in range(6)]
        results = await asyncio.gather(*(i.future for i in invocations))
        assert [r.payload for r in results] == [str(n).encode() for n in range(6)]
        assert len(spawner.started) == 2

    run(scenario)


def test_a_worker_that_cannot_start_fails_its_invocation_and_the_next_one_starts_fresh():
    async def scenario():
        spawner = FakeSpawner(fail_first=1)
        pool = WorkerPool(FUNCTION, 2, spawner)
        failed = await pool.submit(b"a").future
        assert not failed.ok and failed.error_type == "Local.SetupError"
        assert "no interpreter" in json.loads(failed.payload)["errorMessage"]
        assert (await pool.submit(b"b").future).payload == b"b"

    run(scenario)


def test_a_runtime_that_dies_in_init_fails_the_invocation_it_was_started_for():
    async def scenario():
        spawner = FakeSpawner(init_fails_first=1)
        pool = WorkerPool(FUNCTION, 1, spawner)
        first = pool.submit(b"a")
        second = pool.submit(b"b")  # queued behind it: a new worker must start for it
        result = await first.future
        assert not result.ok and result.error_type == "Runtime.ImportModuleError"
        assert (await second.future).payload == b"b"
        assert len(spawner.started) == 2

    run(scenario)


def test_an_invocation_the_caller_gave_up_on_is_never_run():
    async def scenario():
        spawner = FakeSpawner()
        pool = WorkerPool(FUNCTION, 1, spawner)
        busy = pool.submit(b"busy")
        abandoned = pool.submit(b"abandoned")
        pool.cancel(abandoned)
        assert (await busy.future).payload == b"busy"
        assert (await pool.submit(b"next").future).payload == b"next"
        assert b"abandoned" not in spawner.started[0].handled

    run(scenario)


def test_a_retired_pool_sends_its_idle_workers_away_and_takes_no_more_work():
    async def scenario():
        spawner = FakeSpawner()
        pool = WorkerPool(FUNCTION, 1, spawner)
        await pool.submit(b"a").future
        pool.retire()
        assert spawner.started[0].killed
        with pytest.raises(PoolRetired):
            await pool.take(spawner.started[0])  # type: ignore[arg-type]

    run(scenario)


def test_closing_fails_what_is_still_queued():
    async def scenario():
        pool = WorkerPool(FUNCTION, 0, FakeSpawner())  # nothing may start: all stays queued
        queued = pool.submit(b"a")
        await pool.close()
        result = await queued.future
        assert not result.ok and result.error_type == "Shutdown"

    run(scenario)
