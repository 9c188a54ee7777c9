"""How often and how soon a job is tried again, and how long an attempt may stay silent."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter and a cap, plus the lease that keeps an attempt alive.

    ``jitter`` is a fraction: the delay of attempt ``n`` is drawn uniformly from
    ``[raw * (1 - jitter), raw]`` with ``raw = min(cap, base * 2 ** (n - 1))``, so it never exceeds the cap
    and jobs that failed together do not come back together.
    """

    max_attempts: int = 3
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0
    jitter: float = 0.5
    lease_s: float = 900.0
    heartbeat_grace_s: float = 60.0
    rand: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay_s < 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError("need 0 <= base_delay_s <= max_delay_s")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter is a fraction in [0, 1]")
        if self.lease_s <= 0 or self.heartbeat_grace_s < 0:
            raise ValueError("lease_s must be positive and heartbeat_grace_s not negative")

    def raw_delay(self, attempt: int) -> float:
        """The backoff before jitter after failed attempt ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError("attempts are numbered from 1")
        exponent = min(attempt - 1, 62)  # beyond this the cap has long applied; keeps 2**n finite
        return float(min(self.max_delay_s, self.base_delay_s * 2.0**exponent))

    def next_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` before the next one."""
        raw = self.raw_delay(attempt)
        return raw * (1.0 - self.jitter * self.rand())

    def next_attempt_at(self, attempt: int, now: datetime) -> datetime:
        return now + timedelta(seconds=self.next_delay(attempt))

    def should_dead_letter(self, attempt: int, max_attempts: int | None = None) -> bool:
        """True when attempt ``attempt`` was the last one allowed (``max_attempts`` overrides the policy's)."""
        limit = self.max_attempts if max_attempts is None else max_attempts
        return attempt >= limit

    @property
    def lease(self) -> timedelta:
        """How long a claim or heartbeat keeps an attempt alive before the sweeper may retry it."""
        return timedelta(seconds=self.lease_s + self.heartbeat_grace_s)

    def lease_expires_at(self, now: datetime) -> datetime:
        return now + self.lease
