"""Storage settings: plain pydantic models, and :class:`S3Environment`, the ``PLASTINKA_S3_*`` variables."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from plastinka_storage.base import MAX_PRESIGN_EXPIRY_S
from plastinka_storage.retry import RetryPolicy

__all__ = [
    "ENV_PREFIX",
    "YANDEX_ENDPOINT",
    "YANDEX_REGION",
    "LocalSettings",
    "S3Environment",
    "S3Settings",
    "StorageSettings",
]

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


#: Prefix of every environment variable of Plastinka (the API's settings, the functions' environment).
ENV_PREFIX = "PLASTINKA_"


class S3Environment(BaseModel):
    """The ``PLASTINKA_S3_*`` variables, declared once: the API's pydantic-settings ``Settings`` inherits these
    fields (so ``PLASTINKA_S3_BUCKET`` fills ``s3_bucket``), a function reads them with :meth:`from_env`, and the
    API hands them on to function processes with :meth:`s3_env`."""

    s3_bucket: str = Field(default="plastinka", description="Bucket of the s3 backend.")
    s3_endpoint_url: str = Field(default=YANDEX_ENDPOINT, description="S3 endpoint.")
    s3_region: str = Field(default=YANDEX_REGION, description="S3 region.")
    s3_access_key_id: SecretStr | None = Field(default=None, description="S3 static key id.")
    s3_secret_access_key: SecretStr | None = Field(default=None, description="S3 static key secret.")

    @staticmethod
    def variable(field: str) -> str:
        """``s3_bucket`` -> ``PLASTINKA_S3_BUCKET``."""
        return ENV_PREFIX + field.upper()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Environment:
        """The variables that are set (and not empty) in ``env``; defaults for the rest."""
        fields = S3Environment.model_fields
        return S3Environment.model_validate({f: env[cls.variable(f)] for f in fields if env.get(cls.variable(f))})

    def s3_settings(self, **overrides: Any) -> S3Settings:
        """The store's settings for this bucket (``overrides``: its other fields, e.g. ``presign_expiry_s``)."""
        return S3Settings(
            bucket=self.s3_bucket,
            endpoint_url=self.s3_endpoint_url,
            region=self.s3_region,
            access_key_id=self.s3_access_key_id,
            secret_access_key=self.s3_secret_access_key,
            **overrides,
        )

    def s3_env(self) -> dict[str, str]:
        """The variables a function process needs to reach the same bucket (keys only as a pair, also as the
        ``AWS_*`` pair botocore reads)."""
        env = {self.variable(f): getattr(self, f) for f in ("s3_bucket", "s3_endpoint_url", "s3_region")}
        if self.s3_access_key_id and self.s3_secret_access_key:
            key_id, secret = self.s3_access_key_id.get_secret_value(), self.s3_secret_access_key.get_secret_value()
            env |= {
                self.variable("s3_access_key_id"): key_id,
                self.variable("s3_secret_access_key"): secret,
                "AWS_ACCESS_KEY_ID": key_id,
                "AWS_SECRET_ACCESS_KEY": secret,
            }
        return env
