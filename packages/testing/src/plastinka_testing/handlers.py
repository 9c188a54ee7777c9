"""Running a function handler inside the test process: the platform's context, the local store it reaches through
``PLASTINKA_STORAGE_*`` (as a deployed handler reaches its bucket), its stored inputs and a train request."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from plastinka_schemas import ArtifactRef, TrainRequest
from plastinka_storage import LocalObjectStore, dataset_key, job_attempt_prefix
from plastinka_storage.checksums import sha256_hex

__all__ = ["HandlerContext", "handler_store", "put_input", "train_request"]


class HandlerContext:
    """The part of the platform's context object the handlers read, with a deadline ``seconds`` from now."""

    function_name = "train-function"
    memory_limit_in_mb = 2048

    def __init__(self, request_id: str = "req-1", seconds: float = 900.0) -> None:
        self.request_id = request_id
        self._deadline = time.time() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.time()) * 1000)


@pytest.fixture
def handler_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalObjectStore:
    """A local store, named to the handler under test by the environment."""
    root = tmp_path / "storage"
    monkeypatch.setenv("PLASTINKA_STORAGE_BACKEND", "local")
    monkeypatch.setenv("PLASTINKA_STORAGE_DIR", str(root))
    return LocalObjectStore(root)


def put_input(store: LocalObjectStore, path: Path) -> ArtifactRef:
    """A dataset file stored where uploads go (``datasets/<sha256>/<name>``)."""
    data = path.read_bytes()
    return asyncio.run(store.put_bytes(dataset_key(sha256_hex(data), path.name), data))


def train_request(
    job_id: str,
    dataset: ArtifactRef,
    callback_url: str | None,
    *,
    attempt: int = 1,
    callback_token: str = "callback-token-0123456789",  # noqa: S107 - a test's token
    **fields: Any,
) -> TrainRequest:
    """A train request writing under the attempt's own prefix."""
    return TrainRequest(
        job_id=job_id,
        attempt=attempt,
        callback_url=callback_url,
        callback_token=callback_token,
        output_prefix=job_attempt_prefix(job_id, attempt),
        dataset=dataset,
        **fields,
    )
