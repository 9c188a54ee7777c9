"""Parse a Terraform directory with python-hcl2 into plain blocks that the rules can walk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

_OPTIONS = SerializationOptions(with_comments=True, strip_string_quotes=True)
_MARKERS = ("__is_block__", "__comments__", "__inline_comments__", "__start_line__", "__end_line__")


class HclError(ValueError):
    """A ``.tf`` file that python-hcl2 cannot parse."""


@dataclass(frozen=True)
class Block:
    """One labelled top-level block: ``resource "type" "name"``, ``variable "name"``, ``output "name"``..."""

    kind: str
    labels: tuple[str, ...]
    body: dict[str, Any]
    file: Path
    comments: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        """Terraform-style address: ``yandex_function.this``, ``var.zone``, ``output.data_bucket``."""
        if self.kind == "resource":
            return ".".join(self.labels)
        prefix = {"variable": "var", "data": "data"}.get(self.kind, self.kind)
        return ".".join((prefix, *self.labels))


@dataclass
class TerraformConfig:
    """Every top-level block of a directory's ``.tf`` files, with its comments."""

    root: Path
    blocks: list[Block] = field(default_factory=list)
    locals: dict[str, Any] = field(default_factory=dict)
    settings: list[dict[str, Any]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def of_kind(self, kind: str) -> Iterator[Block]:
        return (b for b in self.blocks if b.kind == kind)

    def resources(self, rtype: str) -> list[Block]:
        return [b for b in self.of_kind("resource") if b.labels[0] == rtype]


def strip_markers(value: Any) -> Any:
    """Drop python-hcl2's bookkeeping keys, recursively."""
    if isinstance(value, dict):
        return {k: strip_markers(v) for k, v in value.items() if k not in _MARKERS}
    if isinstance(value, list):
        return [strip_markers(v) for v in value]
    return value


def comments_of(value: Any) -> list[str]:
    """Every comment text python-hcl2 attached anywhere inside ``value``."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("__comments__", "__inline_comments__"):
                found.extend(str(c.get("value", "")) for c in item if isinstance(c, dict))
            else:
                found.extend(comments_of(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(comments_of(item))
    return found


def unquote(label: str) -> str:
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def parse_file(path: Path) -> dict[str, Any]:
    """Parse one file; a syntax error becomes an :class:`HclError` naming the file."""
    try:
        parsed: dict[str, Any] = hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=_OPTIONS)
    except Exception as exc:  # python-hcl2 raises lark's many exception types
        raise HclError(f"{path}: {exc}") from exc
    return parsed


def _labelled(kind: str, node: dict[str, Any], depth: int, labels: tuple[str, ...], path: Path) -> Iterator[Block]:
    if depth == 0:
        yield Block(kind, labels, strip_markers(node), path, tuple(comments_of(node)))
        return
    for key, child in node.items():
        if key in _MARKERS:
            continue
        yield from _labelled(kind, child, depth - 1, (*labels, unquote(key)), path)


_LABEL_DEPTH = {"resource": 2, "data": 2, "variable": 1, "output": 1, "module": 1, "provider": 1}


def load_directory(root: Path) -> TerraformConfig:
    """Parse every ``*.tf`` file directly in ``root`` (Terraform reads one directory as one module)."""
    config = TerraformConfig(root=root)
    for path in sorted(root.glob("*.tf")):
        config.files.append(path)
        parsed = parse_file(path)
        for kind, entries in parsed.items():
            if kind in _MARKERS:
                continue
            for entry in entries:
                if kind == "locals":
                    config.locals.update(strip_markers(entry))
                elif kind == "terraform":
                    config.settings.append(strip_markers(entry))
                elif kind in _LABEL_DEPTH:
                    config.blocks.extend(_labelled(kind, entry, _LABEL_DEPTH[kind], (), path))
    return config
