"""S3-only behaviour: multipart with bounded memory, retries through the fault proxy, wire details."""

from __future__ import annotations

import hashlib
import random
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from plastinka_storage import (
    ChecksumMismatch,
    ObjectNotFound,
    S3ObjectStore,
    S3Settings,
    StorageError,
    TransientStorageError,
)
from plastinka_testing.s3 import FaultProxy

pytestmark = pytest.mark.s3

MIB = 1024 * 1024
PART = 5 * MIB


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def generated(total: int, seed: int, chunk: int = 256 * 1024) -> AsyncIterator[bytes]:
    """Deterministic pseudo-random bytes, produced chunk by chunk (never held whole)."""
    rng = random.Random(seed)
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        yield rng.randbytes(n)
        sent += n


def generated_sha(total: int, seed: int, chunk: int = 256 * 1024) -> str:
    rng = random.Random(seed)
    digest = hashlib.sha256()
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        digest.update(rng.randbytes(n))
        sent += n
    return digest.hexdigest()


def _store_through_proxy(read_timeout_s: float, retry_total_s: float, doc: str) -> Any:
    @pytest.fixture
    async def fixture(
        s3_settings_for: Callable[..., S3Settings], s3_fault_proxy: FaultProxy
    ) -> AsyncIterator[tuple[S3ObjectStore, FaultProxy]]:
        timeouts = {"read_timeout_s": read_timeout_s, "retry_total_s": retry_total_s}
        settings = s3_settings_for(s3_fault_proxy.endpoint_url, **timeouts)
        async with S3ObjectStore(settings) as store:
            yield store, s3_fault_proxy

    fixture.__doc__ = doc
    return fixture


proxied = _store_through_proxy(2.0, 3.0, "A store that talks through the fault proxy, with a 3 s retry budget.")
impatient = _store_through_proxy(1.0, 2.0, "Like ``proxied`` but with a 1 s read timeout and a 2 s budget, for stalls.")


@pytest.mark.slow
async def test_50mb_multipart_round_trip_in_bounded_memory(s3_store: S3ObjectStore, tmp_path: Path) -> None:
    total, seed = 50 * MIB, 7
    expected = generated_sha(total, seed)

    tracemalloc.start()
    try:
        ref = await s3_store.put_stream("models/big/model.bin", generated(total, seed))
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        async for chunk in s3_store.get_stream(ref.key):
            digest.update(chunk)
        _, download_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        dest = tmp_path / "model.bin"
        got = await s3_store.get_file(ref.key, dest)
        _, file_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert ref.sha256 == expected and ref.size == total
    assert digest.hexdigest() == expected
    assert got == ref and dest.stat().st_size == total
    bound = 2 * PART + 4 * MIB
    assert upload_peak < bound, f"upload peak {upload_peak / MIB:.1f} MiB"
    assert download_peak < bound, f"download peak {download_peak / MIB:.1f} MiB"
    assert file_peak < bound, f"file download peak {file_peak / MIB:.1f} MiB"
    info = await s3_store.head(ref.key)
    assert info.sha256 == expected and info.size == total


async def test_multipart_file_upload_carries_its_checksum_and_leaves_no_upload(
    s3_store: S3ObjectStore, raw_s3_client: Any, s3_bucket: str, tmp_path: Path
) -> None:
    src = tmp_path / "big.bin"
    data = random.Random(1).randbytes(11 * MIB + 123)
    src.write_bytes(data)
    ref = await s3_store.put_file("datasets/big/big.bin", src, content_type="application/octet-stream")
    assert ref.sha256 == sha(data) and ref.size == len(data)
    head = raw_s3_client.head_object(Bucket=s3_bucket, Key=ref.key)
    assert head["Metadata"]["sha256"] == sha(data)
    assert head["ETag"].strip('"').endswith("-3")  # three parts: 5 + 5 + 1 MiB
    assert await s3_store.get_bytes(ref.key) == data
    assert raw_s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


async def test_large_stream_without_a_declared_checksum_is_staged_then_copied(
    s3_store: S3ObjectStore, raw_s3_client: Any, s3_bucket: str
) -> None:
    total = 6 * MIB
    ref = await s3_store.put_stream("jobs/j/attempt-1/forecast.parquet", generated(total, 3))
    assert ref.sha256 == generated_sha(total, 3)
    keys = [o["Key"] for o in raw_s3_client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])]
    assert keys == [ref.key]  # nothing left under the staging prefix
    assert raw_s3_client.head_object(Bucket=s3_bucket, Key=ref.key)["Metadata"]["sha256"] == ref.sha256


async def test_large_stream_with_a_wrong_declared_checksum_is_aborted(
    s3_store: S3ObjectStore, raw_s3_client: Any, s3_bucket: str
) -> None:
    with pytest.raises(ChecksumMismatch):
        await s3_store.put_stream("datasets/x/data.csv", generated(6 * MIB, 4), sha256="0" * 64)
    assert not await s3_store.exists("datasets/x/data.csv")
    assert raw_s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    ok = await s3_store.put_stream("datasets/x/data.csv", generated(6 * MIB, 4), sha256=generated_sha(6 * MIB, 4))
    assert ok.size == 6 * MIB


