"""plastinka-storage."""

__all__: list[str] = []
