# The API, hosted as Yandex Serverless Containers running the image from infra/docker/Dockerfile, pushed to the
# Container Registry below (infra/README.md, "Deploy"). Two containers from the same image:
# - api: public HTTP endpoint of the service. It serves requests only: a serverless container may be paused
#   between requests, so it runs no background loops (PLASTINKA_ENGINE_ENABLED=false);
# - engine: private, invoked once a minute by a timer trigger on POST /api/v1/internal/engine/tick, which runs the
#   dispatcher, sweeper and webhook passes for PLASTINKA_ENGINE_TICK_S. That route exists only in this container
#   (PLASTINKA_ENGINE_TICK_ENABLED), and the platform lets only the trigger's account invoke it.
# Both run as the API's service account: IAM tokens for the functions come from the metadata service, secrets
# from Lockbox, the job database is the managed PostgreSQL reached through the database network.

locals {
  api_count   = var.api_hosting_enabled ? 1 : 0
  api_image   = "cr.yandex/${yandex_container_registry.api.id}/${var.api_image_name}:${var.api_image_tag}"
  api_db_host = var.postgres_enabled ? "c-${yandex_mdb_postgresql_cluster.db[0].id}.rw.mdb.yandexcloud.net" : ""

  # Plain settings shared by both containers; every secret comes through the secrets blocks.
  api_environment = {
    PLASTINKA_HOST                        = "0.0.0.0"
    PLASTINKA_PORT                        = "8080" # the port a serverless container is sent requests on
    PLASTINKA_DATABASE_URL                = "postgresql+psycopg://plastinka@${local.api_db_host}:6432/plastinka?sslmode=require"
    PLASTINKA_STORAGE_BACKEND             = "s3"
    PLASTINKA_S3_BUCKET                   = yandex_storage_bucket.this["data"].bucket
    PLASTINKA_S3_ENDPOINT_URL             = local.storage_endpoint
    PLASTINKA_S3_REGION                   = local.storage_region
    PLASTINKA_INVOKER                     = "yandex"
    PLASTINKA_YANDEX_TRAIN_FUNCTION_ID    = yandex_function.this["train"].id
    PLASTINKA_YANDEX_PREDICT_FUNCTION_ID  = yandex_function.this["predict"].id
    PLASTINKA_YANDEX_FUNCTION_TAG         = var.function_tag
    PLASTINKA_YANDEX_METADATA_CREDENTIALS = "true"
    PLASTINKA_FUNCTION_TIMEOUT_S          = tostring(max(var.train_timeout_s, var.predict_timeout_s))
    PLASTINKA_SAMPLE_DATASET              = "false"
    PLASTINKA_ENGINE_ENABLED              = "false"
  }

  # Environment variable -> Lockbox secret, version and entry.
  api_secrets = {
    PLASTINKA_SECRET_KEY = {
      id      = yandex_lockbox_secret.this["callback"].id
      version = data.yandex_lockbox_secret.callback.current_version[0].id
      key     = local.callback_secret_key
    }
    PLASTINKA_S3_ACCESS_KEY_ID = {
      id      = yandex_lockbox_secret.this["api_storage"].id
      version = yandex_iam_service_account_static_access_key.storage["api"].output_to_lockbox_version_id
      key     = local.access_key_entry
    }
    PLASTINKA_S3_SECRET_ACCESS_KEY = {
      id      = yandex_lockbox_secret.this["api_storage"].id
      version = yandex_iam_service_account_static_access_key.storage["api"].output_to_lockbox_version_id
      key     = local.secret_key_entry
    }
    PLASTINKA_DATABASE_PASSWORD = {
      id      = one(data.yandex_connectionmanager_connection.db[*].lockbox_secret[0].id)
      version = one(data.yandex_connectionmanager_connection.db[*].lockbox_secret[0].version)
      key     = one(data.yandex_connectionmanager_connection.db[*].params[0].postgresql[0].auth[0].user_password[0].password[0].lockbox_secret_key)
    }
  }
}

resource "yandex_container_registry" "api" {
  name      = "${var.name_prefix}-registry"
  folder_id = var.folder_id
  labels    = var.labels
}

# The containers pull the image as the API's account.
resource "yandex_container_registry_iam_binding" "api_puller" {
  registry_id = yandex_container_registry.api.id
  role        = "container-registry.images.puller"
  members     = ["serviceAccount:${yandex_iam_service_account.api.id}"]
}

# Where Connection Manager keeps the database user's generated password.
data "yandex_connectionmanager_connection" "db" {
  count         = var.postgres_enabled ? 1 : 0
  connection_id = yandex_mdb_postgresql_user.api[0].user_connection_manager[0].connection_id
}

