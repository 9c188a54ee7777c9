"""Callback tokens: genuine ones verify; forged, foreign, tampered and expired ones do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plastinka_store import InvalidJobToken, sign_job_token, verify_job_token

SECRET = "a-secret-that-is-long-enough"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
JOB = "tj_01hzz0000000000000000000000"


def _token(job: str = JOB, attempt: int = 2, ttl_s: int = 3600, secret: str = SECRET) -> str:
    return sign_job_token(secret, job, attempt, NOW + timedelta(seconds=ttl_s))


def test_a_genuine_token_verifies_with_its_claims() -> None:
    claims = verify_job_token(SECRET, _token(), JOB, attempt=2, now=NOW)
    assert (claims.job_id, claims.attempt, claims.expires_at) == (JOB, 2, NOW + timedelta(hours=1))
    assert verify_job_token(SECRET.encode(), _token(), JOB, now=NOW).attempt == 2


@pytest.mark.parametrize(
    ("token", "job", "attempt", "reason"),
    [
        (_token(secret="another-secret-long-enough"), JOB, None, "signature"),
        (_token(job="tj_other"), JOB, None, "another job"),
        (_token(), JOB, 3, "attempt"),
        (_token().replace(".2.", ".3.", 1), JOB, None, "signature"),  # attempt bumped, signature kept
        (_token()[:-2] + ("AA" if not _token().endswith("AA") else "BB"), JOB, None, "signature"),
        ("v1.only.three", JOB, None, "malformed"),
        ("v2" + _token()[2:], JOB, None, "malformed"),
        ("", JOB, None, "malformed"),
    ],
)
def test_forged_or_foreign_tokens_are_refused(token: str, job: str, attempt: int | None, reason: str) -> None:
    with pytest.raises(InvalidJobToken, match=reason):
        verify_job_token(SECRET, token, job, attempt=attempt, now=NOW)


def test_expired_tokens_are_refused() -> None:
    token = _token(ttl_s=60)
    assert verify_job_token(SECRET, token, JOB, now=NOW + timedelta(seconds=59)).attempt == 2
    with pytest.raises(InvalidJobToken, match="expired"):
        verify_job_token(SECRET, token, JOB, now=NOW + timedelta(seconds=60))


def test_signing_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        sign_job_token("short", JOB, 1, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_job_token(SECRET, JOB, 1, NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match=r"no '\.'"):
        sign_job_token(SECRET, "tj.x", 1, NOW)
    with pytest.raises(ValueError, match="from 1"):
        sign_job_token(SECRET, JOB, 0, NOW)
