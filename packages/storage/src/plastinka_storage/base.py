"""The ``ObjectStore`` interface every backend implements, and the values it returns."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from plastinka_schemas import ArtifactRef
from plastinka_storage.checksums import expected_digest, normalize_sha256, verify_digest
from plastinka_storage.errors import MissingChecksum, StorageError
from plastinka_storage.keys import validate_key

__all__ = [
    "MAX_PRESIGN_EXPIRY_S",
    "ByteStream",
    "ListedObject",
    "ObjectInfo",
    "ObjectStore",
    "PresignedRequest",
    "check_metadata",
    "expiry_seconds",
]

ByteStream = AsyncIterable[bytes]
"""Any async iterable of byte chunks: an async generator, a request body, another store's ``get_stream``."""

MAX_PRESIGN_EXPIRY_S = 7 * 24 * 3600  # the SigV4 ceiling; the local backend keeps the same one
DEFAULT_CHUNK_SIZE = 1024 * 1024
_META_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_META_VALUE = re.compile(r"[\x20-\x7e]{0,1024}")
_META_TOTAL = 1800  # S3 allows 2 KiB of user metadata; leave room for the sha256 we add


@dataclass(frozen=True)
class ObjectInfo:
    """What ``head`` knows about a stored object."""

    key: str
    size: int
    sha256: str | None
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    last_modified: datetime | None = None
    etag: str | None = None

    def to_ref(self) -> ArtifactRef:
        """The object as an ``ArtifactRef`` (needs a stored sha256)."""
        if self.sha256 is None:
            raise MissingChecksum(self.key)
        return ArtifactRef(key=self.key, sha256=self.sha256, size=self.size)


@dataclass(frozen=True)
class ListedObject:
    """One entry of ``list``: listing does not read metadata, so no checksum here (``head`` has it)."""

    key: str
    size: int
    last_modified: datetime | None = None


