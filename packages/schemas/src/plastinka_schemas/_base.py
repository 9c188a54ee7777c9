"""Model bases: inputs refuse unknown fields, outputs are built from ORM rows too."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """A body or payload we receive: unknown fields are an error, not a silent drop."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class OutputModel(BaseModel):
    """A body we send: may be validated from attributes of a database row."""

    model_config = ConfigDict(from_attributes=True, frozen=True)
