"""Per-job callback tokens: HMAC-SHA256 over the job id, attempt and expiry (stdlib only).

A token looks like ``v1.<job_id>.<attempt>.<expires_unix>.<signature>``. It lets the function of one attempt
report on that attempt only, until it expires; nothing else is trusted from it without the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["InvalidJobToken", "JobTokenClaims", "sign_job_token", "verify_job_token"]

_VERSION = "v1"
_PURPOSE = b"plastinka-job-callback\x00"
_MIN_SECRET_BYTES = 16


class InvalidJobToken(ValueError):
    """A callback token that is malformed, forged, for another job or attempt, or expired."""


@dataclass(frozen=True)
class JobTokenClaims:
    job_id: str
    attempt: int
    expires_at: datetime


def _key(secret: str | bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    if len(key) < _MIN_SECRET_BYTES:
        raise ValueError(f"the callback secret must be at least {_MIN_SECRET_BYTES} bytes")
    return key


def _signature(key: bytes, payload: str) -> str:
    digest = hmac.new(key, _PURPOSE + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_job_token(secret: str | bytes, job_id: str, attempt: int, expires_at: datetime) -> str:
    """A token for attempt ``attempt`` of ``job_id``, valid until ``expires_at`` (timezone-aware)."""
    if "." in job_id or not job_id:
        raise ValueError("a job id is non-empty and has no '.'")
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    payload = f"{_VERSION}.{job_id}.{attempt}.{int(expires_at.timestamp())}"
    return f"{payload}.{_signature(_key(secret), payload)}"


def verify_job_token(
    secret: str | bytes,
    token: str,
    job_id: str,
    *,
    attempt: int | None = None,
    now: datetime | None = None,
) -> JobTokenClaims:
    """The claims of a genuine, unexpired token for ``job_id`` (and ``attempt`` when given).

    Raises :class:`InvalidJobToken` otherwise. The signature is checked (in constant time) before anything
    the token says is believed.
    """
    key = _key(secret)
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != _VERSION:
        raise InvalidJobToken("malformed callback token")
    payload, signature = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_signature(key, payload).encode(), signature.encode()):
        raise InvalidJobToken("callback token signature does not match")
    token_job, raw_attempt, raw_expiry = parts[1:4]
    if not hmac.compare_digest(token_job.encode(), job_id.encode()):
        raise InvalidJobToken("callback token is for another job")
    try:
        claims = JobTokenClaims(token_job, int(raw_attempt), datetime.fromtimestamp(int(raw_expiry), UTC))
    except (ValueError, OverflowError, OSError):
        raise InvalidJobToken("malformed callback token") from None
    if attempt is not None and claims.attempt != attempt:
        raise InvalidJobToken(f"callback token is for attempt {claims.attempt}, not {attempt}")
    if (now or datetime.now(UTC)) >= claims.expires_at:
        raise InvalidJobToken("callback token has expired")
    return claims
