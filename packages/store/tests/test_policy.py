"""RetryPolicy: exponential backoff with jitter and a cap, dead-lettering, leases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plastinka_store import RetryPolicy


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=10, max_delay_s=100, jitter=0.0)
    assert [policy.next_delay(n) for n in range(1, 7)] == [10, 20, 40, 80, 100, 100]
    assert policy.next_delay(10_000) == 100  # no overflow for absurd attempt numbers


def test_jitter_stays_between_the_floor_and_the_raw_delay() -> None:
    low = RetryPolicy(base_delay_s=10, max_delay_s=100, jitter=0.5, rand=lambda: 1.0)
    high = RetryPolicy(base_delay_s=10, max_delay_s=100, jitter=0.5, rand=lambda: 0.0)
    assert [low.next_delay(n) for n in (1, 3, 9)] == [5, 20, 50]
    assert [high.next_delay(n) for n in (1, 3, 9)] == [10, 40, 100]
    real = RetryPolicy(base_delay_s=10, max_delay_s=100, jitter=0.5)
    draws = {real.next_delay(4) for _ in range(200)}
    assert all(40 <= d <= 80 for d in draws) and len(draws) > 100  # spread, not one value


def test_dead_letter_after_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.should_dead_letter(n) for n in (1, 2, 3, 4)] == [False, False, True, True]
    assert policy.should_dead_letter(3, max_attempts=5) is False


def test_lease_is_length_plus_grace() -> None:
    policy = RetryPolicy(lease_s=60, heartbeat_grace_s=15)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert policy.lease_expires_at(now) == now + timedelta(seconds=75)
    assert policy.next_attempt_at(1, now) > now


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base_delay_s": 10, "max_delay_s": 5}, {"jitter": 1.5}, {"lease_s": 0}],
)
def test_nonsense_is_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError):
        RetryPolicy().next_delay(0)
