"""Parse a Terraform directory with python-hcl2 into plain blocks that the rules can walk.

A resource whose ``for_each`` is a local map is also seen instance by instance (:meth:`TerraformConfig.instances`):
``each.key``/``each.value...`` references are replaced by that entry's values and ``dynamic`` blocks whose
``for_each`` then resolves to a literal list or map become the blocks they generate, so a rule reads a bucket's
lifecycle rules or a binding's role as Terraform will apply them. Anything computed (a function call, a
conditional, another resource) stays the expression text it is.
"""

from __future__ import annotations

import re
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
    key: str | None = None  # the for_each key of one instance of a resource (see TerraformConfig.instances)

    @property
    def address(self) -> str:
        """Terraform-style address: ``yandex_function.this``, ``var.zone``, ``output.data_bucket``, and for an
        instance ``yandex_storage_bucket.this["data"]``."""
        if self.kind == "resource":
            base = ".".join(self.labels)
        else:
            prefix = {"variable": "var", "data": "data"}.get(self.kind, self.kind)
            base = ".".join((prefix, *self.labels))
        return base if self.key is None else f'{base}["{self.key}"]'


@dataclass(frozen=True)
class Moved:
    """A ``moved { from = ... to = ... }`` block: the addresses as written, without ``${}``."""

    source: str
    target: str
    file: Path


@dataclass
class TerraformConfig:
    """Every top-level block of a directory's ``.tf`` files, with its comments."""

    root: Path
    blocks: list[Block] = field(default_factory=list)
    locals: dict[str, Any] = field(default_factory=dict)
    settings: list[dict[str, Any]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)

    def of_kind(self, kind: str) -> Iterator[Block]:
        return (b for b in self.blocks if b.kind == kind)

    def resources(self, rtype: str) -> list[Block]:
        """The ``resource`` blocks of a type as written (one per block, ``for_each`` or not)."""
        return [b for b in self.of_kind("resource") if b.labels[0] == rtype]

    def for_each_keys(self, block: Block) -> list[str] | None:
        """The instance keys of a block whose ``for_each`` is a local map; None when it has none or is computed."""
        table = self.locals.get(_local_name(block.body.get("for_each")) or "")
        return [str(k) for k in table] if isinstance(table, dict) else None

    def instances(self, rtype: str | None = None) -> list[Block]:
        """Resources as Terraform instantiates them: one block per key of a ``for_each`` over a local map, with
        ``each`` and the ``dynamic`` blocks it feeds resolved; any other block as it is."""
        found: list[Block] = []
        for block in self.of_kind("resource"):
            if rtype is not None and block.labels[0] != rtype:
                continue
            table = self.locals.get(_local_name(block.body.get("for_each")) or "")
            if not isinstance(table, dict):
                found.append(block)
                continue
            body = {k: v for k, v in block.body.items() if k != "for_each"}
            for key, value in table.items():
                scope = {"each": (str(key), value)}
                found.append(
                    Block(block.kind, block.labels, _expand(body, scope), block.file, block.comments, str(key))
                )
        return found


_LOCAL = re.compile(r"\$\{local\.(\w+)\}")
_REF = re.compile(r"\$\{(?P<name>[A-Za-z_]\w*)\.(?P<part>key|value)(?P<path>(?:\.\w+)*)(?P<splat>\[\*\])?\}")
_UNRESOLVED = object()


def _local_name(value: Any) -> str | None:
    match = _LOCAL.fullmatch(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def _lookup(match: re.Match[str], scope: dict[str, tuple[str, Any]]) -> Any:
    """The value an ``<iterator>.key`` / ``<iterator>.value.a.b`` (optionally ``[*]``) reference names."""
    if match["name"] not in scope:
        return _UNRESOLVED
    key, value = scope[match["name"]]
    if match["part"] == "key":
        if match["path"]:
            return _UNRESOLVED
        value = key
    for attr in match["path"].split(".")[1:]:
        if not isinstance(value, dict) or attr not in value:
            return _UNRESOLVED
        value = value[attr]
    if match["splat"]:  # Terraform's splat on a single value: null -> [], anything else -> [value]
        return [] if value is None else value if isinstance(value, list) else [value]
    return value


def _substitute(text: str, scope: dict[str, tuple[str, Any]]) -> Any:
    whole = _REF.fullmatch(text)
    if whole is not None:
        found = _lookup(whole, scope)
        return text if found is _UNRESOLVED else found

    def inline(match: re.Match[str]) -> str:
        found = _lookup(match, scope)
        if found is _UNRESOLVED or isinstance(found, dict | list) or found is None:
            return match.group(0)
        # inside a template an expression stays one and a literal is written out
        if isinstance(found, bool):
            return "true" if found else "false"
        return found if isinstance(found, str) and found.startswith("${") else str(found)

    return _REF.sub(inline, text)


def _expand(value: Any, scope: dict[str, tuple[str, Any]]) -> Any:
    """``value`` with the references of ``scope`` resolved and the resolvable ``dynamic`` blocks generated."""
    if isinstance(value, str):
        return _substitute(value, scope)
    if isinstance(value, list):
        return [_expand(v, scope) for v in value]
    if not isinstance(value, dict):
        return value
    body = {k: _expand(v, scope) for k, v in value.items() if k != "dynamic"}
    kept: list[dict[str, Any]] = []
    for entry in value.get("dynamic", []):
        for name, spec in entry.items() if isinstance(entry, dict) else []:
            generated = _dynamic(name, spec, scope)
            if generated is None:
                kept.append({name: spec})
                continue
            if generated:  # a dynamic block over nothing writes no block at all
                existing = body.get(name, [])
                body[name] = [*(existing if isinstance(existing, list) else [existing]), *generated]
    if kept:
        body["dynamic"] = kept
    return body


def _dynamic(name: str, spec: Any, scope: dict[str, tuple[str, Any]]) -> list[dict[str, Any]] | None:
    """The blocks ``dynamic "<name>"`` generates, or None when its ``for_each`` is not a literal collection."""
    if not isinstance(spec, dict):
        return None
    items = _substitute(spec["for_each"], scope) if isinstance(spec.get("for_each"), str) else spec.get("for_each")
    if isinstance(items, list):
        pairs = [(str(i), item) for i, item in enumerate(items)]
    elif isinstance(items, dict):
        pairs = [(str(k), item) for k, item in items.items()]
    else:
        return None
    iterator = str(spec.get("iterator", name)).strip("${}")
    contents = spec.get("content", [])
    template = (contents[0] if isinstance(contents, list) and contents else contents) or {}
    return [_expand(template, {**scope, iterator: pair}) for pair in pairs]


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
                elif kind == "moved":
                    moved = strip_markers(entry)
                    config.moved.append(Moved(_address(moved.get("from")), _address(moved.get("to")), path))
                elif kind == "terraform":
                    config.settings.append(strip_markers(entry))
                elif kind in _LABEL_DEPTH:
                    config.blocks.extend(_labelled(kind, entry, _LABEL_DEPTH[kind], (), path))
    return config


def _address(value: Any) -> str:
    text = str(value or "")
    return text[2:-1] if text.startswith("${") and text.endswith("}") else text
