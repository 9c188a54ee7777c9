"""The retry rules in isolation: which answers are transient, Retry-After, and the backoff's bounds."""

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import grpc
import httpx
import pytest
from tenacity import RetryCallState

from plastinka_api.invokers import retry


def response(status, **headers):
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize(
    ("status", "headers", "transient"),
    [
        (429, {}, True),
        (503, {}, True),
        (504, {}, True),
        (502, {}, True),
        (502, {"X-Function-Error": "true"}, False),
        (502, {"X-Function-Error": "TRUE "}, False),
        (500, {}, False),
        (400, {}, False),
        (401, {}, False),
        (404, {}, False),
        (202, {}, False),
    ],
)
def test_which_statuses_are_retried(status, headers, transient):
    assert retry.is_transient_status(response(status, **headers)) is transient


def test_function_error_header():
    assert retry.is_function_error(response(502, **{"X-Function-Error": "true"}))
    assert not retry.is_function_error(response(502, **{"X-Function-Error": "false"}))


class _Rpc(grpc.RpcError):
    def __init__(self, code):
        self._code = code

    def code(self):
        return self._code


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (TimeoutError(), True),
        (retry.TransientHttpError(503, None, ""), True),
        (_Rpc(grpc.StatusCode.UNAVAILABLE), True),
        (_Rpc(grpc.StatusCode.DEADLINE_EXCEEDED), True),
        (_Rpc(grpc.StatusCode.UNAUTHENTICATED), False),
        (_Rpc(grpc.StatusCode.NOT_FOUND), False),
        (ValueError("bug"), False),
    ],
)
def test_which_exceptions_are_retried(exc, transient):
    assert retry.is_transient_exception(exc) is transient


def test_retry_after_as_seconds_or_http_date():
    assert retry.retry_after_seconds("7") == 7.0
    assert retry.retry_after_seconds("-3") == 0.0
    assert retry.retry_after_seconds(None) is None
    assert retry.retry_after_seconds("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 100 < retry.retry_after_seconds(later) <= 120


def state(attempt, exc):
    call = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})
    call.attempt_number = attempt
    call.set_exception((type(exc), exc, None))
    return call


def test_backoff_grows_with_jitter_and_stays_under_the_cap():
    policy = retry.RetryPolicy(initial_s=0.5, max_backoff_s=4.0)
    wait = retry.backoff(policy, random.Random(1))
    for attempt in range(1, 12):
        ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
        delays = [wait(state(attempt, httpx.ConnectError("x"))) for _ in range(50)]
        assert all(0 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered, not a fixed schedule


def test_backoff_honours_retry_after_up_to_the_cap():
    wait = retry.backoff(retry.RetryPolicy(initial_s=0.01, max_backoff_s=5.0), random.Random(2))
    assert wait(state(1, retry.TransientHttpError(429, 3.0, ""))) >= 3.0
    assert wait(state(1, retry.TransientHttpError(429, 60.0, ""))) == 5.0