@dataclass(frozen=True)
class PresignedRequest:
    """A URL someone without credentials can use until ``expires_at``; ``headers`` must be sent with it."""

    method: str
    url: str
    expires_at: datetime
    headers: Mapping[str, str] = field(default_factory=dict)


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Validate user metadata: lowercase ``a-z0-9-`` names, printable ASCII values, ``sha256`` reserved."""
    clean: dict[str, str] = {}
    for name, value in (metadata or {}).items():
        if not isinstance(name, str) or not _META_KEY.fullmatch(name):
            raise ValueError(f"metadata name {name!r} must be 1-64 characters of a-z0-9- (lowercase)")
        if name == "sha256":
            raise ValueError("metadata name 'sha256' is reserved: the store writes it")
        if not isinstance(value, str) or not _META_VALUE.fullmatch(value):
            raise ValueError(f"metadata {name!r}: value must be printable ASCII, at most 1024 characters")
        clean[name] = value
    if sum(len(k) + len(v) for k, v in clean.items()) > _META_TOTAL:
        raise ValueError(f"metadata is larger than {_META_TOTAL} bytes")
    return clean


def expiry_seconds(expires_in: int | float | timedelta | None, default: int) -> int:
    """Normalise a presign expiry to whole seconds within 1 s .. 7 days."""
    if expires_in is None:
        seconds = default
    elif isinstance(expires_in, timedelta):
        seconds = int(expires_in.total_seconds())
    else:
        seconds = int(expires_in)
    if not 1 <= seconds <= MAX_PRESIGN_EXPIRY_S:
        raise ValueError(f"expiry must be between 1 s and {MAX_PRESIGN_EXPIRY_S} s, got {seconds}")
    return seconds


class ObjectStore(ABC):
    """Async object storage with sha256 on every write and verification on every read.

    Use as ``async with store:`` (or ``await store.open()`` ... ``await store.close()``). Every write returns
    an ``ArtifactRef`` (key, sha256, size) and stores the sha256 with the object; every read checks the bytes
    against ``expected_sha256`` when given, else against the stored sha256 (``verify=False`` skips the check).
    Keys are checked by ``plastinka_storage.keys.validate_key``.
    """

    chunk_size: int = DEFAULT_CHUNK_SIZE

    async def open(self) -> None:  # noqa: B027 - optional hook: backends without connections need nothing
        """Acquire connections; the store is usable once this returns."""

    async def close(self) -> None:  # noqa: B027
        """Release connections."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # --- writes ---

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str | None = None, metadata: Mapping[str, str] | None = None
    ) -> ArtifactRef:
        """Store ``data`` under ``key`` (replacing any object there)."""
        validate_key(key)
        return await self._put_bytes(key, bytes(data), content_type, check_metadata(metadata))

    async def put_file(
        self,
        key: str,
        path: str | os.PathLike[str],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ArtifactRef:
        """Store a local file's contents under ``key`` without reading it whole into memory."""
        validate_key(key)
        return await self._put_file(key, Path(path), content_type, check_metadata(metadata))

    async def put_stream(
        self,
        key: str,
        stream: ByteStream,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        sha256: str | None = None,
    ) -> ArtifactRef:
        """Store an async byte stream with bounded memory.

        With ``sha256=`` the stream must hash to it: on a mismatch nothing is stored and ``ChecksumMismatch``
        is raised.
        """
        validate_key(key)
        declared = normalize_sha256(sha256) if sha256 is not None else None
        return await self._put_stream(key, stream, content_type, check_metadata(metadata), declared)

    # The backends' writes: the key is valid, the metadata checked and the declared sha256 normalized.

    @abstractmethod
    async def _put_bytes(
        self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str]
    ) -> ArtifactRef: ...

    @abstractmethod
    async def _put_file(
        self, key: str, path: Path, content_type: str | None, metadata: dict[str, str]
    ) -> ArtifactRef: ...

    @abstractmethod
    async def _put_stream(
        self, key: str, stream: ByteStream, content_type: str | None, metadata: dict[str, str], sha256: str | None
    ) -> ArtifactRef: ...

    async def put(
        self,
        key: str,
        data: bytes | bytearray | memoryview | os.PathLike[str] | ByteStream,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ArtifactRef:
        """Dispatch to ``put_bytes``, ``put_file`` (a ``Path``) or ``put_stream`` by the type of ``data``."""
        if isinstance(data, bytes | bytearray | memoryview):
            return await self.put_bytes(key, bytes(data), content_type=content_type, metadata=metadata)
        if isinstance(data, os.PathLike):
            return await self.put_file(key, data, content_type=content_type, metadata=metadata)
        if isinstance(data, AsyncIterable):
            return await self.put_stream(key, data, content_type=content_type, metadata=metadata)
        raise TypeError(f"cannot store a {type(data).__name__}: pass bytes, a Path or an async byte stream")

    # --- reads ---

    async def get_stream(
        self, key: str, *, expected_sha256: str | None = None, verify: bool = True, chunk_size: int | None = None
    ) -> AsyncIterator[bytes]:
        """Yield the object's bytes in chunks.

        The checksum is known only at the end: a mismatch raises ``ChecksumMismatch`` after the last chunk, so
        treat streamed bytes as unverified until the iteration completes.
        """
        validate_key(key)
        async with self._reading(key, chunk_size or self.chunk_size) as (stored, chunks):
            expected = expected_digest(key, expected=expected_sha256, stored=stored, verify=verify)
            digest = hashlib.sha256()
            async for chunk in chunks:
                digest.update(chunk)
                yield chunk
            verify_digest(key, expected, digest.hexdigest())

    @abstractmethod
    def _reading(self, key: str, size: int) -> AbstractAsyncContextManager[tuple[str | None, AsyncIterator[bytes]]]:
        """The backend's read of a valid key: the stored sha256 (None if the object has none) and its chunks,
        open for as long as the context lasts (``ObjectNotFound`` when absent)."""

    async def get_bytes(self, key: str, *, expected_sha256: str | None = None, verify: bool = True) -> bytes:
        """The whole object, verified."""
        chunks = [chunk async for chunk in self.get_stream(key, expected_sha256=expected_sha256, verify=verify)]
        return b"".join(chunks)

    async def get_file(
        self,
        key: str,
        path: str | os.PathLike[str],
        *,
        expected_sha256: str | None = None,
        verify: bool = True,
    ) -> ArtifactRef:
        """Download to ``path`` atomically: the file appears only once complete and verified."""
        dest = Path(path)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
        fh = await asyncio.to_thread(_open_new, tmp)
        digest = hashlib.sha256()
        size = 0
        try:
            async for chunk in self.get_stream(key, expected_sha256=expected_sha256, verify=verify):
                await asyncio.to_thread(fh.write, chunk)
                digest.update(chunk)
                size += len(chunk)
            await asyncio.to_thread(_sync_close, fh)
            await asyncio.to_thread(os.replace, tmp, dest)
        except BaseException:
            await asyncio.to_thread(_discard, fh, tmp)
            raise
        return ArtifactRef(key=key, sha256=digest.hexdigest(), size=size)

    async def get_artifact(self, ref: ArtifactRef) -> bytes:
        """The bytes of ``ref``, verified against its sha256 and size."""
        data = await self.get_bytes(ref.key, expected_sha256=ref.sha256)
        if len(data) != ref.size:  # a sha256 match with a different size cannot happen; be explicit anyway
            raise StorageError(f"{ref.key!r} is {len(data)} bytes, expected {ref.size}", key=ref.key)
        return data

    async def get_artifact_file(self, ref: ArtifactRef, path: str | os.PathLike[str]) -> ArtifactRef:
        """Download ``ref`` to ``path``, verified against its sha256."""
        return await self.get_file(ref.key, path, expected_sha256=ref.sha256)

    # --- metadata and management ---

    @abstractmethod
    async def head(self, key: str) -> ObjectInfo:
        """Size, sha256, content type and metadata of the object; ``ObjectNotFound`` if absent."""

    @abstractmethod
    async def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    @abstractmethod
    def list(self, prefix: str = "") -> AsyncIterator[ListedObject]:
        """Objects whose key starts with ``prefix``, in key order."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error (idempotent, like S3)."""

    @abstractmethod
    async def copy(self, src_key: str, dst_key: str) -> ArtifactRef:
        """Copy an object with its checksum and metadata; ``ObjectNotFound`` if ``src_key`` is absent."""

    async def presign_get(self, key: str, *, expires_in: int | float | timedelta | None = None) -> PresignedRequest:
        """A time-limited GET URL for ``key``."""
        validate_key(key)
        return await self._presign("GET", key, expiry_seconds(expires_in, self.presign_expiry_s), None, None)

    async def presign_put(
        self,
        key: str,
        *,
        expires_in: int | float | timedelta | None = None,
        content_type: str | None = None,
        sha256: str | None = None,
    ) -> PresignedRequest:
        """A time-limited PUT URL for ``key``.

        With ``sha256=`` the stored object carries that checksum, so a later verified read catches an uploader
        who sent other bytes.
        """
        validate_key(key)
        seconds = expiry_seconds(expires_in, self.presign_expiry_s)
        return await self._presign("PUT", key, seconds, content_type, normalize_sha256(sha256) if sha256 else None)

    @property
    @abstractmethod
    def presign_expiry_s(self) -> int:
        """Lifetime of a signed URL when the caller names none."""

    @abstractmethod
    async def _presign(
        self, method: str, key: str, seconds: int, content_type: str | None, sha256: str | None
    ) -> PresignedRequest:
        """The backend's signed URL: ``key`` is valid, ``sha256`` normalized."""


def _open_new(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("xb")


def _sync_close(fh: IO[bytes]) -> None:
    fh.flush()
    os.fsync(fh.fileno())
    fh.close()


def _discard(fh: IO[bytes], path: Path) -> None:
    fh.close()
    path.unlink(missing_ok=True)