resource "yandex_serverless_container" "api" {
  count              = local.api_count
  name               = "${var.name_prefix}-api"
  description        = "Plastinka HTTP API (${var.api_image_tag})."
  folder_id          = var.folder_id
  labels             = var.labels
  memory             = var.api_memory_mb
  cores              = 1
  core_fraction      = 100
  concurrency        = var.api_concurrency
  execution_timeout  = "${var.api_request_timeout_s}s"
  service_account_id = yandex_iam_service_account.api.id

  image {
    url    = local.api_image
    digest = var.api_image_digest
    environment = merge(
      local.api_environment,
      var.api_public_url == null ? {} : { PLASTINKA_PUBLIC_URL = var.api_public_url },
    )
  }

  connectivity {
    network_id = local.postgres_network_id
  }

  dynamic "secrets" {
    for_each = local.api_secrets
    content {
      id                   = secrets.value.id
      version_id           = secrets.value.version
      key                  = secrets.value.key
      environment_variable = secrets.key
    }
  }

  provision_policy {
    min_instances = var.api_min_instances
  }

  lifecycle {
    precondition {
      condition     = var.postgres_enabled
      error_message = "api_hosting_enabled needs postgres_enabled: a serverless container keeps no SQLite file between instances."
    }
    precondition {
      condition     = var.api_image_tag != null
      error_message = "api_hosting_enabled needs api_image_tag: the tag of the image pushed to the registry (infra/README.md)."
    }
  }

  depends_on = [
    yandex_container_registry_iam_binding.api_puller,
    yandex_lockbox_secret_iam_member.payload_viewer,
    yandex_kms_symmetric_key_iam_member.crypto,
  ]
}

resource "yandex_serverless_container" "engine" {
  count              = local.api_count
  name               = "${var.name_prefix}-engine"
  description        = "Plastinka job engine: dispatcher and sweeper passes per timer tick (${var.api_image_tag})."
  folder_id          = var.folder_id
  labels             = var.labels
  memory             = var.api_memory_mb
  cores              = 1
  core_fraction      = 100
  concurrency        = 1
  execution_timeout  = "${var.engine_tick_s + 15}s"
  service_account_id = yandex_iam_service_account.api.id

  image {
    url    = local.api_image
    digest = var.api_image_digest
    environment = merge(local.api_environment, {
      # The functions call back on the public API, which is where their events are accepted.
      PLASTINKA_PUBLIC_URL          = coalesce(var.api_public_url, yandex_serverless_container.api[0].url)
      PLASTINKA_ENGINE_TICK_ENABLED = "true"
      PLASTINKA_ENGINE_TICK_S       = tostring(var.engine_tick_s)
    })
  }

  connectivity {
    network_id = local.postgres_network_id
  }

  dynamic "secrets" {
    for_each = local.api_secrets
    content {
      id                   = secrets.value.id
      version_id           = secrets.value.version
      key                  = secrets.value.key
      environment_variable = secrets.key
    }
  }

  depends_on = [
    yandex_container_registry_iam_binding.api_puller,
    yandex_lockbox_secret_iam_member.payload_viewer,
    yandex_kms_symmetric_key_iam_member.crypto,
  ]
}

# The public endpoint: anyone may reach the container; the API itself authenticates every route but the probes
# (API keys, signed callback tokens, signed download URLs).
resource "yandex_serverless_container_iam_member" "api_public" {
  count        = local.api_count
  container_id = yandex_serverless_container.api[0].id
  role         = "serverless.containers.invoker"
  member       = "system:allUsers"
}

# The timer's identity: it may invoke the engine container and nothing else.
resource "yandex_iam_service_account" "engine_timer" {
  count       = local.api_count
  name        = "${var.name_prefix}-engine-timer"
  description = "Plastinka: the timer trigger that invokes the engine container."
  folder_id   = var.folder_id
}

resource "yandex_serverless_container_iam_member" "engine_timer" {
  count        = local.api_count
  container_id = yandex_serverless_container.engine[0].id
  role         = "serverless.containers.invoker"
  member       = "serviceAccount:${yandex_iam_service_account.engine_timer[0].id}"
}

resource "yandex_function_trigger" "engine" {
  count       = local.api_count
  name        = "${var.name_prefix}-engine-tick"
  description = "Runs the Plastinka job engine every minute while no request arrives."
  folder_id   = var.folder_id
  labels      = var.labels

  timer {
    cron_expression = "* * * * ? *"
  }

  container {
    id                 = yandex_serverless_container.engine[0].id
    service_account_id = yandex_iam_service_account.engine_timer[0].id
    path               = "/api/v1/internal/engine/tick"
  }

  depends_on = [yandex_serverless_container_iam_member.engine_timer]
}
