"""plastinka-forecasting."""

__all__: list[str] = []
