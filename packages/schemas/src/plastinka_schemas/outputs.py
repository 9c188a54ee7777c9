"""What the functions hand back to the API: artifact names, the training report, the run summary.

The train and predict handlers write these models, the API reads them back when it settles a job and when it
serves results, and the test stand-ins write them too. Reports keep fields they do not know (``extra="allow"``):
the forecasting package adds detail to its own sections, and a result stored by an older function must still be
served with every key it had. :class:`TrainingReport` is the one reader of a stored training result, old or new.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from plastinka_schemas._base import InputModel
from plastinka_schemas.enums import Frequency, JobKind

JSON = "application/json"


class Artifact(StrEnum):
    """A named output of a function, one line each: name, job kind, file suffix, media type, required.

    Adding an artifact is one member here; the handler writes it with ``attempt.write_artifact`` and the API
    verifies every artifact of a manifest (the required ones must be there; the JSON ones are read back).
    """

    kind: JobKind
    suffix: str
    media_type: str
    required: bool

    def __new__(cls, value: str, kind: JobKind, suffix: str, media_type: str, required: bool = False) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.kind = kind
        member.suffix = suffix
        member.media_type = media_type
        member.required = required
        return member

    #: The trained model archive.
    MODEL = "model", JobKind.TRAINING, ".tar", "application/x-tar", True
    #: The model's metadata (features, quantiles, training window) the predict function needs beside it.
    MODEL_META = "model_meta", JobKind.TRAINING, ".json", JSON, True
    #: :class:`TrainingMetrics`.
    METRICS = "metrics", JobKind.TRAINING, ".json", JSON
    #: :class:`BacktestReport`: the rolling-origin table, one row per method.
    BACKTEST = "backtest", JobKind.TRAINING, ".json", JSON
    #: Parquet forecast: item_id, period, mean, q_<level>...
    FORECAST = "forecast", JobKind.PREDICTION, ".parquet", "application/vnd.apache.parquet", True
    #: Parquet order list: item_id, total_mean, total_quantile, stock, suggested_order, service_level,
    #: cover_months, total_method. Missing from predictions made before the order list existed.
    ORDERS = "orders", JobKind.PREDICTION, ".parquet", "application/vnd.apache.parquet"

    @property
    def stem(self) -> str:
        """The start of the stored object's file name (``model-meta-<digest>.json``)."""
        return self.value.replace("_", "-")

    @property
    def is_json(self) -> bool:
        """Small JSON the API keeps in memory after verifying it."""
        return self.media_type == JSON

    @classmethod
    def required_for(cls, kind: JobKind) -> tuple[Artifact, ...]:
        return tuple(a for a in cls if a.kind is kind and a.required)


class Report(BaseModel):
    """A section of a report: typed where we read it, keeping whatever else it carries."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def public(self) -> dict[str, Any]:
        """As JSON, with just the keys it was written with (an older report gains no empty fields)."""
        return self.model_dump(mode="json", exclude_unset=True)


# --- the backtest artifact --------------------------------------------------------------------------------


class BacktestRow(Report):
    """One method's scores over every backtest window (see ``BacktestReport.units``); None = undefined."""

    method: str | None = None
    n: int | None = None
    mae: float | None = None
    rmse: float | None = None
    rmsse: float | None = None
    spl: float | None = None
    coverage: float | None = None
    pit80: float | None = None
    bias: float | None = None
    winkler: float | None = None


class StockoutRow(Report):
    """How often the order list's suggestion at one service level would have run out in the backtest."""

    service_level: float
    stockout_rate: float
    target: float = Field(description="1 - service_level")
    attainable: float | None = Field(
        default=None, description="The rate the same rule gave on the calibration windows (whole copies)."
    )
    suggestions: int


class OrderStockouts(Report):
    """The order list judged in the backtest: stock-out rates per service level."""

    cover_months: int | None = None
    stock: str | None = None
    total_method: str | list[str] | None = None
    rows: list[StockoutRow] = Field(default_factory=list)
    note: str | None = None


class BacktestReport(Report):
    """The training job's rolling-origin backtest: ``rows`` (ours first) and the windows they come from."""

    method: str = "rolling origin"
    frequency: Frequency | None = None
    horizon: int | None = None
    step: int | None = None
    windows_requested: int | None = None
    windows: int = 0
    cutoffs: list[date] = Field(default_factory=list)
    levels: list[float] = Field(default_factory=list)
    interval: list[float] = Field(default_factory=list)
    units: dict[str, str] = Field(default_factory=dict)
    rows: list[BacktestRow] = Field(default_factory=list)
    note: str | None = Field(default=None, description="Why fewer windows than asked ran (or none).")
    seconds: float | None = None
    order_stockouts: OrderStockouts | None = None

    def description(self) -> dict[str, Any]:
        """Everything but the table."""
        return {k: v for k, v in self.public().items() if k != "rows"}


# --- the metrics artifact ---------------------------------------------------------------------------------


