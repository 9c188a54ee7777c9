"""SQL of the ``api_keys`` and ``webhook_secrets`` tables.

Keys are the one deployment-wide table: an admin is the operator, who lists and revokes every owner's keys, so
these queries are not owner-scoped (the documented exception); a key is found by its sha256 digest.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from plastinka_api.pagination import Pagination
from plastinka_store.columns import utcnow
from plastinka_store.tables import ApiKey, WebhookSecret


def add(session: Session, row: ApiKey) -> ApiKey:
    session.add(row)
    session.commit()
    return row


def by_hash(session: Session, digest: str) -> ApiKey | None:
    """Live or revoked."""
    return session.exec(select(ApiKey).where(ApiKey.key_hash == digest)).first()


def live_by_hash(session: Session, digest: str) -> ApiKey | None:
    return session.exec(select(ApiKey).where(ApiKey.key_hash == digest, col(ApiKey.revoked_at).is_(None))).first()


def count_live(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(ApiKey).where(col(ApiKey.revoked_at).is_(None))).one())


def page(session: Session, pagination: Pagination) -> tuple[int, list[ApiKey]]:
    """Every owner's keys, newest first."""
    total = int(session.exec(select(func.count()).select_from(ApiKey)).one())
    rows = session.exec(
        select(ApiKey)
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
        .offset(pagination.offset)
        .limit(pagination.limit)
    ).all()
    return total, list(rows)


def revoke(session: Session, key_id: str) -> ApiKey | None:
    """Mark the key revoked (once); None when there is no such key."""
    row = session.get(ApiKey, key_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.commit()
    return row


def revoke_named(session: Session, name: str, *, keep_hash: str) -> list[ApiKey]:
    """Revoke every live key called ``name`` except the one whose digest is ``keep_hash``; returns them."""
    rows = session.exec(
        select(ApiKey).where(ApiKey.name == name, col(ApiKey.revoked_at).is_(None), ApiKey.key_hash != keep_hash)
    ).all()
    for row in rows:
        row.revoked_at = utcnow()
        session.add(row)
    session.commit()
    return list(rows)


def webhook_secret(session: Session, owner: str) -> WebhookSecret | None:
    return session.get(WebhookSecret, owner)


def put_webhook_secret(session: Session, row: WebhookSecret) -> WebhookSecret:
    """Insert or replace the owner's secret (one row per owner)."""
    row = session.merge(row)
    session.commit()
    return row
