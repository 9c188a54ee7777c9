"""The API's handle on the job database: sessions, and running blocking work off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from plastinka_store.db import IMMEDIATE

P = ParamSpec("P")
T = TypeVar("T")


class Database:
    """SQLModel sessions on one engine; ``call`` runs a blocking function in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._write_engine = engine.execution_options(**{IMMEDIATE: True})

    def session(self) -> Session:
        """For reads (and single-statement writes)."""
        return Session(self.engine, expire_on_commit=False)

    def write_session(self) -> Session:
        """For read-then-write transactions: on SQLite the write lock is taken at BEGIN (``BEGIN IMMEDIATE``),
        so the transaction waits its turn instead of failing to upgrade a read lock under concurrency."""
        return Session(self._write_engine, expire_on_commit=False)

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
