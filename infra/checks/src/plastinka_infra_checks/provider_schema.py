"""The argument names of the yandex provider resources this module uses, recorded from the provider's docs.

No provider binary can be downloaded here, so ``terraform validate`` cannot run; this table lets the checks
catch a misspelt argument or block (``services_account_id``, ``sha256`` for ``sha_256``) all the same. A new
resource type must be recorded here before the checks accept it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "lifecycle", "provider"})


@dataclass(frozen=True)
class Schema:
    """Arguments of a resource or nested block, and its nested blocks by name."""

    args: frozenset[str]
    blocks: dict[str, Schema] = field(default_factory=dict)


def _s(args: str, **blocks: Schema) -> Schema:
    return Schema(frozenset(args.split()), dict(blocks))


_TIMEOUTS = _s("create read update delete")
_IAM_MEMBER = "member role sleep_after"
_YMQ_TARGET = _s("arn service_account_id")
_SG_RULE = _s(
    "protocol description labels from_port to_port port v4_cidr_blocks v6_cidr_blocks security_group_id"
    " predefined_target"
)
_LIFECYCLE_FILTER_AND = _s("object_size_greater_than object_size_less_than prefix tags")
# Blocks that yandex_function and yandex_serverless_container share (the same serverless runtime settings).
_SECRETS = _s("id version_id key environment_variable")
_CONNECTIVITY = _s("network_id")
_LOG_OPTIONS = _s("disabled folder_id log_group_id min_level")
_METADATA_OPTIONS = _s("aws_v1_http_endpoint gce_http_endpoint")
_EPHEMERAL_DISK = _s("size_gb block_size_kb")
_OBJECT_STORAGE = _s("bucket prefix")

RESOURCES: dict[str, Schema] = {
    "yandex_function": _s(
        "name folder_id description labels user_hash runtime entrypoint memory execution_timeout service_account_id"
        " environment tags tmpfs_size concurrency",
        secrets=_SECRETS,
        package=_s("sha_256 bucket_name object_name"),
        content=_s("zip_filename"),
        async_invocation=_s(
            "retries_count service_account_id", ymq_success_target=_YMQ_TARGET, ymq_failure_target=_YMQ_TARGET
        ),
        log_options=_LOG_OPTIONS,
        connectivity=_CONNECTIVITY,
        storage_mounts=_s("mount_point_name bucket prefix read_only"),
        mounts=_s("name mode", ephemeral_disk=_EPHEMERAL_DISK, object_storage=_OBJECT_STORAGE),
        metadata_options=_METADATA_OPTIONS,
        timeouts=_TIMEOUTS,
    ),
    "yandex_function_iam_member": _s(f"function_id {_IAM_MEMBER}"),
    "yandex_storage_bucket": _s(
        "bucket bucket_prefix access_key secret_key acl force_destroy policy max_size folder_id default_storage_class"
        " tags",
        grant=_s("id type permissions uri"),
        website=_s("index_document error_document redirect_all_requests_to routing_rules"),
        cors_rule=_s("allowed_headers allowed_methods allowed_origins expose_headers max_age_seconds"),
        versioning=_s("enabled"),
        object_lock_configuration=_s("object_lock_enabled", rule=_s("", default_retention=_s("mode days years"))),
        logging=_s("target_bucket target_prefix"),
        lifecycle_rule=_s(
            "id prefix enabled abort_incomplete_multipart_upload_days",
            filter=_s(
                "object_size_greater_than object_size_less_than prefix",
                tag=_s("key value"),
                **{"and": _LIFECYCLE_FILTER_AND},
            ),
            expiration=_s("date days expired_object_delete_marker"),
            transition=_s("date days storage_class"),
            noncurrent_version_expiration=_s("days"),
            noncurrent_version_transition=_s("days storage_class"),
        ),
        server_side_encryption_configuration=_s(
            "", rule=_s("", apply_server_side_encryption_by_default=_s("kms_master_key_id sse_algorithm"))
        ),
        anonymous_access_flags=_s("read list config_read"),
        https=_s("certificate_id"),
    ),
    "yandex_storage_object": _s(
        "bucket key source source_hash content content_base64 content_type access_key secret_key acl tags"
        " object_lock_legal_hold_status object_lock_mode object_lock_retain_until_date"
    ),
    "yandex_storage_bucket_iam_binding": _s("bucket role members"),
    "yandex_kms_symmetric_key": _s(
        "name description folder_id labels default_algorithm rotation_period deletion_protection",
        timeouts=_TIMEOUTS,
    ),
    "yandex_kms_symmetric_key_iam_member": _s(f"symmetric_key_id {_IAM_MEMBER}"),
    "yandex_iam_service_account": _s("name description folder_id labels"),
    "yandex_iam_service_account_static_access_key": _s(
        "service_account_id description pgp_key",
        output_to_lockbox=_s("secret_id entry_for_access_key entry_for_secret_key"),
    ),
    "yandex_iam_service_account_key": _s(
        "service_account_id description format key_algorithm pgp_key",
        output_to_lockbox=_s("secret_id entry_for_private_key"),
    ),
    "yandex_lockbox_secret": _s(
        "name description folder_id kms_key_id labels deletion_protection",
        password_payload_specification=_s(
            "password_key length include_uppercase include_lowercase include_digits include_punctuation"
            " included_punctuation excluded_punctuation"
        ),
    ),
    "yandex_lockbox_secret_iam_member": _s(f"secret_id {_IAM_MEMBER}"),
    "yandex_vpc_network": _s("name description folder_id labels"),
    "yandex_vpc_subnet": _s(
        "name description folder_id labels zone network_id v4_cidr_blocks route_table_id",
        dhcp_options=_s("domain_name domain_name_servers ntp_servers"),
    ),
    "yandex_vpc_security_group": _s(
        "name description folder_id labels network_id", ingress=_SG_RULE, egress=_SG_RULE, timeouts=_TIMEOUTS
    ),
    "yandex_mdb_postgresql_cluster": _s(
        "name environment network_id description folder_id labels deletion_protection security_group_ids"
        " host_group_ids disk_encryption_key_id",
        config=_s(
            "version autofailover backup_retain_period_days postgresql_config",
            resources=_s("resource_preset_id disk_size disk_type_id"),
            access=_s("data_lens data_transfer serverless web_sql"),
            backup_window_start=_s("hours minutes"),
            disk_size_autoscaling=_s("disk_size_limit emergency_usage_threshold planned_usage_threshold"),
            performance_diagnostics=_s("enabled sessions_sampling_interval statements_sampling_interval"),
            pooler_config=_s("pool_discard pooling_mode"),
        ),
        host=_s("zone assign_public_ip name replication_source_name subnet_id"),
        maintenance_window=_s("type day hour"),
        restore=_s("backup_id time time_inclusive"),
        timeouts=_TIMEOUTS,
    ),
    "yandex_mdb_postgresql_user": _s(
        "cluster_id name password generate_password auth_method conn_limit deletion_protection grants login"
        " settings user_password_encryption",
        permission=_s("database_name"),
        timeouts=_TIMEOUTS,
    ),
    "yandex_mdb_postgresql_database": _s(
        "cluster_id name owner lc_collate lc_type template_db deletion_protection",
        extension=_s("name version"),
        timeouts=_TIMEOUTS,
    ),
    "yandex_container_registry": _s("name folder_id labels registry_id", timeouts=_TIMEOUTS),
    "yandex_container_registry_iam_binding": _s("registry_id role members sleep_after"),
    "yandex_serverless_container": _s(
        "name description folder_id labels memory cores core_fraction concurrency execution_timeout service_account_id",
        image=_s("url digest command args environment work_dir"),
        secrets=_SECRETS,
        connectivity=_CONNECTIVITY,
        provision_policy=_s("min_instances"),
        runtime=_s("type"),
        async_invocation=_s("service_account_id"),
        log_options=_LOG_OPTIONS,
        metadata_options=_METADATA_OPTIONS,
        mounts=_s("mode mount_point_path", ephemeral_disk=_EPHEMERAL_DISK, object_storage=_OBJECT_STORAGE),
        storage_mounts=_s("bucket mount_point_path prefix read_only"),
        timeouts=_TIMEOUTS,
    ),
    "yandex_serverless_container_iam_member": _s(f"container_id {_IAM_MEMBER}"),
    "yandex_function_trigger": _s(
        "name description folder_id labels",
        timer=_s("cron_expression payload"),
        container=_s("id path retry_attempts retry_interval service_account_id"),
        function=_s("id tag retry_attempts retry_interval service_account_id"),
        dlq=_s("queue_id service_account_id"),
        timeouts=_TIMEOUTS,
    ),
}

DATA_SOURCES: dict[str, Schema] = {
    "yandex_connectionmanager_connection": _s("connection_id folder_id name description labels id"),
    "yandex_lockbox_secret": _s("secret_id name folder_id"),
    "yandex_lockbox_secret_version": _s("secret_id version_id"),
}


# The provider release that first shipped a resource type, from the provider's CHANGELOG.md, where it is later
# than the oldest release anyone still runs. versions.tf's floor must be at least the latest of these in use.
FIRST_RELEASE: dict[str, tuple[int, int, int]] = {
    "yandex_function_iam_member": (0, 221, 0),
    "yandex_serverless_container_iam_member": (0, 221, 0),
    "yandex_serverless_container": (0, 69, 0),
    "yandex_container_repository": (0, 52, 0),
    "yandex_function_trigger": (0, 34, 0),
    "yandex_container_registry_iam_binding": (0, 50, 0),
}


def unknown_arguments(schema: Schema, body: dict[str, object], path: str = "") -> list[str]:
    """Dotted paths of every argument or block in ``body`` that ``schema`` does not know."""
    found: list[str] = []
    for key, value in body.items():
        where = f"{path}{key}"
        if key == "dynamic":  # dynamic "<block>" { for_each = ...  content { ... } }: check the content
            for item in value if isinstance(value, list) else [value]:
                for name, spec in (item or {}).items() if isinstance(item, dict) else []:
                    if name not in schema.blocks:
                        found.append(f"{where}.{name}")
                        continue
                    contents = spec.get("content", []) if isinstance(spec, dict) else []
                    for content in contents if isinstance(contents, list) else [contents]:
                        if isinstance(content, dict):
                            found.extend(unknown_arguments(schema.blocks[name], content, f"{where}.{name}."))
            continue
        if key in schema.blocks:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict):
                    found.extend(unknown_arguments(schema.blocks[key], item, f"{where}."))
        elif key not in schema.args and not (path == "" and key in META_ARGUMENTS):
            found.append(where)
    return found
