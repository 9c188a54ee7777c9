"""Models: endpoints (list, get, activate, delete), service (activation, deletion, recording a trained model),
repository (``models``)."""
