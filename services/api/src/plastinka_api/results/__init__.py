"""A succeeded job's results: endpoints (JSON pages, files, signed download, plots, accuracy), service (reading
verified artifacts back from storage), schemas (the download link), and the exports, plots and accuracy they use.
No table of its own: jobs come from ``ctx.repo``, models and datasets from their repositories, all owner-scoped."""
