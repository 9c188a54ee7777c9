"""Settings validation and the backend factory."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from plastinka_storage import (
    LocalObjectStore,
    LocalSettings,
    S3ObjectStore,
    S3Settings,
    StorageSettings,
    open_store,
)


def test_s3_defaults_fit_yandex_object_storage() -> None:
    s = S3Settings(bucket="plastinka-data")
    assert (s.endpoint_url, s.region) == ("https://storage.yandexcloud.net", "ru-central1")
    assert s.part_size >= 5 * 1024 * 1024 and s.multipart_threshold >= s.part_size
    assert 60 <= s.presign_expiry_s <= 3600  # minutes, not days
    policy = s.retry_policy()
    assert policy.total_s == s.retry_total_s and policy.max_attempts == s.retry_max_attempts


@pytest.mark.parametrize(
    "fields",
    [
        {"bucket": "UPPER"},
        {"bucket": "ab"},
        {"bucket": "ok-bucket", "part_size": 1024},
        {"bucket": "ok-bucket", "presign_expiry_s": 8 * 24 * 3600},
        {"bucket": "ok-bucket", "access_key_id": "only-one-half"},
        {"bucket": "ok-bucket", "unknown": 1},
    ],
)
def test_bad_s3_settings_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        S3Settings(**fields)  # type: ignore[arg-type]


def test_secrets_do_not_leak_into_repr() -> None:
    s = S3Settings(bucket="b-1", access_key_id="AKIDEXAMPLE", secret_access_key="very-secret")
    assert "very-secret" not in repr(s) and "AKIDEXAMPLE" not in repr(s)


def test_the_chosen_backend_must_be_configured(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="s3"):
        StorageSettings(backend="s3", local=LocalSettings(root=tmp_path))
    with pytest.raises(ValidationError):
        LocalSettings(root=tmp_path, signing_key="short")


def test_open_store_chooses_the_backend(tmp_path: Path) -> None:
    local = open_store(StorageSettings(local=LocalSettings(root=tmp_path, signing_key="k" * 16, base_url="http://h")))
    assert isinstance(local, LocalObjectStore) and local.root == tmp_path.resolve()
    s3 = open_store(StorageSettings(backend="s3", s3=S3Settings(bucket="plastinka-data")))
    assert isinstance(s3, S3ObjectStore) and s3.bucket == "plastinka-data"
    assert isinstance(open_store(S3Settings(bucket="other-bucket")), S3ObjectStore)
    assert isinstance(open_store(LocalSettings(root=tmp_path)), LocalObjectStore)


async def test_open_store_gives_a_working_local_store(tmp_path: Path) -> None:
    async with open_store(StorageSettings(local=LocalSettings(root=tmp_path / "data"))) as store:
        ref = await store.put_bytes("a/b", b"x")
        assert await store.get_artifact(ref) == b"x"
