"""The job state machine as data: which status may follow which, and nothing else.

Events arrive at least once and out of order, so a function may report ``succeeded`` before its ``running``
callback lands: ``dispatched`` may therefore go straight to ``succeeded``, ``failed`` or ``retry_wait``.
The only ways out of a terminal status are the explicit admin requeue edges (``dead_letter``/``failed`` ->
``queued``).
"""

from __future__ import annotations

from collections.abc import Mapping

from plastinka_schemas import TERMINAL_STATUSES, JobStatus

__all__ = [
    "ACTIVE_STATUSES",
    "CANCELLABLE_STATUSES",
    "CLAIMABLE_STATUSES",
    "REQUEUE_EDGES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "InvalidTransition",
    "is_allowed",
    "sources_of",
    "transition",
]

_S = JobStatus

#: Every allowed edge: status -> the statuses it may move to.
TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = {
    _S.QUEUED: frozenset({_S.DISPATCHED, _S.CANCELLED}),
    _S.DISPATCHED: frozenset({_S.RUNNING, _S.SUCCEEDED, _S.FAILED, _S.RETRY_WAIT, _S.DEAD_LETTER, _S.CANCELLED}),
    _S.RUNNING: frozenset({_S.SUCCEEDED, _S.FAILED, _S.RETRY_WAIT, _S.DEAD_LETTER, _S.CANCELLED}),
    _S.RETRY_WAIT: frozenset({_S.DISPATCHED, _S.CANCELLED}),
    _S.SUCCEEDED: frozenset(),
    _S.FAILED: frozenset({_S.QUEUED}),
    _S.CANCELLED: frozenset(),
    _S.DEAD_LETTER: frozenset({_S.QUEUED}),
}

#: The admin-only edges out of a terminal status.
REQUEUE_EDGES: frozenset[tuple[JobStatus, JobStatus]] = frozenset({(_S.DEAD_LETTER, _S.QUEUED), (_S.FAILED, _S.QUEUED)})

#: Waiting to be handed to a function.
CLAIMABLE_STATUSES: frozenset[JobStatus] = frozenset({_S.QUEUED, _S.RETRY_WAIT})
#: Handed to a function and holding a lease.
ACTIVE_STATUSES: frozenset[JobStatus] = frozenset({_S.DISPATCHED, _S.RUNNING})
#: Not finished yet, so a user may still cancel.
CANCELLABLE_STATUSES: frozenset[JobStatus] = frozenset(s for s in JobStatus if _S.CANCELLED in TRANSITIONS[s])


class InvalidTransition(ValueError):
    """A status change the state machine does not allow."""

    def __init__(self, current: JobStatus, target: JobStatus) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (terminal)"
        super().__init__(f"job status cannot go from {current.value!r} to {target.value!r}; allowed: {allowed}")
        self.current = current
        self.target = target


def is_allowed(current: JobStatus, target: JobStatus) -> bool:
    return JobStatus(target) in TRANSITIONS[JobStatus(current)]


def sources_of(target: JobStatus) -> frozenset[JobStatus]:
    """Every status that may move to ``target``: the ``status IN (...)`` of a conditional UPDATE."""
    return frozenset(s for s, targets in TRANSITIONS.items() if JobStatus(target) in targets)


def transition(current: JobStatus, target: JobStatus) -> JobStatus:
    """Return ``target`` if ``current -> target`` is an allowed edge, else raise :class:`InvalidTransition`."""
    current, target = JobStatus(current), JobStatus(target)
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(current, target)
    return target
