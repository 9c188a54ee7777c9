"""Storage settings: plain pydantic models (the API fills them from ``PLASTINKA_*`` variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from plastinka_storage.base import MAX_PRESIGN_EXPIRY_S
from plastinka_storage.retry import RetryPolicy

__all__ = ["YANDEX_ENDPOINT", "YANDEX_REGION", "LocalSettings", "S3Settings", "StorageSettings"]

YANDEX_ENDPOINT = "https://storage.yandexcloud.net"
YANDEX_REGION = "ru-central1"
MIB = 1024 * 1024
_MIN_PART = 5 * MIB  # S3's minimum size of every multipart part but the last
_MAX_PART = 5 * 1024 * MIB

PresignExpiry = Annotated[int, Field(ge=1, le=MAX_PRESIGN_EXPIRY_S)]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class S3Settings(_Settings):
    """An S3-compatible bucket; defaults fit Yandex Object Storage."""

    bucket: Annotated[str, Field(min_length=3, max_length=63, pattern=r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")]
    endpoint_url: str = YANDEX_ENDPOINT
    region: str = YANDEX_REGION
    access_key_id: SecretStr | None = Field(default=None, description="None: botocore's default credential chain.")
    secret_access_key: SecretStr | None = None
    addressing_style: Literal["path", "virtual", "auto"] = "path"
    multipart_threshold: Annotated[int, Field(ge=_MIN_PART)] = 16 * MIB
    part_size: Annotated[int, Field(ge=_MIN_PART, le=_MAX_PART)] = 8 * MIB
    presign_expiry_s: PresignExpiry = 900
    connect_timeout_s: Annotated[float, Field(gt=0)] = 5.0
    read_timeout_s: Annotated[float, Field(gt=0)] = 60.0
    max_pool_connections: Annotated[int, Field(ge=1, le=100)] = 10
    retry_total_s: Annotated[float, Field(gt=0)] = 30.0
    retry_max_attempts: Annotated[int, Field(ge=1, le=50)] = 6
    retry_backoff_base_s: Annotated[float, Field(ge=0)] = 0.2
    retry_backoff_max_s: Annotated[float, Field(ge=0)] = 5.0

    @model_validator(mode="after")
    def _keys_come_in_pairs(self) -> Self:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("set both access_key_id and secret_access_key, or neither")
        return self

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            total_s=self.retry_total_s,
            max_attempts=self.retry_max_attempts,
            backoff_base_s=self.retry_backoff_base_s,
            backoff_max_s=self.retry_backoff_max_s,
        )


class LocalSettings(_Settings):
    """A directory acting as the bucket, for development and the embedded single-machine setup."""

    root: Path
    signing_key: SecretStr | None = Field(
        default=None, min_length=16, description="HMAC key for signed URLs; None disables them."
    )
    base_url: str | None = Field(
        default=None, description="Where the API serves signed URLs, e.g. http://127.0.0.1:8000/storage."
    )
    presign_expiry_s: PresignExpiry = 900
    fsync: bool = Field(default=True, description="fsync files and directories so a crash loses no write.")


class StorageSettings(_Settings):
    """Which backend to use, and its settings."""

    backend: Literal["local", "s3"] = "local"
    local: LocalSettings | None = None
    s3: S3Settings | None = None

    @model_validator(mode="after")
    def _chosen_backend_is_configured(self) -> Self:
        if getattr(self, self.backend) is None:
            raise ValueError(f"backend is {self.backend!r} but no {self.backend!r} settings are given")
        return self
