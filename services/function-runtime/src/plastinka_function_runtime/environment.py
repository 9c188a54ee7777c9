"""Storage settings of a function, from the same ``PLASTINKA_*`` variables the API uses.

``PLASTINKA_STORAGE_BACKEND``  ``s3`` (the cloud) or ``local`` (the embedded runtime and tests)
``PLASTINKA_STORAGE_DIR``      local backend: the directory acting as the bucket
``PLASTINKA_S3_*``              s3 backend: ``plastinka_storage.S3Environment`` (keys from Lockbox in the cloud)
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
    from plastinka_storage import LocalSettings, S3Environment, StorageSettings  # noqa: PLC0415 - pulls aioboto3

    bucket = S3Environment.variable("s3_bucket")
    backend = env.get("PLASTINKA_STORAGE_BACKEND", "s3" if env.get(bucket) else "local")
    if backend == "local":
        root = env.get("PLASTINKA_STORAGE_DIR")
        if not root:
            raise ConfigurationError("PLASTINKA_STORAGE_DIR must name the storage directory of the local backend")
        return StorageSettings(backend="local", local=LocalSettings(root=Path(root)))
    if backend == "s3":
        if not env.get(bucket):
            raise ConfigurationError(f"{bucket} is not set")
        return StorageSettings(backend="s3", s3=S3Environment.from_env(env).s3_settings())
    raise ConfigurationError(f"PLASTINKA_STORAGE_BACKEND must be 'local' or 's3', not {backend!r}")
