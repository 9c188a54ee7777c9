"""``LocalObjectStore``: a directory as a bucket.

Each object ``<root>/<key>`` has a sidecar ``.<name>.meta.json`` beside it holding its sha256, size, content type,
metadata and inode number. Writes go to a temp file in the same directory, are fsynced and renamed into place
(sidecar first, then the object), so a reader sees the old object or the new one, never a partial file. The
sidecar records the object's inode: a reader that catches a writer between its two renames sees the inodes
disagree and looks again, so concurrent overwrites do not produce false checksum errors. All file I/O runs in
worker threads (``asyncio.to_thread``) so the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from plastinka_schemas import ArtifactRef
from plastinka_storage.base import (
    ByteStream,
    ListedObject,
    ObjectInfo,
    ObjectStore,
    PresignedRequest,
)
from plastinka_storage.errors import ChecksumMismatch, ObjectNotFound, StorageError
from plastinka_storage.keys import validate_key, validate_prefix
from plastinka_storage.settings import LocalSettings
from plastinka_storage.signing import SignedRequest, build_signed_url, verify_signature, verify_signed_url

__all__ = ["LocalObjectStore"]

_WRITE_BUFFER = 256 * 1024  # batch small stream chunks before handing them to a worker thread
_CONSISTENT_READ_TRIES = 9


class _PendingFile:
    """A temp file beside its final path; ``commit`` renames it into place (blocking methods)."""

    def __init__(self, final: Path, fsync: bool) -> None:
        self.final = final
        self.fsync = fsync
        self.tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
        self.digest = hashlib.sha256()
        self.size = 0
        for _ in range(3):  # a concurrent delete may prune the directory between mkdir and open
            _make_parent(final)
            try:
                self.fh: IO[bytes] = self.tmp.open("xb")
                break
            except FileNotFoundError:
                continue
        else:
            raise StorageError(f"cannot create a file under {final.parent}")

    def write(self, data: bytes | memoryview) -> None:
        self.fh.write(data)
        self.digest.update(data)
        self.size += len(data)

    def finish(self) -> int:
        self.fh.flush()
        if self.fsync:
            os.fsync(self.fh.fileno())
        self.fh.close()
        return self.tmp.stat().st_ino

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.fh.close()
        self.tmp.unlink(missing_ok=True)


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise StorageError(f"an object already exists where a prefix of {path.name!r} is needed") from exc


def _meta_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.meta.json")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(_meta_path(path).read_bytes())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, UTC)


class LocalObjectStore(ObjectStore):
    """Objects as files under ``root``; signed URLs with an HMAC key, served by the app at ``base_url``."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        signing_key: str | bytes | None = None,
        base_url: str | None = None,
        presign_expiry_s: int = 900,
        fsync: bool = True,
    ) -> None:
        self.root = Path(root).resolve()
        self._signing_key = signing_key.encode("utf-8") if isinstance(signing_key, str) else signing_key
        self.base_url = base_url
        self._presign_expiry_s = presign_expiry_s
        self.fsync = fsync

    @classmethod
    def from_settings(cls, settings: LocalSettings) -> LocalObjectStore:
        key = settings.signing_key.get_secret_value() if settings.signing_key else None
        return cls(
            settings.root,
            signing_key=key,
            base_url=settings.base_url,
            presign_expiry_s=settings.presign_expiry_s,
            fsync=settings.fsync,
        )

    def __repr__(self) -> str:
        return f"LocalObjectStore(root={str(self.root)!r})"

    @property
    def presign_expiry_s(self) -> int:
        return self._presign_expiry_s

    async def open(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    def path_of(self, key: str) -> Path:
        """The file holding ``key`` (the key is validated, so the path is always under ``root``)."""
        return self.root.joinpath(*validate_key(key).split("/"))

    # --- writes ---

    def _commit(
        self, key: str, pending: _PendingFile, content_type: str | None, metadata: dict[str, str], sha256: str | None
    ) -> ArtifactRef:
        """Finish ``pending`` and move it into place with its sidecar (blocking)."""
        try:
            ino = pending.finish()
            actual = pending.digest.hexdigest()
            if sha256 is not None and sha256 != actual:
                raise ChecksumMismatch(key, sha256, actual)
            sidecar = {"sha256": actual, "size": pending.size, "content_type": content_type, "metadata": metadata}
            meta = _PendingFile(_meta_path(pending.final), self.fsync)
            try:
                meta.write(json.dumps({**sidecar, "ino": ino}, sort_keys=True).encode("utf-8"))
                meta.finish()
                meta.tmp.replace(meta.final)
            except BaseException:
                meta.discard()
                raise
            try:
                pending.tmp.replace(pending.final)
            except IsADirectoryError as exc:
                raise StorageError(f"{key!r} is a prefix of other objects", key=key) from exc
            if self.fsync:
                _fsync_dir(pending.final.parent)
        except BaseException:
            pending.discard()
            raise
        return ArtifactRef(key=key, sha256=actual, size=pending.size)

    def _write_bytes(self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str]) -> ArtifactRef:
        pending = _PendingFile(self.path_of(key), self.fsync)
        try:
            pending.write(data)
        except BaseException:
            pending.discard()
            raise
        return self._commit(key, pending, content_type, metadata, None)

    def _write_file(self, key: str, src: Path, content_type: str | None, metadata: dict[str, str]) -> ArtifactRef:
        pending = _PendingFile(self.path_of(key), self.fsync)
        try:
            with src.open("rb") as fh:
                while chunk := fh.read(self.chunk_size):
                    pending.write(chunk)
        except BaseException:
            pending.discard()
            raise
        return self._commit(key, pending, content_type, metadata, None)

    async def _put_bytes(
        self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str]
    ) -> ArtifactRef:
        return await asyncio.to_thread(self._write_bytes, key, data, content_type, metadata)

    async def _put_file(self, key: str, path: Path, content_type: str | None, metadata: dict[str, str]) -> ArtifactRef:
        return await asyncio.to_thread(self._write_file, key, path, content_type, metadata)

    async def _put_stream(
        self, key: str, stream: ByteStream, content_type: str | None, metadata: dict[str, str], sha256: str | None
    ) -> ArtifactRef:
        path = self.path_of(key)
        pending = await asyncio.to_thread(_PendingFile, path, self.fsync)
        try:
            buffer = bytearray()
            async for chunk in stream:
                buffer += chunk
                if len(buffer) >= _WRITE_BUFFER:
                    await asyncio.to_thread(pending.write, bytes(buffer))
                    buffer.clear()
            if buffer:
                await asyncio.to_thread(pending.write, bytes(buffer))
        except BaseException:
            await asyncio.to_thread(pending.discard)
            raise
        return await asyncio.to_thread(self._commit, key, pending, content_type, metadata, sha256)

    # --- reads ---

    def _open_consistent(self, key: str) -> tuple[IO[bytes], os.stat_result, dict[str, Any] | None]:
        """Open the object and read its sidecar, retrying while a writer is between its two renames."""
        path = self.path_of(key)
        for attempt in range(_CONSISTENT_READ_TRIES):
            try:
                fh = path.open("rb")
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                raise ObjectNotFound(key) from None
            st = os.fstat(fh.fileno())
            meta = _read_meta(path)
            if (meta is not None and meta.get("ino") == st.st_ino) or attempt == _CONSISTENT_READ_TRIES - 1:
                # On the last try trust the sidecar anyway (a restored backup has new inodes): the checksum
                # still catches any real disagreement.
                return fh, st, meta
            fh.close()
            time.sleep(0.001 * 2**attempt)  # up to ~0.25 s in all: a writer is two renames from done
        raise AssertionError("unreachable")  # pragma: no cover

    @contextlib.asynccontextmanager
    async def _reading(self, key: str, size: int) -> AsyncIterator[tuple[str | None, AsyncIterator[bytes]]]:
        fh, _, meta = await asyncio.to_thread(self._open_consistent, key)
        try:
            stored = meta.get("sha256") if meta else None
            yield (stored if isinstance(stored, str) else None), _file_chunks(fh, size)
        finally:
            fh.close()

    async def head(self, key: str) -> ObjectInfo:
        validate_key(key)

        def stat() -> ObjectInfo:
            fh, st, meta = self._open_consistent(key)
            fh.close()
            meta = meta or {}
            sha = meta.get("sha256")
            return ObjectInfo(
                key=key,
                size=st.st_size,
                sha256=sha if isinstance(sha, str) else None,
                content_type=meta.get("content_type"),
                metadata=dict(meta.get("metadata") or {}),
                last_modified=_mtime(st),
            )

        return await asyncio.to_thread(stat)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_of(key).is_file)

    def _scan(self, prefix: str) -> list[ListedObject]:
        start = prefix if prefix.endswith("/") or not prefix else prefix.rpartition("/")[0]
        base = self.root.joinpath(*start.strip("/").split("/")) if start.strip("/") else self.root
        found: list[ListedObject] = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith("."):
                    continue  # sidecars and temp files
                key = name if rel == "." else f"{rel}/{name}"
                if not key.startswith(prefix):
                    continue
                try:
                    st = (Path(dirpath) / name).stat()
                except FileNotFoundError:
                    continue  # deleted while we listed
                found.append(ListedObject(key=key, size=st.st_size, last_modified=_mtime(st)))
        found.sort(key=lambda obj: obj.key)
        return found

    async def list(self, prefix: str = "") -> AsyncIterator[ListedObject]:
        validate_prefix(prefix)
        for obj in await asyncio.to_thread(self._scan, prefix):
            yield obj

    # --- management ---

    def _delete(self, key: str) -> None:
        path = self.path_of(key)
        try:
            path.unlink(missing_ok=True)
        except (IsADirectoryError, PermissionError, NotADirectoryError):
            return  # a prefix, not an object: nothing stored under this exact key
        _meta_path(path).unlink(missing_ok=True)
        parent = path.parent
        while parent != self.root:  # prune empty directories, as S3 has no empty "folders"
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    async def delete(self, key: str) -> None:
        validate_key(key)
        await asyncio.to_thread(self._delete, key)

    async def copy(self, src_key: str, dst_key: str) -> ArtifactRef:
        validate_key(dst_key)
        info = await self.head(src_key)
        return await self.put_stream(
            dst_key,
            self.get_stream(src_key),
            content_type=info.content_type,
            metadata=info.metadata,
            sha256=info.sha256,
        )

    # --- signed URLs ---

    def _signing(self) -> tuple[bytes, str]:
        if self._signing_key is None or self.base_url is None:
            raise StorageError("signed URLs need both signing_key and base_url in the local store settings")
        return self._signing_key, self.base_url

    async def _presign(
        self, method: str, key: str, seconds: int, content_type: str | None, sha256: str | None
    ) -> PresignedRequest:
        secret, base_url = self._signing()
        expires = int(time.time()) + seconds
        url = build_signed_url(secret, base_url, method=method, key=key, expires=expires, sha256=sha256)
        headers = {"Content-Type": content_type} if content_type else {}
        return PresignedRequest(method, url, datetime.fromtimestamp(expires, UTC), headers)

    def verify_signature(self, **grant: Any) -> SignedRequest:
        """Check a signed grant from a request's parts (raises ``InvalidSignature``): the keywords of
        :func:`plastinka_storage.signing.verify_signature` (``method``, ``key``, ``expires``, ``signature``, ...).

        For an allowed PUT, store the body with ``put_stream(key, body, sha256=grant.sha256)`` so a body that
        differs from the declared checksum is refused.
        """
        secret, _ = self._signing()
        return verify_signature(secret, **grant)

    def verify_signed_url(self, url: str, *, method: str, now: float | None = None) -> SignedRequest:
        """Check a whole signed URL as received (raises ``InvalidSignature``)."""
        secret, base_url = self._signing()
        return verify_signed_url(secret, url, method=method, base_url=base_url, now=now)


async def _file_chunks(fh: IO[bytes], size: int) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(fh.read, size):
        yield chunk
