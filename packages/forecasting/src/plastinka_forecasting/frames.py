"""The data shapes that pass between the modules of the forecasting core.

Every module agrees on these polars frames; nothing else crosses a module boundary.

* **sales** (from ingestion): ``item_id`` Utf8, ``date`` Date, ``quantity`` Float64 — one row per sale event
  or per item and day; several rows for one item and date add up.
* **attributes**: ``item_id`` plus any of :data:`plastinka_schemas.sales.ATTRIBUTE_COLUMNS`, one row per item.
* **stock** (optional): ``item_id``, ``copies`` Int64, ``added_at`` Date (nullable) — the snapshot at the end
  of the data; every item here gets a forecast.
* **panel** (history): ``item_id`` Utf8, ``period`` Date (period start: 1st of month, or Monday for ISO
  weeks), ``y`` Float64; one row per item and period from the item's first sale (or stock arrival) to the
  last period of the data, zero-filled; sorted by ``item_id``, ``period``.
* **forecast**: ``item_id``, ``period``, ``mean``, then one ``q_<level>`` column per quantile in ascending
  order (see :func:`quantile_column`); never negative, quantile columns never cross.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import polars as pl

from plastinka_schemas import ValidationIssue

ITEM_ID: Final = "item_id"
PERIOD: Final = "period"
TARGET: Final = "y"
MEAN: Final = "mean"

PANEL_SCHEMA: Final = {ITEM_ID: pl.Utf8, PERIOD: pl.Date, TARGET: pl.Float64}


def quantile_column(level: float) -> str:
    """``0.05 -> 'q_0.05'``, ``0.5 -> 'q_0.5'``: the shortest text that round-trips the level."""
    return f"q_{level!r}"


def quantile_columns(levels: Sequence[float]) -> list[str]:
    return [quantile_column(q) for q in levels]


def forecast_columns(levels: Sequence[float]) -> list[str]:
    return [ITEM_ID, PERIOD, MEAN, *quantile_columns(levels)]


@dataclass(frozen=True)
class ValidationReport:
    """Everything ingestion dropped, repaired or warned about, with file, row and column."""

    issues: list[ValidationIssue] = field(default_factory=list)
    #: Non-blank data rows read, and kept, over both files.
    rows_read: int = 0
    rows_used: int = 0
    sales_rows_read: int = 0
    sales_rows: int = 0
    stock_rows_read: int | None = None
    stock_rows: int | None = None
    #: Net copies in the sales frame (after returns) and the returned copies the file listed.
    copies_sold: float = 0.0
    copies_returned: float = 0.0
    #: How each date column was read, e.g. ``{"sales.csv: Дата заказа": "dd.mm.yyyy (day first: ...)"}``.
    date_formats: dict[str, str] = field(default_factory=dict)
    #: Whole-file warnings a shop should read before trusting a forecast.
    warnings: list[str] = field(default_factory=list)
    #: Another spelling of a record's id -> the id it is known by (leading zeros a number cell lost, ...).
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return sum(1 for issue in self.issues if issue.action == "dropped")


@dataclass(frozen=True)
class SalesData:
    """A validated dataset: what every later step starts from."""

    sales: pl.DataFrame
    attributes: pl.DataFrame
    stock: pl.DataFrame | None
    report: ValidationReport
