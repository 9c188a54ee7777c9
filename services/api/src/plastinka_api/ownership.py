"""Ownership, once: repositories filter every query by the caller's owner, and a row that is not there for that
owner (absent, or another owner's) is the same 404."""

from __future__ import annotations

from typing import TypeVar

from plastinka_api.errors import NotFound

T = TypeVar("T")


def owned_or_404(row: T | None, what: str, ident: str) -> T:
    """``row`` as found by an owner-scoped query, or ``404 {what} {ident!r} not found``."""
    if row is None:
        raise NotFound(what, ident)
    return row
