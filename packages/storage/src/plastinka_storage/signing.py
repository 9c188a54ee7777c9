"""HMAC-SHA256 signed, expiring URLs for the local backend (what S3 presigning is for the S3 backend).

A URL looks like ``<base_url>/<key>?expires=<unix seconds>[&sha256=<hex>]&signature=<hex>``. The signature binds
the HTTP method, the key, the expiry and (for uploads) the declared sha256, so changing any of them, or using a
GET URL to PUT, is refused. The web app serving ``base_url`` calls ``verify_signature`` (or
``verify_signed_url``) before touching the store.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from plastinka_storage.errors import InvalidKey, InvalidSignature
from plastinka_storage.keys import validate_key, validate_sha256

__all__ = ["SignedRequest", "build_signed_url", "sign", "verify_signature", "verify_signed_url"]

_CONTEXT = "plastinka-storage-url-v1"
_METHODS = frozenset({"GET", "PUT", "HEAD"})


@dataclass(frozen=True)
class SignedRequest:
    """What a verified signed URL allows."""

    method: str
    key: str
    expires_at: datetime
    sha256: str | None = None


def _secret(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(secret: str | bytes, *, method: str, key: str, expires: int, sha256: str | None = None) -> str:
    """The hex HMAC-SHA256 of one (method, key, expiry, sha256) grant."""
    message = "\n".join((_CONTEXT, method.upper(), key, str(int(expires)), sha256 or ""))
    return hmac.new(_secret(secret), message.encode("utf-8"), hashlib.sha256).hexdigest()


def build_signed_url(
    secret: str | bytes, base_url: str, *, method: str, key: str, expires: int, sha256: str | None = None
) -> str:
    """A signed URL for ``key`` under ``base_url``."""
    method = method.upper()
    if method not in _METHODS:
        raise ValueError(f"cannot sign method {method!r}")
    validate_key(key)
    params = {"expires": str(int(expires))}
    if sha256 is not None:
        params["sha256"] = validate_sha256(sha256)
    params["signature"] = sign(secret, method=method, key=key, expires=expires, sha256=params.get("sha256"))
    return f"{base_url.rstrip('/')}/{quote(key, safe='/')}?{urlencode(params)}"


def verify_signature(
    secret: str | bytes,
    *,
    method: str,
    key: str,
    expires: int | str,
    signature: str,
    sha256: str | None = None,
    now: float | None = None,
) -> SignedRequest:
    """Check one signed grant; return it, or raise ``InvalidSignature`` (malformed, bad signature, expired)."""
    try:
        validate_key(key)
        expiry = int(expires)
        if sha256 is not None:
            sha256 = validate_sha256(sha256)
    except (InvalidKey, ValueError, TypeError) as exc:
        raise InvalidSignature("malformed", key=key if isinstance(key, str) else None) from exc
    wanted = sign(secret, method=method, key=key, expires=expiry, sha256=sha256)
    if not isinstance(signature, str) or not hmac.compare_digest(wanted, signature.lower()):
        raise InvalidSignature("bad signature", key=key)
    if (time.time() if now is None else now) >= expiry:
        raise InvalidSignature("expired", key=key)
    return SignedRequest(method=method.upper(), key=key, expires_at=datetime.fromtimestamp(expiry, UTC), sha256=sha256)


def verify_signed_url(
    secret: str | bytes, url: str, *, method: str, base_url: str, now: float | None = None
) -> SignedRequest:
    """Verify a whole signed URL as received (``base_url`` is the prefix it was built with)."""
    parts = urlsplit(url)
    base_path = urlsplit(base_url).path.rstrip("/") + "/"
    if not parts.path.startswith(base_path):
        raise InvalidSignature("malformed")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)

    def one(name: str) -> str | None:
        values = query.get(name)
        if values is not None and len(values) != 1:
            raise InvalidSignature("malformed")
        return values[0] if values else None

    expires, signature = one("expires"), one("signature")
    if expires is None or signature is None:
        raise InvalidSignature("malformed")
    key = unquote(parts.path[len(base_path) :])
    return verify_signature(
        secret, method=method, key=key, expires=expires, signature=signature, sha256=one("sha256"), now=now
    )
