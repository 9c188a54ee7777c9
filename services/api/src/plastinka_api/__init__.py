"""plastinka-api: the Plastinka HTTP service."""

__all__: list[str] = []
