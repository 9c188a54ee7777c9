from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from plastinka_schemas import (
    Artifact,
    ArtifactRef,
    Frequency,
    JobKind,
    JobStatus,
    PredictRequest,
    SucceededEvent,
    TrainingJobCreate,
    TrainRequest,
    parse_job_event,
)
from plastinka_schemas.functions import FUNCTION_REQUEST_ADAPTER

SHA = "a" * 64


def train_payload(**overrides):
    payload = {
        "job_id": "job_1",
        "attempt": 1,
        "callback_token": "t" * 32,
        "output_prefix": "jobs/job_1/attempt-1/",
        "dataset": {"key": f"datasets/{SHA}/sales.csv", "sha256": SHA, "size": 10},
    }
    payload.update(overrides)
    return payload


class TestTrainingJobCreate:
    def test_defaults(self):
        job = TrainingJobCreate(dataset_id="ds_1")
        assert job.frequency is Frequency.MONTH
        assert job.quantiles == (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)

    def test_unknown_field_refused(self):
        with pytest.raises(ValidationError, match="extra"):
            TrainingJobCreate(dataset_id="ds_1", horizn=3)

    @pytest.mark.parametrize("quantiles", [(0.0, 0.5), (0.5, 1.0), (0.9, 0.1), (0.5, 0.5), (-0.1,)])
    def test_bad_quantiles(self, quantiles):
        with pytest.raises(ValidationError, match="quantile"):
            TrainingJobCreate(dataset_id="ds_1", quantiles=quantiles)

    def test_monthly_horizon_capped_at_12(self):
        with pytest.raises(ValidationError, match=r"1\.\.12 months"):
            TrainingJobCreate(dataset_id="ds_1", frequency="M", horizon=13)

    def test_weekly_horizon_up_to_52(self):
        assert TrainingJobCreate(dataset_id="ds_1", frequency="W", horizon=52).horizon == 52
        with pytest.raises(ValidationError):
            TrainingJobCreate(dataset_id="ds_1", frequency="W", horizon=53)


class TestFunctionRequests:
    def test_round_trip_through_json(self):
        request = TrainRequest.model_validate(train_payload(tune=True))
        again = FUNCTION_REQUEST_ADAPTER.validate_json(request.model_dump_json())
        assert again == request
        assert isinstance(again, TrainRequest)

    def test_unknown_schema_version_refused(self):
        with pytest.raises(ValidationError, match="schema_version"):
            TrainRequest.model_validate(train_payload(schema_version=2))

    def test_prefix_must_be_a_directory(self):
        with pytest.raises(ValidationError, match="output_prefix"):
            TrainRequest.model_validate(train_payload(output_prefix="jobs/job_1/attempt-1"))

    @pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a\x00b", ""])
    def test_hostile_keys_refused(self, key):
        with pytest.raises(ValidationError):
            ArtifactRef(key=key, sha256=SHA, size=1)

    def test_discriminated_by_kind(self):
        ref = {"key": "models/m1/model.txt", "sha256": SHA, "size": 1}
        predict = train_payload(kind="predict", model=ref, model_meta=ref)
        parsed = FUNCTION_REQUEST_ADAPTER.validate_python(predict)
        assert isinstance(parsed, PredictRequest)


class TestJobEvents:
    def test_succeeded_event_parsed_from_json(self):
        event = SucceededEvent(
            job_id="job_1",
            attempt=2,
            at=datetime(2026, 1, 1, tzinfo=UTC),
            manifest={"artifacts": {"model": {"key": "jobs/job_1/attempt-2/m.txt", "sha256": SHA, "size": 5}}},
        )
        parsed = parse_job_event(event.model_dump_json())
        assert parsed == event
        assert parsed.manifest.get(Artifact.MODEL).size == 5
        assert parsed.manifest.missing(JobKind.TRAINING) == [Artifact.MODEL_META]
        with pytest.raises(KeyError, match="metrics"):
            parsed.manifest.get(Artifact.METRICS)

    def test_unknown_event_type_refused(self):
        with pytest.raises(ValidationError):
            parse_job_event({"type": "exploded", "job_id": "j", "attempt": 1, "at": "2026-01-01T00:00:00Z"})


def test_terminal_statuses():
    assert {s for s in JobStatus if s.is_terminal} == {"succeeded", "failed", "cancelled", "dead_letter"}
