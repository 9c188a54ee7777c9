# Inputs of the Plastinka deployment. No variable holds a secret: generated secrets live in Lockbox.

variable "cloud_id" {
  description = "Yandex Cloud id the folder belongs to."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]{20}$", var.cloud_id))
    error_message = "cloud_id is a 20-character Yandex Cloud id (lowercase letters and digits)."
  }
}

variable "folder_id" {
  description = "Folder every resource is created in."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]{20}$", var.folder_id))
    error_message = "folder_id is a 20-character Yandex Cloud id (lowercase letters and digits)."
  }
}

variable "zone" {
  description = "Default availability zone (PostgreSQL hosts are placed here)."
  type        = string
  default     = "ru-central1-a"
  validation {
    condition     = contains(["ru-central1-a", "ru-central1-b", "ru-central1-d"], var.zone)
    error_message = "zone must be one of ru-central1-a, ru-central1-b, ru-central1-d."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name; bucket names get the folder id appended to be globally unique."
  type        = string
  default     = "plastinka"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix is 3-32 lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "labels" {
  description = "Labels put on every resource that takes them."
  type        = map(string)
  default     = { project = "plastinka" }
}

variable "functions_manifest_path" {
  description = "Path of the manifest JSON written by `hatch run build:functions` (zip names, sha256, entrypoint, runtime)."
  type        = string
  default     = "../../dist/functions/manifest.json"
  validation {
    condition     = endswith(var.functions_manifest_path, ".json")
    error_message = "functions_manifest_path must point at the build's manifest .json file."
  }
}

variable "functions_object_prefix" {
  description = "Key prefix of the uploaded zips in the deploy bucket; the object is <prefix><sha256>/<zip name>."
  type        = string
  default     = "functions/"
  validation {
    condition     = can(regex("^([a-z0-9._-]+/)*$", var.functions_object_prefix))
    error_message = "functions_object_prefix is empty or path segments each ending in '/'."
  }
}

variable "train_memory_mb" {
  description = "Memory of the train function in MB (a multiple of 128, 128..8192): LightGBM tuning is memory-bound."
  type        = number
  default     = 2048
  validation {
    condition     = var.train_memory_mb >= 128 && var.train_memory_mb <= 8192 && var.train_memory_mb % 128 == 0
    error_message = "train_memory_mb must be a multiple of 128 between 128 and 8192."
  }
}

variable "predict_memory_mb" {
  description = "Memory of the predict function in MB (a multiple of 128, 128..8192)."
  type        = number
  default     = 1024
  validation {
    condition     = var.predict_memory_mb >= 128 && var.predict_memory_mb <= 8192 && var.predict_memory_mb % 128 == 0
    error_message = "predict_memory_mb must be a multiple of 128 between 128 and 8192."
  }
}

variable "train_timeout_s" {
  description = "execution_timeout of the train function in seconds (1..600; up to 3600 only with long_lived_functions)."
  type        = number
  default     = 600
  validation {
    condition     = var.train_timeout_s >= 1 && var.train_timeout_s <= 3600 && floor(var.train_timeout_s) == var.train_timeout_s
    error_message = "train_timeout_s must be a whole number of seconds between 1 and 3600."
  }
}

variable "predict_timeout_s" {
  description = "execution_timeout of the predict function in seconds (1..600; up to 3600 only with long_lived_functions)."
  type        = number
  default     = 300
  validation {
    condition     = var.predict_timeout_s >= 1 && var.predict_timeout_s <= 3600 && floor(var.predict_timeout_s) == var.predict_timeout_s
    error_message = "predict_timeout_s must be a whole number of seconds between 1 and 3600."
  }
}

variable "long_lived_functions" {
  description = "Allow function timeouts over 600 s. Long-lived functions are a Yandex Cloud preview feature: the cloud needs access granted by support first, else the version is rejected."
  type        = bool
  default     = false
}

variable "async_retries" {
  description = "Platform retries of a failed asynchronous invocation (0..100); the API's sweeper retries on top with backoff."
  type        = number
  default     = 2
  validation {
    condition     = var.async_retries >= 0 && var.async_retries <= 100 && floor(var.async_retries) == var.async_retries
    error_message = "async_retries must be a whole number between 0 and 100."
  }
}

variable "function_concurrency" {
  description = "Requests one function instance serves at once (1..16); 1 keeps a training run's memory its own."
  type        = number
  default     = 1
  validation {
    condition     = var.function_concurrency >= 1 && var.function_concurrency <= 16 && floor(var.function_concurrency) == var.function_concurrency
    error_message = "function_concurrency must be a whole number between 1 and 16."
  }
}

variable "scratch_retention_days" {
  description = "Days before objects under jobs/ (per-attempt outputs: scratch, reports, status objects, and any model or forecast the API has not promoted to models/) expire; 0 keeps them (0..3650)."
  type        = number
  # 0 until the API promotes a succeeded model to models/<id>/: today the model row points into jobs/.
  default = 0
  validation {
    condition     = var.scratch_retention_days >= 0 && var.scratch_retention_days <= 3650 && floor(var.scratch_retention_days) == var.scratch_retention_days
    error_message = "scratch_retention_days must be a whole number between 0 (never expire) and 3650."
  }
}

variable "upload_staging_retention_days" {
  description = "Days before a staging object under _uploads/ (left by an upload interrupted between its staging write and its copy) expires (1..30)."
  type        = number
  default     = 1
  validation {
    condition     = var.upload_staging_retention_days >= 1 && var.upload_staging_retention_days <= 30 && floor(var.upload_staging_retention_days) == var.upload_staging_retention_days
    error_message = "upload_staging_retention_days must be a whole number between 1 and 30."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days an overwritten or deleted object version is kept in a versioned bucket (1..3650)."
  type        = number
  default     = 30
  validation {
    condition     = var.noncurrent_version_retention_days >= 1 && var.noncurrent_version_retention_days <= 3650 && floor(var.noncurrent_version_retention_days) == var.noncurrent_version_retention_days
    error_message = "noncurrent_version_retention_days must be a whole number between 1 and 3650."
  }
}

variable "multipart_abort_days" {
  description = "Days after which an incomplete multipart upload is aborted (1..30)."
  type        = number
  default     = 2
  validation {
    condition     = var.multipart_abort_days >= 1 && var.multipart_abort_days <= 30 && floor(var.multipart_abort_days) == var.multipart_abort_days
    error_message = "multipart_abort_days must be a whole number between 1 and 30."
  }
}

variable "kms_rotation_period" {
  description = "Rotation period of the storage KMS key, as a Go duration in hours (24h..8760h)."
  type        = string
  default     = "8760h"
  validation {
    condition     = can(regex("^[0-9]+h$", var.kms_rotation_period)) && try(tonumber(trimsuffix(var.kms_rotation_period, "h")) >= 24 && tonumber(trimsuffix(var.kms_rotation_period, "h")) <= 8760, false)
    error_message = "kms_rotation_period must be whole hours between 24h and 8760h, e.g. \"8760h\"."
  }
}

variable "deletion_protection" {
  description = "Protect the KMS key, the Lockbox secrets and the database from `terraform destroy`."
  type        = bool
  default     = true
}

variable "postgres_enabled" {
  description = "Create a managed PostgreSQL cluster (needed when several API instances share one database)."
  type        = bool
  default     = false
}

variable "postgres_version" {
  description = "PostgreSQL major version of the managed cluster."
  type        = string
  default     = "16"
  validation {
    condition     = contains(["14", "15", "16", "17"], var.postgres_version)
    error_message = "postgres_version must be one of 14, 15, 16, 17."
  }
}

variable "postgres_resource_preset" {
  description = "Host class of the managed PostgreSQL cluster (e.g. s3-c2-m8)."
  type        = string
  default     = "s3-c2-m8"
  validation {
    condition     = can(regex("^[a-z0-9]+-[a-z0-9-]+$", var.postgres_resource_preset))
    error_message = "postgres_resource_preset must be a Yandex host class id such as s3-c2-m8."
  }
}

variable "postgres_disk_size_gb" {
  description = "Disk size of each PostgreSQL host in GB (10..4096)."
  type        = number
  default     = 20
  validation {
    condition     = var.postgres_disk_size_gb >= 10 && var.postgres_disk_size_gb <= 4096 && floor(var.postgres_disk_size_gb) == var.postgres_disk_size_gb
    error_message = "postgres_disk_size_gb must be a whole number between 10 and 4096."
  }
}

variable "postgres_network_id" {
  description = "Existing VPC network of the API instances to put the PostgreSQL subnet in; null creates a network."
  type        = string
  default     = null
  validation {
    condition     = var.postgres_network_id == null || can(regex("^[a-z0-9]{20}$", var.postgres_network_id))
    error_message = "postgres_network_id is null or a 20-character Yandex Cloud network id."
  }
}

variable "postgres_subnet_cidr" {
  description = "IPv4 CIDR of the subnet the PostgreSQL hosts live in."
  type        = string
  default     = "10.20.0.0/24"
  validation {
    condition     = can(cidrhost(var.postgres_subnet_cidr, 0))
    error_message = "postgres_subnet_cidr must be a valid IPv4 CIDR block."
  }
}

variable "postgres_client_cidrs" {
  description = "CIDR blocks the API instances connect from; the only sources allowed to reach port 6432."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.postgres_client_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "postgres_client_cidrs must be valid CIDR blocks and must not open the database to 0.0.0.0/0."
  }
}

variable "function_tag" {
  description = "Function version tag the API invokes ($latest, or a tag moved by hand to roll out and roll back)."
  type        = string
  default     = "$latest"
  validation {
    condition     = can(regex("^(\\$latest|[a-z][-_0-9a-z]{0,62})$", var.function_tag))
    error_message = "function_tag is $latest or a version tag: lowercase letters, digits, - and _."
  }
}

variable "api_hosting_enabled" {
  description = "Run the API as serverless containers (api.tf); needs postgres_enabled and an image pushed to the registry under api_image_tag."
  type        = bool
  default     = false
}

variable "api_image_name" {
  description = "Repository name of the API image in the Container Registry."
  type        = string
  default     = "plastinka-api"
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._/-]{0,127}$", var.api_image_name))
    error_message = "api_image_name is a lowercase repository name."
  }
}

