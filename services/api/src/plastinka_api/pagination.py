"""The one pagination dependency of every list endpoint: ``?offset=&limit=`` (offset capped at 10 000 000,
limit 1..1000), and the page body built from it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Query

from plastinka_schemas import Page

T = TypeVar("T")

MAX_OFFSET = 10_000_000
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Pagination:
    """Where a page starts and how long it is (newest first everywhere)."""

    offset: int = 0
    limit: int = 50

    def page(self, total: int, items: Sequence[T]) -> Page[T]:
        return Page[T](total=total, offset=self.offset, limit=self.limit, items=list(items))


def pagination(default_limit: int = 50) -> Callable[..., Pagination]:
    """The dependency; ``default_limit`` is the page size when the caller names none."""

    def dependency(
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = default_limit,
    ) -> Pagination:
        return Pagination(offset, limit)

    return dependency


#: ``page: Paginated`` in a list endpoint's signature (50 per page unless asked).
Paginated = Annotated[Pagination, Depends(pagination())]
#: The same with 100 per page (keys, forecast rows).
Paginated100 = Annotated[Pagination, Depends(pagination(100))]
