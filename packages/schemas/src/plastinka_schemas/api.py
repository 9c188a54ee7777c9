"""Bodies of the public HTTP API (``/api/v1``): inputs forbid unknown fields, outputs are read-only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import AnyHttpUrl, Field, field_validator, model_validator

from plastinka_schemas._base import InputModel, OutputModel
from plastinka_schemas.enums import Frequency, JobKind, JobStatus, Role

DEFAULT_QUANTILES: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)

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
    name: Name = Field(description="A label for people: whose or what the key is for, e.g. 'shop laptop'.")
    role: Role = Field(
        description=(
            "What the key may do: admin (everything, keys too), analyst (upload, train, predict) or viewer (read only)."
        )
    )
    owner: Name = Field(
        description="The owner the key acts for: keys of one owner share its datasets, jobs and models."
    )


class ApiKeyPublic(OutputModel):
    id: str = Field(description="The key's id, used to revoke it (not the secret).")
    name: str = Field(description="The key's label.")
    role: Role = Field(description="What the key may do: admin, analyst or viewer.")
    owner: str = Field(description="The owner whose datasets, jobs and models the key sees.")
    prefix: str = Field(description="The first characters of the secret, to recognise a key without showing it.")
    created_at: datetime = Field(description="When the key was created (UTC).")
    revoked_at: datetime | None = Field(
        default=None, description="When the key was revoked (UTC); null while it works."
    )


class ApiKeyCreated(ApiKeyPublic):
    """Returned once, at creation: the only time the secret is shown."""

    key: str = Field(
        description=(
            "The secret to send as `Authorization: Bearer <key>` or `X-API-Key`. Shown only in this "
            "answer: store it now."
        )
    )


class WebhookSecretCreated(OutputModel):
    """The caller's owner's new webhook secret: shown this once; it replaces the previous one at once."""

    owner: str = Field(description="The owner whose webhooks this secret signs.")
    secret: str = Field(
        description="The secret (`whsec_...`) to verify `X-Plastinka-Signature` with. Shown only in this answer."
    )
    prefix: str = Field(description="The secret's first characters, to tell secrets apart later.")
    created_at: datetime = Field(description="When the secret was made (UTC).")


# --- Datasets -------------------------------------------------------------------------------------------


class ValidationIssue(OutputModel):
    """One dropped or repaired row (or a whole-column problem when ``row`` is None)."""

    file: str = Field(description="The file the issue is in: the sales export or the stock snapshot.")
    row: int | None = Field(
        default=None, description="The row in that file; null for a whole-column or whole-file issue."
    )
    column: str | None = Field(
        default=None, description="The column, by the file's own header; null when the issue concerns the whole row."
    )
    reason: str = Field(description="What is wrong, in words, with the value found.")
    action: str = Field(description="'dropped', 'repaired' or 'warning'")


class DatasetReport(OutputModel):
    """What ingestion made of an upload, in numbers a shop can reconcile with its own till and stock lists.

    The upload response, the stored dataset and ``plastinka-forecast validate --json`` all carry this body.
    """

    rows: int = Field(description="Sales rows used (the same as sales_rows; stock rows are counted apart)")
    items: int = Field(description="Distinct records (barcodes) in the data.")
    period_start: date | None = Field(
        description="The date of the earliest sale used; null when no sale row was usable."
    )
    period_end: date | None = Field(description="The date of the latest sale used; null when no sale row was usable.")
    stocked_items: int | None = Field(default=None, description="Records in the stock snapshot; null without one.")
    partial_last_period: dict[str, date] = Field(
        default_factory=dict,
        description=(
            "Per frequency ('M', 'W'): the first day of the last period when the sales stop well short of its end "
            "(an export cut mid-month). Training leaves that period out and forecasts it instead, so it does not "
            "count towards the history a model needs. A frequency is absent where the last period looks complete."
        ),
    )
    rows_read: int = Field(default=0, description="Non-blank data rows read, both files together")
    sales_rows_read: int = Field(default=0, description="Non-blank data rows read from the sales file.")
    sales_rows: int = Field(default=0, description="Sales rows used after dropping the unusable ones.")
    stock_rows_read: int | None = Field(
        default=None, description="Non-blank data rows read from the stock file; null without one."
    )
    stock_rows: int | None = Field(default=None, description="Stock rows used; null without a stock file.")
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
    issues: list[ValidationIssue] = Field(
        default_factory=list, description="The first issues found, each with file, row, column, reason and action."
    )


class DatasetPublic(OutputModel):
    id: str = Field(description="The dataset's id: name it in training (`dataset_id`) and prediction requests.")
    owner: str = Field(description="The owner the dataset belongs to.")
    filename: str = Field(description="The sales file's name as uploaded.")
    sha256: str = Field(
        description="SHA-256 of the sales file's bytes: the same file uploaded again finds this dataset."
    )
    size_bytes: int = Field(description="Size of the sales file in bytes.")
    stock_filename: str | None = Field(default=None, description="The stock file's name as uploaded; null without one.")
    report: DatasetReport = Field(description="What the upload's validation made of the files.")
    created_at: datetime = Field(description="When the dataset was uploaded (UTC).")


# --- Models ---------------------------------------------------------------------------------------------


class ModelPublic(OutputModel):
    id: str = Field(description="The model's id: name it as `model_id` in a prediction request.")
    owner: str = Field(description="The owner the model belongs to.")
    dataset_id: str = Field(description="The dataset the model was trained on.")
    training_job_id: str = Field(description="The training job that made the model.")
    frequency: Frequency = Field(description="The forecast period: M (calendar month) or W (ISO week).")
    horizon: int = Field(description="How many periods ahead the model forecasts at most.")
    quantiles: tuple[float, ...] = Field(description="The quantile levels the model forecasts, e.g. 0.05 .. 0.95.")
    train_start: date | None = Field(description="The first period of the training history.")
    train_end: date | None = Field(description="The last period of the training history; forecasts start after it.")
    artifact_sha256: str = Field(description="SHA-256 of the stored model archive.")
    metrics: dict[str, Any] = Field(
        default_factory=dict,
        description="The training's accuracy figures (hold-out and backtest) against simple baselines.",
    )
    active: bool = Field(description="True for the owner's active model: the one predictions use when they name none.")
    created_at: datetime = Field(description="When the model was stored (UTC).")


# --- Jobs -----------------------------------------------------------------------------------------------


class TrainingJobCreate(InputModel):
    dataset_id: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        description=(
            "The dataset to train on (from `POST /api/v1/datasets`); it must hold at least three periods of sales."
        )
    )
    frequency: Frequency = Field(
        default=Frequency.MONTH,
        description=(
            "The forecast period: M (calendar month, the default) or W (ISO week); m, month, monthly, w, "
            "week and weekly in any case are read too."
        ),
    )
    horizon: Annotated[int, Field(ge=1, le=52)] = Field(
        default=3, description="How many periods ahead to forecast: 1..12 months or 1..52 weeks."
    )
    quantiles: Quantiles = Field(
        default=DEFAULT_QUANTILES,
        description="Quantile levels to forecast, strictly between 0 and 1, ascending and unique.",
    )
    tune: bool = Field(
        default=False, description="Search the model's parameters first (slower, within `time_budget_s`)."
    )
    time_budget_s: Annotated[int, Field(ge=10, le=3600)] = Field(
        default=300, description="Seconds the training may spend tuning, 10..3600."
    )
    activate: bool = Field(
        default=True, description="Make the trained model the owner's active one when the job succeeds."
    )
    callback_url: AnyHttpUrl | None = Field(
        default=None, description="A URL to POST a signed webhook to when the job ends; none when omitted."
    )

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
    items: Annotated[list[ItemId], Field(max_length=100_000)] | None = Field(
        default=None, description="Only these records (barcodes, as the shop writes them); every record when omitted."
    )
    callback_url: AnyHttpUrl | None = Field(
        default=None, description="A URL to POST a signed webhook to when the job ends; none when omitted."
    )
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


class JobRef(OutputModel):
    """Which job a body is about: what the submit answer and every status body start with."""

    job_id: str = Field(description="The job's id.")
    kind: JobKind = Field(description="training or prediction.")


class JobAccepted(JobRef):
    status: JobStatus = Field(description="The job's status now: queued for a new job.")
    status_url: str = Field(description="Where to poll the job's progress (also in the `Location` header).")


class JobEventPublic(OutputModel):
    at: datetime = Field(description="When it happened (UTC).")
    status: JobStatus | None = Field(
        description="The status the job moved to; null for an event that did not change it (progress)."
    )
    kind: str = Field(
        description="What happened: created, dispatched, started, progress, succeeded, failed, retry, cancelled, ..."
    )
    message: str | None = Field(default=None, description="What the event says, in words.")
    progress: float | None = Field(
        default=None, description="The job's progress from 0 to 1 at that moment; null when the event carries none."
    )


class JobStatusPublic(JobRef):
    owner: str = Field(description="The owner the job belongs to.")
    status: JobStatus = Field(
        description="queued, dispatched, running, retry_wait, succeeded, failed, cancelled or dead_letter."
    )
    progress: float | None = Field(default=None, description="From 0 to 1 while the job runs; null before it starts.")
    attempt: int = Field(description="The current attempt's number (0 before the first).")
    max_attempts: int = Field(description="How many attempts the job may make before it is dead-lettered.")
    error_type: str | None = Field(
        default=None, description="The kind of the last failure, e.g. a data error or a timeout; null without one."
    )
    error: str | None = Field(default=None, description="The last failure's message; null without one.")
    created_at: datetime = Field(description="When the job was submitted (UTC).")
    updated_at: datetime = Field(description="When the job last changed (UTC).")
    started_at: datetime | None = Field(
        default=None, description="When the job's first attempt started (UTC); null before."
    )
    finished_at: datetime | None = Field(default=None, description="When the job ended (UTC); null while it has not.")
    next_attempt_at: datetime | None = Field(
        default=None, description="When the next attempt is due after a retryable failure (UTC); null otherwise."
    )
    events: list[JobEventPublic] = Field(default_factory=list, description="The job's history, oldest first.")


class TrainingJobPublic(JobStatusPublic):
    dataset_id: str = Field(description="The dataset the job trains on.")
    parameters: dict[str, Any] = Field(
        description="The training parameters used: frequency, horizon, quantiles, tune, time_budget_s, activate."
    )
    model_id: str | None = Field(default=None, description="The model the job made; null until it succeeds.")


class PredictionJobPublic(JobStatusPublic):
    model_id: str = Field(description="The model the job forecasts with.")
    dataset_id: str | None = Field(
        default=None, description="The dataset it forecasts from; null for the model's training data."
    )
    horizon: int = Field(description="How many periods ahead it forecasts.")


# --- Results --------------------------------------------------------------------------------------------


class ForecastRow(OutputModel):
    item_id: str = Field(description="The record (barcode as the shop writes it).")
    period: date = Field(description="The first day of the forecast period (month, or ISO week starting Monday).")
    mean: float = Field(description="The expected copies sold in the period.")
    quantiles: dict[str, float] = Field(description="Keyed 'q_<level>', e.g. 'q_0.5'.")


class ForecastPage(OutputModel):
    job_id: str = Field(description="The prediction job.")
    total: int = Field(description="Forecast rows in all (records x periods).")
    offset: int = Field(description="Rows skipped before this page.")
    limit: int = Field(description="The most rows this page may hold.")
    rows: list[ForecastRow] = Field(description="This page's rows, by record then period.")


class TrainingResult(OutputModel):
    job_id: str = Field(description="The training job.")
    model_id: str = Field(description="The model it made.")
    metrics: dict[str, Any] = Field(
        description="Accuracy figures of the model and of simple baselines, with the training window."
    )
    backtest: list[dict[str, Any]] = Field(
        default_factory=list,
        description="One row per backtest window and method: the model beside the baselines, in copies.",
    )


T = TypeVar("T")


class Page(OutputModel, Generic[T]):
    """A page of a listing, newest first."""

    total: int = Field(description="Items in all, across every page.")
    offset: int = Field(description="Items skipped before this page.")
    limit: int = Field(description="The most items this page may hold.")
    items: list[T] = Field(description="This page's items, newest first.")
