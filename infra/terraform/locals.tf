locals {
  # The build manifest is the single source of truth for what gets deployed: zip name, sha256, entrypoint and
  # runtime. Terraform checks the conventions below (see the preconditions in functions.tf) instead of
  # repeating them.
  manifest           = jsondecode(file(var.functions_manifest_path))
  manifest_dir       = dirname(var.functions_manifest_path)
  manifest_functions = { for f in local.manifest.functions : f.name => f }

  expected_runtime    = "python312"
  expected_entrypoint = "index.handler"

  # The longest execution_timeout of a generally available function; past it the function is long-lived, a
  # preview feature enabled per cloud by support (var.long_lived_functions).
  short_timeout_s = 600

  functions = {
    train = {
      artifact  = "train-function"
      memory_mb = var.train_memory_mb
      timeout_s = var.train_timeout_s
    }
    predict = {
      artifact  = "predict-function"
      memory_mb = var.predict_memory_mb
      timeout_s = var.predict_timeout_s
    }
  }

  # Bucket names are global across Yandex Cloud: the folder id makes them unique per deployment.
  data_bucket_name   = "${var.name_prefix}-data-${var.folder_id}"
  deploy_bucket_name = "${var.name_prefix}-deploy-${var.folder_id}"

  storage_endpoint = "https://storage.yandexcloud.net"
  storage_region   = "ru-central1"

  # Lockbox entry keys, shared by the function secrets blocks and the outputs the API operator reads.
  callback_secret_key = "secret_key"
  access_key_entry    = "access_key_id"
  secret_key_entry    = "secret_access_key"
  sa_private_key      = "private_key"
}
