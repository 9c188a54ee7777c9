"""plastinka-storage: one async ObjectStore interface over S3 (Yandex Object Storage) and a local directory.

Every write stores a sha256 and returns an ``ArtifactRef``; every read verifies it. Object keys are built only by
``plastinka_storage.keys``.
"""

from plastinka_storage import keys
from plastinka_storage.base import ByteStream, ListedObject, ObjectInfo, ObjectStore, PresignedRequest
from plastinka_storage.errors import (
    ChecksumMismatch,
    InvalidKey,
    InvalidSignature,
    MissingChecksum,
    ObjectNotFound,
    StorageError,
    TransientStorageError,
)
from plastinka_storage.factory import open_store
from plastinka_storage.keys import (
    dataset_key,
    dataset_prefix,
    job_artifact_key,
    job_attempt_prefix,
    job_status_key,
    model_key,
    model_prefix,
    safe_filename,
    validate_key,
)
from plastinka_storage.local import LocalObjectStore
from plastinka_storage.retry import RetryPolicy, is_transient
from plastinka_storage.s3 import S3ObjectStore
from plastinka_storage.settings import LocalSettings, S3Environment, S3Settings, StorageSettings
from plastinka_storage.signing import SignedRequest, verify_signature, verify_signed_url

__all__ = [
    "ByteStream",
    "ChecksumMismatch",
    "InvalidKey",
    "InvalidSignature",
    "ListedObject",
    "LocalObjectStore",
    "LocalSettings",
    "MissingChecksum",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "PresignedRequest",
    "RetryPolicy",
    "S3Environment",
    "S3ObjectStore",
    "S3Settings",
    "SignedRequest",
    "StorageError",
    "StorageSettings",
    "TransientStorageError",
    "dataset_key",
    "dataset_prefix",
    "is_transient",
    "job_artifact_key",
    "job_attempt_prefix",
    "job_status_key",
    "keys",
    "model_key",
    "model_prefix",
    "open_store",
    "safe_filename",
    "validate_key",
    "verify_signature",
    "verify_signed_url",
]
