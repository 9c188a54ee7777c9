"""JSON Schema of every function contract, as committed under ``contracts/`` and compared in tests."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from plastinka_schemas.functions import (
    FUNCTION_REQUEST_ADAPTER,
    JOB_EVENT_ADAPTER,
    ArtifactManifest,
    PredictRequest,
    TrainRequest,
)
from plastinka_schemas.outputs import BacktestReport, TrainingMetrics


def contract_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema for each contract that crosses a process boundary."""
    models: dict[str, type[BaseModel]] = {
        "train_request": TrainRequest,
        "predict_request": PredictRequest,
        "artifact_manifest": ArtifactManifest,
        "training_metrics": TrainingMetrics,
        "backtest_report": BacktestReport,
    }
    schemas = {name: model.model_json_schema() for name, model in models.items()}
    schemas["function_request"] = FUNCTION_REQUEST_ADAPTER.json_schema()
    schemas["job_event"] = JOB_EVENT_ADAPTER.json_schema()
    return schemas


def render(schema: dict[str, Any]) -> str:
    """Stable text for a schema: sorted keys, two-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
