"""Settings validation and the backend factory."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from plastinka_storage import (
    LocalObjectStore,
    LocalSettings,
    S3Environment,
    S3ObjectStore,
    S3Settings,
    StorageSettings,
    open_store,
)
from plastinka_storage.settings import YANDEX_ENDPOINT


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


def test_the_s3_variables_are_read_and_handed_on_by_one_model() -> None:
    env = {
        "PLASTINKA_S3_BUCKET": "plastinka-data",
        "PLASTINKA_S3_REGION": "ru-central1",
        "PLASTINKA_S3_ACCESS_KEY_ID": "id",
        "PLASTINKA_S3_SECRET_ACCESS_KEY": "secret",
        "PLASTINKA_S3_ENDPOINT_URL": "",  # empty is unset: the default endpoint
    }
    read = S3Environment.from_env(env)
    assert read.s3_endpoint_url == YANDEX_ENDPOINT
    settings = read.s3_settings(presign_expiry_s=60)
    assert (settings.bucket, settings.presign_expiry_s) == ("plastinka-data", 60)
    assert settings.secret_access_key is not None and settings.secret_access_key.get_secret_value() == "secret"
    handed_on = read.s3_env()
    assert S3Environment.from_env(handed_on) == read
    assert handed_on["AWS_ACCESS_KEY_ID"] == "id"
    assert "PLASTINKA_S3_ACCESS_KEY_ID" not in S3Environment(s3_access_key_id=SecretStr("id")).s3_env()
