"""Bodies only the results endpoints answer with (the public ones are in ``plastinka_schemas``)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class DownloadLink(BaseModel):
    url: str = Field(description="The signed URL: a plain GET downloads the file, without a key, until it expires.")
    expires_at: str = Field(description="When the URL stops working (ISO 8601, UTC).")
    sha256: str = Field(description="SHA-256 of the file, to check the download.")
    size: int = Field(description="The file's size in bytes.")


class RecordName(BaseModel):
    """Which record a row is about, as the shop names it."""

    item_id: str = Field(description="The record's id in the forecast.")
    barcode: str = Field(description="The barcode as text (leading zeros kept); the id when none is known.")
    artist: str | None = Field(default=None, description="Исполнитель, when the dataset names one.")
    album: str | None = Field(default=None, description="Альбом, when the dataset names one.")


class RecordRow(RecordName):
    """One record of a prediction: its forecast per period and its order suggestion."""

    stock: int | None = Field(default=None, description="Copies in stock (the stock file); null when unknown.")
    mean: list[float] = Field(description="Expected sales per period, in the order of the page's `periods`.")
    low: list[float] = Field(description="Lower end of the likely range per period (the page's `low_level`).")
    high: list[float] = Field(description="Upper end of the likely range per period (the page's `high_level`).")
    total_mean: float = Field(description="Expected demand over `cover_months` periods.")
    total_quantile: float = Field(
        description="Copies that cover the demand over `cover_months` with probability `service_level` (a "
        "quantile of the total, not a sum of monthly quantiles)."
    )
    suggested_order: int = Field(description="max(0, ceil(total_quantile) - stock); unknown stock counts as 0.")


class OrderTablePage(BaseModel):
    """What every page of a prediction's order table carries: the job, the paging and how totals were made."""

    job_id: str = Field(description="The prediction job.")
    total: int = Field(description="Records in the order list (all pages).")
    offset: int = Field(description="Rows skipped before this page.")
    limit: int = Field(description="Most rows on this page.")
    service_level: float = Field(description="Probability the suggested stock covers the demand.")
    cover_months: int = Field(description="Periods the suggestion covers.")
    total_method: str = Field(
        description="How `total_quantile` was computed: `calibrated` on held-out totals, or `poisson` (models "
        "trained before the order list, or too little history)."
    )


class RecordsPage(OrderTablePage):
    """A page of the per-record table (search, sort and paging done on the server)."""

    total: int = Field(description="Records matching `q` (all pages).")
    periods: list[date] = Field(description="The forecast periods (first day of each month or week).")
    low_level: float | None = Field(description="Quantile level of `low` (0.1 when the model has it).")
    high_level: float | None = Field(description="Quantile level of `high` (0.9 when the model has it).")
    rows: list[RecordRow] = Field(description="The page's rows in the asked order.")


class OrderRow(RecordName):
    """One line of the order list."""

    stock: int | None = Field(default=None, description="Copies in stock; null when unknown (counted as 0).")
    total_mean: float = Field(description="Expected demand over `cover_months`.")
    total_quantile: float = Field(description="Demand covered with probability `service_level`.")
    suggested_order: int = Field(description="Copies to order.")


class OrderList(OrderTablePage):
    """The order list of a prediction (one row per record, largest orders first)."""

    rows: list[OrderRow] = Field(description="The page's rows, largest orders first.")
