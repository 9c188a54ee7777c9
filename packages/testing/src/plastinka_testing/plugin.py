"""Pytest plugin: registers the fixtures of plastinka_testing."""

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
