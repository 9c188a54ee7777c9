"""Webhooks: a job's end is POSTed to its ``callback_url``, signed with HMAC-SHA256, retried on transient errors.

The receiver checks ``X-Plastinka-Signature: sha256=<hex>`` where the hex digest is
``HMAC-SHA256(secret, f"{X-Plastinka-Timestamp}.{body}")``; the timestamp lets it refuse stale replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Plastinka-Signature"
TIMESTAMP_HEADER = "X-Plastinka-Timestamp"
EVENT_HEADER = "X-Plastinka-Event"


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: bytes, timestamp: int, body: bytes, signature: str, *, max_age_s: float = 300.0) -> bool:
    """What a receiver does: constant-time compare and a freshness check."""
    if abs(time.time() - timestamp) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class _Retryable(Exception):
    pass


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _Retryable | httpx.TransportError)


class WebhookSender:
    """Delivers signed JSON bodies; ``deliver`` returns True once a receiver answered 2xx."""

    def __init__(self, secret: bytes, *, attempts: int = 5, timeout_s: float = 10.0, max_wait_s: float = 30.0) -> None:
        self._secret = secret
        self._attempts = attempts
        self._timeout = timeout_s
        self._max_wait = max_wait_s

    def headers(self, event: str, body: bytes) -> dict[str, str]:
        timestamp = int(time.time())
        return {
            "Content-Type": "application/json",
            EVENT_HEADER: event,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }

    async def post_once(self, url: str, event: str, payload: dict[str, Any]) -> tuple[bool, bool, str | None]:
        """One delivery try for the outbox: ``(delivered, worth_retrying, error)``."""
        body = json.dumps(payload, default=str, separators=(",", ":")).encode()
        try:
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
                response = await client.post(url, content=body, headers=self.headers(event, body))
        except httpx.HTTPError as exc:
            return False, True, f"{type(exc).__name__}: {exc}"
        if response.status_code < 300:
            return True, False, None
        retryable = response.status_code == 429 or response.status_code >= 500
        return False, retryable, f"answered {response.status_code}"

    async def deliver(self, url: str, event: str, payload: dict[str, Any]) -> bool:
        body = json.dumps(payload, default=str, separators=(",", ":")).encode()
        try:
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(self._attempts),
                    wait=wait_random_exponential(multiplier=0.5, max=self._max_wait),
                    retry=retry_if_exception(_is_transient),
                    reraise=True,
                ):
                    with attempt:
                        # Signed per attempt: the timestamp must be fresh when the receiver checks it.
                        response = await client.post(url, content=body, headers=self.headers(event, body))
                        if response.status_code == 429 or response.status_code >= 500:
                            raise _Retryable(f"webhook {url} answered {response.status_code}")
                        if response.status_code >= 400:
                            log.warning("webhook %s refused with %s; not retried", url, response.status_code)
                            return False
            return True
        except (_Retryable, httpx.HTTPError) as exc:
            log.warning("webhook %s gave up: %s", url, exc)
            return False
