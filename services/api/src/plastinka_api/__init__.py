"""plastinka-api: the Plastinka HTTP service (FastAPI), its job engine and the ``plastinka-api`` CLI."""

from plastinka_api.app import build_context, create_app
from plastinka_api.cli import main
from plastinka_api.settings import Settings
from plastinka_api.webhooks import sign as sign_webhook
from plastinka_api.webhooks import verify as verify_webhook

__all__ = ["Settings", "build_context", "create_app", "main", "sign_webhook", "verify_webhook"]
