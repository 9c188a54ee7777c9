terraform {
  required_version = ">= 1.6.0"

  required_providers {
    yandex = {
      source = "yandex-cloud/yandex"
      # The floor is the first release with every resource and argument used here: yandex_function_iam_member
      # appeared in 0.221.0 (output_to_lockbox on keys and generate_password on PostgreSQL users are older). The
      # upper bound keeps a 1.0 schema break out of an unattended `terraform init -upgrade`.
      version = ">= 0.221.0, < 1.0.0"
    }
  }
}

provider "yandex" {
  cloud_id  = var.cloud_id
  folder_id = var.folder_id
  zone      = var.zone
  # Credentials come from the environment (YC_TOKEN or YC_SERVICE_ACCOUNT_KEY_FILE), never from a variable.
}
