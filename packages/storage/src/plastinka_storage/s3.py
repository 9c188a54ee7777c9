"""``S3ObjectStore``: any S3-compatible store through aioboto3, tuned for Yandex Object Storage.

- One client per store, opened by ``open()`` / ``async with``.
- botocore's own retries are off; transient faults are retried here with tenacity under a total-time bound
  (``plastinka_storage.retry``), and 4xx answers are never retried.
- botocore's default CRC32 request checksums are off (``when_required``): S3-compatible stores reject them.
  Every PUT and every multipart part carries Content-MD5 instead, and the sha256 goes in metadata ``sha256``.
- Objects above ``multipart_threshold`` go up in parts of ``part_size``, read one part at a time: memory stays
  around two parts whatever the object size. A multipart object is invisible until the upload completes.
- A large stream whose sha256 is not known up front is uploaded under ``_uploads/`` and then copied, server side,
  to its key with the sha256 in its metadata, so no object is ever visible without its checksum.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import math
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

from plastinka_schemas import ArtifactRef
from plastinka_storage.base import (
    ByteStream,
    ListedObject,
    ObjectInfo,
    ObjectStore,
    PresignedRequest,
)
from plastinka_storage.checksums import (
    content_md5,
    file_sha256,
    sha256_hex,
    verify_digest,
)
from plastinka_storage.errors import (
    ChecksumMismatch,
    MissingChecksum,
    ObjectNotFound,
    StorageError,
    TransientStorageError,
)
from plastinka_storage.keys import validate_key, validate_prefix
from plastinka_storage.retry import call_with_retry, client_error_status, is_transient
from plastinka_storage.settings import S3Settings

__all__ = ["S3ObjectStore"]

UPLOAD_PREFIX = "_uploads/"  # not a valid key segment: cannot collide with stored objects; storage.tf expires it
MAX_PARTS = 10_000
MAX_COPY_SIZE = 5 * 1024**3  # the largest single CopyObject S3 allows
_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})


class S3ObjectStore(ObjectStore):
    """Objects in one bucket of an S3-compatible service."""

    list_page_size: int = 1000  # keys per ListObjectsV2 request (S3's maximum)

    def __init__(self, settings: S3Settings, *, session: aioboto3.Session | None = None) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self._session = session or _shared_session()
        self._policy = settings.retry_policy()
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: S3Settings) -> S3ObjectStore:
        return cls(settings)

    def __repr__(self) -> str:
        return f"S3ObjectStore(endpoint={self.settings.endpoint_url!r}, bucket={self.bucket!r})"

    # --- lifecycle ---

    def client_config(self) -> AioConfig:
        s = self.settings
        return AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": s.addressing_style},
            retries={"total_max_attempts": 1, "mode": "standard"},  # tenacity retries, with a time bound
            connect_timeout=s.connect_timeout_s,
            read_timeout=s.read_timeout_s,
            max_pool_connections=s.max_pool_connections,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )

    async def open(self) -> None:
        if self._client is not None:
            return
        s = self.settings
        credentials: dict[str, str] = {}
        if s.access_key_id is not None and s.secret_access_key is not None:
            credentials = {
                "aws_access_key_id": s.access_key_id.get_secret_value(),
                "aws_secret_access_key": s.secret_access_key.get_secret_value(),
            }
        stack = AsyncExitStack()
        self._client = await stack.enter_async_context(
            self._session.client(
                "s3", endpoint_url=s.endpoint_url, region_name=s.region, config=self.client_config(), **credentials
            )
        )
        self._stack = stack

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    @property
    def client(self) -> Any:
        """The open aiobotocore client (``StorageError`` if the store is not open)."""
        if self._client is None:
            raise StorageError(f"{self!r} is not open: use 'async with store' or 'await store.open()'")
        return self._client

    # --- one request, retried and translated ---

    async def _request(self, operation: str, *, key: str | None, **params: Any) -> dict[str, Any]:
        method = getattr(self.client, operation)
        what = f"S3 {operation} {key!r}" if key else f"S3 {operation}"
        try:
            result: dict[str, Any] = await call_with_retry(
                self._policy, lambda: method(Bucket=self.bucket, **params), what=what, key=key
            )
        except ClientError as exc:
            raise self._translate(exc, operation, key) from exc
        except BotoCoreError as exc:
            raise StorageError(f"{what} failed: {exc}", key=key) from exc
        return result

    def _translate(self, exc: ClientError, operation: str, key: str | None) -> StorageError:
        code, status = client_error_status(exc)
        if key is not None and code in _NOT_FOUND:
            return ObjectNotFound(key)
        if code == "NoSuchBucket":
            return StorageError(f"bucket {self.bucket!r} does not exist", key=key)
        if code == "PreconditionFailed" or status == 412:
            return StorageError(f"{key!r} changed while it was being read or copied", key=key)
        message = exc.response.get("Error", {}).get("Message", "")
        return StorageError(f"S3 {operation} {key!r} failed: {code} (HTTP {status}) {message}".rstrip(), key=key)

    # --- writes ---

    def _object_params(self, content_type: str | None, metadata: Mapping[str, str]) -> dict[str, Any]:
        params: dict[str, Any] = {"Metadata": dict(metadata)}
        if content_type:
            params["ContentType"] = content_type
        return params

    async def _put_object(
        self, key: str, data: bytes, sha256: str, content_type: str | None, metadata: Mapping[str, str]
    ) -> ArtifactRef:
        await self._request(
            "put_object",
            key=key,
            Key=key,
            Body=data,
            ContentMD5=content_md5(data),
            **self._object_params(content_type, {**metadata, "sha256": sha256}),
        )
        return ArtifactRef(key=key, sha256=sha256, size=len(data))

    async def _multipart(
        self,
        key: str,
        parts: AsyncGenerator[bytes, None],
        *,
        content_type: str | None,
        metadata: Mapping[str, str],
        before_complete: Callable[[], None] | None = None,
    ) -> int:
        """Upload ``parts`` as one object; abort (nothing visible) on any failure. Returns the size."""
        created = await self._request(
            "create_multipart_upload", key=key, Key=key, **self._object_params(content_type, metadata)
        )
        upload_id = created["UploadId"]
        done: list[dict[str, Any]] = []
        size = 0
        try:
            async for part in parts:
                number = len(done) + 1
                if number > MAX_PARTS:
                    raise StorageError(f"{key!r} needs more than {MAX_PARTS} parts: raise part_size", key=key)
                answer = await self._request(
                    "upload_part",
                    key=key,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=part,
                    ContentMD5=content_md5(part),
                )
                done.append({"PartNumber": number, "ETag": answer["ETag"]})
                size += len(part)
                del part  # hold at most one part while the next is read
            if before_complete is not None:
                before_complete()
            try:
                await self._request(
                    "complete_multipart_upload", key=key, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
                )
            except StorageError as exc:
                if not await self._completed_anyway(exc, key, size, metadata.get("sha256")):
                    raise
        except BaseException:
            with contextlib.suppress(Exception):
                await self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        finally:
            await parts.aclose()  # release the part source (an open file) whatever happened
        return size

    async def _completed_anyway(self, exc: StorageError, key: str, size: int, sha256: str | None) -> bool:
        """Whether a failed complete in fact succeeded: its answer was lost and the retry found no upload."""
        cause = exc.__cause__
        if not isinstance(cause, ClientError) or client_error_status(cause)[0] != "NoSuchUpload":
            return False
        try:
            info = await self.head(key)
        except ObjectNotFound:
            return False
        return info.size == size and (sha256 is None or info.sha256 == sha256)

    async def _put_bytes(self, key: str, data: bytes, content_type: str | None, meta: dict[str, str]) -> ArtifactRef:
        sha = sha256_hex(data)
        if len(data) <= self.settings.multipart_threshold:
            return await self._put_object(key, bytes(data), sha, content_type, meta)

        async def slices() -> AsyncGenerator[bytes, None]:
            step = self.settings.part_size
            for start in range(0, len(data), step):
                yield data[start : start + step]

        size = await self._multipart(key, slices(), content_type=content_type, metadata={**meta, "sha256": sha})
        return ArtifactRef(key=key, sha256=sha, size=size)

    async def _put_file(self, key: str, src: Path, content_type: str | None, meta: dict[str, str]) -> ArtifactRef:
        size = (await asyncio.to_thread(src.stat)).st_size
        if size <= self.settings.multipart_threshold:
            data = await asyncio.to_thread(src.read_bytes)
            return await self._put_object(key, data, sha256_hex(data), content_type, meta)
        # Hash first so the object carries its sha256 from the moment it exists.
        sha, _ = await asyncio.to_thread(file_sha256, src)
        part_size = max(self.settings.part_size, math.ceil(size / MAX_PARTS))
        digest = hashlib.sha256()

        def unchanged() -> None:
            if digest.hexdigest() != sha:
                raise ChecksumMismatch(key, sha, digest.hexdigest())  # the file changed while uploading

        uploaded = await self._multipart(
            key,
            _file_parts(src, part_size, digest),
            content_type=content_type,
            metadata={**meta, "sha256": sha},
            before_complete=unchanged,
        )
        return ArtifactRef(key=key, sha256=sha, size=uploaded)

    async def _put_stream(
        self, key: str, stream: ByteStream, content_type: str | None, meta: dict[str, str], declared: str | None
    ) -> ArtifactRef:
        chunks = aiter(stream)
        buffer = bytearray()
        exhausted = False
        while len(buffer) <= self.settings.multipart_threshold:
            try:
                buffer += await anext(chunks)
            except StopAsyncIteration:
                exhausted = True
                break
        if exhausted:  # small enough for one PUT
            data = bytes(buffer)
            del buffer
            actual = sha256_hex(data)
            verify_digest(key, declared, actual)
            return await self._put_object(key, data, actual, content_type, meta)

        digest = hashlib.sha256()
        parts = _stream_parts(buffer, chunks, self.settings.part_size, digest)
        del buffer  # the generator owns it now and frees it part by part

        if declared is not None:

            def matches() -> None:
                verify_digest(key, declared, digest.hexdigest())

            size = await self._multipart(
                key, parts, content_type=content_type, metadata={**meta, "sha256": declared}, before_complete=matches
            )
            return ArtifactRef(key=key, sha256=declared, size=size)

        staging = f"{UPLOAD_PREFIX}{uuid.uuid4().hex}"
        try:
            size = await self._multipart(staging, parts, content_type=content_type, metadata=meta)
            actual = digest.hexdigest()
            if size > MAX_COPY_SIZE:
                raise StorageError(f"{key!r}: streams over 5 GiB need sha256= up front", key=key)
            await self._request(
                "copy_object",
                key=key,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": staging},
                MetadataDirective="REPLACE",
                **self._object_params(content_type, {**meta, "sha256": actual}),
            )
        finally:
            with contextlib.suppress(Exception):
                await self.client.delete_object(Bucket=self.bucket, Key=staging)
        return ArtifactRef(key=key, sha256=actual, size=size)

    # --- reads ---

    @contextlib.asynccontextmanager
    async def _reading(self, key: str, size: int) -> AsyncIterator[tuple[str | None, AsyncIterator[bytes]]]:
        answer = await self._request("get_object", key=key, Key=key)
        bodies = [answer["Body"]]
        try:
            yield (answer.get("Metadata") or {}).get("sha256"), self._body_chunks(key, answer.get("ETag"), size, bodies)
        finally:
            bodies[-1].close()

    async def _body_chunks(self, key: str, etag: str | None, size: int, bodies: list[Any]) -> AsyncIterator[bytes]:
        """The body's chunks, resuming a broken connection where it broke; the open body is ``bodies[-1]``."""
        offset = 0
        resumes = 0
        while True:
            try:
                chunk = await bodies[-1].read(size)
            except Exception as exc:
                if not is_transient(exc):
                    raise StorageError(f"reading {key!r} failed: {exc}", key=key) from exc
                resumes += 1
                if resumes >= self._policy.max_attempts:
                    raise TransientStorageError(
                        f"reading {key!r} broke off {resumes} times: {exc}", key=key, attempts=resumes
                    ) from exc
                bodies[-1].close()
                # Carry on from where the connection broke, and only if the object is still the same one.
                params = {"IfMatch": etag} if etag else {}
                answer = await self._request("get_object", key=key, Key=key, Range=f"bytes={offset}-", **params)
                bodies.append(answer["Body"])
                continue
            if not chunk:
                return
            offset += len(chunk)
            yield chunk

    async def head(self, key: str) -> ObjectInfo:
        validate_key(key)
        answer = await self._request("head_object", key=key, Key=key)
        metadata = dict(answer.get("Metadata") or {})
        sha = metadata.pop("sha256", None)
        return ObjectInfo(
            key=key,
            size=int(answer["ContentLength"]),
            sha256=sha,
            content_type=answer.get("ContentType"),
            metadata=metadata,
            last_modified=answer.get("LastModified"),
            etag=answer.get("ETag"),
        )

    async def exists(self, key: str) -> bool:
        try:
            await self.head(key)
        except ObjectNotFound:
            return False
        return True

    async def list(self, prefix: str = "") -> AsyncIterator[ListedObject]:
        validate_prefix(prefix)
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Prefix": prefix, "MaxKeys": self.list_page_size}
            if token:
                params["ContinuationToken"] = token
            page = await self._request("list_objects_v2", key=None, **params)
            for obj in page.get("Contents", []):
                if obj["Key"].startswith(UPLOAD_PREFIX):
                    continue
                yield ListedObject(key=obj["Key"], size=int(obj["Size"]), last_modified=obj.get("LastModified"))
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    # --- management ---

    async def delete(self, key: str) -> None:
        validate_key(key)
        await self._request("delete_object", key=key, Key=key)

    async def copy(self, src_key: str, dst_key: str) -> ArtifactRef:
        validate_key(dst_key)
        info = await self.head(src_key)
        if info.sha256 is None:
            raise MissingChecksum(src_key)
        if info.size > MAX_COPY_SIZE:
            raise StorageError(f"copying {src_key!r}: objects over 5 GiB are not supported", key=src_key)
        params: dict[str, Any] = {"CopySourceIfMatch": info.etag} if info.etag else {}
        await self._request(
            "copy_object",
            key=dst_key,
            Key=dst_key,
            CopySource={"Bucket": self.bucket, "Key": src_key},
            MetadataDirective="COPY",
            **params,
        )
        return ArtifactRef(key=dst_key, sha256=info.sha256, size=info.size)

    # --- presigned URLs ---

    @property
    def presign_expiry_s(self) -> int:
        return self.settings.presign_expiry_s

    async def _presign(
        self, method: str, key: str, seconds: int, content_type: str | None, sha256: str | None
    ) -> PresignedRequest:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        headers: dict[str, str] = {}
        if sha256 is not None:
            params["Metadata"] = {"sha256": sha256}
            headers["x-amz-meta-sha256"] = sha256
        if content_type:
            params["ContentType"] = content_type
            headers["Content-Type"] = content_type
        operation = "get_object" if method == "GET" else "put_object"
        url = await self.client.generate_presigned_url(operation, Params=params, ExpiresIn=seconds)
        return PresignedRequest(method=method, url=str(url), expires_at=_in(seconds), headers=headers)


@functools.cache
def _shared_session() -> aioboto3.Session:
    """One session per process: it caches botocore's service models, so later clients open in milliseconds."""
    return aioboto3.Session()


def _in(seconds: int) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def _file_parts(path: Path, part_size: int, digest: Any) -> AsyncGenerator[bytes, None]:
    fh = await asyncio.to_thread(path.open, "rb")
    try:
        while part := await asyncio.to_thread(fh.read, part_size):
            digest.update(part)
            yield part
            del part
    finally:
        fh.close()


async def _stream_parts(
    buffer: bytearray, chunks: AsyncIterator[bytes], part_size: int, digest: Any
) -> AsyncGenerator[bytes, None]:
    """Cut a stream (``buffer`` already read from it) into parts of ``part_size``; the last may be shorter."""
    exhausted = False
    while True:
        while len(buffer) < part_size and not exhausted:
            try:
                buffer += await anext(chunks)
            except StopAsyncIteration:
                exhausted = True
        if not buffer:
            return
        with memoryview(buffer) as view:
            part = bytes(view[:part_size])
            rest = bytearray(view[part_size:])
        buffer = rest
        del rest
        digest.update(part)
        yield part
        del part
