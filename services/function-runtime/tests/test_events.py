import base64
import json

import pytest

from plastinka_function_runtime import RequestError, decode_event, parse_request
from plastinka_schemas import PredictRequest, TrainRequest

SHA = "a" * 64
REQUEST = {
    "schema_version": 1,
    "kind": "train",
    "job_id": "job-1",
    "attempt": 1,
    "callback_token": "t" * 32,
    "output_prefix": "jobs/job-1/attempt-1/",
    "dataset": {"key": f"datasets/{SHA}/sales.csv", "sha256": SHA, "size": 10},
}


@pytest.mark.parametrize(
    "event",
    [
        json.dumps(REQUEST),
        json.dumps(REQUEST).encode(),
        REQUEST,
        {"httpMethod": "POST", "body": json.dumps(REQUEST), "isBase64Encoded": False},
        {"body": base64.b64encode(json.dumps(REQUEST).encode()).decode(), "isBase64Encoded": True},
    ],
    ids=["str", "bytes", "dict", "envelope", "base64-envelope"],
)
def test_every_event_shape_decodes_to_the_same_request(event):
    assert decode_event(event) == REQUEST
    request = parse_request(event, TrainRequest)
    assert request.job_id == "job-1"
    assert request.dataset.sha256 == SHA


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("not json", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ("[1, 2]", "JSON object"),
        ({"body": "!!!", "isBase64Encoded": True}, "base64"),
        ({"httpMethod": "POST", "isBase64Encoded": False, "body": None}, "no body"),
    ],
)
def test_undecodable_events_are_request_errors(event, message):
    with pytest.raises(RequestError, match=message):
        decode_event(event)


def test_an_unknown_schema_version_is_refused():
    with pytest.raises(RequestError, match="unsupported schema_version 2"):
        parse_request({**REQUEST, "schema_version": 2}, TrainRequest)


def test_a_request_of_the_other_kind_is_refused():
    with pytest.raises(RequestError, match="invalid PredictRequest"):
        parse_request(REQUEST, PredictRequest)


def test_unknown_fields_are_refused_with_their_location():
    with pytest.raises(RequestError, match="surprise"):
        parse_request({**REQUEST, "surprise": 1}, TrainRequest)
