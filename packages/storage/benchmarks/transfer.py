"""Throughput and peak traced memory of streaming uploads/downloads, S3 (moto on loopback) and local.

Run: ``hatch run hatch-test.py3.11:python packages/storage/benchmarks/transfer.py [size_mib ...]``
(any environment with plastinka-storage and plastinka-testing). Prints one line per backend, size and direction.
Loopback moto is much slower than a real S3 endpoint: read the S3 figures for memory, not for speed.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import boto3

from plastinka_storage import LocalObjectStore, ObjectStore, S3ObjectStore, S3Settings
from plastinka_testing.s3 import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY, moto_server

MIB = 1024 * 1024
CHUNK = 256 * 1024


async def source(total: int) -> AsyncIterator[bytes]:
    block = os.urandom(CHUNK)
    sent = 0
    while sent < total:
        n = min(CHUNK, total - sent)
        yield block[:n]
        sent += n


async def measure(store: ObjectStore, name: str, total: int) -> None:
    key = f"bench/{total // MIB}mib.bin"
    tracemalloc.start()
    started = time.perf_counter()
    ref = await store.put_stream(key, source(total))
    up_s = time.perf_counter() - started
    _, up_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    digest = hashlib.sha256()
    async for chunk in store.get_stream(key):
        digest.update(chunk)
    down_s = time.perf_counter() - started
    _, down_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert digest.hexdigest() == ref.sha256
    for direction, seconds, peak in (("put_stream", up_s, up_peak), ("get_stream", down_s, down_peak)):
        print(
            f"{name:6} {total / MIB:7.0f} MiB  {direction:10}  {total / MIB / seconds:8.1f} MiB/s  "
            f"peak traced {peak / MIB:6.1f} MiB"
        )
    await store.delete(key)


async def main(sizes: list[int]) -> None:
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=S3_REGION,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
        ).create_bucket(Bucket="bench")
        settings = S3Settings(
            bucket="bench",
            endpoint_url=endpoint,
            region=S3_REGION,
            access_key_id=S3_ACCESS_KEY,
            secret_access_key=S3_SECRET_KEY,
            multipart_threshold=8 * MIB,
            part_size=8 * MIB,
        )
        print(f"S3 part size {settings.part_size // MIB} MiB, threshold {settings.multipart_threshold // MIB} MiB")
        async with S3ObjectStore(settings) as s3, LocalObjectStore(Path(tmp)) as local:
            for size in sizes:
                await measure(s3, "s3", size * MIB)
                await measure(local, "local", size * MIB)


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [4, 32, 128]))
