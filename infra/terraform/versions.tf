terraform {
  required_version = ">= 1.6.0"

  required_providers {
    yandex = {
      source = "yandex-cloud/yandex"
      # output_to_lockbox on keys, generate_password on PostgreSQL users and the function IAM members need a
      # recent provider; the upper bound keeps a 1.0 schema break out of an unattended `terraform init -upgrade`.
      version = ">= 0.140.0, < 1.0.0"
    }
  }
}

provider "yandex" {
  cloud_id  = var.cloud_id
  folder_id = var.folder_id
  zone      = var.zone
  # Credentials come from the environment (YC_TOKEN or YC_SERVICE_ACCOUNT_KEY_FILE), never from a variable.
}
