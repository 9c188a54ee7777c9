"""The S3 test fixtures this package relies on: CI turns a missing peer into a failure, and the fault queue."""

from __future__ import annotations

import pytest

from plastinka_testing.s3 import FaultProxy, unavailable


def test_a_missing_peer_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no server"):
        unavailable("no server")


def test_a_missing_peer_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no server"):
        unavailable("no server")


def test_faults_are_taken_in_order_and_by_match() -> None:
    proxy = FaultProxy(upstream="http://127.0.0.1:9")
    proxy.fail_next(2, status=500)
    proxy.drop_next(1, match="PUT ")
    assert proxy._take("PUT /b/k").kind == "status"  # type: ignore[union-attr]
    assert proxy._take("GET /b/k").kind == "status"  # type: ignore[union-attr]
    assert proxy._take("GET /b/k") is None  # the drop waits for a PUT
    assert proxy._take("PUT /b/k").kind == "drop"  # type: ignore[union-attr]
    assert proxy._take("PUT /b/k") is None
    with pytest.raises(ValueError, match="n must be"):
        proxy.fail_next(0)
