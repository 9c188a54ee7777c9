"""API keys' rules: high-entropy secrets stored as sha256 digests, with a role and an owner.

A key is ``pk_<43 url-safe characters>`` (256 random bits), so a plain sha256 is a sound one-way store: there
is nothing to brute-force that a slow hash would protect. Lookups are by digest, compared inside the query.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlmodel import Session

from plastinka_api.errors import BadRequest, InvalidField, NotFound
from plastinka_api.keys import repository
from plastinka_api.pagination import Pagination
from plastinka_schemas import Role
from plastinka_store.columns import utcnow
from plastinka_store.ids import new_id
from plastinka_store.tables import ApiKey, WebhookSecret

if TYPE_CHECKING:
    from plastinka_api.context import AppContext

KEY_PREFIX = "pk_"
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
#: A listing shows a key's first characters only when the key is at least this long (the prefix then leaves
#: over 200 bits unknown); a shorter key (a bootstrap key from before the strength check) shows none.
MIN_KEY_FOR_PREFIX = 32
PREFIX_LENGTH = 10
#: The name of the key made from ``PLASTINKA_BOOTSTRAP_ADMIN_KEY``; no other key may take it, so a start with a
#: changed variable can tell the earlier bootstrap keys apart and revoke them.
BOOTSTRAP_NAME = "bootstrap"
_ROLE_RANK = {Role.VIEWER: 0, Role.ANALYST: 1, Role.ADMIN: 2}


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def display_prefix(secret: str) -> str:
    """The first characters, safe to show in listings and logs: empty for a key too short to spare them."""
    return secret[:PREFIX_LENGTH] if len(secret) >= MIN_KEY_FOR_PREFIX else ""


def role_at_least(role: Role, minimum: Role) -> bool:
    return _ROLE_RANK[Role(role)] >= _ROLE_RANK[Role(minimum)]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, name, role and owner."""

    key_id: str
    name: str
    role: Role
    owner: str


def create_key(session: Session, *, name: str, role: Role, owner: str, secret: str | None = None) -> tuple[ApiKey, str]:
    """Insert a key and return the row with its secret (shown once, never stored)."""
    secret = secret or new_secret()
    row = ApiKey(
        id=new_id("key"), key_hash=hash_key(secret), prefix=display_prefix(secret), name=name, role=role, owner=owner
    )
    return repository.add(session, row), secret


def ensure_key(session: Session, *, secret: str, name: str, role: Role, owner: str) -> bool:
    """Make ``secret`` a live key (the bootstrap key); True when it was added or un-revoked."""
    row = repository.by_hash(session, hash_key(secret))
    if row is None:
        create_key(session, name=name, role=role, owner=owner, secret=secret)
        return True
    if row.revoked_at is not None or row.role != role:
        row.revoked_at = None
        row.role = role
        session.add(row)
        session.commit()
        return True
    return False


def replace_bootstrap_key(session: Session, *, secret: str, owner: str) -> list[str]:
    """Make ``secret`` the live bootstrap admin key and revoke every other live bootstrap key (the variable was
    changed, maybe because an earlier version accepted a weak key); returns the revoked keys' ids."""
    ensure_key(session, secret=secret, name=BOOTSTRAP_NAME, role=Role.ADMIN, owner=owner)
    return [row.id for row in repository.revoke_named(session, BOOTSTRAP_NAME, keep_hash=hash_key(secret))]


def count_live_keys(session: Session) -> int:
    return repository.count_live(session)


def lookup(session: Session, secret: str) -> Principal | None:
    row = repository.live_by_hash(session, hash_key(secret))
    if row is None:
        return None
    return Principal(key_id=row.id, name=row.name, role=Role(row.role), owner=row.owner)


def create(ctx: AppContext, *, name: str, role: Role, owner: str) -> tuple[ApiKey, str]:
    """A new key for any owner (admins are the operator)."""
    if name.strip().casefold() == BOOTSTRAP_NAME:
        reason = f"the name {BOOTSTRAP_NAME!r} is kept for the key set by PLASTINKA_BOOTSTRAP_ADMIN_KEY"
        raise InvalidField("body.name", reason)
    with ctx.db.write_session() as session:
        return create_key(session, name=name, role=role, owner=owner)


def listing(ctx: AppContext, pagination: Pagination) -> tuple[int, list[ApiKey]]:
    with ctx.db.session() as session:
        return repository.page(session, pagination)


def revoke(ctx: AppContext, principal: Principal, key_id: str) -> None:
    """Revoke ``key_id`` (not the caller's own key); this instance forgets cached principals at once."""
    if key_id == principal.key_id:
        raise BadRequest("a key cannot revoke itself; use another admin key")
    with ctx.db.write_session() as session:
        found = repository.revoke(session, key_id)
    if found is None:
        raise NotFound("key", key_id)
    ctx.principals.clear()


# --- per-owner webhook secrets ---------------------------------------------------------------------------


def _seal(key: bytes, owner: str, secret: str) -> str:
    nonce = os.urandom(12)
    return base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, secret.encode(), owner.encode())).decode()


def _unseal(key: bytes, owner: str, sealed: str) -> str | None:
    raw = base64.urlsafe_b64decode(sealed.encode())
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], owner.encode()).decode()
    except InvalidTag:  # sealed under another master secret
        return None


def rotate_webhook_secret(ctx: AppContext, owner: str) -> tuple[WebhookSecret, str]:
    """A new secret for ``owner``, replacing the old one at once: the stored row (sealed) and the secret."""
    secret = WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
    row = WebhookSecret(
        owner=owner,
        sealed=_seal(ctx.keys.webhook_storage, owner, secret),
        prefix=secret[: len(WEBHOOK_SECRET_PREFIX) + 4],
        created_at=utcnow(),
    )
    with ctx.db.write_session() as session:
        return repository.put_webhook_secret(session, row), secret


def webhook_signing_key(ctx: AppContext, owner: str) -> bytes | None:
    """The key that signs ``owner``'s webhooks: its own secret, or None (the server's webhook key) without one."""
    with ctx.db.session() as session:
        row = repository.webhook_secret(session, owner)
    if row is None:
        return None
    secret = _unseal(ctx.keys.webhook_storage, owner, row.sealed)
    return None if secret is None else secret.encode()


class PrincipalCache:
    """A few seconds of memory per key digest, so status polling does not hit the key table every time.

    Revocation through this instance clears it at once; other instances notice within ``ttl_s``.
    """

    def __init__(self, ttl_s: float = 2.0) -> None:
        self._ttl = ttl_s
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    def get(self, secret: str) -> tuple[bool, Principal | None]:
        entry = self._entries.get(hash_key(secret))
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, secret: str, principal: Principal | None) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[hash_key(secret)] = (time.monotonic() + self._ttl, principal)

    def clear(self) -> None:
        self._entries.clear()
