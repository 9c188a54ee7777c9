"""Failed authentications are throttled per client address: a token bucket that only failures drain.

Each address may fail ``burst`` times at once and earns ``per_minute`` tries back per minute. While its bucket
is empty every API-key request from it is answered 429 with ``Retry-After`` *before* the key is looked up, so
guessing goes no faster whatever the guesses are; a valid key costs nothing. The buckets live in the process
(each server process, each instance counts on its own) and are bounded in number.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

MAX_ADDRESSES = 10_000


class FailureThrottle:
    def __init__(self, burst: int, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, when)

    def _tokens(self, address: str, now: float) -> float:
        tokens, when = self._buckets.get(address, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - when) * self.rate)

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may try again, or None when it may try now (always, with ``burst`` 0)."""
        if self.burst <= 0:
            return None
        tokens = self._tokens(address, self._clock())
        if tokens >= 1.0:
            return None
        return max(1, math.ceil((1.0 - tokens) / self.rate))

    def failed(self, address: str) -> None:
        """Count one failed authentication of ``address``."""
        if self.burst <= 0:
            return
        now = self._clock()
        if len(self._buckets) >= MAX_ADDRESSES:
            self._forget_refilled(now)
        self._buckets[address] = (max(0.0, self._tokens(address, now) - 1.0), now)

    def _forget_refilled(self, now: float) -> None:
        full = [a for a in self._buckets if self._tokens(a, now) >= self.burst]
        for address in full:
            del self._buckets[address]
        if len(self._buckets) >= MAX_ADDRESSES:  # a flood of distinct addresses: keep the newest half
            for address in sorted(self._buckets, key=lambda a: self._buckets[a][1])[: MAX_ADDRESSES // 2]:
                del self._buckets[address]