variable "api_image_tag" {
  description = "Tag of the API image to run (e.g. the git commit it was built from); null while api_hosting_enabled is false."
  type        = string
  default     = null
  validation {
    condition     = var.api_image_tag == null || can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.api_image_tag))
    error_message = "api_image_tag is a Docker tag: letters, digits, _, . and -, at most 128 characters."
  }
}

variable "api_image_digest" {
  description = "sha256 digest the image must have (sha256:...); null trusts the tag."
  type        = string
  default     = null
  validation {
    condition     = var.api_image_digest == null || can(regex("^sha256:[0-9a-f]{64}$", var.api_image_digest))
    error_message = "api_image_digest is null or sha256:<64 hex digits>."
  }
}

variable "api_public_url" {
  description = "Base URL clients and the functions' callbacks reach the API on (a domain, or the api_url output after the first apply); null until known."
  type        = string
  default     = null
  validation {
    condition     = var.api_public_url == null || can(regex("^https://[^/]+(/.*)?$", var.api_public_url))
    error_message = "api_public_url is null or an https:// URL."
  }
}

variable "api_memory_mb" {
  description = "Memory of each API container instance in MB (a multiple of 128, 512..8192): results are built in memory."
  type        = number
  default     = 1024
  validation {
    condition     = var.api_memory_mb >= 512 && var.api_memory_mb <= 8192 && var.api_memory_mb % 128 == 0
    error_message = "api_memory_mb must be a multiple of 128 between 512 and 8192."
  }
}

