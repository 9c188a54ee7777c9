"""The function output contract: artifact names, and the training report read the same from every version."""

from datetime import date

import pytest
from pydantic import ValidationError

from plastinka_schemas import (
    Artifact,
    ArtifactManifest,
    BacktestReport,
    JobKind,
    RunSummary,
    TrainingMetrics,
    TrainingReport,
)

SHA = "a" * 64
ROWS = [{"method": "lightgbm", "n": 120, "mae": 0.41}, {"method": "naive", "n": 120, "mae": 0.52}]
DESCRIBED = {"method": "rolling origin", "windows": 2, "cutoffs": ["2023-01-01", "2023-04-01"], "note": "ran 2 of 3"}


def test_each_artifact_says_its_job_kind_file_and_whether_it_is_required():
    assert Artifact.MODEL_META.stem == "model-meta" and Artifact.MODEL_META.is_json
    assert Artifact.FORECAST.suffix == ".parquet" and not Artifact.FORECAST.is_json
    assert Artifact.required_for(JobKind.TRAINING) == (Artifact.MODEL, Artifact.MODEL_META)
    assert Artifact.required_for(JobKind.PREDICTION) == (Artifact.FORECAST,)
    assert Artifact("backtest") is Artifact.BACKTEST


def test_a_manifest_names_only_known_artifacts():
    ref = {"key": "jobs/j/attempt-1/x", "sha256": SHA, "size": 1}
    with pytest.raises(ValidationError, match="orders_typo"):
        ArtifactManifest.model_validate({"artifacts": {"orders_typo": ref}})


def test_every_stored_layout_reads_as_the_same_report():
    metrics = {"metrics": {"train_rows": 10, "choice": {"window": 12, "mean": [0, 0, 0.5, 0]}}, "tuned": False}
    current = TrainingReport(
        summary=RunSummary(horizon=3),
        metrics=TrainingMetrics.model_validate(metrics),
        backtest=BacktestReport.model_validate({**DESCRIBED, "rows": ROWS}),
    )
    unversioned = {"horizon": 3, "metrics": metrics, "backtest": {**DESCRIBED, "rows": ROWS}}
    oldest = {"horizon": 3, "metrics": {**metrics, "backtest": ROWS}}
    for stored in (current.stored(), unversioned):
        report = TrainingReport.model_validate(stored)
        assert report == current
        assert report.metrics.public() == metrics
        assert report.backtest is not None and report.backtest.description() == DESCRIBED
    report = TrainingReport.model_validate(oldest)
    assert report.metrics.public() == metrics and report.summary.horizon == 3
    assert report.backtest is not None and [row.public() for row in report.backtest.rows] == ROWS
    assert report.backtest.description() == {}
    assert current.metrics.metrics is not None and current.metrics.metrics.choice is not None
    assert current.metrics.metrics.choice.mean == [0, 0, 0.5, 0]
    assert current.backtest is not None and current.backtest.cutoffs[0] == date(2023, 1, 1)


def test_a_choice_reads_its_pooling_rule_and_held_out_pit80_and_an_older_one_has_neither():
    smooth = {"rows": 900, "weights": [0, 0.5, 1], "spl": [0.8, 0.79, 0.9], "pit80": [0.81, 0.76, 0.5]}
    choice = TrainingMetrics.model_validate(
        {"metrics": {"choice": {"rule": "linear_pool", "quantile": [0, 0, 0, 0], "scores": {"smooth": smooth}}}}
    ).metrics
    assert choice is not None and choice.choice is not None
    assert choice.choice.rule == "linear_pool" and choice.choice.scores["smooth"].pit80 == [0.81, 0.76, 0.5]
    older = TrainingMetrics.model_validate({"metrics": {"choice": {"quantile": [0, 0.25, 0, 0]}}}).metrics
    assert older is not None and older.choice is not None and older.choice.rule is None
    assert "rule" not in older.choice.public()
    with pytest.raises(ValidationError, match="pit80"):
        TrainingMetrics.model_validate({"metrics": {"choice": {"scores": {"smooth": {"pit80": "high"}}}}})


def test_report_sections_keep_keys_they_do_not_know_and_check_the_ones_they_do():
    row = {"method": "tsb", "mae": 0.4, "new_score": 1.5}
    assert BacktestReport.model_validate({"rows": [row]}).rows[0].public() == row
    with pytest.raises(ValidationError, match="mae"):
        BacktestReport.model_validate({"rows": [{"method": "tsb", "mae": "lots"}]})
    with pytest.raises(ValidationError, match="bytes"):
        RunSummary.model_validate({"bytes": 13})
