"""Storage settings of a function, from the same ``PLASTINKA_*`` variables the API uses.

``PLASTINKA_STORAGE_BACKEND``  ``s3`` (the cloud) or ``local`` (the embedded runtime and tests)
``PLASTINKA_STORAGE_DIR``      local backend: the directory acting as the bucket
``PLASTINKA_S3_BUCKET``, ``PLASTINKA_S3_ENDPOINT_URL``, ``PLASTINKA_S3_REGION``,
``PLASTINKA_S3_ACCESS_KEY_ID``, ``PLASTINKA_S3_SECRET_ACCESS_KEY``  s3 backend (keys from Lockbox in the cloud)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plastinka_storage import StorageSettings


class ConfigurationError(RuntimeError):
    """The function's environment does not say where storage is: fix the deployment, not the request."""


def storage_settings(env: Mapping[str, str]) -> StorageSettings:
    from plastinka_storage import LocalSettings, S3Settings, StorageSettings  # noqa: PLC0415 - pulls aioboto3

    backend = env.get("PLASTINKA_STORAGE_BACKEND", "s3" if env.get("PLASTINKA_S3_BUCKET") else "local")
    if backend == "local":
        root = env.get("PLASTINKA_STORAGE_DIR")
        if not root:
            raise ConfigurationError("PLASTINKA_STORAGE_DIR must name the storage directory of the local backend")
        return StorageSettings(backend="local", local=LocalSettings(root=Path(root)))
    if backend == "s3":
        bucket = env.get("PLASTINKA_S3_BUCKET")
        if not bucket:
            raise ConfigurationError("PLASTINKA_S3_BUCKET is not set")
        optional = {
            field: env[name]
            for field, name in (
                ("endpoint_url", "PLASTINKA_S3_ENDPOINT_URL"),
                ("region", "PLASTINKA_S3_REGION"),
                ("access_key_id", "PLASTINKA_S3_ACCESS_KEY_ID"),
                ("secret_access_key", "PLASTINKA_S3_SECRET_ACCESS_KEY"),
            )
            if env.get(name)
        }
        return StorageSettings(backend="s3", s3=S3Settings.model_validate({"bucket": bucket, **optional}))
    raise ConfigurationError(f"PLASTINKA_STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")
