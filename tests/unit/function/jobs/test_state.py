"""Asynchronous jobs' state machine: every transition, on moto's DynamoDB, whose conditional
writes are what keep it honest."""

import pytest
from botocore.exceptions import ClientError

from codegen.jobs.state import JobError, JobStatus, Take
from tests.unit.function.helpers import (
    OWNER_ID,
)
from tests.unit.function.jobs.support import REQUEST


# -- the state machine ---------------------------------------------------------------------
def test_a_job_moves_queued_running_succeeded_and_then_never_again(store, clock):
    job = store.create("j1", OWNER_ID, REQUEST, "r1", ttl_days=7, deadline_s=3600)
    assert job.status == JobStatus.QUEUED and job.expires_at == int(clock.now + 7 * 86400)
    take, running = store.take("j1", attempt="a1", lease_s=60, receive_count=1)
    assert take is Take.STARTED and running.status == JobStatus.RUNNING and running.attempt == "a1"
    assert store.succeed("j1", "a1", {"code": "x"})
    done = store.get("j1")
    assert done.status == JobStatus.SUCCEEDED and done.result == {"code": "x"} and done.finished_at
    # A redelivered message finds it finished; nothing can move it again.
    clock.now += 3600
    assert store.take("j1", attempt="a2", lease_s=60, receive_count=2)[0] is Take.FINISHED
    assert not store.fail("j1", "a1", JobError(500, "X", "m"))
    assert not store.succeed("j1", "a1", {"code": "other"})
    assert not store.release("j1", "a1")
    assert store.get("j1") == done


def test_a_live_lease_keeps_a_second_delivery_out_until_it_runs_out(store, clock):
    store.create("j2", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    assert store.take("j2", attempt="a1", lease_s=60, receive_count=1)[0] is Take.STARTED
    assert store.take("j2", attempt="a2", lease_s=60, receive_count=2)[0] is Take.BUSY
    clock.now += 61  # the first worker is gone: the next delivery takes over
    take, job = store.take("j2", attempt="a3", lease_s=60, receive_count=3)
    assert take is Take.STARTED and job.attempt == "a3" and job.receive_count == 3
    # The worker that lost its lease cannot finish the job any more; the new one can.
    assert not store.succeed("j2", "a1", {"code": "late"})
    assert store.fail("j2", "a3", JobError(504, "ModelTimeout", "m"))
    assert (
        store.get("j2").status == JobStatus.FAILED
        and store.get("j2").error["code"] == "ModelTimeout"
    )


def test_a_released_job_stays_running_and_the_next_delivery_takes_it_at_once(store):
    store.create("j3", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    store.take("j3", attempt="a1", lease_s=600, receive_count=1)
    assert store.release("j3", "a1")
    assert store.get("j3").status == JobStatus.RUNNING  # never back to queued
    assert store.take("j3", attempt="a2", lease_s=600, receive_count=2)[0] is Take.STARTED


def test_an_unknown_job_is_missing_and_a_second_create_of_an_id_is_refused(store):
    assert store.take("nope", attempt="a", lease_s=1, receive_count=1) == (Take.MISSING, None)
    store.create("j4", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    with pytest.raises(ClientError):
        store.create("j4", "someone else", REQUEST, "r2", ttl_days=1, deadline_s=3600)
    assert store.get("j4").owner == OWNER_ID


def test_only_an_expired_last_attempt_is_abandoned(store, clock):
    store.create("j5", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    store.take("j5", attempt="a1", lease_s=60, receive_count=3)
    assert not store.abandon("j5", "a1", JobError.abandoned())  # its lease still runs
    clock.now += 61
    assert not store.abandon("j5", "other", JobError.abandoned())  # not the attempt that was seen
    assert store.abandon("j5", "a1", JobError.abandoned())
    assert store.get("j5").status == JobStatus.FAILED


def test_a_queued_job_can_be_discarded_but_a_taken_one_cannot(store):
    store.create("j6", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    store.discard("j6")
    assert store.get("j6") is None
    store.create("j7", OWNER_ID, REQUEST, "r1", ttl_days=1, deadline_s=3600)
    store.take("j7", attempt="a1", lease_s=60, receive_count=1)
    store.discard("j7")
    assert store.get("j7").status == JobStatus.RUNNING
