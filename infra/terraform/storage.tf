# Two buckets, both private and SSE-KMS encrypted:
# - data: the API's object store. Keys are built by plastinka-storage: datasets/<sha256>/..., models/<id>/...,
#   jobs/<job_id>/attempt-<n>/... One bucket, because the API and the functions address it through one
#   PLASTINKA_S3_BUCKET setting; the lifecycle rules below are scoped by those key prefixes instead.
# - deploy: the function zips, content-addressed (<prefix><sha256>/<zip>), so a new build never overwrites the
#   object a live function version was created from.

locals {
  # Per bucket: its name, whether it keeps object versions, and its own lifecycle rules (both buckets also abort
  # incomplete multipart uploads, the last rule of each). A rule expires current objects after expiration_days
  # and noncurrent versions after noncurrent_days; null leaves that part out.
  buckets = {
    data = {
      name = local.data_bucket_name
      # Versioning protects datasets and models from an accidental overwrite or delete; old versions expire below.
      versioning = true
      lifecycle_rules = [
        # Attempts write everything under jobs/<job>/attempt-<n>/. A model outlives this rule only once the API
        # promotes it to models/<id>/; set scratch_retention_days = 0 while anything else there must be kept.
        {
          id              = "expire-job-scratch"
          enabled         = var.scratch_retention_days > 0
          prefix          = "jobs/"
          expiration_days = max(var.scratch_retention_days, 1)
          noncurrent_days = 1
        },
        # plastinka-storage streams an upload whose sha256 is not known yet to _uploads/<uuid>, then copies it to
        # its content-addressed key and deletes the staging object; what a crashed upload leaves there expires.
        {
          id              = "expire-upload-staging"
          enabled         = true
          prefix          = "_uploads/"
          expiration_days = var.upload_staging_retention_days
          noncurrent_days = null
        },
        {
          id              = "expire-noncurrent-versions"
          enabled         = true
          prefix          = ""
          expiration_days = null
          noncurrent_days = var.noncurrent_version_retention_days
        },
        # models/ and datasets/ have no expiration rule on purpose: a model is kept until an admin deletes it.
      ]
    }
    deploy = {
      name = local.deploy_bucket_name
      # No versioning: zip keys are content-addressed, so an object is never overwritten with other bytes.
      versioning      = null
      lifecycle_rules = []
    }
  }
}

resource "yandex_storage_bucket" "this" {
  for_each = local.buckets

  bucket    = each.value.name
  folder_id = var.folder_id
  acl       = "private"
  tags      = var.labels

  anonymous_access_flags {
    read        = false
    list        = false
    config_read = false
  }

  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        kms_master_key_id = yandex_kms_symmetric_key.storage.id
        sse_algorithm     = "aws:kms"
      }
    }
  }

  dynamic "versioning" {
    for_each = each.value.versioning[*]
    content {
      enabled = versioning.value
    }
  }

  dynamic "lifecycle_rule" {
    for_each = each.value.lifecycle_rules
    content {
      id      = lifecycle_rule.value.id
      enabled = lifecycle_rule.value.enabled
      filter {
        prefix = lifecycle_rule.value.prefix
      }
      dynamic "expiration" {
        for_each = lifecycle_rule.value.expiration_days[*]
        content {
          days = expiration.value
        }
      }
      dynamic "noncurrent_version_expiration" {
        for_each = lifecycle_rule.value.noncurrent_days[*]
        content {
          days = noncurrent_version_expiration.value
        }
      }
    }
  }

  lifecycle_rule {
    id                                     = "abort-incomplete-multipart"
    enabled                                = true
    abort_incomplete_multipart_upload_days = var.multipart_abort_days
    filter {
      prefix = ""
    }
  }

  # The data bucket holds every dataset and model, the deploy bucket the zips live function versions were made
  # from; a lifecycle block is one per resource, so both are kept from an accidental destroy.
  lifecycle {
    prevent_destroy = true
  }
}

# The zips from the build, uploaded under their sha256. Terraform re-uploads only when the hash changes.
resource "yandex_storage_object" "function_zip" {
  for_each = local.functions

  bucket      = yandex_storage_bucket.this["deploy"].bucket
  key         = "${var.functions_object_prefix}${local.manifest_functions[each.value.artifact].sha256}/${local.manifest_functions[each.value.artifact].zip}"
  source      = "${local.manifest_dir}/${local.manifest_functions[each.value.artifact].zip}"
  source_hash = local.manifest_functions[each.value.artifact].sha256
  acl         = "private"
}

# Bucket-scoped roles (never folder-wide), each the smallest that does the job:
# - the API uploads datasets, reads everything and deletes what an admin deletes: storage.editor;
# - the functions read datasets and models and write their results and reports: storage.uploader (which
#   includes storage.viewer and cannot delete).
resource "yandex_storage_bucket_iam_binding" "data_editor" {
  bucket  = yandex_storage_bucket.this["data"].bucket
  role    = "storage.editor"
  members = ["serviceAccount:${yandex_iam_service_account.api.id}"]
}

# A function version is created from the zip in the deploy bucket: the functions' account reads it.
resource "yandex_storage_bucket_iam_binding" "deploy_viewer" {
  bucket  = yandex_storage_bucket.this["deploy"].bucket
  role    = "storage.viewer"
  members = ["serviceAccount:${yandex_iam_service_account.functions.id}"]
}

resource "yandex_storage_bucket_iam_binding" "data_uploader" {
  bucket  = yandex_storage_bucket.this["data"].bucket
  role    = "storage.uploader"
  members = ["serviceAccount:${yandex_iam_service_account.functions.id}"]
}
