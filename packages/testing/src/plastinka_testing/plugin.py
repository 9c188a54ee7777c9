"""Pytest plugin: registers the fixtures of plastinka_testing."""

from __future__ import annotations

from pathlib import Path

import pytest

# Function handlers run in the test process: their local store.
from plastinka_testing.handlers import handler_store  # noqa: F401

# PostgreSQL: a real server (local, configured or throwaway) and a fresh database per test.
from plastinka_testing.postgres import postgres_database, postgres_server, postgres_url  # noqa: F401

# S3: moto server on loopback, a fresh bucket per test, the fault-injecting proxy.
from plastinka_testing.s3 import (  # noqa: F401
    raw_s3_client,
    s3_bucket,
    s3_fault_proxy,
    s3_fault_proxy_server,
    s3_server,
)

# Yandex Cloud: gRPC fakes (endpoints, IAM, FunctionService) and the HTTP functions endpoint emulator.
from plastinka_testing.yandex import callback_sink, functions_emulator, yandex_cloud  # noqa: F401


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small shop export (sales, stock) in the shop's own csv format, made once per session."""
    from plastinka_testing.servers import shop_files  # noqa: PLC0415

    return shop_files(tmp_path_factory.mktemp("shop"))
