"""Job status of both kinds: endpoints (status with long-poll, listing, admin requeue) and service. Its table
access is ``plastinka_store.JobRepository`` (``ctx.repo``), owner-scoped."""
