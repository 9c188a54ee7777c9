# Where resources that now share one for_each block used to live, so that a deployment made before plans no
# destroy/create: Terraform moves each object in the state to its keyed address on the next plan. Keep these
# blocks while any deployment may still hold the old addresses; removing one is safe only after every state
# has been applied with it.

moved {
  from = yandex_storage_bucket.data
  to   = yandex_storage_bucket.this["data"]
}

moved {
  from = yandex_storage_bucket.deploy
  to   = yandex_storage_bucket.this["deploy"]
}

moved {
  from = yandex_lockbox_secret.callback
  to   = yandex_lockbox_secret.this["callback"]
}

moved {
  from = yandex_lockbox_secret.functions_storage
  to   = yandex_lockbox_secret.this["functions_storage"]
}

moved {
  from = yandex_lockbox_secret.api_storage
  to   = yandex_lockbox_secret.this["api_storage"]
}

moved {
  from = yandex_lockbox_secret.api_sa_key
  to   = yandex_lockbox_secret.this["api_sa_key"]
}

moved {
  from = yandex_kms_symmetric_key_iam_member.api_crypto
  to   = yandex_kms_symmetric_key_iam_member.crypto["api"]
}

moved {
  from = yandex_kms_symmetric_key_iam_member.functions_crypto
  to   = yandex_kms_symmetric_key_iam_member.crypto["functions"]
}

moved {
  from = yandex_iam_service_account_static_access_key.api
  to   = yandex_iam_service_account_static_access_key.storage["api"]
}

moved {
  from = yandex_iam_service_account_static_access_key.functions
  to   = yandex_iam_service_account_static_access_key.storage["functions"]
}
