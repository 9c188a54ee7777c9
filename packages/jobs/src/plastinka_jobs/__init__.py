"""plastinka-jobs."""

__all__: list[str] = []