async def test_a_failing_stream_leaves_no_object_and_no_upload(
    s3_store: S3ObjectStore, raw_s3_client: Any, s3_bucket: str
) -> None:
    async def breaks() -> AsyncIterator[bytes]:
        async for chunk in generated(12 * MIB, 5):
            yield chunk
        raise OSError("client went away")

    with pytest.raises(OSError, match="went away"):
        await s3_store.put_stream("datasets/y/data.csv", breaks())
    assert raw_s3_client.list_objects_v2(Bucket=s3_bucket).get("Contents", []) == []
    assert raw_s3_client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


async def test_every_put_carries_a_correct_content_md5_and_no_crc32(proxied: tuple[S3ObjectStore, FaultProxy]) -> None:
    store, proxy = proxied
    await store.put_bytes("a/small", b"small object")
    await store.put_bytes("a/large", random.Random(2).randbytes(6 * MIB))  # multipart: two UploadPart PUTs
    puts = [r for r in proxy.requests if r.method == "PUT"]
    assert len(puts) == 3
    for request in puts:
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert headers["content-md5"] == request.body_md5
        assert not any(name.startswith("x-amz-checksum") or name == "x-amz-sdk-checksum-algorithm" for name in headers)


async def test_one_client_and_connection_serve_many_calls(proxied: tuple[S3ObjectStore, FaultProxy]) -> None:
    store, proxy = proxied
    client = store.client
    for i in range(5):
        await store.put_bytes(f"k/{i}", b"x")
        await store.get_bytes(f"k/{i}")
    assert store.client is client
    assert len({r.connection for r in proxy.requests}) == 1


async def test_injected_503s_are_retried_then_succeed(proxied: tuple[S3ObjectStore, FaultProxy]) -> None:
    store, proxy = proxied
    proxy.fail_next(2, status=503, code="SlowDown")
    ref = await store.put_bytes("a/b", b"payload")
    assert [(r.method, r.status) for r in proxy.requests] == [("PUT", 503), ("PUT", 503), ("PUT", 200)]

    proxy.reset()
    proxy.fail_next(1, status=500, code="InternalError")
    proxy.fail_next(1, status=429, code="TooManyRequests")
    assert await store.get_bytes(ref.key) == b"payload"
    assert [r.status for r in proxy.requests] == [500, 429, 200]


async def test_persistent_503_surfaces_as_transient_error_within_the_bound(
    proxied: tuple[S3ObjectStore, FaultProxy],
) -> None:
    store, proxy = proxied
    proxy.fail_next(1000)
    with pytest.raises(TransientStorageError) as caught:
        await store.put_bytes("a/b", b"payload")
    error = caught.value
    assert 2 <= error.attempts <= store.settings.retry_max_attempts
    assert error.attempts == proxy.count("PUT")
    assert error.elapsed_s <= store.settings.retry_total_s + store.settings.read_timeout_s
    assert isinstance(error.__cause__, Exception) and "SlowDown" in str(error)


async def test_a_stalled_request_times_out_and_is_retried(impatient: tuple[S3ObjectStore, FaultProxy]) -> None:
    store, proxy = impatient
    await store.put_bytes("a/b", b"payload")
    proxy.reset()
    proxy.delay_next(1, 4.0)
    assert await store.get_bytes("a/b") == b"payload"
    assert [r.fault for r in proxy.requests] == ["delay", None]


async def test_persistent_timeouts_surface_as_transient_error(impatient: tuple[S3ObjectStore, FaultProxy]) -> None:
    store, proxy = impatient
    proxy.delay_next(1000, 4.0)
    with pytest.raises(TransientStorageError) as caught:
        await store.head("a/b")
    assert caught.value.attempts >= 2
    assert caught.value.attempts == proxy.count("HEAD")
    assert caught.value.elapsed_s <= store.settings.retry_total_s + store.settings.read_timeout_s + 1.0


async def test_dropped_connections_are_retried(proxied: tuple[S3ObjectStore, FaultProxy]) -> None:
    store, proxy = proxied
    proxy.drop_next(3)
    await store.put_bytes("a/b", b"payload")
    assert [r.fault for r in proxy.requests][-1] is None
    assert await store.get_bytes("a/b") == b"payload"


async def test_a_lost_answer_to_complete_multipart_is_not_a_failure(
    proxied: tuple[S3ObjectStore, FaultProxy], tmp_path: Path
) -> None:
    store, proxy = proxied
    src = tmp_path / "big.bin"
    data = random.Random(11).randbytes(6 * MIB)
    src.write_bytes(data)
    # S3 completes the upload, the answer never arrives, the retry hears NoSuchUpload: the object is there.
    complete = f"POST /{store.bucket}/datasets/big.bin?uploadId="
    proxy.lose_next(1, match=complete)
    proxy.fail_next(1, status=404, code="NoSuchUpload", match=complete)
    ref = await store.put_file("datasets/big.bin", src)
    assert ref.sha256 == sha(data)
    completes = [r for r in proxy.requests if r.method == "POST" and "uploadId=" in r.path]
    assert [(r.fault, r.status) for r in completes] == [("lose", 200), ("status", 404)]
    assert await store.get_bytes("datasets/big.bin") == data


