"""Everything a request handler needs, built once per app and kept on ``app.state.ctx``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request

from plastinka_api.database import Database
from plastinka_api.keys.service import PrincipalCache
from plastinka_api.metrics import Metrics
from plastinka_api.secrets_file import ServerKeys
from plastinka_api.settings import Settings
from plastinka_api.throttle import FailureThrottle
from plastinka_api.webhooks import WebhookSender
from plastinka_store.repository import JobRepository

if TYPE_CHECKING:
    from plastinka_api.invokers.base import FunctionInvoker


class JobChanges:
    """Wakes long-polls in this process when a job changes here; other instances' changes are polled."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def notify(self, job_id: str) -> None:
        event = self._events.pop(job_id, None)
        if event is not None:
            event.set()

    async def wait(self, job_id: str, timeout_s: float) -> bool:
        event = self._events.setdefault(job_id, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


@dataclass
class AppContext:
    settings: Settings
    metrics: Metrics
    db: Database
    store: Any
    keys: ServerKeys
    webhooks: WebhookSender
    repo: JobRepository
    invoker: FunctionInvoker | None = None
    wake: asyncio.Event | None = None
    webhook_wake: asyncio.Event | None = None
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    auth_throttle: FailureThrottle = field(default_factory=lambda: FailureThrottle(0, 1.0))
    changes: JobChanges = field(default_factory=JobChanges)
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    #: Set by the job engine: stop a cancelled job's run (never start it, kill a local process).
    stop_job: Callable[[str], Awaitable[None]] | None = None

    def wake_dispatcher(self) -> None:
        if self.wake is not None:
            self.wake.set()

    def wake_webhooks(self) -> None:
        if self.webhook_wake is not None:
            self.webhook_wake.set()

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run ``coro`` in the background, keeping a reference so it is not collected mid-flight."""
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx
