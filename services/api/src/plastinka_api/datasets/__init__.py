"""Datasets: endpoints (upload, list, get), service (spool, validate, store, record), repository (``datasets``)."""
