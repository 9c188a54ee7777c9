"""Training and prediction jobs: endpoints (one factory for both kinds), service (submission, reads, cancel),
views (rows -> bodies), requests (the function request of an attempt), events (applying callbacks), notify (a
job's end: metrics and webhooks), repository (the API's few statements beyond ``plastinka_store.JobRepository``)."""
