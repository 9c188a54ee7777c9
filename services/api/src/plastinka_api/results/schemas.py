"""Bodies only the results endpoints answer with (the public ones are in ``plastinka_schemas``)."""

from __future__ import annotations

from pydantic import BaseModel


class DownloadLink(BaseModel):
    url: str
    expires_at: str
    sha256: str
    size: int
