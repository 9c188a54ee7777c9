"""Stand-in handlers for the fault matrix: the real attempt lifecycle of plastinka-function-runtime (status
events, status object, signed callbacks, artifact checksums) around trivial work, with faults switched on by
environment variables (the API's environment reaches the local runtime's processes):

* ``FAULT_CRASH_ATTEMPT=<n>``: training attempt n dies without a word (``os._exit``).
* ``FAULT_WORK_S=<s>``: training takes that long (a timeout, or a window for killing the API).
* ``FAULT_CORRUPT_ATTEMPT=<n>``: attempt n overwrites its model after writing it, so the manifest's sha256
  no longer matches the stored bytes.
* ``FAULT_CALLBACKS=drop|duplicate|reorder|replay``: callbacks never sent (only the status object is left),
  each sent twice, ``running``/progress held back until after the final event, or every event sent again
  after the attempt ended.

Each run appends ``<job_id> <attempt>`` to ``$FAULT_LEDGER``.
"""

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

from plastinka_jobs import JobReporter
from plastinka_schemas import PredictRequest, TrainRequest

_sent: list[Any] = []
_held: list[Any] = []
_original_send = JobReporter.send


def _faulty_send(self: JobReporter, event: Any) -> bool:
    mode = os.environ.get("FAULT_CALLBACKS", "")
    _sent.append((self, event))
    if mode == "reorder" and event.type in ("running", "progress"):
        _held.append((self, event))
        return True
    ok = _original_send(self, event)
    if mode == "duplicate":
        ok = _original_send(self, event) and ok
    if mode == "reorder" and event.type in ("succeeded", "failed"):
        for reporter, held in reversed(_held):
            with contextlib.suppress(Exception):  # late and replayed events may be refused: that is the point
                _original_send(reporter, held)
    return ok


JobReporter.send = _faulty_send  # type: ignore[method-assign]


def _ledger(attempt: Attempt) -> None:
    path = os.environ.get("FAULT_LEDGER")
    if path:
        with Path(path).open("a", encoding="utf-8") as out:
            out.write(f"{attempt.request.job_id} {attempt.request.attempt}\n")


def _train(attempt: Attempt) -> Outcome:
    _ledger(attempt)
    number = str(attempt.request.attempt)
    if os.environ.get("FAULT_CRASH_ATTEMPT") == number:
        os._exit(3)
    work_s = float(os.environ.get("FAULT_WORK_S", "0"))
    if work_s:
        attempt.progress(0.1, "working")
        time.sleep(work_s)
    meta = json.dumps({"fast": True, "job": attempt.request.job_id}).encode()
    model = attempt.write("model", ".bin", b"fault-model:" + attempt.request.job_id.encode(), "x/bin")
    if os.environ.get("FAULT_CORRUPT_ATTEMPT") == number:
        attempt.run(attempt.store.put_bytes(model.key, b"corrupted after upload", content_type="x/bin"))
    return Outcome(
        artifacts={"model": model, "model_meta": attempt.write("model-meta", ".json", meta, "application/json")},
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


def _run(event: Any, context: Any, request_type: Any, work: Any) -> Any:
    if os.environ.get("FAULT_CALLBACKS") == "drop":
        event = _without_callback(event)
    result = run_attempt(event, context, request_type, work)
    if os.environ.get("FAULT_CALLBACKS") == "replay":
        time.sleep(1.0)
        for reporter, sent in list(_sent):
            with contextlib.suppress(Exception):  # late and replayed events may be refused: that is the point
                _original_send(reporter, sent)
    return result


def _without_callback(event: Any) -> Any:
    from plastinka_function_runtime.events import decode_event

    body = decode_event(event)
    body["callback_url"] = None
    return body


def train(event: Any, context: Any) -> Any:
    return _run(event, context, TrainRequest, _train)


def predict(event: Any, context: Any) -> Any:
    return _run(event, context, PredictRequest, _predict)
