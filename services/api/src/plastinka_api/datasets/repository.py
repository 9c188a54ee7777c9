"""SQL of the ``datasets`` table; every query names the owner."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from plastinka_api.ownership import owned_or_404
from plastinka_api.pagination import Pagination
from plastinka_store.tables import Dataset


def get(session: Session, owner: str, dataset_id: str) -> Dataset | None:
    return session.exec(select(Dataset).where(Dataset.id == dataset_id, Dataset.owner == owner)).first()


def get_or_404(session: Session, owner: str, dataset_id: str) -> Dataset:
    return owned_or_404(get(session, owner, dataset_id), "dataset", dataset_id)


def identical(session: Session, owner: str, sha256: str, stock_sha256: str | None) -> Dataset | None:
    """The owner's first dataset of exactly these bytes (sales, and stock or none)."""
    query = select(Dataset).where(Dataset.owner == owner, Dataset.sha256 == sha256)
    query = (
        query.where(Dataset.stock_sha256 == stock_sha256)
        if stock_sha256
        else query.where(col(Dataset.stock_sha256).is_(None))
    )
    return session.exec(query.order_by(col(Dataset.created_at))).first()


def has_any(session: Session, owner: str) -> bool:
    return session.exec(select(Dataset.id).where(Dataset.owner == owner).limit(1)).first() is not None


def page(session: Session, owner: str, pagination: Pagination) -> tuple[int, list[Dataset]]:
    """The owner's datasets, newest first."""
    where = Dataset.owner == owner
    total = int(session.exec(select(func.count()).select_from(Dataset).where(where)).one())
    rows = session.exec(
        select(Dataset)
        .where(where)
        .order_by(col(Dataset.created_at).desc(), col(Dataset.id).desc())
        .offset(pagination.offset)
        .limit(pagination.limit)
    ).all()
    return total, list(rows)


def add(session: Session, row: Dataset) -> Dataset:
    session.add(row)
    session.commit()
    return row