@pytest.mark.parametrize(("status", "code"), [(403, "AccessDenied"), (400, "InvalidArgument"), (404, "NoSuchKey")])
async def test_client_errors_are_never_retried(
    proxied: tuple[S3ObjectStore, FaultProxy], status: int, code: str
) -> None:
    store, proxy = proxied
    proxy.fail_next(5, status=status, code=code)
    with pytest.raises(StorageError) as caught:
        await store.get_bytes("a/b")
    assert not isinstance(caught.value, TransientStorageError)
    assert isinstance(caught.value, ObjectNotFound) == (status == 404)
    assert proxy.count() == 1


async def test_a_real_404_is_asked_once(proxied: tuple[S3ObjectStore, FaultProxy]) -> None:
    store, proxy = proxied
    with pytest.raises(ObjectNotFound):
        await store.get_bytes("missing/key")
    assert not await store.exists("missing/key")
    assert [(r.method, r.status) for r in proxy.requests] == [("GET", 404), ("HEAD", 404)]


async def test_a_download_cut_off_midway_resumes_from_where_it_broke(
    proxied: tuple[S3ObjectStore, FaultProxy],
) -> None:
    store, proxy = proxied
    data = random.Random(9).randbytes(2 * MIB)
    await store.put_bytes("models/m/model.bin", data)
    proxy.reset()
    proxy.truncate_next(1, after_bytes=300_000)
    assert await store.get_bytes("models/m/model.bin") == data
    gets = [r for r in proxy.requests if r.method == "GET"]
    assert len(gets) == 2
    resumed = {k.lower(): v for k, v in gets[1].headers.items()}
    start = int(resumed["range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < start <= 300_000
    assert "if-match" in resumed  # only the same object may be continued


async def test_a_changed_object_is_not_stitched_into_a_resumed_download(
    proxied: tuple[S3ObjectStore, FaultProxy], raw_s3_client: Any, s3_bucket: str
) -> None:
    store, proxy = proxied
    data = random.Random(10).randbytes(MIB)
    await store.put_bytes("models/m/model.bin", data)
    proxy.reset()
    proxy.truncate_next(1, after_bytes=100_000)
    stream = store.get_stream("models/m/model.bin", chunk_size=50_000)
    first = await anext(stream)
    raw_s3_client.put_object(Bucket=s3_bucket, Key="models/m/model.bin", Body=b"replaced")
    with pytest.raises(StorageError, match="changed"):
        async for _ in stream:
            pass
    assert first == data[: len(first)]


async def test_presign_put_signs_the_checksum_header(s3_store: S3ObjectStore) -> None:
    grant = await s3_store.presign_put("a/b", expires_in=120, sha256="A" * 64, content_type="text/csv")
    assert grant.headers == {"x-amz-meta-sha256": "a" * 64, "Content-Type": "text/csv"}
    assert "x-amz-meta-sha256" in grant.url.lower()  # among X-Amz-SignedHeaders
    assert "X-Amz-Expires=120" in grant.url


async def test_client_config_keeps_s3_compatible_checksums(s3_store: S3ObjectStore) -> None:
    config = s3_store.client_config()
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"
    assert config.retries == {"total_max_attempts": 1, "mode": "standard"}


async def test_a_closed_store_says_so(s3_settings_for: Callable[..., S3Settings]) -> None:
    store = S3ObjectStore(s3_settings_for())
    with pytest.raises(StorageError, match="not open"):
        await store.get_bytes("a/b")
    async with store:
        assert not await store.exists("a/b")
    with pytest.raises(StorageError, match="not open"):
        await store.exists("a/b")


async def test_listing_pages_through_continuation_tokens(
    proxied: tuple[S3ObjectStore, FaultProxy], raw_s3_client: Any, s3_bucket: str
) -> None:
    store, proxy = proxied
    keys = [f"jobs/j/attempt-1/part-{i}" for i in range(5)]
    for key in keys:
        raw_s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"")
    store.list_page_size = 2
    assert [o.key async for o in store.list("jobs/j/")] == keys
    assert proxy.count("GET") == 3  # pages of 2, 2 and 1


async def test_a_missing_bucket_is_a_clear_error(s3_settings_for: Callable[..., S3Settings]) -> None:
    async with S3ObjectStore(s3_settings_for(bucket="no-such-bucket-here")) as store:
        with pytest.raises(StorageError, match="bucket 'no-such-bucket-here' does not exist"):
            await store.put_bytes("a/b", b"x")