variable "api_concurrency" {
  description = "Requests one API container instance serves at once (1..16)."
  type        = number
  default     = 8
  validation {
    condition     = var.api_concurrency >= 1 && var.api_concurrency <= 16 && floor(var.api_concurrency) == var.api_concurrency
    error_message = "api_concurrency must be a whole number between 1 and 16."
  }
}

variable "api_request_timeout_s" {
  description = "execution_timeout of an API request in seconds (30..600): long polls (/status?wait=N) hold a request up to N s."
  type        = number
  default     = 120
  validation {
    condition     = var.api_request_timeout_s >= 30 && var.api_request_timeout_s <= 600 && floor(var.api_request_timeout_s) == var.api_request_timeout_s
    error_message = "api_request_timeout_s must be a whole number between 30 and 600."
  }
}

variable "api_min_instances" {
  description = "API container instances kept warm (0..10): 1 spares clients a cold start."
  type        = number
  default     = 1
  validation {
    condition     = var.api_min_instances >= 0 && var.api_min_instances <= 10 && floor(var.api_min_instances) == var.api_min_instances
    error_message = "api_min_instances must be a whole number between 0 and 10."
  }
}

variable "engine_tick_s" {
  description = "How long each once-a-minute engine tick runs the dispatcher and sweeper (10..55 s, under the minute between ticks)."
  type        = number
  default     = 50
  validation {
    condition     = var.engine_tick_s >= 10 && var.engine_tick_s <= 55 && floor(var.engine_tick_s) == var.engine_tick_s
    error_message = "engine_tick_s must be a whole number between 10 and 55."
  }
}
