"""Bodies of the public HTTP API (``/api/v1``): inputs forbid unknown fields, outputs are read-only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import AnyHttpUrl, Field, field_validator, model_validator

from plastinka_schemas._base import InputModel, OutputModel
from plastinka_schemas.enums import Frequency, JobKind, JobStatus, Role

DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)

Quantiles = Annotated[tuple[float, ...], Field(min_length=1, max_length=19)]
ItemId = Annotated[str, Field(min_length=1, max_length=200)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


def check_quantiles(levels: tuple[float, ...]) -> tuple[float, ...]:
    """Quantile levels must lie strictly inside (0, 1), sorted ascending and unique."""
    for q in levels:
        if not 0.0 < q < 1.0:
            raise ValueError(f"quantile {q} is outside (0, 1)")
    if list(levels) != sorted(set(levels)):
        raise ValueError("quantiles must be sorted ascending and unique")
    return levels


def check_horizon(horizon: int, frequency: Frequency) -> None:
    if not 1 <= horizon <= frequency.max_horizon:
        unit = "months" if frequency is Frequency.MONTH else "weeks"
        raise ValueError(f"horizon must be 1..{frequency.max_horizon} {unit} for frequency {frequency.value}")


# --- API keys -------------------------------------------------------------------------------------------


class ApiKeyCreate(InputModel):
    name: Name
    role: Role
    owner: Name


class ApiKeyPublic(OutputModel):
    id: str
    name: str
    role: Role
    owner: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


class ApiKeyCreated(ApiKeyPublic):
    """Returned once, at creation: the only time the secret is shown."""

    key: str


class WebhookSecretCreated(OutputModel):
    """The caller's owner's new webhook secret: shown this once; it replaces the previous one at once."""

    owner: str
    secret: str
    prefix: str
    created_at: datetime


# --- Datasets -------------------------------------------------------------------------------------------


class ValidationIssue(OutputModel):
    """One dropped or repaired row (or a whole-column problem when ``row`` is None)."""

    file: str
    row: int | None = None
    column: str | None = None
    reason: str
    action: str = Field(description="'dropped', 'repaired' or 'warning'")


class DatasetReport(OutputModel):
    """What ingestion made of an upload, in numbers a shop can reconcile with its own till and stock lists.

    The upload response, the stored dataset and ``plastinka-forecast validate --json`` all carry this body.
    """

    rows: int = Field(description="Sales rows used (the same as sales_rows; stock rows are counted apart)")
    items: int
    period_start: date | None
    period_end: date | None
    stocked_items: int | None = None
    rows_read: int = Field(default=0, description="Non-blank data rows read, both files together")
    sales_rows_read: int = 0
    sales_rows: int = 0
    stock_rows_read: int | None = None
    stock_rows: int | None = None
    dropped: int = Field(default=0, description="Rows dropped, both files together")
    repaired: int = Field(default=0, description="Rows kept with a repaired value")
    copies_sold: float = Field(default=0.0, description="Net copies sold after returns, as the panel counts them")
    copies_returned: float = Field(default=0.0, description="Copies the sales file lists as returned")
    date_formats: dict[str, str] = Field(
        default_factory=dict, description="'<file>: <column>' -> the date format read (and why)"
    )
    warnings: list[str] = Field(default_factory=list, description="Whole-file warnings to read before training")
    issues_total: int = Field(default=0, description="Issues found; `issues` lists the first of them")
    issue_counts: dict[str, int] = Field(
        default_factory=dict, description="Issues per action: 'dropped', 'repaired', 'warning'"
    )
    issue_kinds: dict[str, int] = Field(
        default_factory=dict,
        description="Issues per kind: '<action>: <reason with its values elided>' -> count, the 100 commonest",
    )
    truncated: bool = Field(default=False, description="True when `issues` lists fewer than issues_total")
    issues: list[ValidationIssue] = Field(default_factory=list)


class DatasetPublic(OutputModel):
    id: str
    owner: str
    filename: str
    sha256: str
    size_bytes: int
    stock_filename: str | None = None
    report: DatasetReport
    created_at: datetime


# --- Models ---------------------------------------------------------------------------------------------


class ModelPublic(OutputModel):
    id: str
    owner: str
    dataset_id: str
    training_job_id: str
    frequency: Frequency
    horizon: int
    quantiles: tuple[float, ...]
    train_start: date | None
    train_end: date | None
    artifact_sha256: str
    metrics: dict[str, Any] = Field(default_factory=dict)
    active: bool
    created_at: datetime


# --- Jobs -----------------------------------------------------------------------------------------------


class TrainingJobCreate(InputModel):
    dataset_id: Annotated[str, Field(min_length=1, max_length=100)]
    frequency: Frequency = Frequency.MONTH
    horizon: Annotated[int, Field(ge=1, le=52)] = 3
    quantiles: Quantiles = DEFAULT_QUANTILES
    tune: bool = False
    time_budget_s: Annotated[int, Field(ge=10, le=3600)] = 300
    activate: bool = True
    callback_url: AnyHttpUrl | None = None

    _check_quantiles = field_validator("quantiles")(check_quantiles)

    @model_validator(mode="after")
    def _horizon_fits_frequency(self) -> Self:
        check_horizon(self.horizon, self.frequency)
        return self


class PredictionJobCreate(InputModel):
    model_id: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="The model to use; the owner's active model when omitted."
    )
    dataset_id: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="Newer data to forecast from; the model's training data when omitted."
    )
    horizon: Annotated[int, Field(ge=1, le=52)] | None = Field(
        default=None, description="Periods ahead; the model's horizon when omitted."
    )
    items: Annotated[list[ItemId], Field(max_length=100_000)] | None = None
    callback_url: AnyHttpUrl | None = None
    service_level: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        default=0.8,
        description=(
            "Order list: the probability that stock plus the suggested order covers the demand over "
            "cover_months (0.8 = run out about one time in five at most)."
        ),
    )
    cover_months: Annotated[int, Field(ge=1, le=52)] | None = Field(
        default=None,
        description=(
            "Order list: the periods (months, or weeks for a weekly model) the stock should cover; at most the "
            "prediction's horizon (422 otherwise), the horizon when omitted."
        ),
    )

    @model_validator(mode="after")
    def _cover_within_horizon(self) -> Self:
        if self.cover_months is not None and self.horizon is not None and self.cover_months > self.horizon:
            raise ValueError(f"cover_months {self.cover_months} exceeds the horizon {self.horizon}")
        return self


class JobAccepted(OutputModel):
    job_id: str
    kind: JobKind
    status: JobStatus
    status_url: str


class JobEventPublic(OutputModel):
    at: datetime
    status: JobStatus | None
    kind: str
    message: str | None = None
    progress: float | None = None


class JobStatusPublic(OutputModel):
    job_id: str
    kind: JobKind
    owner: str
    status: JobStatus
    progress: float | None = None
    attempt: int
    max_attempts: int
    error_type: str | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    next_attempt_at: datetime | None = None
    events: list[JobEventPublic] = Field(default_factory=list)


class TrainingJobPublic(JobStatusPublic):
    dataset_id: str
    parameters: dict[str, Any]
    model_id: str | None = None


class PredictionJobPublic(JobStatusPublic):
    model_id: str
    dataset_id: str | None = None
    horizon: int


# --- Results --------------------------------------------------------------------------------------------


class ForecastRow(OutputModel):
    item_id: str
    period: date
    mean: float
    quantiles: dict[str, float] = Field(description="Keyed 'q_<level>', e.g. 'q_0.5'.")


class ForecastPage(OutputModel):
    job_id: str
    total: int
    offset: int
    limit: int
    rows: list[ForecastRow]


class TrainingResult(OutputModel):
    job_id: str
    model_id: str
    metrics: dict[str, Any]
    backtest: list[dict[str, Any]] = Field(default_factory=list)


T = TypeVar("T")


class Page(OutputModel, Generic[T]):
    """A page of a listing, newest first."""

    total: int
    offset: int
    limit: int
    items: list[T]
