"""Identifiers: a short type prefix and a ULID (time-ordered, so ids sort by creation)."""

from __future__ import annotations

import os
import time

from plastinka_schemas import JobKind

__all__ = ["JOB_PREFIXES", "job_kind_of", "new_id", "new_job_id"]

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"

#: The id prefix of each job kind: the kind can be read off a job id (callbacks carry only the id).
JOB_PREFIXES: dict[JobKind, str] = {JobKind.TRAINING: "tj", JobKind.PREDICTION: "pj"}


def _ulid() -> str:
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """``<prefix>_<ulid>``, e.g. ``ds_01jd...``: 26 lowercase Crockford base32 characters after the prefix."""
    if not prefix.isalnum():
        raise ValueError("an id prefix is letters and digits only")
    return f"{prefix}_{_ulid()}"


def new_job_id(kind: JobKind) -> str:
    return new_id(JOB_PREFIXES[JobKind(kind)])


def job_kind_of(job_id: str) -> JobKind:
    """The kind of job an id names; ``ValueError`` for an id that is not a job id."""
    prefix, sep, _ = job_id.partition("_")
    for kind, job_prefix in JOB_PREFIXES.items():
        if sep and prefix == job_prefix:
            return kind
    raise ValueError(f"{job_id!r} is not a job id (expected a prefix of {sorted(JOB_PREFIXES.values())})")
