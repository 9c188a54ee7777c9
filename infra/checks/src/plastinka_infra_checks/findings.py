"""What a check reports: one problem, where it is, and which rule found it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    """One violated rule at one place (a file, a resource address or a Dockerfile line)."""

    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.message}"
