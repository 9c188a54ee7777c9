# Everything the API needs to run against this deployment. The names follow the API's PLASTINKA_* settings.

output "train_function_id" {
  description = "PLASTINKA_YANDEX_TRAIN_FUNCTION_ID."
  value       = yandex_function.this["train"].id
}

output "predict_function_id" {
  description = "PLASTINKA_YANDEX_PREDICT_FUNCTION_ID."
  value       = yandex_function.this["predict"].id
}

output "function_versions" {
  description = "Deployed version id per function (the $latest tag points at it)."
  value       = { for k, f in yandex_function.this : k => f.version }
}

output "data_bucket" {
  description = "PLASTINKA_S3_BUCKET: datasets/, models/ and jobs/ live here."
  value       = yandex_storage_bucket.this["data"].bucket
}

output "deploy_bucket" {
  description = "Bucket holding the function zips."
  value       = yandex_storage_bucket.this["deploy"].bucket
}

output "storage_endpoint" {
  description = "PLASTINKA_S3_ENDPOINT_URL."
  value       = local.storage_endpoint
}

output "storage_region" {
  description = "PLASTINKA_S3_REGION."
  value       = local.storage_region
}

output "api_service_account_id" {
  description = "Service account the API runs as (invokes the functions, owns the data bucket's editor role)."
  value       = yandex_iam_service_account.api.id
}

output "functions_service_account_id" {
  description = "Service account the functions run as."
  value       = yandex_iam_service_account.functions.id
}

output "api_sa_key" {
  description = "Where the API's authorized key lives: key id plus the Lockbox secret/entry holding its private part. Assemble PLASTINKA_YANDEX_SA_KEY_FILE from these (infra/README.md)."
  value = {
    key_id             = yandex_iam_service_account_key.api.id
    service_account_id = yandex_iam_service_account.api.id
    lockbox_secret_id  = yandex_lockbox_secret.this["api_sa_key"].id
    lockbox_version_id = yandex_iam_service_account_key.api.output_to_lockbox_version_id
    lockbox_entry      = local.sa_private_key
  }
}

output "api_storage_key" {
  description = "Lockbox secret holding the API's S3 static key (PLASTINKA_S3_ACCESS_KEY_ID / PLASTINKA_S3_SECRET_ACCESS_KEY)."
  value = {
    lockbox_secret_id  = yandex_lockbox_secret.this["api_storage"].id
    lockbox_version_id = yandex_iam_service_account_static_access_key.storage["api"].output_to_lockbox_version_id
    access_key_entry   = local.access_key_entry
    secret_key_entry   = local.secret_key_entry
  }
}

output "callback_secret" {
  description = "Lockbox secret holding PLASTINKA_SECRET_KEY (the API's callback and URL signing key)."
  value = {
    lockbox_secret_id  = yandex_lockbox_secret.this["callback"].id
    lockbox_version_id = data.yandex_lockbox_secret.callback.current_version[0].id
    entry              = local.callback_secret_key
  }
}

output "postgres" {
  description = "Managed PostgreSQL connection facts (null when postgres_enabled is false); the password is in Lockbox via Connection Manager."
  value = var.postgres_enabled ? {
    host               = "c-${yandex_mdb_postgresql_cluster.db[0].id}.rw.mdb.yandexcloud.net"
    port               = 6432
    database           = yandex_mdb_postgresql_database.api[0].name
    user               = yandex_mdb_postgresql_user.api[0].name
    connection_manager = yandex_mdb_postgresql_user.api[0].connection_manager
  } : null
}

output "registry_id" {
  description = "Container Registry the API image is pushed to: cr.yandex/<registry_id>/<api_image_name>:<tag>."
  value       = yandex_container_registry.api.id
}

output "api_url" {
  description = "Public URL of the hosted API container (null when api_hosting_enabled is false); set api_public_url to it or to your domain."
  value       = var.api_hosting_enabled ? yandex_serverless_container.api[0].url : null
}

output "engine_container_id" {
  description = "The private container the engine timer invokes (null when api_hosting_enabled is false)."
  value       = var.api_hosting_enabled ? yandex_serverless_container.engine[0].id : null
}
