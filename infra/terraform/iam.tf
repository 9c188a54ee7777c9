# Two service accounts, each with roles bound on single resources, none folder-wide:
# - api: invokes the two functions, reads and writes the data bucket, reads its own Lockbox secrets;
# - functions: the identity the functions run as: the data bucket and its own Lockbox secrets only.

resource "yandex_iam_service_account" "api" {
  name        = "${var.name_prefix}-api"
  description = "Plastinka API: invokes the train/predict functions, reads and writes the data bucket."
  folder_id   = var.folder_id
}

resource "yandex_iam_service_account" "functions" {
  name        = "${var.name_prefix}-functions"
  description = "Plastinka train/predict functions: the data bucket and their own secrets only."
  folder_id   = var.folder_id
}

# Both accounts by name, for the grants and keys each of them gets alike.
locals {
  service_account_ids = {
    api       = yandex_iam_service_account.api.id
    functions = yandex_iam_service_account.functions.id
  }
}

# --- function invocation: the API only, on these two functions only ---
resource "yandex_function_iam_member" "api_invoker" {
  for_each = yandex_function.this

  function_id = each.value.id
  role        = "functions.functionInvoker"
  member      = "serviceAccount:${yandex_iam_service_account.api.id}"
}

# The API's invoker resolves each call with FunctionService.Get (http_invoke_url) and GetVersionByTag.
# functions.viewer is the documented least role for both: functions.auditor is documented to exclude a
# version's code and environment, and GetVersionByTag returns the version with its environment (plain
# settings only; the secrets come from Lockbox).
resource "yandex_function_iam_member" "api_resolver" {
  for_each = yandex_function.this

  function_id = each.value.id
  role        = "functions.viewer"
  member      = "serviceAccount:${yandex_iam_service_account.api.id}"
}

# --- KMS: both accounts read or write SSE-KMS objects and KMS-encrypted Lockbox secrets ---
resource "yandex_kms_symmetric_key_iam_member" "crypto" {
  for_each = local.service_account_ids

  symmetric_key_id = yandex_kms_symmetric_key.storage.id
  role             = "kms.keys.encrypterDecrypter"
  member           = "serviceAccount:${each.value}"
}

# --- keys; every private part goes straight into Lockbox, never into the Terraform state ---

# S3 static keys: the storage client (aioboto3) signs requests with them. Each account's goes to its own
# "<account>_storage" secret; the description is the key's (changing it replaces the key).
locals {
  static_key_descriptions = {
    api       = "Plastinka API: S3 access to the data bucket."
    functions = "Plastinka functions: S3 access to the data bucket."
  }
}

resource "yandex_iam_service_account_static_access_key" "storage" {
  for_each = local.static_key_descriptions

  service_account_id = local.service_account_ids[each.key]
  description        = each.value
  output_to_lockbox {
    secret_id            = yandex_lockbox_secret.this["${each.key}_storage"].id
    entry_for_access_key = local.access_key_entry
    entry_for_secret_key = local.secret_key_entry
  }
}

# Authorized key: the API's yandexcloud SDK exchanges it for IAM tokens to invoke the functions.
resource "yandex_iam_service_account_key" "api" {
  service_account_id = yandex_iam_service_account.api.id
  description        = "Plastinka API: IAM tokens for invoking the functions."
  key_algorithm      = "RSA_4096"
  output_to_lockbox {
    secret_id             = yandex_lockbox_secret.this["api_sa_key"].id
    entry_for_private_key = local.sa_private_key
  }
}
