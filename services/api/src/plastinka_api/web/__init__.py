"""The shop owner's web page at ``/`` and the offline API docs (``/docs``, ``/redoc``): static files shipped in
the package, no build step and no CDN."""
