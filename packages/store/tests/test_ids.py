"""Identifiers: prefixed, time-ordered, and the job kind readable off a job id."""

from __future__ import annotations

import re
import time

import pytest

from plastinka_schemas import JobKind
from plastinka_store import job_kind_of, new_id, new_job_id


def test_ids_are_prefixed_ulids_that_sort_by_time() -> None:
    first = new_id("ds")
    time.sleep(0.002)
    second = new_id("ds")
    assert re.fullmatch(r"ds_[0-9a-hjkmnp-tv-z]{26}", first)
    assert first < second
    assert len({new_id("x") for _ in range(1000)}) == 1000


def test_job_kind_is_read_off_the_id() -> None:
    assert job_kind_of(new_job_id(JobKind.TRAINING)) is JobKind.TRAINING
    assert job_kind_of(new_job_id(JobKind.PREDICTION)) is JobKind.PREDICTION
    for bad in ("ds_01abc", "tj", "", "tjx_1"):
        with pytest.raises(ValueError):
            job_kind_of(bad)
    with pytest.raises(ValueError):
        new_id("bad-prefix")
