"""Every setting of the API, read from ``PLASTINKA_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from plastinka_api.keys.strength import weakness
from plastinka_storage.settings import ENV_PREFIX, S3Environment


class Settings(BaseSettings, S3Environment):
    """Embedded defaults run everything on one machine: SQLite, a local storage directory, local functions."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    # --- where it listens and keeps its files ---
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port to listen on.")
    public_url: str | None = Field(
        default=None, description="Base URL the functions call back on; http://<host>:<port> when unset."
    )
    data_dir: Path = Field(default=Path("var"), description="Home of the SQLite database and local storage.")

    # --- database ---
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; sqlite:///<data_dir>/plastinka.db when unset."
    )
    database_password: SecretStr | None = Field(
        default=None, description="Password put into the database URL (kept apart, e.g. injected from Lockbox)."
    )

    # --- storage ---
    storage_backend: Literal["local", "s3"] = Field(default="local", description="'local' directory or 's3'.")
    storage_dir: Path | None = Field(default=None, description="Local storage root; <data_dir>/storage when unset.")
    # s3_bucket, s3_endpoint_url, s3_region, s3_access_key_id, s3_secret_access_key: from S3Environment

    # --- functions ---
    invoker: Literal["local", "yandex", "none"] = Field(
        default="local", description="'local' subprocess runtime, 'yandex' Cloud Functions, or 'none' (no dispatch)."
    )
    yandex_train_function_id: str | None = Field(default=None, description="Train function id (yandex invoker).")
    yandex_predict_function_id: str | None = Field(default=None, description="Predict function id (yandex invoker).")
    yandex_function_tag: str = Field(default="$latest", description="Function version tag to invoke.")
    yandex_sa_key_file: Path | None = Field(default=None, description="Service-account authorized key JSON file.")
    yandex_iam_token: SecretStr | None = Field(default=None, description="A ready IAM token instead of a key file.")
    yandex_metadata_credentials: bool = Field(
        default=False, description="Take IAM tokens from the metadata service (the VM's or container's account)."
    )
    yandex_metadata_url: str = Field(
        default="http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token",
        description="Metadata service token URL.",
    )
    yandex_api_endpoint: str | None = Field(default=None, description="Cloud API endpoint override.")
    yandex_functions_endpoint: str | None = Field(
        default=None, description="Override of the functions invoke endpoint (private endpoints, emulators)."
    )
    yandex_root_certificates_file: Path | None = Field(default=None, description="PEM roots for the Cloud API.")
    functions_dir: Path | None = Field(
        default=None, description="Local runtime: the folder holding train-function/ and predict-function/."
    )
    function_timeout_s: float = Field(
        default=600.0, gt=0, description="Deadline of one function attempt (at most the functions' execution_timeout)."
    )
    function_concurrency: int = Field(default=2, ge=1, description="Local runtime: functions run at once.")

    # --- secrets ---
    secret_key: SecretStr | None = Field(
        default=None,
        description="Master secret: the keys of callback tokens, download URLs, webhooks are derived from it (HKDF); "
        "generated into <data_dir> when unset.",
    )
    bootstrap_admin_key: SecretStr | None = Field(
        default=None, description="Made an admin key at start-up; at least 32 varied characters."
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Webhook HMAC key of owners without their own secret (POST /keys/webhook-secret); "
        "derived from the secret key when unset.",
    )

    # --- job engine ---
    max_attempts: int = Field(default=3, ge=1, le=100, description="Attempts before a job goes to dead_letter.")
    lease_s: float = Field(default=900.0, gt=0, description="How long a dispatched/running job may stay silent.")
    retry_base_s: float = Field(default=30.0, ge=0, description="Backoff before the 2nd attempt (doubles, jittered).")
    retry_max_s: float = Field(default=3600.0, ge=0, description="Longest backoff between attempts.")
    reconcile_after_s: float = Field(
        default=30.0, ge=0, description="Silence after which the sweeper looks for an attempt's status object."
    )
    dispatch_interval_s: float = Field(default=0.5, gt=0, description="Dispatcher poll period.")
    sweep_interval_s: float = Field(default=5.0, gt=0, description="Sweeper period.")
    dispatch_batch: int = Field(default=10, ge=1, description="Jobs claimed per dispatcher pass.")
    engine_enabled: bool = Field(default=True, description="Run the dispatcher and sweeper in this process.")
    engine_tick_enabled: bool = Field(
        default=False,
        description="Serve POST /internal/engine/tick (dispatcher and sweeper passes per call; a timer drives it).",
    )
    engine_tick_s: float = Field(default=50.0, gt=0, le=3600, description="How long one engine tick keeps passing.")

    # --- fair work: per-owner job quotas ---
    max_queued_jobs_per_owner: int = Field(
        default=50, ge=1, description="Jobs one owner may have waiting (queued or retry_wait); past it a 429."
    )
    max_running_jobs_per_owner: int = Field(
        default=4, ge=1, description="Jobs one owner may have dispatched or running at once; the rest wait."
    )
    queue_full_retry_after_s: int = Field(default=30, ge=1, description="Retry-After of the 429 for a full queue.")

    # --- limits ---
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1, description="Largest accepted upload file.")
    max_upload_rows: int = Field(
        default=5_000_000, ge=1, description="Most data rows an upload (each file) may hold; more is a 422."
    )
    # upload parsing (docs/security.md, "Upload limits")
    upload_memory_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=128 * 1024 * 1024,
        description="Memory one upload's parsing may take over idle (a child process's address-space cap); "
        "past it a 413.",
    )
    upload_parsers: int = Field(
        default=1, ge=1, le=16, description="Uploads parsed at once per server process (the rest wait)."
    )
    upload_timeout_s: float = Field(
        default=300.0, gt=0, description="Longest parse of one upload; longer is a 422 (the parser is killed)."
    )
    max_upload_cell_bytes: int = Field(
        default=4096, ge=256, description="Longest text cell of an upload, in bytes; longer is a 422."
    )
    max_wait_s: float = Field(default=60.0, ge=0, description="Longest long-poll of GET /status/{id}?wait=N.")
    signed_url_ttl_s: int = Field(default=300, ge=1, description="Lifetime of download URLs.")
    webhook_attempts: int = Field(default=8, ge=1, description="Webhook deliveries tried before giving up.")
    webhook_retry_base_s: float = Field(
        default=2.0, ge=0, description="Backoff before a webhook's 2nd try (doubles, jittered, at most 10 min)."
    )
    webhook_interval_s: float = Field(default=1.0, gt=0, description="Period of the webhook outbox pass.")

    # --- hardening: callbacks, authentication (docs/security.md) ---
    webhook_allowed_hosts: str = Field(
        default="",
        description="Callback hosts, IPs or networks (comma-separated) trusted though not public; empty: public only.",
    )
    auth_throttle_burst: int = Field(
        default=30, ge=0, description="Failed authentications one client address may make at once (0: no throttle)."
    )
    auth_throttle_per_minute: float = Field(
        default=30.0, gt=0, description="Failed-authentication tries a client address earns back per minute."
    )

    workers: int = Field(
        default=1, ge=1, le=64, description="Server processes (uvicorn workers); each runs the job engine too."
    )
    access_log: bool = Field(default=False, description="Log every request (uvicorn access log).")

    # --- start-up ---
    sample_dataset: bool = Field(default=True, description="Register the sample shop dataset on first start.")

    @field_validator("bootstrap_admin_key")
    @classmethod
    def _strong_bootstrap_key(cls, value: SecretStr | None) -> SecretStr | None:
        problem = None if value is None else weakness(value.get_secret_value())
        if problem is not None:
            raise ValueError(f"PLASTINKA_BOOTSTRAP_ADMIN_KEY: {problem}")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            if self.database_password is None:
                return self.database_url
            from sqlalchemy.engine import make_url  # noqa: PLC0415 - only when a password is kept apart

            url = make_url(self.database_url).set(password=self.database_password.get_secret_value())
            return url.render_as_string(hide_password=False)
        return f"sqlite:///{(self.data_dir / 'plastinka.db').resolve()}"

    @property
    def resolved_storage_dir(self) -> Path:
        return (self.storage_dir or self.data_dir / "storage").resolve()

    @property
    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host  # noqa: S104 - compared, not bound
        return f"http://{host}:{self.port}"
