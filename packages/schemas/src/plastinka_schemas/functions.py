"""The contract between the API and the function handlers: request payloads and status events.

Payloads stay small (object keys and parameters, never data). ``schema_version`` is checked by both sides: a
handler refuses a version it does not know rather than guessing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AnyHttpUrl, Field, TypeAdapter, field_validator, model_validator

from plastinka_schemas._base import InputModel
from plastinka_schemas.api import DEFAULT_QUANTILES, Quantiles, check_horizon, check_quantiles
from plastinka_schemas.enums import Frequency, JobKind
from plastinka_schemas.outputs import Artifact, RunSummary

SCHEMA_VERSION: Literal[1] = 1

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
ObjectKey = Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/=-]*$")]
JobId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ArtifactRef(InputModel):
    """One stored object with the checksum every reader verifies."""

    key: ObjectKey
    sha256: Sha256
    size: Annotated[int, Field(ge=0)]


class ArtifactManifest(InputModel):
    """What a succeeded attempt wrote: its artifacts by name (:class:`~plastinka_schemas.outputs.Artifact`)."""

    artifacts: dict[Artifact, ArtifactRef]

    def get(self, name: Artifact) -> ArtifactRef:
        try:
            return self.artifacts[name]
        except KeyError:
            raise KeyError(f"manifest has no artifact '{name}'") from None

    def missing(self, kind: JobKind) -> list[Artifact]:
        """The artifacts a job of ``kind`` must produce that this manifest lacks."""
        return [a for a in Artifact.required_for(kind) if a not in self.artifacts]


class _FunctionRequest(InputModel):
    schema_version: Literal[1] = SCHEMA_VERSION
    job_id: JobId
    attempt: Annotated[int, Field(ge=1, le=100)]
    callback_url: AnyHttpUrl | None = Field(
        default=None, description="Where status events are POSTed; None writes only the status object."
    )
    callback_token: Annotated[str, Field(min_length=16, max_length=1024)]
    deadline: datetime | None = Field(default=None, description="Wall-clock time the attempt must finish by.")
    output_prefix: ObjectKey = Field(description="Where this attempt writes: jobs/<job_id>/attempt-<n>/.")

    @field_validator("output_prefix")
    @classmethod
    def _prefix_ends_with_slash(cls, value: str) -> str:
        if not value.endswith("/"):
            raise ValueError("output_prefix must end with '/'")
        return value


class TrainRequest(_FunctionRequest):
    kind: Literal["train"] = "train"
    dataset: ArtifactRef
    stock: ArtifactRef | None = None
    frequency: Frequency = Frequency.MONTH
    horizon: Annotated[int, Field(ge=1, le=52)] = 3
    quantiles: Quantiles = DEFAULT_QUANTILES
    tune: bool = False
    time_budget_s: Annotated[int, Field(ge=1, le=3600)] = 300
    params: dict[str, Any] = Field(default_factory=dict, description="Overrides of model parameters.")

    _check_quantiles = field_validator("quantiles")(check_quantiles)

    @model_validator(mode="after")
    def _horizon_fits_frequency(self) -> Self:
        check_horizon(self.horizon, self.frequency)
        return self


class PredictRequest(_FunctionRequest):
    kind: Literal["predict"] = "predict"
    model: ArtifactRef
    model_meta: ArtifactRef
    dataset: ArtifactRef
    stock: ArtifactRef | None = None
    horizon: Annotated[int, Field(ge=1, le=52)] | None = None
    items: list[str] | None = None
    service_level: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        default=0.8, description="Order list: probability that stock covers the demand over cover_months."
    )
    cover_months: Annotated[int, Field(ge=1, le=52)] | None = Field(
        default=None, description="Order list: periods the stock should cover; the horizon when omitted."
    )


FunctionRequest = Annotated[TrainRequest | PredictRequest, Field(discriminator="kind")]


class _Event(InputModel):
    schema_version: Literal[1] = SCHEMA_VERSION
    job_id: JobId
    attempt: Annotated[int, Field(ge=1, le=100)]
    at: datetime
    invocation_id: str | None = Field(default=None, max_length=200)


class RunningEvent(_Event):
    type: Literal["running"] = "running"
    cold_start: bool | None = None


class ProgressEvent(_Event):
    type: Literal["progress"] = "progress"
    progress: Annotated[float, Field(ge=0.0, le=1.0)]
    message: str | None = Field(default=None, max_length=2000)


class RunStats(InputModel):
    """How an attempt ran: what ``cloud_function_logs`` records."""

    duration_s: Annotated[float, Field(ge=0)]
    peak_memory_mb: Annotated[float, Field(ge=0)] | None = None
    cold_start: bool | None = None


class SucceededEvent(_Event):
    type: Literal["succeeded"] = "succeeded"
    manifest: ArtifactManifest
    stats: RunStats | None = None
    summary: RunSummary = Field(default_factory=RunSummary)


class FailedEvent(_Event):
    type: Literal["failed"] = "failed"
    error_type: Annotated[str, Field(min_length=1, max_length=200)]
    message: Annotated[str, Field(max_length=10_000)]
    traceback: Annotated[str, Field(max_length=100_000)] | None = None
    retryable: bool = Field(default=False, description="True for transient faults the API may retry.")
    stats: RunStats | None = None


AnyJobEvent = RunningEvent | ProgressEvent | SucceededEvent | FailedEvent
JobEvent = Annotated[AnyJobEvent, Field(discriminator="type")]

JOB_EVENT_ADAPTER: TypeAdapter[AnyJobEvent] = TypeAdapter(JobEvent)
FUNCTION_REQUEST_ADAPTER: TypeAdapter[TrainRequest | PredictRequest] = TypeAdapter(FunctionRequest)


def parse_job_event(data: bytes | str | dict[str, Any]) -> AnyJobEvent:
    """Validate a status event from JSON text or a parsed mapping."""
    if isinstance(data, dict):
        return JOB_EVENT_ADAPTER.validate_python(data)
    return JOB_EVENT_ADAPTER.validate_json(data)
