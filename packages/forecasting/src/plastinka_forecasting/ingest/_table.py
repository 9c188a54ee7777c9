"""The table every reader produces, and how a reader picks its header row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from ._errors import DataError
from ._headers import HeaderMatch, match_header
from ._limits import IngestLimits


@dataclass(frozen=True)
class RawTable:
    """The data rows under the chosen header; frame row ``i`` is file row ``first_row + i`` (1-based)."""

    file: str
    frame: pl.DataFrame
    header: HeaderMatch
    header_row: int | None
    first_row: int
    sheet: str | None = None


def pick_header(candidates: Sequence[tuple[int, Sequence[object]]], role: str) -> tuple[int, HeaderMatch] | None:
    """The first row among ``(index, cells)`` that best suits ``role``, or None."""
    best: tuple[int, HeaderMatch] | None = None
    for index, cells in candidates:
        match = match_header(cells)
        if match.looks_like(role) and (best is None or match.looks_like(role) > best[1].looks_like(role)):
            best = (index, match)
    return best


def other_role_hint(candidates: Sequence[tuple[int, Sequence[object]]], role: str) -> str:
    """A hint when the file suits the other role (a stock snapshot given as sales, or the reverse)."""
    other = "stock" if role == "sales" else "sales"
    if pick_header(candidates, other) is None:
        return ""
    if role == "sales":
        return " (it looks like a stock snapshot: item columns without a sale date; pass it as the stock file)"
    return " (it looks like a sales export; pass it as the sales file)"


def found_columns(candidates: Sequence[tuple[int, Sequence[object]]], *, shown: int = 12) -> str:
    """The likeliest header row's non-empty cells (the row with the most of them), for a refusal message."""
    best: list[str] = []
    for _, cells in candidates:
        texts = [str(cell).strip() for cell in cells if cell is not None and str(cell).strip()]
        if len(texts) > len(best):
            best = texts
    if not best:
        return "; no columns were found"
    listed = ", ".join(repr(text[:40]) for text in best[:shown])
    more = f" and {len(best) - shown} more" if len(best) > shown else ""
    return f"; the columns found: {listed}{more}"


def no_header_error(
    file: str,
    role: str,
    where: str,
    hint: str,
    limits: IngestLimits,
    found: Sequence[tuple[int, Sequence[object]]] = (),
) -> DataError:
    wanted = "a sale date column ('Дата продажи', 'Дата заказа' or 'date')" if role == "sales" else "item columns"
    return DataError(
        f"no header row with {wanted} and an item identity ('Штрихкод', 'Исполнитель', 'Альбом' or 'item_id') "
        f"in the first {limits.header_search_rows} rows of {where}{hint}{found_columns(found)}",
        file=file,
    )


def check_rows(file: str, rows: int, limits: IngestLimits) -> None:
    if rows > limits.max_rows:
        raise DataError(f"{rows} rows is more than the limit of {limits.max_rows}", file=file)
