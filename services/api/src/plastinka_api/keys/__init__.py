"""API keys: endpoints (admin), service (secrets, roles, principals), repository (the ``api_keys`` table)."""
