"""Webhooks: a job's end is POSTed to its ``callback_url``, signed with HMAC-SHA256 (the outbox retries).

The receiver checks ``X-Plastinka-Signature: sha256=<hex>`` where the hex digest is
``HMAC-SHA256(secret, f"{X-Plastinka-Timestamp}.{body}")``; the timestamp lets it refuse stale replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from plastinka_api import egress
from plastinka_api.egress import (
    Destination,
    EgressPolicy,
    RefusedDestination,
    Resolver,
    UnresolvedDestination,
    system_resolver,
)
from plastinka_api.errors import InvalidField

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


class WebhookSender:
    """Delivers signed JSON bodies to checked, pinned destinations (:mod:`plastinka_api.egress`); no redirects."""

    def __init__(
        self,
        secret: bytes,
        *,
        policy: EgressPolicy | None = None,
        resolver: Resolver = system_resolver,
        timeout_s: float = 10.0,
    ) -> None:
        self._secret = secret
        self.policy = policy or EgressPolicy()
        self._resolver = resolver
        self._timeout = timeout_s

    def headers(self, event: str, body: bytes, secret: bytes | None = None) -> dict[str, str]:
        timestamp = int(time.time())
        return {
            "Content-Type": "application/json",
            EVENT_HEADER: event,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret or self._secret, timestamp, body),
        }

    async def check(self, url: str) -> Destination:
        """The destination ``url`` would be pinned to now; :class:`RefusedDestination` when it may not be called."""
        return await egress.check(url, self.policy, self._resolver)

    async def post_once(
        self, url: str, event: str, payload: dict[str, Any], *, secret: bytes | None = None
    ) -> tuple[bool, bool, str | None]:
        """One delivery try for the outbox: ``(delivered, worth_retrying, error)``.

        The destination is checked again here (not only at submission) and the connection goes to the address
        that passed; ``secret`` is the owner's webhook secret (the sender's default key without one).
        """
        body = json.dumps(payload, default=str, separators=(",", ":")).encode()
        try:
            destination = await self.check(url)
        except UnresolvedDestination as exc:
            return False, True, str(exc)
        except RefusedDestination as exc:
            return False, False, f"refused destination: {exc}"
        options = destination.request_options()
        headers = {**self.headers(event, body, secret), **options.pop("headers")}
        try:
            # An explicit transport: no proxy from the environment (it would undo the pinning), while
            # SSL_CERT_FILE / SSL_CERT_DIR still name the roots certificates are checked against.
            transport = httpx.AsyncHTTPTransport(retries=0)
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False, transport=transport) as client:
                response = await client.post(destination.pinned_url, content=body, headers=headers, **options)
        except httpx.HTTPError as exc:
            return False, True, f"{type(exc).__name__}: {exc}"
        if response.status_code < 300:
            return True, False, None
        retryable = response.status_code == 429 or response.status_code >= 500
        return False, retryable, f"answered {response.status_code}"


async def check_callback_url(sender: WebhookSender, url: str, where: str = "body.callback_url") -> None:
    """At submission: a 422 naming the field unless ``url`` resolves to an address webhooks may go to."""
    try:
        await sender.check(url)
    except RefusedDestination as exc:
        raise InvalidField(where, str(exc)) from None
