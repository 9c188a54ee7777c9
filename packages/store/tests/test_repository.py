"""JobRepository against SQLite and real PostgreSQL: transitions, staleness, idempotency, scoping, retries."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from typing import Any

import pytest

from plastinka_schemas import JobKind, JobStatus
from plastinka_store import (
    ALL_OWNERS,
    TRANSITIONS,
    CloudFunctionLog,
    IdempotencyConflict,
    JobRepository,
    Model,
    PredictionJob,
    TrainingJob,
    is_allowed,
)

S = JobStatus


def _attempt_edge(repo: JobRepository, seed: Any, job_id: str, target: JobStatus, attempt: int) -> bool:
    """Try to move the job to ``target`` through the repository operation that leads there."""
    if target is S.DISPATCHED:
        return job_id in {job.id for job in repo.claim_due(limit=1000)}
    if target is S.RUNNING:
        return repo.mark_running(job_id, attempt)
    if target is S.SUCCEEDED:
        return repo.succeed(job_id, attempt, manifest={"artifacts": {}})
    if target is S.FAILED:
        return repo.fail(job_id, attempt, error_type="BadData", message="no rows")
    if target in {S.RETRY_WAIT, S.DEAD_LETTER}:
        return repo.retry(job_id, attempt, error_type="Timeout", message="slow") is target
    if target is S.CANCELLED:
        return repo.cancel(job_id, owner="alice")
    assert target is S.QUEUED
    return repo.requeue(job_id)


def test_every_edge_of_the_table_applies_and_every_other_is_refused(repo: JobRepository, seed: Any) -> None:
    checked = 0
    for source, target in itertools.product(JobStatus, JobStatus):
        job_id = seed.training()
        attempt = 2
        # dead_letter needs the last attempt, retry_wait one with budget left.
        max_attempts = attempt if target is S.DEAD_LETTER else attempt + 5
        seed.force(job_id, source, attempt=attempt, max_attempts=max_attempts)
        before, events_before = seed.row(job_id), len(seed.events(job_id))

        applied = _attempt_edge(repo, seed, job_id, target, attempt)

        after = seed.row(job_id)
        assert applied == is_allowed(source, target), f"{source} -> {target}"
        if applied:
            assert after["status"] is target
            assert len(seed.events(job_id)) == events_before + 1
            assert after["updated_at"] == repo.clock()
        else:
            assert after == before, f"refused {source} -> {target} changed the row"
            assert len(seed.events(job_id)) == events_before
        # Park the job where no later claim can touch it.
        seed.force(job_id, S.SUCCEEDED, attempt=attempt, max_attempts=max_attempts)
        checked += 1
    assert checked == len(JobStatus) ** 2
    assert sum(len(targets) for targets in TRANSITIONS.values()) == 17


def test_happy_path_records_each_step(repo: JobRepository, seed: Any, clock: Any) -> None:
    job_id = seed.training(parameters={"horizon": 3})
    [claimed] = repo.claim_due()
    assert (claimed.id, claimed.status, claimed.attempt) == (job_id, S.DISPATCHED, 1)
    assert claimed.lease_expires_at == clock.now + repo.policy.lease
    clock.advance(5)
    assert repo.mark_running(job_id, 1, invocation_id="req-1")
    clock.advance(5)
    assert repo.progress(job_id, 1, 0.5, "fitting")
    assert repo.progress(job_id, 1, 0.25, "late, lower")  # progress never goes backwards
    clock.advance(5)
    assert repo.succeed(job_id, 1, manifest={"artifacts": {"model": {"key": "k"}}}, result={"mae": 1.5})

    job = repo.get(job_id, owner="alice")
    assert job is not None
    assert (job.status, job.progress, job.invocation_id, job.result) == (S.SUCCEEDED, 1.0, "req-1", {"mae": 1.5})
    assert job.started_at is not None and job.started_at.tzinfo is not None
    assert job.finished_at == clock.now and job.lease_expires_at is None
    events = repo.events(job_id, owner="alice")
    assert [e.type for e in events] == ["created", "dispatched", "running", "progress", "progress", "succeeded"]
    assert [e.progress for e in events if e.type == "progress"] == [0.5, 0.25]


def test_duplicate_and_stale_events_change_nothing(repo: JobRepository, seed: Any, clock: Any) -> None:
    job_id = seed.training()
    repo.claim_due()
    assert repo.mark_running(job_id, 1)
    snapshot, events = seed.row(job_id), len(seed.events(job_id))

    clock.advance(1)
    assert not repo.mark_running(job_id, 1)  # duplicate
    assert not repo.succeed(job_id, 2, manifest={})  # an attempt that does not exist yet
    assert not repo.heartbeat(job_id, 0)
    assert seed.row(job_id) == snapshot
    assert len(seed.events(job_id)) == events

    assert repo.retry(job_id, 1, error_type="Timeout", message="x") is S.RETRY_WAIT
    assert repo.retry(job_id, 1, error_type="Timeout", message="x") is None  # duplicate
    clock.advance(3600)
    [again] = repo.claim_due()
    assert again.attempt == 2
    snapshot, events = seed.row(job_id), len(seed.events(job_id))
    # Late reports from attempt 1 arrive after attempt 2 started: all stale.
    assert not repo.mark_running(job_id, 1)
    assert not repo.progress(job_id, 1, 0.9)
    assert not repo.succeed(job_id, 1, manifest={})
    assert not repo.fail(job_id, 1, error_type="E", message="m")
    assert repo.retry(job_id, 1, error_type="E", message="m") is None
    assert seed.row(job_id) == snapshot
    assert len(seed.events(job_id)) == events


def test_heartbeat_while_dispatched_promotes_to_running_and_extends_the_lease(
    repo: JobRepository, seed: Any, clock: Any
) -> None:
    job_id = seed.training()
    repo.claim_due()
    clock.advance(30)
    assert repo.heartbeat(job_id, 1)  # the running event was lost
    job = repo.get(job_id, owner="alice")
    assert job is not None
    assert job.status is S.RUNNING and job.lease_expires_at == clock.now + repo.policy.lease
    assert not repo.mark_running(job_id, 1)  # ...and when it finally lands it is a duplicate


def test_idempotency_key_returns_the_same_job(repo: JobRepository, seed: Any) -> None:
    dataset = seed.dataset("alice")
    first, created = repo.create_training_job(owner="alice", dataset_id=dataset, idempotency_key="k1")
    second, created_again = repo.create_training_job(owner="alice", dataset_id=dataset, idempotency_key="k1")
    assert created and not created_again and first.id == second.id
    # The same key from another owner is another job.
    other_dataset = seed.dataset("bob")
    bobs, bob_created = repo.create_training_job(owner="bob", dataset_id=other_dataset, idempotency_key="k1")
    assert bob_created and bobs.id != first.id
    with pytest.raises(IdempotencyConflict) as conflict:
        repo.create_training_job(owner="alice", dataset_id=dataset, idempotency_key="k1", parameters={"tune": True})
    assert conflict.value.job_id == first.id
    # A retried request whose tuples came back from JSON as lists is the same request.
    quantiles, _ = repo.create_training_job(
        owner="alice", dataset_id=dataset, idempotency_key="k2", parameters={"quantiles": (0.1, 0.9)}
    )
    again, created = repo.create_training_job(
        owner="alice", dataset_id=dataset, idempotency_key="k2", parameters={"quantiles": [0.1, 0.9]}
    )
    assert not created and again.id == quantiles.id
    assert repo.list_jobs(JobKind.TRAINING, owner="alice")[0] == 2


def test_concurrent_creates_with_one_key_make_one_job(repo: JobRepository, seed: Any) -> None:
    dataset = seed.dataset("alice")
    results: list[tuple[str, bool]] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        job, created = repo.create_training_job(owner="alice", dataset_id=dataset, idempotency_key="same")
        results.append((job.id, created))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len({job_id for job_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert repo.list_jobs(JobKind.TRAINING, owner="alice")[0] == 1


def test_reads_are_scoped_to_the_owner(repo: JobRepository, seed: Any) -> None:
    alices = seed.training("alice")
    bobs = seed.training("bob")
    assert repo.get(alices, owner="alice") is not None
    assert repo.get(alices, owner="bob") is None
    assert repo.get(alices, owner=ALL_OWNERS) is not None
    assert repo.get("tj_does_not_exist", owner="alice") is None
    assert repo.get("not-a-job-id", owner="alice") is None
    assert repo.events(alices, owner="bob") == []
    assert [e.type for e in repo.events(alices, owner="alice")] == ["created"]
    total, page = repo.list_jobs(JobKind.TRAINING, owner="bob")
    assert total == 1 and [job.id for job in page] == [bobs]
    assert repo.list_jobs(JobKind.TRAINING, owner=ALL_OWNERS)[0] == 2
    assert not repo.cancel(alices, owner="bob")
    assert seed.row(alices)["status"] is S.QUEUED
    assert repo.cancel(alices, owner="alice")
    with pytest.raises(TypeError):
        repo.get(alices, owner=None)  # type: ignore[arg-type]


def test_listing_pages_newest_first_and_filters_by_status(repo: JobRepository, seed: Any, clock: Any) -> None:
    ids = []
    for _ in range(5):
        ids.append(seed.training())
        clock.advance(1)
    repo.cancel(ids[0], owner="alice")
    total, page = repo.list_jobs(JobKind.TRAINING, owner="alice", offset=1, limit=2)
    assert total == 5 and [job.id for job in page] == [ids[3], ids[2]]
    total, page = repo.list_jobs(JobKind.TRAINING, owner="alice", statuses=[S.CANCELLED])
    assert total == 1 and page[0].id == ids[0]


def test_retries_back_off_then_dead_letter_then_requeue(repo: JobRepository, seed: Any, clock: Any) -> None:
    job_id = seed.training()
    delays = []
    for attempt in (1, 2):
        [job] = repo.claim_due()
        assert job.attempt == attempt
        assert repo.retry(job_id, attempt, error_type="Throttled", message="429") is S.RETRY_WAIT
        row = seed.row(job_id)
        delays.append((row["next_attempt_at"] - clock.now).total_seconds())
        assert repo.claim_due() == []  # not due yet
        clock.advance(delays[-1])
    assert delays == [10.0, 20.0]  # base 10 s doubling (jitter off in this policy)
    [job] = repo.claim_due()
    assert job.attempt == 3
    assert repo.retry(job_id, 3, error_type="Throttled", message="429 again") is S.DEAD_LETTER
    dead = repo.get(job_id, owner="alice")
    assert dead is not None
    assert (dead.status, dead.error_type, dead.error_message) == (S.DEAD_LETTER, "Throttled", "429 again")
    clock.advance(10_000)
    assert repo.claim_due() == []  # dead letters stay put

    assert repo.requeue(job_id, extra_attempts=2)
    requeued = repo.get(job_id, owner="alice")
    assert requeued is not None
    assert (requeued.status, requeued.attempt, requeued.max_attempts) == (S.QUEUED, 3, 5)
    [job] = repo.claim_due()
    assert job.attempt == 4  # attempt numbers keep counting: attempt-3 events stay stale
    assert not repo.mark_running(job_id, 3)
    assert repo.mark_running(job_id, 4)
    types = [e.type for e in repo.events(job_id, owner="alice")]
    assert types.count("retry_wait") == 2 and types.count("dead_letter") == 1 and "requeued" in types


def test_failed_is_terminal_until_an_admin_requeues(repo: JobRepository, seed: Any) -> None:
    job_id = seed.training()
    repo.claim_due()
    assert repo.fail(job_id, 1, error_type="ValidationError", message="column 'Дата' missing", traceback="tb")
    assert not repo.cancel(job_id, owner="alice")
    assert repo.claim_due() == []
    job = repo.get(job_id, owner="alice")
    assert job is not None and job.error_traceback == "tb"
    assert repo.requeue(job_id)
    assert [j.id for j in repo.claim_due()] == [job_id]


def test_sweeper_finds_expired_leases_and_retries_them(repo: JobRepository, seed: Any, clock: Any) -> None:
    silent, alive, finished = seed.training(), seed.training(), seed.training()
    repo.claim_due()
    repo.mark_running(alive, 1)
    repo.mark_running(finished, 1)
    repo.succeed(finished, 1, manifest={})
    assert repo.expired_leases() == []
    clock.advance(repo.policy.lease.total_seconds() - 1)
    assert repo.heartbeat(alive, 1)
    clock.advance(2)
    expired = repo.expired_leases()
    assert [(lease.job_id, lease.attempt, lease.status) for lease in expired] == [(silent, 1, S.DISPATCHED)]
    # What the API's sweeper (JobEngine.sweep_once) does with each expired lease it cannot reconcile:
    lease = expired[0]
    moved = repo.retry(silent, lease.attempt, error_type="LeaseExpired", message="silent", only_if_lease_expired=True)
    assert moved == S.RETRY_WAIT
    assert repo.expired_leases() == []
    assert seed.row(silent)["error_type"] == "LeaseExpired"


def test_sweeper_loses_to_a_heartbeat_that_lands_after_its_read(repo: JobRepository, seed: Any, clock: Any) -> None:
    job_id = seed.training()
    repo.claim_due()
    clock.advance(repo.policy.lease.total_seconds() + 1)
    [lease] = repo.expired_leases()
    assert repo.heartbeat(job_id, 1)  # the function was alive after all
    status = repo.retry(job_id, lease.attempt, error_type="LeaseExpired", message="x", only_if_lease_expired=True)
    assert status is None
    assert seed.row(job_id)["status"] is S.RUNNING


def test_cancel_stops_waiting_and_running_jobs(repo: JobRepository, seed: Any, clock: Any) -> None:
    waiting, running = seed.training(), seed.training()
    repo.claim_due()
    repo.mark_running(running, 1)
    repo.retry(waiting, 1, error_type="E", message="m")
    assert repo.cancel(waiting, owner="alice") and repo.cancel(running, owner="alice")
    assert not repo.succeed(running, 1, manifest={})  # the function finishing late changes nothing
    clock.advance(10_000)
    assert repo.claim_due() == []
    assert seed.row(running)["status"] is S.CANCELLED


def test_succeed_runs_the_extra_write_once_in_the_same_transaction(repo: JobRepository, seed: Any) -> None:
    job_id = seed.training()
    repo.claim_due()
    job = repo.get(job_id, owner="alice")
    assert isinstance(job, TrainingJob)
    calls: list[str] = []

    def record_model(session: Any) -> None:
        calls.append(job_id)
        session.add(
            Model(
                id="mdl_1",
                owner="alice",
                dataset_id=job.dataset_id,
                training_job_id=job_id,
                horizon=3,
                artifact_key="k",
                artifact_sha256="c" * 64,
            )
        )

    assert repo.succeed(job_id, 1, manifest={}, also=record_model)
    assert not repo.succeed(job_id, 1, manifest={}, also=record_model)  # duplicate: no second model
    assert calls == [job_id]


def test_a_failing_extra_write_rolls_the_transition_back(repo: JobRepository, seed: Any) -> None:
    job_id = seed.training()
    repo.claim_due()

    def broken(_session: Any) -> None:
        raise RuntimeError("manifest does not verify")

    with pytest.raises(RuntimeError):
        repo.succeed(job_id, 1, manifest={}, also=broken)
    assert seed.row(job_id)["status"] is S.DISPATCHED
    assert [e["type"] for e in seed.events(job_id)] == ["created", "dispatched"]


def test_prediction_jobs_share_the_machinery(repo: JobRepository, seed: Any) -> None:
    model_id = seed.model("alice")
    job, created = repo.create_prediction_job(owner="alice", model_id=model_id, horizon=6, idempotency_key="p")
    assert created and job.id.startswith("pj_") and isinstance(job, PredictionJob)
    again, created = repo.create_prediction_job(owner="alice", model_id=model_id, horizon=6, idempotency_key="p")
    assert not created and again.id == job.id
    claimed = repo.claim_due(kinds=[JobKind.PREDICTION])
    assert [j.id for j in claimed] == [job.id]
    assert repo.mark_running(job.id, 1) and repo.succeed(job.id, 1, manifest={"artifacts": {}})
    assert repo.list_jobs(JobKind.PREDICTION, owner="alice", statuses=[S.SUCCEEDED])[0] == 1


def test_claim_honours_the_limit_and_due_order(repo: JobRepository, seed: Any, clock: Any) -> None:
    ids = []
    for _ in range(5):
        ids.append(seed.training())
        clock.advance(1)
    first = repo.claim_due(limit=2, kinds=[JobKind.TRAINING])
    second = repo.claim_due(limit=10, kinds=[JobKind.TRAINING])
    assert [j.id for j in first] == ids[:2]
    assert sorted(j.id for j in second) == sorted(ids[2:])


def test_invocation_log_round_trip(repo: JobRepository, seed: Any, clock: Any) -> None:
    job_id = seed.training()
    log_id = repo.log_invocation(
        CloudFunctionLog(function_name="train", job_id=job_id, attempt=1, started_at=clock.now, outcome="invoked")
    )
    clock.advance(12)
    assert repo.finish_invocation(
        log_id,
        outcome="succeeded",
        finished_at=clock.now,
        duration_s=12.0,
        peak_memory_mb=410.5,
        cold_start=True,
        http_status=202,
        invocation_id="fn-req-1",
    )
    [entry] = repo.invocations(job_id)
    assert (entry.outcome, entry.duration_s, entry.cold_start, entry.finished_at) == (
        "succeeded",
        12.0,
        True,
        clock.now,
    )
    assert entry.started_at == clock.now - timedelta(seconds=12)
    with pytest.raises(TypeError):
        repo.finish_invocation(log_id, outcome="x", job_id="other")


def test_ignored_events_are_logged(repo: JobRepository, seed: Any, caplog: pytest.LogCaptureFixture) -> None:
    job_id = seed.training()
    repo.claim_due()
    with caplog.at_level("INFO", logger="plastinka_store.repository"):
        assert not repo.succeed(job_id, 7, manifest={})
    assert f"{job_id} attempt 7: duplicate or stale" in caplog.text
