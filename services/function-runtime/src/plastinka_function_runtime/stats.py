"""How an attempt ran: wall time, peak memory, and whether this process was fresh (a cold start)."""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field

from plastinka_schemas import RunStats

_invocations = 0


def next_invocation_is_cold() -> bool:
    """True for the first invocation in this process: the platform started it (and imported us) for this call."""
    global _invocations  # noqa: PLW0603 - one counter per process is the point
    _invocations += 1
    return _invocations == 1


def peak_memory_mb() -> float:
    """The process's peak resident set (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@dataclass
class Meter:
    cold_start: bool
    started: float = field(default_factory=time.perf_counter)

    def stats(self) -> RunStats:
        return RunStats(
            duration_s=round(time.perf_counter() - self.started, 3),
            peak_memory_mb=round(peak_memory_mb(), 1),
            cold_start=self.cold_start,
        )
