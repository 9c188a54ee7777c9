"""Validating an upload in a child process whose address space is capped, so that no file, however it inflates,
takes the caller's memory with it: past the cap the child dies and the caller refuses the file."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from plastinka_schemas import DatasetReport

from ._errors import DataError
from ._limits import DEFAULT_LIMITS, IngestLimits

#: Words a child writes to stderr when an allocation failed (Rust's abort message, Python, C++ libraries).
_OUT_OF_MEMORY = ("memory allocation of", "MemoryError", "Cannot allocate memory", "bad_alloc", "out of memory")


class MemoryLimitError(DataError):
    """Reading the file needed more memory than the child may use."""

    def __init__(self, message: str, *, file: str | None, limit_bytes: int):
        super().__init__(message, file=file)
        self.limit_bytes = limit_bytes


@dataclass(frozen=True)
class UploadCheck:
    """What the child made of an upload: its report, and the item ids and their other spellings."""

    report: DatasetReport
    item_ids: list[str]
    aliases: dict[str, str]


@dataclass(frozen=True)
class NamedFile:
    """A file on disk and the name it is reported under."""

    path: Path
    name: str


def _request(
    sales: NamedFile, stock: NamedFile | None, limits: IngestLimits, memory_bytes: int, max_issues: int | None
) -> bytes:
    def part(upload: NamedFile | None) -> dict[str, str] | None:
        return None if upload is None else {"path": str(upload.path), "name": upload.name}

    return json.dumps(
        {
            "sales": part(sales),
            "stock": part(stock),
            "limits": dataclasses.asdict(limits),
            "memory_bytes": memory_bytes,
            "max_issues": max_issues,
        }
    ).encode()


def check_upload(
    sales: NamedFile,
    stock: NamedFile | None = None,
    *,
    memory_bytes: int,
    limits: IngestLimits = DEFAULT_LIMITS,
    max_issues: int | None = None,
    timeout_s: float | None = None,
) -> UploadCheck:
    """Load and report ``sales`` (and ``stock``) in a child process whose resident size stays under ``memory_bytes``
    (its idle interpreter included), so that the caller grows by no more than that.

    Raises :class:`DataError` for a file that cannot be used or that takes longer than ``timeout_s`` to read,
    :class:`MemoryLimitError` when reading it would need more memory, and RuntimeError when the child failed for
    another reason (a bug, not the file's fault).
    """
    names = sales.name if stock is None else f"{sales.name} or {stock.name}"
    env = {**os.environ, "MALLOC_ARENA_MAX": "2"}  # glibc reserves 64 MiB of address space per arena otherwise
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
            [sys.executable, "-m", "plastinka_forecasting.ingest._worker"],
            input=_request(sales, stock, limits, memory_bytes, max_issues),
            capture_output=True,
            timeout=timeout_s,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as error:  # the child is killed by now
        raise DataError(f"reading it took longer than the limit of {timeout_s:g} s", file=names) from error
    try:
        answer = json.loads(done.stdout) if done.stdout else None
    except ValueError:
        answer = None
    memory_error = MemoryLimitError(
        f"reading it needs more than the memory limit of {memory_bytes} bytes", file=names, limit_bytes=memory_bytes
    )
    if isinstance(answer, dict) and "report" in answer:
        return UploadCheck(DatasetReport.model_validate(answer["report"]), answer["item_ids"], answer["aliases"])
    if isinstance(answer, dict) and "refused" in answer:
        refused = answer["refused"]
        raise DataError(refused["reason"], file=refused["file"], row=refused["row"], column=refused["column"])
    stderr = done.stderr.decode("utf-8", "replace")
    if (isinstance(answer, dict) and answer.get("memory")) or any(word in stderr for word in _OUT_OF_MEMORY):
        raise memory_error
    if done.returncode in (-signal.SIGKILL, -signal.SIGABRT):  # an allocation that failed outside Python
        raise memory_error
    raise RuntimeError(f"the ingestion worker failed (exit {done.returncode}): {stderr[-2000:]}")
