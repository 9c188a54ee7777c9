"""A fast stand-in for the real handlers (the exactly-once test runs 50 jobs): the real attempt lifecycle of
plastinka-function-runtime (status events, status object, signed callbacks) around trivial work. Each run
appends ``<job_id> <attempt>`` to ``$PLASTINKA_TEST_LEDGER`` so the test can count executions;
``$PLASTINKA_TEST_WORK_S`` makes training take that long; ``$PLASTINKA_TEST_CRASH_ATTEMPT=<n>`` makes
training attempt n die without a word."""

from __future__ import annotations

import io
import json
import os
import time
from datetime import date
from pathlib import Path

from plastinka_function_runtime import Attempt, Outcome, run_attempt

from plastinka_schemas import PredictRequest, TrainRequest


def _ledger(attempt: Attempt) -> None:
    path = os.environ.get("PLASTINKA_TEST_LEDGER")
    if path:
        with Path(path).open("a", encoding="utf-8") as out:
            out.write(f"{attempt.request.job_id} {attempt.request.attempt}\n")


def _train(attempt: Attempt) -> Outcome:
    _ledger(attempt)
    if os.environ.get("PLASTINKA_TEST_CRASH_ATTEMPT") == str(attempt.request.attempt):
        os._exit(3)  # a hard crash mid-run: no event, no status object
    work_s = float(os.environ.get("PLASTINKA_TEST_WORK_S", "0"))
    if work_s:
        attempt.progress(0.1, "working")
        time.sleep(work_s)
    meta = json.dumps({"fast": True, "job": attempt.request.job_id}).encode()
    return Outcome(
        artifacts={
            "model": attempt.write("model", ".bin", b"fast-model:" + attempt.request.job_id.encode(), "x/bin"),
            "model_meta": attempt.write("model-meta", ".json", meta, "application/json"),
        },
        summary={"fast": True},
    )


def _predict(attempt: Attempt) -> Outcome:
    import polars as pl

    _ledger(attempt)
    frame = pl.DataFrame(
        {"item_id": ["a", "b"], "period": [date(2024, 1, 1)] * 2, "mean": [1.0, 2.0], "q_0.5": [1.0, 2.0]}
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    ref = attempt.write("forecast", ".parquet", buffer.getvalue(), "application/vnd.apache.parquet")
    return Outcome(artifacts={"forecast": ref}, summary={"rows": frame.height})


def train(event: object, context: object) -> object:
    return run_attempt(event, context, TrainRequest, _train)  # type: ignore[arg-type]


def predict(event: object, context: object) -> object:
    return run_attempt(event, context, PredictRequest, _predict)  # type: ignore[arg-type]
