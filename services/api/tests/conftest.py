"""The in-process app fixtures of ``plastinka_testing.app``, for every test here."""

from plastinka_testing.app import api, dataset_id, settings_factory, shop_files  # noqa: F401
