"""The state machine as data."""

from __future__ import annotations

import itertools

import pytest

from plastinka_schemas import TERMINAL_STATUSES, JobStatus
from plastinka_store import TRANSITIONS, InvalidTransition, is_allowed, transition
from plastinka_store.states import CANCELLABLE_STATUSES, CLAIMABLE_STATUSES, REQUEUE_EDGES, sources_of

S = JobStatus


def test_every_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(JobStatus)


def test_the_happy_path_and_the_retry_loop_are_edges() -> None:
    for current, target in [
        (S.QUEUED, S.DISPATCHED),
        (S.DISPATCHED, S.RUNNING),
        (S.RUNNING, S.SUCCEEDED),
        (S.RUNNING, S.FAILED),
        (S.RUNNING, S.RETRY_WAIT),
        (S.RETRY_WAIT, S.DISPATCHED),
        (S.RUNNING, S.DEAD_LETTER),
    ]:
        assert transition(current, target) is target


def test_terminal_statuses_only_leave_by_admin_requeue() -> None:
    for status in TERMINAL_STATUSES:
        leaving = {(status, target) for target in TRANSITIONS[status]}
        assert leaving <= REQUEUE_EDGES
    assert {(S.DEAD_LETTER, S.QUEUED), (S.FAILED, S.QUEUED)} == REQUEUE_EDGES
    assert TRANSITIONS[S.SUCCEEDED] == TRANSITIONS[S.CANCELLED] == frozenset()


def test_everything_else_is_refused_with_a_clear_error() -> None:
    refused = [(c, t) for c, t in itertools.product(JobStatus, JobStatus) if t not in TRANSITIONS[c]]
    assert len(refused) == 64 - 17
    for current, target in refused:
        assert not is_allowed(current, target)
        with pytest.raises(InvalidTransition) as error:
            transition(current, target)
        assert error.value.current is current and error.value.target is target
        assert f"from '{current.value}' to '{target.value}'" in str(error.value)


def test_no_self_loops_and_derived_sets() -> None:
    assert all(status not in targets for status, targets in TRANSITIONS.items())
    assert sources_of(S.DISPATCHED) == CLAIMABLE_STATUSES == {S.QUEUED, S.RETRY_WAIT}
    assert {S.QUEUED, S.DISPATCHED, S.RUNNING, S.RETRY_WAIT} == CANCELLABLE_STATUSES
    assert transition("queued", "dispatched") is S.DISPATCHED  # type: ignore[arg-type]
