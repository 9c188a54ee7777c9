"""The webhook outbox: a terminal transition of a job with a callback URL writes its webhook in the same
transaction; claims lease rows so one claimer delivers each; delivered and given-up rows are never due again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from plastinka_schemas import JobStatus
from plastinka_store import JobRepository

LEASE = timedelta(seconds=30)


def test_terminal_transition_writes_one_webhook(repo: JobRepository, seed: Any) -> None:
    hooked = seed.training(callback_url="https://example.test/hook")
    silent = seed.training()
    for job in (hooked, silent):
        seed.force(job, JobStatus.RUNNING, attempt=1, max_attempts=3)
        assert repo.fail(job, 1, error_type="BadData", message="no rows")
    assert not repo.fail(hooked, 1, error_type="BadData", message="again")  # a duplicate adds nothing
    rows = repo.webhooks(hooked)
    assert [(r.url, r.event, r.attempts) for r in rows] == [("https://example.test/hook", "job.failed", 0)]
    assert repo.webhooks(silent) == []


def test_non_terminal_transitions_write_nothing(repo: JobRepository, seed: Any) -> None:
    job = seed.training(callback_url="https://example.test/hook")
    seed.force(job, JobStatus.RUNNING, attempt=1, max_attempts=3)
    assert repo.retry(job, 1, error_type="Boom", message="transient") is JobStatus.RETRY_WAIT
    assert repo.webhooks(job) == []


def test_claims_lease_retry_and_delivery(repo: JobRepository, seed: Any, clock: Any) -> None:
    job = seed.training(callback_url="https://example.test/hook")
    seed.force(job, JobStatus.RUNNING, attempt=1, max_attempts=3)
    assert repo.cancel(job, owner="alice")
    first = repo.claim_webhooks(10, LEASE)
    assert [(r.job_id, r.event, r.attempts) for r in first] == [(job, "job.cancelled", 1)]
    assert repo.claim_webhooks(10, LEASE) == []  # leased: a second claimer gets nothing
    clock.advance(LEASE.total_seconds() + 1)
    again = repo.claim_webhooks(10, LEASE)  # the first claimer died mid-delivery: the lease ran out
    assert [r.attempts for r in again] == [2]
    assert again[0].id is not None
    repo.webhook_done(again[0].id, delivered=False, error="answered 503", retry_at=clock() + timedelta(seconds=5))
    assert repo.claim_webhooks(10, LEASE) == []
    clock.advance(6)
    third = repo.claim_webhooks(10, LEASE)
    assert third[0].id is not None
    repo.webhook_done(third[0].id, delivered=True)
    clock.advance(3600)
    assert repo.claim_webhooks(10, LEASE) == []
    (row,) = repo.webhooks(job)
    assert row.delivered_at is not None and row.attempts == 3 and row.last_error is None


def test_given_up_rows_stay_put(repo: JobRepository, seed: Any, clock: Any) -> None:
    job = seed.training(callback_url="https://example.test/hook")
    seed.force(job, JobStatus.RUNNING, attempt=1, max_attempts=1)
    assert repo.retry(job, 1, error_type="Boom", message="last attempt") is JobStatus.DEAD_LETTER
    (claimed,) = repo.claim_webhooks(10, LEASE)
    assert claimed.event == "job.dead_letter" and claimed.id is not None
    repo.webhook_done(claimed.id, delivered=False, error="answered 404")
    clock.advance(3600)
    assert repo.claim_webhooks(10, LEASE) == []
    (row,) = repo.webhooks(job)
    assert row.gave_up_at is not None and row.last_error == "answered 404"
