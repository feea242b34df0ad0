"""`invoke call --async`'s polling: it follows the job to its end, waits out 429/503 answers,
honours Retry-After within its own bounds, and stops at the caller's time limit."""

import json

import pytest

from deploy import call as client
from deploy.call import CallResult, JobTimeout, wait_for_job


def answer(status: int, body: dict, retry_after: str | None = None) -> CallResult:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return CallResult(status, headers, json.dumps(body).encode())


class Script:
    """Answers GETs in order; a clock moved on only by the poller's sleeps."""

    def __init__(self, answers: list[CallResult]) -> None:
        self.answers = list(answers)
        self.now = 0.0
        self.sleeps: list[float] = []

    def call(self, url, body, *, region, credentials, method="PUT", **_):
        assert method == "GET" and body == b""
        return self.answers.pop(0)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def script(monkeypatch):
    def make(answers):
        scripted = Script(answers)
        monkeypatch.setattr(client, "call", scripted.call)
        return scripted

    return make


def test_it_follows_the_job_to_its_end_through_passing_refusals(script):
    scripted = script(
        [
            answer(200, {"job_id": "j", "status": "queued"}, "2"),
            answer(503, {"error": "JobsUnavailable"}, "1"),
            answer(429, {"message": "Too Many Requests"}),
            answer(200, {"job_id": "j", "status": "running"}, "2"),
            answer(200, {"job_id": "j", "status": "succeeded", "code": "x = 1"}),
        ]
    )
    seen = []
    result = wait_for_job(
        "https://api/dev/code-generation/jobs/j",
        region="us-east-1",
        credentials=None,
        limit_s=60,
        progress=lambda job, elapsed: seen.append(job["status"]),
        sleep=scripted.sleep,
        clock=lambda: scripted.now,
    )
    assert result.json()["code"] == "x = 1"
    assert seen == ["queued", "running", "succeeded"]
    assert all(0.5 <= pause <= 5.0 for pause in scripted.sleeps) and scripted.sleeps[0] == 2.0


def test_another_answer_is_returned_as_it_is(script):
    scripted = script([answer(404, {"error": "JobNotFound"})])
    result = wait_for_job(
        "u", region="r", credentials=None, limit_s=60, sleep=scripted.sleep, clock=lambda: 0.0
    )
    assert result.status == 404


def test_it_gives_up_at_the_time_limit_and_says_the_job_goes_on(script):
    scripted = script([answer(200, {"job_id": "j", "status": "running"})] * 100)
    with pytest.raises(JobTimeout, match="within 10 s; it goes on"):
        wait_for_job(
            "https://api/dev/code-generation/jobs/j",
            region="us-east-1",
            credentials=None,
            limit_s=10,
            sleep=scripted.sleep,
            clock=lambda: scripted.now,
        )
    assert 10 <= scripted.now <= 15


@pytest.mark.parametrize("terminal", [False, True])
def test_the_progress_line_shows_the_tokens_written_so_far_as_they_grow(terminal):
    import io

    from deploy.job_poll_display import JobPollDisplay

    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return terminal

    stream = Stream()
    shown = JobPollDisplay("u", stream)
    running = {"job_id": "j", "status": "running"}
    for elapsed, job in enumerate(
        [
            {"job_id": "j", "status": "queued"},
            running,
            {**running, "progress": {"output_tokens": 120, "estimated": True}},
            {**running, "progress": {"output_tokens": 120, "estimated": True}},
            {**running, "progress": {"output_tokens": 260, "estimated": True}},
            {"job_id": "j", "status": "succeeded"},
        ]
    ):
        shown.show(job, float(elapsed))
    shown.close()
    text = stream.getvalue()
    assert "running (2 s), ~120 tokens written" in text
    assert "running (4 s), ~260 tokens written" in text
    if terminal:  # one line per status, rewritten in place
        assert text.count("\n") == 3 and "\r" in text
    else:  # a line per change: the repeated 120 is not printed again
        assert text.splitlines() == [
            "job j: queued (0 s)",
            "job j: running (1 s)",
            "job j: running (2 s), ~120 tokens written",
            "job j: running (4 s), ~260 tokens written",
            "job j: succeeded (5 s)",
        ]
