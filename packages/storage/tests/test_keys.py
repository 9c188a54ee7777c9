"""The key builders and the rules every key passes."""

from __future__ import annotations

import pytest

from plastinka_schemas import ArtifactRef, TrainRequest
from plastinka_storage import InvalidKey, keys

SHA = "ab" * 32


def test_layout() -> None:
    assert keys.dataset_key(SHA, "sales.xlsx") == f"datasets/{SHA}/sales.xlsx"
    assert keys.dataset_key(SHA.upper(), "sales.xlsx") == f"datasets/{SHA}/sales.xlsx"
    assert keys.dataset_prefix(SHA) == f"datasets/{SHA}/"
    assert keys.model_key("m-1", "model.txt") == "models/m-1/model.txt"
    assert keys.model_prefix("m-1") == "models/m-1/"
    assert keys.job_prefix("job_7") == "jobs/job_7/"
    assert keys.job_attempt_prefix("job_7", 2) == "jobs/job_7/attempt-2/"
    assert keys.job_artifact_key("job_7", 2, "metrics.json") == "jobs/job_7/attempt-2/metrics.json"
    assert keys.job_artifact_key("job_7", 2, "plots/a.png") == "jobs/job_7/attempt-2/plots/a.png"
    assert keys.job_status_key("job_7", 2) == "jobs/job_7/attempt-2/status.json"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("sales.xlsx", "sales.xlsx"),
        ("Продажи март 2024.xlsx", "Prodazhi_mart_2024.xlsx"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\shop\\stock.csv", "stock.csv"),
        (".hidden", "hidden"),
        ("", "file"),
        ("...", "file"),
        ("a b&c.CSV", "a_b_c.CSV"),
        ("report.tar.gz", "report.tar.gz"),
        ("объём_ь.csv", "obem.csv"),
        ("x" * 400 + ".csv", "x" * 146 + ".csv"),
        ("name.", "name"),
        ("\x00evil.csv", "evil.csv"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert keys.safe_filename(name) == safe
    keys.validate_key(keys.dataset_key(SHA, name))


def test_every_built_key_is_a_valid_artifact_ref_key() -> None:
    for key in (
        keys.dataset_key(SHA, "Остатки на складе (итог).xls"),
        keys.model_key("abc", "meta.json"),
        keys.job_status_key("J-1", 100),
    ):
        ArtifactRef(key=key, sha256=SHA, size=0)


def test_attempt_prefix_is_a_valid_function_output_prefix() -> None:
    request = TrainRequest(
        job_id="job-1",
        attempt=3,
        callback_token="t" * 16,
        output_prefix=keys.job_attempt_prefix("job-1", 3),
        dataset=ArtifactRef(key=keys.dataset_key(SHA, "d.csv"), sha256=SHA, size=1),
    )
    assert request.output_prefix == "jobs/job-1/attempt-3/"


@pytest.mark.parametrize(
    "call",
    [
        lambda: keys.dataset_key("abc", "x.csv"),
        lambda: keys.dataset_key("g" * 64, "x.csv"),
        lambda: keys.model_key("../m", "x"),
        lambda: keys.model_key("", "x"),
        lambda: keys.model_key("m/1", "x"),
        lambda: keys.model_key("m", "../x"),
        lambda: keys.model_key("m", "/abs"),
        lambda: keys.model_key("m", "a//b"),
        lambda: keys.model_key("m", ".meta"),
        lambda: keys.job_attempt_prefix("j", 0),
        lambda: keys.job_attempt_prefix("j", True),
        lambda: keys.job_attempt_prefix("j", "1"),
        lambda: keys.job_attempt_prefix("-j", 1),
        lambda: keys.job_attempt_prefix("j" * 65, 1),
        lambda: keys.job_artifact_key("j", 1, "a\\b"),
        lambda: keys.job_artifact_key("j", 1, ""),
    ],
)
def test_bad_parts_are_refused(call) -> None:
    with pytest.raises(InvalidKey):
        call()


def test_invalid_key_says_why() -> None:
    with pytest.raises(InvalidKey) as caught:
        keys.validate_key("a/../b")
    assert caught.value.reason == "path segment '..' is not allowed"
    assert isinstance(caught.value, ValueError)


def test_prefixes() -> None:
    assert keys.validate_prefix("") == ""
    assert keys.validate_prefix("jobs/") == "jobs/"
    assert keys.validate_prefix("jobs/j1") == "jobs/j1"
    for bad in ("/", "//", "../", "a//", "jobs//"):
        with pytest.raises(InvalidKey):
            keys.validate_prefix(bad)
