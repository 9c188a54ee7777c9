"""Fixtures: a migrated job database on SQLite and on real PostgreSQL, and a clock tests can move."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from plastinka_schemas import JobStatus
from plastinka_store import (
    JOB_TABLES,
    Dataset,
    JobEventRow,
    JobRepository,
    Model,
    RetryPolicy,
    TrainingJob,
    create_engine,
    job_kind_of,
    migrate,
    new_id,
)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a freshly migrated job database on each backend."""
    sqlite = f"sqlite:///{tmp_path / 'jobs.db'}"
    url = sqlite if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))
    migrate(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy(max_attempts=3, base_delay_s=10, max_delay_s=100, jitter=0.0, lease_s=60, heartbeat_grace_s=5)


@pytest.fixture
def repo(engine: Engine, policy: RetryPolicy, clock: Clock) -> JobRepository:
    return JobRepository(engine, policy, clock=clock)


class Seed:
    """Arranges rows behind the repository's back: datasets, models, jobs forced into a status."""

    def __init__(self, repo: JobRepository) -> None:
        self.repo = repo
        self.engine = repo.engine

    def dataset(self, owner: str = "alice") -> str:
        dataset = Dataset(
            id=new_id("ds"), owner=owner, filename="sales.xlsx", sha256="a" * 64, size_bytes=10, object_key="k"
        )
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            session.add(dataset)
        return dataset.id

    def training(self, owner: str = "alice", **kwargs: Any) -> str:
        job, created = self.repo.create_training_job(owner=owner, dataset_id=self.dataset(owner), **kwargs)
        assert created
        return job.id

    def model(self, owner: str = "alice") -> str:
        training_id = self.training(owner)
        job = self.repo.get(training_id, owner=owner)
        assert isinstance(job, TrainingJob)
        model = Model(
            id=new_id("mdl"),
            owner=owner,
            dataset_id=job.dataset_id,
            training_job_id=training_id,
            horizon=3,
            quantiles=[0.1, 0.5, 0.9],
            artifact_key="models/m/model.txt",
            artifact_sha256="b" * 64,
        )
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            session.add(model)
        return model.id

    def force(self, job_id: str, status: JobStatus, *, attempt: int, max_attempts: int, **values: Any) -> None:
        table = JOB_TABLES[job_kind_of(job_id)].__table__  # type: ignore[attr-defined]
        past = self.repo.clock() - timedelta(hours=1)
        values = {"next_attempt_at": past, "lease_expires_at": past + timedelta(days=1), **values}
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.id == job_id)
                .values(status=status, attempt=attempt, max_attempts=max_attempts, **values)
            )

    def row(self, job_id: str) -> dict[str, Any]:
        table = JOB_TABLES[job_kind_of(job_id)].__table__  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(table).where(table.c.id == job_id)).mappings().one())

    def events(self, job_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            table = JobEventRow.__table__  # type: ignore[attr-defined]
            rows = conn.execute(sa.select(table).where(table.c.job_id == job_id).order_by(table.c.id)).mappings()
            return [dict(r) for r in rows]


@pytest.fixture
def seed(repo: JobRepository) -> Seed:
    return Seed(repo)
