"""The Terraform module parses with python-hcl2 and follows the deployment's conventions; every rule can fire."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from plastinka_infra_checks import HclError, check_terraform, load_directory

REPO = Path(__file__).resolve().parents[2]
TF = REPO / "infra" / "terraform"

Edit = Callable[[Path, str, str], None]


def rules(root: Path) -> set[str]:
    return {f.rule for f in check_terraform(load_directory(root / "terraform"))}


def test_every_tf_file_parses_into_the_expected_resources() -> None:
    config = load_directory(TF)
    assert {p.name for p in config.files} >= {"versions.tf", "variables.tf", "functions.tf", "storage.tf", "iam.tf"}
    addresses = {b.address for b in config.blocks}
    assert {
        "yandex_function.this",
        "yandex_storage_bucket.this",
        "yandex_kms_symmetric_key.storage",
        "yandex_iam_service_account.api",
        "yandex_iam_service_account.functions",
        "yandex_function_iam_member.api_invoker",
        "yandex_mdb_postgresql_cluster.db",
        "output.train_function_id",
        "output.predict_function_id",
        "output.data_bucket",
        "output.api_sa_key",
    } <= addresses
    assert set(config.locals["functions"]) == {"train", "predict"}
    instances = {b.address for b in config.instances()}
    assert {
        'yandex_function.this["train"]',
        'yandex_storage_bucket.this["data"]',
        'yandex_storage_bucket.this["deploy"]',
        'yandex_lockbox_secret.this["callback"]',
        'yandex_lockbox_secret.this["api_sa_key"]',
        'yandex_iam_service_account_static_access_key.storage["functions"]',
        'yandex_kms_symmetric_key_iam_member.crypto["api"]',
    } <= instances


# Resources that lived at their own address before they shared a for_each block (issue 13); a deployment made
# then holds them in its state under these names.
FORMER_ADDRESSES = (
    "yandex_storage_bucket.data",
    "yandex_storage_bucket.deploy",
    "yandex_lockbox_secret.callback",
    "yandex_lockbox_secret.functions_storage",
    "yandex_lockbox_secret.api_storage",
    "yandex_lockbox_secret.api_sa_key",
    "yandex_kms_symmetric_key_iam_member.api_crypto",
    "yandex_kms_symmetric_key_iam_member.functions_crypto",
    "yandex_iam_service_account_static_access_key.api",
    "yandex_iam_service_account_static_access_key.functions",
)


def test_every_former_address_is_moved_to_an_instance_the_module_declares() -> None:
    config = load_directory(TF)
    moves = {m.source: m.target for m in config.moved}
    instances = {b.address for b in config.instances()}
    assert set(moves) == set(FORMER_ADDRESSES)
    assert set(moves.values()) <= instances
    assert not set(FORMER_ADDRESSES) & {b.address for b in config.blocks}


def test_for_each_instances_carry_their_own_settings() -> None:
    config = load_directory(TF)
    buckets = {b.key: b.body for b in config.instances("yandex_storage_bucket")}
    assert buckets["data"]["versioning"] == [{"enabled": True}] and "versioning" not in buckets["deploy"]
    rules = {key: {r["id"]: r for r in body["lifecycle_rule"]} for key, body in buckets.items()}
    assert set(rules["deploy"]) == {"abort-incomplete-multipart"}
    assert set(rules["data"]) == {
        "expire-job-scratch",
        "expire-upload-staging",
        "expire-noncurrent-versions",
        "abort-incomplete-multipart",
    }
    assert "noncurrent_version_expiration" not in rules["data"]["expire-upload-staging"]
    assert rules["data"]["expire-job-scratch"]["filter"] == [{"prefix": "jobs/"}]
    secrets = {b.key: b.body for b in config.instances("yandex_lockbox_secret")}
    generated = {key for key, body in secrets.items() if "password_payload_specification" in body}
    assert generated == {"callback"}
    kms = {b.key: b.body["member"] for b in config.instances("yandex_kms_symmetric_key_iam_member")}
    assert kms == {
        "api": "serviceAccount:${yandex_iam_service_account.api.id}",
        "functions": "serviceAccount:${yandex_iam_service_account.functions.id}",
    }


def test_the_repository_module_has_no_findings() -> None:
    assert check_terraform(load_directory(TF)) == []


def test_a_syntax_error_names_the_file(infra_copy: Path) -> None:
    (infra_copy / "terraform" / "broken.tf").write_text('resource "x" "y" {\n  a = \n', encoding="utf-8")
    with pytest.raises(HclError, match=r"broken\.tf"):
        load_directory(infra_copy / "terraform")


def test_every_variable_has_a_description_and_numbers_are_validated() -> None:
    config = load_directory(TF)
    variables = list(config.of_kind("variable"))
    assert len(variables) >= 20
    for var in variables:
        assert str(var.body["description"]).strip(), var.address
        if var.body.get("type") in ("number", "${number}"):
            assert var.body.get("validation"), var.address


FN_ATTR = "local.manifest_functions[each.value.artifact]"
DEPLOY_BUCKET = 'to   = yandex_storage_bucket.this["deploy"]'

# Per file of a copy of the module: a snippet, what replaces it, and the rule that must then fire.
BREAKS: dict[str, list[tuple[str, str, str]]] = {
    "variables.tf": [
        ('description = "Memory of the train function', 'xdescription = "Memory', "variable-description"),
        (
            "  validation {\n    condition     = var.async_retries",
            "  xvalidation {\n    condition     = var.async_retries",
            "variable-validation",
        ),
        (
            'variable "labels" {',
            'variable "db_password" {\n  description = "x"\n  type = string\n  default = "hunter2"\n}\n\n'
            'variable "labels" {',
            "secret-default",
        ),
        (
            'default     = "plastinka"',
            'default     = "t1.9euelZqXjZrNyM-XkZKaypDHx5CZmu3rnpWajJaWmZLGi8aQno2Ji5aZ"',
            "secret-default",
        ),
        ("  default     = 600\n", "  default     = 900\n", "function-timeout"),
    ],
    "versions.tf": [
        ('version = ">= 0.221.0, < 1.0.0"', "", "provider-pinned"),
        ('version = ">= 0.221.0, < 1.0.0"', 'version = ">= 0.140.0, < 1.0.0"', "provider-floor"),
    ],
    "functions.tf": [
        (f"runtime            = {FN_ATTR}.runtime", 'runtime            = "python311"', "function-runtime"),
        (f"entrypoint         = {FN_ATTR}.entrypoint", 'entrypoint         = "main.handler"', "function-entrypoint"),
        (f"condition     = {FN_ATTR}.runtime == local.expected_runtime", "condition     = true", "function-runtime"),
        (
            f"condition     = {FN_ATTR}.entrypoint == local.expected_entrypoint",
            "condition     = true",
            "function-entrypoint",
        ),
        (f"user_hash          = {FN_ATTR}.sha256", 'user_hash          = "v1"', "function-user-hash"),
        (f"sha_256     = {FN_ATTR}.sha256", 'sha_256     = "abc"', "function-package"),
        ("  package {\n", '  content {\n    zip_filename = "f.zip"\n  }\n  package {\n', "function-package"),
        ("memory             = each.value.memory_mb", "memory             = 128", "function-sizing"),
        ("retries_count      = var.async_retries\n", "", "function-async"),
        (
            "PLASTINKA_S3_REGION       = local.storage_region",
            'PLASTINKA_S3_REGION       = local.storage_region\n    PLASTINKA_SECRET_KEY      = "abc"',
            "environment-secret",
        ),
        (
            "PLASTINKA_S3_REGION       = local.storage_region",
            "PLASTINKA_S3_REGION       = local.storage_region\n"
            '    PLASTINKA_WEBHOOK         = "q8Zr2LkT9vXw4mNp7sYb3cHf6jDg1aEu5oRi0tUy"',
            "environment-secret",
        ),
        (
            'id                   = yandex_lockbox_secret.this["functions_storage"].id',
            'id                   = "e6q0000000000000000"',
            "function-secrets",
        ),
        ("|| var.long_lived_functions", "|| true", "function-timeout"),
        # the provider's own old example spelt it this way; the schema has service_account_id
        (
            "    service_account_id = yandex_iam_service_account.api.id",
            "    services_account_id = x",
            "provider-schema",
        ),
        (f"sha_256     = {FN_ATTR}.sha256", f"sha256      = {FN_ATTR}.sha256", "provider-schema"),
    ],
    "storage.tf": [
        ('sse_algorithm     = "aws:kms"', 'sse_algorithm     = "AES256"', "bucket-sse"),
        ("    read        = false\n", "    read        = true\n", "bucket-public"),
        ('acl       = "private"', 'acl       = "public-read"', "bucket-public"),
        ("abort_incomplete_multipart_upload_days = var.multipart_abort_days", "", "bucket-lifecycle"),
        ('prefix          = "jobs/"', 'prefix          = "tmp/"', "bucket-lifecycle"),
        ('prefix          = "_uploads/"', 'prefix          = "staging/"', "bucket-lifecycle"),
        ("expiration_days = null", "expiration_days = 30", "bucket-keeps-models"),
        ("noncurrent_days = var.noncurrent_version_retention_days", "noncurrent_days = null", "bucket-lifecycle"),
        ('role    = "storage.uploader"', 'role    = "storage.admin"', "iam-scope"),
        (
            'members = ["serviceAccount:${yandex_iam_service_account.api.id}"]',
            'members = ["system:allUsers"]',
            "iam-public",
        ),
        ("    config_read = false\n  }\n\n  server", "    config_reed = false\n  }\n\n  server", "provider-schema"),
    ],
    "api.tf": [
        (
            "container_id = yandex_serverless_container.api[0].id\n"
            '  role         = "serverless.containers.invoker"\n  member       = "system:allUsers"',
            "container_id = yandex_serverless_container.engine[0].id\n"
            '  role         = "serverless.containers.invoker"\n  member       = "system:allUsers"',
            "iam-public",
        ),
        ("      environment_variable = secrets.key", "      env_var = secrets.key", "provider-schema"),
    ],
    "postgres.tf": [("    assign_public_ip = false", "    public_ip = false", "provider-schema")],
    "kms.tf": [('resource "yandex_kms_symmetric_key"', 'resource "yandex_kms_secret_key"', "provider-schema")],
    "moved.tf": [
        (DEPLOY_BUCKET, 'to   = yandex_storage_bucket.this["zips"]', "moved"),
        (DEPLOY_BUCKET, "to   = yandex_storage_bucket.zips", "moved"),
        (DEPLOY_BUCKET, "to   = yandex_storage_bucket.this", "moved"),
        (DEPLOY_BUCKET, 'to   = yandex_lockbox_secret.this["callback"]', "moved"),
        ("from = yandex_storage_bucket.deploy", "from = yandex_kms_symmetric_key.storage", "moved"),
        ("from = yandex_storage_bucket.deploy", "from = yandex_storage_bucket.data", "moved"),
    ],
}


@pytest.mark.parametrize(
    ("file", "old", "new", "rule"), [(file, *case) for file, cases in BREAKS.items() for case in cases]
)
def test_each_rule_fires_on_a_broken_copy(
    infra_copy: Path, edit: Edit, file: str, old: str, new: str, rule: str
) -> None:
    edit(infra_copy / "terraform" / file, old, new)
    assert rule in rules(infra_copy)


def test_folder_wide_roles_and_a_missing_invoker_are_findings(infra_copy: Path, edit: Edit) -> None:
    iam = infra_copy / "terraform" / "iam.tf"
    edit(iam, 'role        = "functions.functionInvoker"', 'role        = "functions.functionViewer"')
    iam.write_text(
        iam.read_text(encoding="utf-8") + '\nresource "yandex_resourcemanager_folder_iam_member" "wide" {\n'
        '  folder_id = var.folder_id\n  role = "storage.editor"\n  member = "serviceAccount:x"\n}\n',
        encoding="utf-8",
    )
    assert {"iam-scope", "iam-invoker"} <= rules(infra_copy)


def test_a_checkov_skip_needs_a_reason(infra_copy: Path, edit: Edit) -> None:
    kms = infra_copy / "terraform" / "kms.tf"
    edit(kms, '  name                = "${var.name_prefix}-storage"', '  #checkov:skip=CKV_YC_9\n  name = "k"')
    assert "checkov-skip-reason" in rules(infra_copy)
    edit(kms, "#checkov:skip=CKV_YC_9", "#checkov:skip=CKV_YC_9:rotation is driven by var.kms_rotation_period")
    assert "checkov-skip-reason" not in rules(infra_copy)
