"""Fair work in the repository, on SQLite and real PostgreSQL: claims take owners in turn and respect the
per-owner running cap (also when dispatchers race), and the per-owner queue quota holds under concurrent
submissions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plastinka_schemas import JobKind, JobStatus
from plastinka_store import JobRepository, QuotaExceeded
from plastinka_store.repository import Candidate, fair_order

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _jobs(repo: JobRepository, seed: Any, owner: str, count: int, clock: Any) -> list[str]:
    dataset = seed.dataset(owner)
    ids = []
    for _ in range(count):
        ids.append(repo.create_training_job(owner=owner, dataset_id=dataset)[0].id)
        clock.advance(1)
    return ids


def _finish(repo: JobRepository, job_id: str) -> None:
    assert repo.succeed(job_id, 1, manifest={"artifacts": {}})


def test_after_a_burst_the_next_free_slot_goes_to_the_other_owner(repo: JobRepository, seed: Any, clock: Any) -> None:
    burst = _jobs(repo, seed, "alice", 20, clock)
    [late] = _jobs(repo, seed, "bob", 1, clock)
    [first] = repo.claim_due(limit=1)
    assert first.id == burst[0]  # equal load, neither served yet: the oldest job
    _finish(repo, first.id)
    clock.advance(1)
    # Alice has 19 older jobs due, but she was just served and Bob never was.
    assert [job.id for job in repo.claim_due(limit=1)] == [late]
    _finish(repo, late)
    clock.advance(1)
    assert [job.id for job in repo.claim_due(limit=1)] == [burst[1]]


def test_owners_with_equal_load_alternate_within_one_claim(repo: JobRepository, seed: Any, clock: Any) -> None:
    alice = _jobs(repo, seed, "alice", 6, clock)
    bob = _jobs(repo, seed, "bob", 6, clock)
    claimed = [job.owner for job in repo.claim_due(limit=6)]
    assert claimed == ["alice", "bob"] * 3
    # Each owner's own jobs keep their order.
    _, dispatched = repo.list_jobs(JobKind.TRAINING, owner="alice", statuses=[JobStatus.DISPATCHED])
    assert sorted(job.id for job in dispatched) == sorted(alice[:3])
    assert len(bob) == 6


def test_the_per_owner_running_cap_holds_and_frees_with_an_ended_job(
    repo: JobRepository, seed: Any, clock: Any
) -> None:
    _jobs(repo, seed, "alice", 10, clock)
    held = repo.claim_due(limit=10, per_owner=3)
    assert len(held) == 3
    assert repo.claim_due(limit=10, per_owner=3) == []  # alice is at her cap, nobody else waits
    [bob] = _jobs(repo, seed, "bob", 1, clock)
    assert [job.id for job in repo.claim_due(limit=10, per_owner=3)] == [bob]
    assert repo.cancel(held[0].id, owner="alice")  # a cancelled job frees its slot at once
    assert [job.owner for job in repo.claim_due(limit=10, per_owner=3)] == ["alice"]


def test_racing_dispatchers_never_exceed_the_per_owner_cap(repo: JobRepository, seed: Any, clock: Any) -> None:
    _jobs(repo, seed, "alice", 30, clock)
    with ThreadPoolExecutor(6) as pool:
        claims = list(pool.map(lambda _: repo.claim_due(limit=5, per_owner=4), range(12)))
    assert sum(len(claim) for claim in claims) == 4
    total, _ = repo.list_jobs(JobKind.TRAINING, owner="alice", statuses=[JobStatus.DISPATCHED])
    assert total == 4


def test_the_queue_quota_refuses_past_the_limit_and_frees_on_dispatch_or_cancel(
    repo: JobRepository, seed: Any, clock: Any
) -> None:
    dataset = seed.dataset("alice")
    waiting = [
        repo.create_training_job(owner="alice", dataset_id=dataset, idempotency_key=f"k{i}", max_waiting=3)[0].id
        for i in range(3)
    ]
    with pytest.raises(QuotaExceeded) as refused:
        repo.create_training_job(owner="alice", dataset_id=dataset, max_waiting=3)
    assert (refused.value.waiting, refused.value.limit) == (3, 3)
    # An idempotent repeat is the job it created, not a new one: no quota needed.
    again, created = repo.create_training_job(owner="alice", dataset_id=dataset, idempotency_key="k0", max_waiting=3)
    assert (again.id, created) == (waiting[0], False)
    # Another owner has a quota of its own.
    assert repo.create_training_job(owner="bob", dataset_id=seed.dataset("bob"), max_waiting=3)[1]
    assert repo.cancel(waiting[0], owner="alice")
    assert repo.create_training_job(owner="alice", dataset_id=dataset, max_waiting=3)[1]
    repo.claim_due(limit=1)  # a dispatched job no longer waits
    assert repo.create_training_job(owner="alice", dataset_id=dataset, max_waiting=3)[1]


def test_concurrent_submissions_never_overshoot_the_quota(repo: JobRepository, seed: Any) -> None:
    dataset = seed.dataset("alice")

    def submit(_: int) -> bool:
        try:
            return repo.create_training_job(owner="alice", dataset_id=dataset, max_waiting=5)[1]
        except QuotaExceeded:
            return False

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(submit, range(24)))
    assert outcomes.count(True) == 5
    total, _ = repo.list_jobs(JobKind.TRAINING, owner="alice", statuses=[JobStatus.QUEUED])
    assert total == 5


def _candidate(owner: str, minute: int) -> Candidate:
    due = T0 + timedelta(minutes=minute)
    return Candidate(owner, due, f"trn_{owner}_{minute:03d}", JobKind.TRAINING, 0, JobStatus.QUEUED)


def test_fair_order_prefers_less_load_then_longest_unserved_then_oldest() -> None:
    queues = {
        "busy": [_candidate("busy", m) for m in range(5)],
        "idle": [_candidate("idle", 50)],
        "recent": [_candidate("recent", 60), _candidate("recent", 61)],
    }
    served = {"busy": T0, "recent": T0 + timedelta(hours=1)}
    order = fair_order(queues, {"busy": 2}, served, limit=10, per_owner=3, now=T0 + timedelta(hours=2))
    # idle and recent have nothing in flight and idle was never served; then recent has less in flight than
    # busy (twice), and busy takes one job up to its cap of 3.
    assert [c.owner for c in order] == ["idle", "recent", "recent", "busy"]
    assert order[-1].job_id == "trn_busy_000"
