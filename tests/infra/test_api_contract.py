"""What Terraform hands over is named after settings the API really reads (PLASTINKA_* -> Settings fields)."""

from __future__ import annotations

import re
from pathlib import Path

from plastinka_api.settings import Settings
from plastinka_infra_checks import load_directory

REPO = Path(__file__).resolve().parents[2]
SETTING = re.compile(r"PLASTINKA_([A-Z0-9_]+)")


def _fields() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_every_setting_named_by_outputs_and_the_readme_exists() -> None:
    config = load_directory(REPO / "infra" / "terraform")
    named = {m for out in config.of_kind("output") for m in SETTING.findall(str(out.body.get("description", "")))}
    named |= set(SETTING.findall((REPO / "infra" / "README.md").read_text(encoding="utf-8")))
    named |= set(SETTING.findall((REPO / "infra" / "docker" / "Dockerfile").read_text(encoding="utf-8")))
    assert {"S3_BUCKET", "YANDEX_TRAIN_FUNCTION_ID", "YANDEX_PREDICT_FUNCTION_ID", "YANDEX_SA_KEY_FILE"} <= named
    assert named - _fields() == set()


def test_the_functions_get_storage_settings_and_no_signing_key() -> None:
    config = load_directory(REPO / "infra" / "terraform")
    [fn] = config.resources("yandex_function")
    env = set(fn.body["environment"])
    secrets = {s["environment_variable"] for s in fn.body["secrets"]}
    assert env.isdisjoint(secrets)
    given = {SETTING.fullmatch(name).group(1) for name in env | secrets}  # type: ignore[union-attr]
    assert {"STORAGE_BACKEND", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"} <= given
    assert given - _fields() == set()
    # the API signs and verifies callback tokens; a function that could sign them could forge any job's events
    assert "SECRET_KEY" not in given
    readers = config.locals["secret_readers"]
    functions_reads = {v["secret"] for v in readers.values() if "functions" in v["sa"]}
    assert functions_reads == {'${yandex_lockbox_secret.this["functions_storage"].id}'}


def test_the_hosted_api_containers_get_settings_the_api_reads() -> None:
    config = load_directory(REPO / "infra" / "terraform")
    env = set(config.locals["api_environment"])
    secrets = set(config.locals["api_secrets"])
    assert env.isdisjoint(secrets)
    given = {SETTING.fullmatch(name).group(1) for name in env | secrets}  # type: ignore[union-attr]
    assert given - _fields() == set()
    assert {"DATABASE_URL", "DATABASE_PASSWORD", "SECRET_KEY", "YANDEX_METADATA_CREDENTIALS"} <= given
    assert {"ENGINE_ENABLED", "S3_ACCESS_KEY_ID", "INVOKER"} <= given
