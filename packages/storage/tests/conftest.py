"""Stores under test: a local directory and S3 on the loopback moto server, behind one ``store`` fixture.

The local store's signed URLs are served by a small aiohttp app doing what the API will do (verify the grant,
then read or write through the store), so presigned URLs are exercised with plain httpx on both backends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from plastinka_storage import (
    ChecksumMismatch,
    InvalidSignature,
    LocalObjectStore,
    ObjectNotFound,
    ObjectStore,
    S3ObjectStore,
    S3Settings,
)
from plastinka_testing.s3 import S3_ACCESS_KEY, S3_SECRET_KEY

MIB = 1024 * 1024
SIGNING_KEY = "test-signing-key-0123456789abcdef"


def s3_settings(endpoint: str, bucket: str, **overrides: Any) -> S3Settings:
    fields: dict[str, Any] = {
        "bucket": bucket,
        "endpoint_url": endpoint,
        "region": "us-east-1",
        "access_key_id": S3_ACCESS_KEY,
        "secret_access_key": S3_SECRET_KEY,
        "multipart_threshold": 5 * MIB,
        "part_size": 5 * MIB,
        "retry_total_s": 5.0,
        "retry_backoff_base_s": 0.01,
        "retry_backoff_max_s": 0.1,
    }
    fields.update(overrides)
    return S3Settings(**fields)


@pytest.fixture
def s3_settings_for(s3_server: str, s3_bucket: str) -> Callable[..., S3Settings]:
    """Settings for the test's bucket, pointing at ``endpoint`` (the server, or the fault proxy)."""

    def build(endpoint: str | None = None, **overrides: Any) -> S3Settings:
        bucket = overrides.pop("bucket", s3_bucket)
        return s3_settings(endpoint or s3_server, bucket, **overrides)

    return build


async def _serve_signed(holder: dict[str, LocalObjectStore], request: web.Request) -> web.StreamResponse:
    store = holder["store"]
    try:
        grant = store.verify_signed_url(str(request.url), method=request.method)
    except InvalidSignature as exc:
        return web.Response(status=403, text=exc.reason)
    if request.method == "GET":
        try:
            return web.Response(body=await store.get_bytes(grant.key))
        except ObjectNotFound:
            return web.Response(status=404)
    try:
        await store.put_stream(
            grant.key,
            request.content.iter_chunked(64 * 1024),
            sha256=grant.sha256,
            content_type=request.headers.get("Content-Type"),
        )
    except ChecksumMismatch as exc:
        return web.Response(status=400, text=str(exc))
    return web.Response(status=200)


@pytest.fixture
async def local_store(tmp_path: Any) -> AsyncIterator[LocalObjectStore]:
    """A local store whose signed URLs are served on loopback."""
    holder: dict[str, LocalObjectStore] = {}
    app = web.Application()

    async def serve(request: web.Request) -> web.StreamResponse:
        return await _serve_signed(holder, request)

    app.router.add_route("*", "/storage/{key:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    store = LocalObjectStore(
        tmp_path / "objects", signing_key=SIGNING_KEY, base_url=f"http://127.0.0.1:{port}/storage", fsync=True
    )
    holder["store"] = store
    try:
        async with store:
            yield store
    finally:
        await runner.cleanup()


@pytest.fixture
async def s3_store(s3_settings_for: Callable[..., S3Settings]) -> AsyncIterator[S3ObjectStore]:
    async with S3ObjectStore(s3_settings_for()) as store:
        yield store


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, request: pytest.FixtureRequest) -> ObjectStore:
    fixture = "local_store" if backend == "local" else "s3_store"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


@pytest.fixture
def raw_put(backend: str, request: pytest.FixtureRequest) -> Callable[..., Awaitable[None]]:
    """Write bytes behind the store's back: ``keep_checksum`` keeps the stored sha256, else there is none."""
    if backend == "local":
        local: LocalObjectStore = request.getfixturevalue("local_store")

        async def put_local(key: str, data: bytes, *, keep_checksum: bool) -> None:
            path = local.path_of(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            if keep_checksum:
                assert path.exists()
                with path.open("r+b") as fh:  # same file, same inode: the sidecar still vouches for it
                    fh.truncate(0)
                    fh.write(data)
            else:
                path.write_bytes(data)
                path.with_name(f".{path.name}.meta.json").unlink(missing_ok=True)

        return put_local

    client = request.getfixturevalue("raw_s3_client")
    bucket = request.getfixturevalue("s3_bucket")

    async def put_s3(key: str, data: bytes, *, keep_checksum: bool) -> None:
        metadata = client.head_object(Bucket=bucket, Key=key)["Metadata"] if keep_checksum else {}
        client.put_object(Bucket=bucket, Key=key, Body=data, Metadata=metadata)

    return put_s3
