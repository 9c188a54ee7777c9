"""``open_store``: the one place that turns settings into a store."""

from __future__ import annotations

from plastinka_storage.base import ObjectStore
from plastinka_storage.local import LocalObjectStore
from plastinka_storage.s3 import S3ObjectStore
from plastinka_storage.settings import LocalSettings, S3Settings, StorageSettings

__all__ = ["open_store"]


def open_store(settings: StorageSettings | S3Settings | LocalSettings) -> ObjectStore:
    """The store the settings choose, not yet opened: ``async with open_store(settings) as store: ...``.

    A long-lived owner (the API's lifespan) may instead ``await store.open()`` once and ``await store.close()``
    at shutdown; the store keeps one client for its whole life.
    """
    if isinstance(settings, S3Settings):
        return S3ObjectStore(settings)
    if isinstance(settings, LocalSettings):
        return LocalObjectStore.from_settings(settings)
    if settings.backend == "s3" and settings.s3 is not None:
        return S3ObjectStore(settings.s3)
    if settings.backend == "local" and settings.local is not None:
        return LocalObjectStore.from_settings(settings.local)
    raise ValueError(f"no settings for the {settings.backend!r} backend")  # pragma: no cover - the model forbids it
