"""Streamed answers and the progress a running job shows while the model writes."""

from botocore.exceptions import ClientError

from codegen.jobs.state import Take
from codegen.jobs.store import JobStore
from tests.unit.function.helpers import (
    OWNER_ID,
    FakeContext,
    InlineExecutor,
    body_of,
    converse_reply,
    job_event,
    sqs_record,
    stream_events,
)
from tests.unit.function.jobs.support import CODE, REQUEST, submit


# -- streamed answers and their progress ----------------------------------------------------
class Ticking:
    """A monotonic clock that moves `step` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def delta(text: str) -> dict:
    return {"contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": text}}}


def test_the_worker_streams_and_its_jobs_progress_shows_while_the_model_writes(
    api, worker, model, monkeypatch
):
    import codegen.jobs.progress_recorder

    ticking = Ticking(1.0)  # a second per piece: a write is due every 5 pieces
    monkeypatch.setattr(codegen.jobs.progress_recorder.time, "monotonic", ticking)
    job_id = body_of(submit(api))["job_id"]
    seen = []

    def answer():
        yield {"messageStart": {"role": "assistant"}}
        yield delta("```python\n")
        for n in range(12):
            yield delta(f"x{n} = {n}\n")
            seen.append(body_of(api.handle(job_event(job_id), FakeContext())))
        yield delta("```")
        yield {"messageStop": {"stopReason": "end_turn"}}
        yield {"metadata": {"usage": {"inputTokens": 9, "outputTokens": 61}, "metrics": {}}}

    model.scripted.append(answer())
    answer = worker.handle({"Records": [sqs_record(job_id)]}, FakeContext("w-1", 120_000))
    assert answer == {"batchItemFailures": []} and model.calls == ["converse_stream"]
    shown = [view["progress"]["output_tokens"] for view in seen if "progress" in view]
    # Written twice in 14 pieces and 14 s (bounded), growing, each an estimate.
    assert len(set(shown)) == 2 and shown == sorted(shown) and shown[0] >= 5
    assert all(view["status"] == "running" for view in seen)
    assert {view["progress"]["estimated"] for view in seen if "progress" in view} == {True}
    final = body_of(api.handle(job_event(job_id), FakeContext()))
    assert final["status"] == "succeeded" and "progress" not in final
    assert final["code"].startswith("x0 = 0\n") and final["usage"]["output_tokens"] == 61


def test_progress_writes_are_bounded_and_one_still_running_is_never_queued_behind():
    from concurrent.futures import Future

    from codegen.jobs.progress_recorder import ProgressRecorder

    class Store:
        def __init__(self) -> None:
            self.written: list[int] = []

        def progress(self, job_id: str, attempt: str, tokens: int) -> bool:
            self.written.append(tokens)
            return True

    store = Store()
    recorder = ProgressRecorder(
        store, "j", "a", InlineExecutor(), interval_s=5.0, clock=Ticking(0.1)
    )
    for tokens in range(1, 201):  # 20 s of pieces, one every 0.1 s
        recorder(tokens)
    assert recorder.writes == len(store.written) == 3  # at 5, 10 and 15 s
    assert store.written == sorted(store.written)

    class Stuck(InlineExecutor):  # a write that never returns
        def submit(self, fn, /, *args, **kwargs):
            self.submitted = getattr(self, "submitted", 0) + 1
            return Future()

    stuck = Stuck()
    recorder = ProgressRecorder(store, "j", "a", stuck, interval_s=5.0, clock=Ticking(1.0))
    for tokens in range(100):
        recorder(tokens)
    assert stuck.submitted == 1  # the rest were skipped, not piled up


def test_a_failed_progress_write_loses_nothing_but_the_progress(api, worker, model, monkeypatch):
    import codegen.jobs.progress_recorder

    monkeypatch.setattr(codegen.jobs.progress_recorder.time, "monotonic", Ticking(10.0))

    def refused(*_args, **_kwargs):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "Update")

    monkeypatch.setattr(JobStore, "progress", refused)
    job_id = body_of(submit(api))["job_id"]
    model.scripted.append(stream_events(converse_reply(CODE), pieces=8))
    answer = worker.handle({"Records": [sqs_record(job_id)]}, FakeContext("w-1", 120_000))
    assert answer == {"batchItemFailures": []}
    assert body_of(api.handle(job_event(job_id), FakeContext()))["status"] == "succeeded"


def test_a_new_attempt_starts_its_progress_from_nothing_and_a_lost_lease_writes_none(store):
    store.create("p1", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    store.take("p1", attempt="a1", lease_s=0, receive_count=1)
    assert store.progress("p1", "a1", 40) and store.get("p1").progress_tokens == 40
    take, job = store.take("p1", attempt="a2", lease_s=60, receive_count=2)
    assert take is Take.STARTED and job.progress_tokens is None
    assert not store.progress("p1", "a1", 80)  # the old attempt no longer holds it
    assert store.succeed("p1", "a2", {"code": "x"}) and not store.progress("p1", "a2", 90)


def test_an_error_inside_the_stream_is_bedrocks_error_and_the_job_is_tried_again(
    api, worker, model
):
    from botocore.exceptions import EventStreamError

    def answer():
        yield {"messageStart": {"role": "assistant"}}
        yield delta("def add(")
        raise EventStreamError(
            {"Error": {"Code": "throttlingException", "Message": "slow down"}}, "ConverseStream"
        )

    job_id = body_of(submit(api))["job_id"]
    model.scripted += [answer(), answer()]  # the function's own retry sees it too
    answer = worker.handle({"Records": [sqs_record(job_id)]}, FakeContext("w-1", 120_000))
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"msg-{job_id}"}]}
    assert model.calls == ["converse_stream", "converse_stream"]
    assert body_of(api.handle(job_event(job_id), FakeContext()))["status"] == "running"


def test_a_stream_that_outlives_the_workers_time_is_a_timeout_tried_again(api, worker, model):
    context = FakeContext("w-1", 60_000)

    def answer():
        yield {"messageStart": {"role": "assistant"}}
        for _ in range(200):  # a model that writes on and on, a second per piece
            context.remaining_ms -= 1000
            yield delta("x")
        yield {"messageStop": {"stopReason": "end_turn"}}

    job_id = body_of(submit(api))["job_id"]
    model.scripted.append(answer())
    answer = worker.handle({"Records": [sqs_record(job_id)]}, context)
    assert answer == {"batchItemFailures": [{"itemIdentifier": f"msg-{job_id}"}]}
    # Stopped with the store's share and the record's write still left.
    assert context.remaining_ms > 4000
    view = body_of(api.handle(job_event(job_id), FakeContext()))
    assert view["status"] == "running" and "code" not in view
