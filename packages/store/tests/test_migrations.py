"""Migrations shipped in the package produce exactly the SQLModel metadata, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from plastinka_store import Dataset, create_engine, metadata, migrate, normalize_url
from plastinka_store.db import main


def test_migrated_schema_matches_the_metadata(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, metadata) == []
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0003"
        tables = set(sa.inspect(conn).get_table_names())
    assert tables == set(metadata.tables) | {"alembic_version"}
    assert {
        "models",
        "datasets",
        "training_jobs",
        "prediction_jobs",
        "cloud_function_logs",
        "job_events",
        "api_keys",
    } <= tables


def test_migrating_twice_is_a_no_op(db_url: str, engine: Engine) -> None:
    migrate(db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1


def test_the_hot_indexes_and_uniques_exist(engine: Engine) -> None:
    inspector = sa.inspect(engine)
    for table in ("training_jobs", "prediction_jobs"):
        indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes(table)}
        assert {("status", "next_attempt_at"), ("status", "lease_expires_at"), ("owner", "created_at")} <= indexes
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
        assert ("owner", "idempotency_key") in uniques


def test_datetimes_round_trip_as_aware_utc(engine: Engine) -> None:
    moscow = timezone(timedelta(hours=3))
    written = datetime(2026, 7, 1, 15, 30, 5, 123456, tzinfo=moscow)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        session.add(
            Dataset(
                id="ds_t", owner="o", filename="f", sha256="0" * 64, size_bytes=1, object_key="k", created_at=written
            )
        )
    with Session(engine) as session:
        read = session.get(Dataset, "ds_t")
        assert read is not None
        assert read.created_at == written and read.created_at.tzinfo is UTC
        assert read.created_at.hour == 12
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), Session(engine) as session:
        session.add(
            Dataset(
                id="ds_n",
                owner="o",
                filename="f",
                sha256="0" * 64,
                size_bytes=1,
                object_key="k",
                created_at=datetime(2026, 1, 1),
            )
        )
        session.commit()


def test_sqlite_connections_are_configured(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout_ms=1234)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_urls_use_psycopg_3() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_console_script_migrates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--url", url]) == 0
    assert "migrated" in capsys.readouterr().out
    script = Path(sys.executable).with_name("plastinka-store-migrate")
    other = f"sqlite:///{tmp_path / 'cli2.db'}"
    result = subprocess.run([str(script), "--url", other], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    engine = create_engine(other)
    assert set(sa.inspect(engine).get_table_names()) >= set(metadata.tables)
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_concurrent_migrations_of_an_empty_database_all_succeed(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """Several API instances starting at once all run ``migrate``: one migrates, the others wait and no-op."""
    url = f"sqlite:///{tmp_path / 'race.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    go = tmp_path / "go"
    workers = Path(__file__).with_name("workers.py")
    procs = [
        subprocess.Popen(
            [sys.executable, str(workers), "migrate", url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
    engine.dispose()
