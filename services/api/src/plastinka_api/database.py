"""The API's handle on the job database: sessions, and running blocking work off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

P = ParamSpec("P")
T = TypeVar("T")


class Database:
    """SQLModel sessions on one engine; ``call`` runs a blocking function in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
