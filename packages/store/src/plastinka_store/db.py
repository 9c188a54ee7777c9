"""Engines and migrations: SQLite by default (WAL, busy timeout, foreign keys), PostgreSQL via psycopg 3."""

from __future__ import annotations

import argparse
import os
import sqlite3
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

__all__ = [
    "DEFAULT_DATABASE_URL",
    "IMMEDIATE",
    "alembic_config",
    "create_engine",
    "main",
    "migrate",
    "normalize_url",
]

DEFAULT_DATABASE_URL = "sqlite:///plastinka.db"
#: Execution option: on SQLite, open the transaction with ``BEGIN IMMEDIATE`` (take the write lock first, so
#: a read-then-write transaction never fails to upgrade its lock); a no-op on PostgreSQL.
IMMEDIATE = "plastinka_begin_immediate"
#: Advisory lock id that serialises concurrent migrations on PostgreSQL ("pljb").
_MIGRATION_LOCK_KEY = 0x706C6A62


def normalize_url(url: str | URL) -> URL:
    """Accept ``postgres://`` and ``postgresql://`` and use psycopg 3 for both."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine(url: str | URL = DEFAULT_DATABASE_URL, *, busy_timeout_ms: int = 30_000, **kwargs: Any) -> Engine:
    """An engine for ``url``. SQLite connections get WAL, a busy timeout and foreign keys on every connect."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, busy_timeout_ms, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(parsed, **kwargs)


def _sqlite_engine(url: URL, busy_timeout_ms: int, **kwargs: Any) -> Engine:
    in_memory = url.database in {None, "", ":memory:"}
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", busy_timeout_ms / 1000)
    connect_args.setdefault("check_same_thread", False)
    if in_memory:
        kwargs.setdefault("poolclass", StaticPool)
    engine = sa.create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN; take it over so "begin" below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def alembic_config(url: str | URL | None = None) -> Config:
    """Alembic configuration for the migrations shipped inside this package."""
    config = Config()
    config.set_main_option("script_location", str(files("plastinka_store") / "migrations"))
    if url is not None:
        config.attributes["url"] = normalize_url(url)
    return config


def migrate(url: str | URL | Engine, revision: str = "head") -> None:
    """Bring the database at ``url`` (or behind an engine) up to ``revision``.

    Safe when several API instances start at once: the migration holds a PostgreSQL advisory lock (SQLite: the
    write lock) for its whole transaction, so the others wait and then find nothing left to do.
    """
    engine = url if isinstance(url, Engine) else create_engine(url)
    try:
        with engine.connect().execution_options(**{IMMEDIATE: True}) as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if not isinstance(url, Engine):
            engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """``plastinka-store-migrate``: upgrade the job database to the newest schema."""
    parser = argparse.ArgumentParser(prog="plastinka-store-migrate", description=main.__doc__)
    parser.add_argument(
        "--url",
        default=os.environ.get("PLASTINKA_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="database URL (default: $PLASTINKA_DATABASE_URL or %(default)s)",
    )
    parser.add_argument("--revision", default="head", help="target revision (default: head)")
    args = parser.parse_args(argv)
    migrate(args.url, args.revision)
    print(f"migrated {normalize_url(args.url).render_as_string(hide_password=True)} to {args.revision}")
    return 0
