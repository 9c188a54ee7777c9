"""The stand-in work and the switchable faults (see the package docstring)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

from plastinka_function_runtime import Attempt, Outcome, run_attempt
from plastinka_schemas import Artifact, PredictRequest, RunSummary, TrainRequest

_PREFIX = "PLASTINKA_TEST_"
_sent: list[Any] = []
_held: list[Any] = []
_original_send: Any = None


def _setting(name: str, default: str = "") -> str:
    return os.environ.get(_PREFIX + name, default)


def _faulty_send(self: Any, event: Any) -> bool:
    mode = _setting("CALLBACKS")
    _sent.append((self, event))
    if mode == "reorder" and event.type in ("running", "progress"):
        _held.append((self, event))
        return True
    ok = bool(_original_send(self, event))
    if mode == "duplicate":
        ok = _original_send(self, event) and ok
    if mode == "reorder" and event.type in ("succeeded", "failed"):
        for reporter, held in reversed(_held):
            with contextlib.suppress(Exception):  # late and replayed events may be refused: that is the point
                _original_send(reporter, held)
    return ok


def _install_faulty_send() -> None:
    """Route the reporter's callbacks through :func:`_faulty_send`; only when asked, since importing the
    reporter's package costs a cold start that a timeout case cannot spare."""
    global _original_send  # noqa: PLW0603 - one patch per process
    if _original_send is not None:
        return
    from plastinka_store import JobReporter  # noqa: PLC0415

    _original_send = JobReporter.send
    JobReporter.send = _faulty_send  # type: ignore[method-assign]


def _ledger(attempt: Attempt) -> None:
    path = _setting("LEDGER")
    if path:
        with Path(path).open("a", encoding="utf-8") as out:
            out.write(f"{attempt.request.job_id} {attempt.request.attempt}\n")


def _train(attempt: Attempt) -> Outcome:
    _ledger(attempt)
    number = str(attempt.request.attempt)
    if _setting("CRASH_ATTEMPT") == number:
        os._exit(3)  # a hard crash mid-run: no event, no status object
    work_s = float(_setting("WORK_S", "0"))
    if work_s:
        attempt.progress(0.1, "working")
        time.sleep(work_s)
    meta = json.dumps({"stand_in": True, "job": attempt.request.job_id}).encode()
    model = attempt.write_artifact(Artifact.MODEL, b"stand-in-model:" + attempt.request.job_id.encode())
    if _setting("CORRUPT_ATTEMPT") == number:
        attempt.run(attempt.store.put_bytes(model.key, b"corrupted after upload", content_type="x/bin"))
    return Outcome({Artifact.MODEL: model, Artifact.MODEL_META: attempt.write_artifact(Artifact.MODEL_META, meta)})


def _predict(attempt: Attempt) -> Outcome:
    import polars as pl  # noqa: PLC0415 - only predictions need it

    _ledger(attempt)
    frame = pl.DataFrame(
        {"item_id": ["a", "b"], "period": [date(2024, 1, 1)] * 2, "mean": [1.0, 2.0], "q_0.5": [1.0, 2.0]}
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    ref = attempt.write_artifact(Artifact.FORECAST, buffer.getvalue())
    orders = pl.DataFrame(
        {
            "item_id": ["a", "b"],
            "total_mean": [1.0, 2.0],
            "total_quantile": [2.0, 3.0],
            "stock": [None, 1],
            "suggested_order": [2, 2],
            "service_level": [0.8, 0.8],
            "cover_months": [1, 1],
            "total_method": ["poisson", "poisson"],
        },
        schema_overrides={"stock": pl.Int64},
    )
    buffer = io.BytesIO()
    orders.write_parquet(buffer)
    orders_ref = attempt.write_artifact(Artifact.ORDERS, buffer.getvalue())
    artifacts = {Artifact.FORECAST: ref, Artifact.ORDERS: orders_ref}
    return Outcome(artifacts=artifacts, summary=RunSummary(rows=frame.height))


def _run(event: Any, context: Any, request_type: Any, work: Any) -> Any:
    mode = _setting("CALLBACKS")
    if mode:
        _install_faulty_send()
    if mode == "drop":
        event = _without_callback(event)
    result = run_attempt(event, context, request_type, work)
    if mode == "replay":
        time.sleep(1.0)
        for reporter, sent in list(_sent):
            with contextlib.suppress(Exception):  # late and replayed events may be refused: that is the point
                _original_send(reporter, sent)
    return result


def _without_callback(event: Any) -> Any:
    from plastinka_function_runtime.events import decode_event  # noqa: PLC0415

    body = decode_event(event)
    body["callback_url"] = None
    return body


def train(event: Any, context: Any) -> Any:
    return _run(event, context, TrainRequest, _train)


def predict(event: Any, context: Any) -> Any:
    return _run(event, context, PredictRequest, _predict)
