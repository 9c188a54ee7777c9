# The train and predict functions, created from the zips the build wrote and Terraform uploaded (storage.tf).
# Runtime, entrypoint and the zip's sha256 come from the build manifest; the preconditions stop an apply
# whose manifest breaks the conventions the handlers are built for.
resource "yandex_function" "this" {
  for_each = local.functions

  name               = "${var.name_prefix}-${each.key}"
  description        = "Plastinka ${each.key} function (${local.manifest_functions[each.value.artifact].zip})."
  folder_id          = var.folder_id
  labels             = var.labels
  user_hash          = local.manifest_functions[each.value.artifact].sha256
  runtime            = local.manifest_functions[each.value.artifact].runtime
  entrypoint         = local.manifest_functions[each.value.artifact].entrypoint
  memory             = each.value.memory_mb
  execution_timeout  = tostring(each.value.timeout_s)
  concurrency        = var.function_concurrency
  service_account_id = yandex_iam_service_account.functions.id

  package {
    bucket_name = yandex_storage_object.function_zip[each.key].bucket
    object_name = yandex_storage_object.function_zip[each.key].key
    sha_256     = local.manifest_functions[each.value.artifact].sha256
  }

  # Plain settings only; every secret below comes from Lockbox. The callback signing key is not among them:
  # the API signs and verifies the per-job token, the functions only carry it, so a leaked function
  # environment cannot forge another job's callback.
  environment = {
    PLASTINKA_STORAGE_BACKEND = "s3"
    PLASTINKA_S3_BUCKET       = yandex_storage_bucket.this["data"].bucket
    PLASTINKA_S3_ENDPOINT_URL = local.storage_endpoint
    PLASTINKA_S3_REGION       = local.storage_region
  }

  secrets {
    id                   = yandex_lockbox_secret.this["functions_storage"].id
    version_id           = yandex_iam_service_account_static_access_key.storage["functions"].output_to_lockbox_version_id
    key                  = local.access_key_entry
    environment_variable = "PLASTINKA_S3_ACCESS_KEY_ID"
  }

  secrets {
    id                   = yandex_lockbox_secret.this["functions_storage"].id
    version_id           = yandex_iam_service_account_static_access_key.storage["functions"].output_to_lockbox_version_id
    key                  = local.secret_key_entry
    environment_variable = "PLASTINKA_S3_SECRET_ACCESS_KEY"
  }

  # The platform retries a failed asynchronous run; the API's sweeper retries on top of that with backoff.
  # The invoking account is the API's, which already holds functionInvoker on exactly these functions.
  async_invocation {
    retries_count      = var.async_retries
    service_account_id = yandex_iam_service_account.api.id
  }

  lifecycle {
    precondition {
      condition     = each.value.timeout_s <= local.short_timeout_s || var.long_lived_functions
      error_message = "${each.key}: execution_timeout over ${local.short_timeout_s} s is the long-lived functions preview; ask support for access, then set long_lived_functions = true."
    }
    precondition {
      condition     = contains(keys(local.manifest_functions), each.value.artifact)
      error_message = "The build manifest has no '${each.value.artifact}' entry: run `hatch run build:functions`."
    }
    precondition {
      condition     = local.manifest_functions[each.value.artifact].runtime == local.expected_runtime
      error_message = "The ${each.value.artifact} zip was built for another runtime than ${local.expected_runtime}."
    }
    precondition {
      condition     = local.manifest_functions[each.value.artifact].entrypoint == local.expected_entrypoint
      error_message = "The ${each.value.artifact} zip's entrypoint is not ${local.expected_entrypoint}."
    }
    precondition {
      condition     = try(local.manifest_functions[each.value.artifact].vendored, false) == true
      error_message = "The ${each.value.artifact} zip does not carry its dependencies: build it with `hatch run build:functions` (not --source-only)."
    }
    precondition {
      condition     = can(regex("^[0-9a-f]{64}$", local.manifest_functions[each.value.artifact].sha256))
      error_message = "The ${each.value.artifact} manifest entry has no valid sha256."
    }
  }

  depends_on = [
    yandex_lockbox_secret_iam_member.payload_viewer,
    yandex_storage_bucket_iam_binding.deploy_viewer,
    yandex_kms_symmetric_key_iam_member.crypto,
  ]
}
