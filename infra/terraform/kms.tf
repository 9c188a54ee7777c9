# One symmetric key encrypts both buckets (SSE-KMS) and the Lockbox secrets. Only the service accounts that
# read or write those objects or secrets get encrypterDecrypter on it (iam.tf), nobody else.
resource "yandex_kms_symmetric_key" "storage" {
  name                = "${var.name_prefix}-storage"
  description         = "SSE-KMS key of the Plastinka buckets and Lockbox secrets."
  default_algorithm   = "AES_256"
  rotation_period     = var.kms_rotation_period
  deletion_protection = var.deletion_protection
  labels              = var.labels

  lifecycle {
    # Destroying the key makes every object encrypted with it unreadable.
    prevent_destroy = true
  }
}
