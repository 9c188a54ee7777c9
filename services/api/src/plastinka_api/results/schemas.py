"""Bodies only the results endpoints answer with (the public ones are in ``plastinka_schemas``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DownloadLink(BaseModel):
    url: str = Field(description="The signed URL: a plain GET downloads the file, without a key, until it expires.")
    expires_at: str = Field(description="When the URL stops working (ISO 8601, UTC).")
    sha256: str = Field(description="SHA-256 of the file, to check the download.")
    size: int = Field(description="The file's size in bytes.")
