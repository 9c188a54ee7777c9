"""The ingest subpackage's public names resolve and are listed once."""

from __future__ import annotations

import plastinka_forecasting.ingest as ingest


def test_all_names_resolve_once() -> None:
    assert len(ingest.__all__) == len(set(ingest.__all__))
    for name in ingest.__all__:
        assert getattr(ingest, name) is not None
    assert {"load_sales", "load_sales_bytes", "validate_sales", "DataError"} <= set(ingest.__all__)
