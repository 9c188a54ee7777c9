"""Pytest plugin: registers the fixtures of plastinka_testing."""
