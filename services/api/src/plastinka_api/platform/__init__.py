"""Endpoints outside the user domains, each a thin router delegating to the cross-cutting modules: probes and
metrics (``health``), the local store's signed downloads (``files``), and the functions' callback
(``internal``, applied by ``jobs.events``)."""