class SegmentChoice(Report):
    """Held-out scores of one demand segment per window-average share in ``weights``, and the shares chosen
    (``pit80``: the held-out PIT coverage of the pooled 80% interval, which bounds the quantile share)."""

    rows: int = 0
    weights: list[float] | None = None
    spl: list[float] | None = None
    pit80: list[float] | None = None
    scaled_mse: list[float] | None = None
    bias_of_total: list[float] | None = None
    chosen_quantile: float = 0.0
    chosen_mean: float = 0.0
    note: str | None = None


class CombinationChoice(Report):
    """What was chosen (``plastinka_forecasting.combine.Combination``): per segment, the share of the window
    average mixed into the mean and into the quantiles, with the held-out scores it was chosen by."""

    candidate: str = "window_average"
    summary: list[str] = Field(default_factory=list)
    window: int | None = None
    segments: list[str] = Field(default_factory=list)
    mean: list[float] = Field(default_factory=list)
    quantile: list[float] = Field(default_factory=list)
    #: How the quantiles were combined: "linear_pool_percentiles" (a mixture of the two distributions computed on
    #: the 99 percentiles, whatever levels were asked for), "linear_pool" (the same mixture on the asked levels
    #: only, reports from before) or "quantile_average" (level by level; such older reports do not say).
    rule: str | None = None
    scores: dict[str, SegmentChoice] = Field(default_factory=dict)


class ModelInfo(Report):
    """How the model was trained (``TrainedModel.info``); the hold-out details are the forecasting package's."""

    train_rows: int | None = None
    items: int | None = None
    periods: int | None = None
    holdout: dict[str, JsonValue] | None = None
    choice: CombinationChoice | None = None
    train_seconds: float | None = None
    #: The export's last period when it was cut short (``period``, ``last_sale``, ``days_covered``,
    #: ``period_days``, ``rows``, ``copies``, ``new_items``, ``note``): left out of training, forecast instead.
    partial_period: dict[str, JsonValue] | None = None


class TrainingWindow(Report):
    first_period: date | None = None
    last_period: date | None = None
    items: int | None = None
    rows: int | None = None


class ValidationCounts(Report):
    """What the dataset's validation kept: rows read, used, dropped, and the number of issues found."""

    rows_read: int | None = None
    rows_used: int | None = None
    dropped: int | None = None
    issues: int | None = None


class BacktestSummary(Report):
    windows: int | None = None
    windows_requested: int | None = None
    cutoffs: list[date] = Field(default_factory=list)
    note: str | None = None


class TrainingMetrics(Report):
    """The ``metrics`` artifact: how training went, and what it chose."""

    metrics: ModelInfo | None = None
    training_window: TrainingWindow | None = None
    validation: ValidationCounts | None = None
    tuned: bool | None = None
    tune_requested: bool | None = None
    time_budget_s: float | None = None
    backtest_summary: BacktestSummary | None = None
    order_stockouts: OrderStockouts | None = None


# --- the event's summary and the stored result ---------------------------------------------------------


class RunSummary(InputModel):
    """What a succeeded attempt says of its outputs in its ``succeeded`` event (the job's result keeps it)."""

    frequency: Frequency | None = None
    horizon: int | None = None
    quantiles: list[float] | None = None
    items: int | None = None
    # training
    rows_used: int | None = None
    tuned: bool | None = None
    backtest_windows: int | None = None
    # prediction
    rows: int | None = None
    first_period: str | None = None
    last_period: str | None = None
    service_level: float | None = None
    cover_months: int | None = None
    total_method: str | None = None
    suggested_copies: int | None = None


class TrainingReport(Report):
    """A training job's stored result: the run summary, the metrics artifact and the backtest artifact.

    Version 2 stores the three apart. Unversioned results are read as version 1: the summary's keys at the top
    level beside ``metrics`` and ``backtest``; the oldest carried the backtest table as a list under
    ``metrics.backtest`` (a layout the metrics artifact may still use, so settling a job reads it the same way).
    """

    version: Literal[2] = 2
    summary: RunSummary = Field(default_factory=RunSummary)
    metrics: TrainingMetrics = Field(default_factory=TrainingMetrics)
    backtest: BacktestReport | None = None

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "version" in data or any(isinstance(v, BaseModel) for v in data.values()):
            return data  # stored as version 2, or built in code
        rest = {k: v for k, v in data.items() if k not in ("metrics", "backtest")}
        metrics = data.get("metrics")
        metrics = dict(metrics) if isinstance(metrics, dict) else ({} if metrics is None else {"value": metrics})
        backtest = data.get("backtest")
        if not isinstance(backtest, dict):
            rows = metrics.pop("backtest", None) or backtest
            backtest = {"rows": [r for r in rows if isinstance(r, dict)]} if isinstance(rows, list) else None
        summary = {k: v for k, v in rest.items() if k in RunSummary.model_fields}
        return {"version": 2, "summary": summary, "metrics": metrics, "backtest": backtest}

    def stored(self) -> dict[str, Any]:
        """The JSON kept as the job's result."""
        return {"version": self.version, **self.public()}
