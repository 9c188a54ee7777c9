"""SQL of the ``models`` table; every query names the owner."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlmodel import Session, col, func, select

from plastinka_api.ownership import owned_or_404
from plastinka_api.pagination import Pagination
from plastinka_store.tables import Model

_models = Model.__table__  # type: ignore[attr-defined]


def get(session: Session, owner: str, model_id: str) -> Model | None:
    return session.exec(select(Model).where(Model.id == model_id, Model.owner == owner)).first()


def get_or_404(session: Session, owner: str, model_id: str) -> Model:
    return owned_or_404(get(session, owner, model_id), "model", model_id)


def active(session: Session, owner: str) -> Model | None:
    """The owner's active model (the newest, should there ever be two)."""
    return session.exec(
        select(Model).where(Model.owner == owner, col(Model.active).is_(True)).order_by(col(Model.created_at).desc())
    ).first()


def page(session: Session, owner: str, pagination: Pagination, *, active: bool | None) -> tuple[int, list[Model]]:
    """The owner's models, newest first; only active (or inactive) ones when ``active`` is given."""
    where: list[Any] = [Model.owner == owner]
    if active is not None:
        where.append(col(Model.active).is_(active))
    total = int(session.exec(select(func.count()).select_from(Model).where(*where)).one())
    rows = session.exec(
        select(Model)
        .where(*where)
        .order_by(col(Model.created_at).desc(), col(Model.id).desc())
        .offset(pagination.offset)
        .limit(pagination.limit)
    ).all()
    return total, list(rows)


def set_active(session: orm.Session, owner: str, model_id: str) -> None:
    """``model_id`` becomes the owner's one active model (in the caller's transaction)."""
    session.execute(sa.update(_models).where(_models.c.owner == owner, _models.c.id != model_id).values(active=False))
    session.execute(sa.update(_models).where(_models.c.owner == owner, _models.c.id == model_id).values(active=True))


def add(session: orm.Session, row: Model) -> Model:
    """Insert (flushed, not committed: the caller's transaction decides)."""
    session.add(row)
    session.flush()
    return row


def delete(session: Session, row: Model) -> None:
    session.delete(row)
    session.commit()
