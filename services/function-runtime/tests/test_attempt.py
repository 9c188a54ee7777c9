"""The attempt lifecycle against a real local store and a loopback callback endpoint."""

import asyncio
import json

import pytest

from plastinka_function_runtime import Outcome, run_attempt
from plastinka_schemas import Artifact, RunSummary, TrainRequest, parse_job_event
from plastinka_storage import TransientStorageError, dataset_key, job_status_key
from plastinka_storage.checksums import sha256_hex
from plastinka_testing.handlers import HandlerContext, train_request


@pytest.fixture
def store(handler_store):
    return handler_store


@pytest.fixture
def request_body(store, callback_sink):
    data = b"item;qty\n1;2\n"
    ref = asyncio.run(store.put_bytes(dataset_key(sha256_hex(data), "sales.csv"), data))
    return train_request("job-9", ref, callback_sink.url, attempt=2, callback_token="secret-token-0123456789")


def echo_work(attempt):
    data = attempt.read(attempt.request.dataset)
    attempt.progress(0.5, "halfway")
    copy = attempt.write_artifact(Artifact.FORECAST, data)
    return Outcome(artifacts={Artifact.FORECAST: copy}, summary=RunSummary(rows=len(data)))


def status_of(store, job_id, attempt):
    return parse_job_event(asyncio.run(store.get_bytes(job_status_key(job_id, attempt))))


def test_success_reports_running_progress_and_the_manifest_and_stores_the_status(store, request_body, callback_sink):
    result = run_attempt(request_body.model_dump_json(), HandlerContext(), TrainRequest, echo_work)

    assert result["status"] == "succeeded"
    assert callback_sink.types() == ["running", "progress", "succeeded"]
    assert set(callback_sink.authorizations) == {"Bearer secret-token-0123456789"}
    running, _, succeeded = callback_sink.events
    assert running["cold_start"] in (True, False)
    assert succeeded["invocation_id"] == "req-1"
    assert succeeded["summary"]["rows"] == 13
    assert succeeded["stats"]["duration_s"] >= 0 and succeeded["stats"]["peak_memory_mb"] > 0
    copy = succeeded["manifest"]["artifacts"]["forecast"]
    assert copy["key"].startswith("jobs/job-9/attempt-2/forecast-") and copy["key"].endswith(".parquet")
    assert asyncio.run(store.get_bytes(copy["key"], expected_sha256=copy["sha256"])) == b"item;qty\n1;2\n"
    assert status_of(store, "job-9", 2).model_dump(mode="json") == succeeded


def test_redelivery_resends_the_stored_outcome_without_working_again(store, request_body, callback_sink):
    run_attempt(request_body.model_dump_json(), HandlerContext(), TrainRequest, echo_work)
    calls = []

    def must_not_run(attempt):
        calls.append(attempt)
        raise AssertionError("re-delivery re-ran the work")

    result = run_attempt(request_body.model_dump_json(), HandlerContext("req-2"), TrainRequest, must_not_run)

    assert result == {"status": "succeeded", "redelivered": True}
    assert calls == []
    assert callback_sink.types() == ["running", "progress", "succeeded", "succeeded"]
    assert callback_sink.events[-1] == callback_sink.events[2]


def test_a_deterministic_failure_is_reported_stored_and_returned(store, request_body, callback_sink):
    def bad_data(attempt):
        raise ValueError("column 'qty' has letters in row 7")

    result = run_attempt(request_body.model_dump(mode="json"), HandlerContext(), TrainRequest, bad_data)

    assert result == {"status": "failed"}
    failed = callback_sink.events[-1]
    assert failed["type"] == "failed"
    assert failed["error_type"] == "ValueError"
    assert "row 7" in failed["message"]
    assert "Traceback" in failed["traceback"]
    assert failed["retryable"] is False
    assert status_of(store, "job-9", 2).type == "failed"


def test_a_transient_failure_is_reported_retryable_and_raised_without_a_status_object(
    store, request_body, callback_sink
):
    def flaky(attempt):
        raise TransientStorageError("S3 answered 503")

    with pytest.raises(TransientStorageError):
        run_attempt(request_body.model_dump_json(), HandlerContext(), TrainRequest, flaky)

    assert callback_sink.events[-1]["retryable"] is True
    assert not asyncio.run(store.exists(job_status_key("job-9", 2)))


def test_a_tampered_input_fails_the_attempt_with_a_checksum_error(store, request_body, callback_sink, tmp_path):
    (tmp_path / "storage" / request_body.dataset.key).write_bytes(b"item;qty\n1;9\n")

    result = run_attempt(request_body.model_dump_json(), HandlerContext(), TrainRequest, echo_work)

    assert result["status"] == "failed"
    assert "Checksum" in callback_sink.events[-1]["error_type"]


def test_an_invalid_request_is_rejected_and_still_reported_when_it_names_its_job(store, request_body, callback_sink):
    body = request_body.model_dump(mode="json")
    body["schema_version"] = 99

    result = run_attempt(json.dumps(body), HandlerContext(), TrainRequest, echo_work)

    assert result["status"] == "rejected"
    assert callback_sink.types() == ["failed"]
    assert callback_sink.events[0]["error_type"] == "RequestError"
    assert "schema_version" in callback_sink.events[0]["message"]


def test_an_output_prefix_of_another_attempt_is_refused(store, request_body, callback_sink):
    body = request_body.model_dump(mode="json")
    body["output_prefix"] = "jobs/job-9/attempt-1/"
    assert run_attempt(body, HandlerContext(), TrainRequest, echo_work)["status"] == "rejected"


def test_a_refused_running_event_abandons_the_attempt(store, request_body, callback_sink):
    callback_sink.answers.append(409)
    ran = []
    result = run_attempt(request_body.model_dump_json(), HandlerContext(), TrainRequest, lambda a: ran.append(a))
    assert result["status"] == "abandoned"
    assert ran == []


def test_no_callback_url_still_stores_the_status(store, request_body):
    body = request_body.model_copy(update={"callback_url": None})
    assert run_attempt(body.model_dump_json(), HandlerContext(), TrainRequest, echo_work)["status"] == "succeeded"
    assert status_of(store, "job-9", 2).type == "succeeded"


def test_a_refused_final_event_still_leaves_the_status_object(store, request_body, callback_sink):
    callback_sink.answers.extend([200, 200, 409])  # running, progress accepted; the outcome refused (stale)
    result = run_attempt(request_body.model_dump_json(), HandlerContext(), TrainRequest, echo_work)
    assert result["status"] == "succeeded"
    assert callback_sink.types() == ["running", "progress"]
    assert status_of(store, "job-9", 2).type == "succeeded"


def test_a_broken_environment_is_reported_retryable_and_raised(store, request_body, callback_sink, monkeypatch):
    from plastinka_function_runtime import ConfigurationError

    monkeypatch.delenv("PLASTINKA_STORAGE_DIR")
    with pytest.raises(ConfigurationError):
        run_attempt(request_body.model_dump_json(), HandlerContext(), TrainRequest, echo_work)
    assert callback_sink.types() == ["failed"]
    assert callback_sink.events[0]["retryable"] is True
    assert callback_sink.events[0]["error_type"] == "ConfigurationError"
