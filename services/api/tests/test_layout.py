"""The package's layout rules (docs/architecture.md, "Where a change goes"), checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import plastinka_api

ROOT = Path(plastinka_api.__file__).parent
DOMAINS = ("keys", "datasets", "jobs", "models", "results", "status", "web")
#: Names that build SQL; only repositories (and database.py, the engine's handle) may import them.
SQL_NAMES = {"select", "update", "delete", "insert", "func", "col", "text"}


def _imports(path: Path) -> list[tuple[str, set[str]]]:
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, set()) for alias in node.names)
    return found


def _endpoint_modules() -> list[Path]:
    return [ROOT / d / "endpoints.py" for d in DOMAINS] + sorted((ROOT / "platform").glob("[!_]*.py"))


def _is_endpoint_module(module: str, names: set[str]) -> bool:
    parts = module.split(".")
    if parts[:2] == ["plastinka_api", "platform"] or parts[-1] == "endpoints":
        return True
    return parts[0] == "plastinka_api" and ("endpoints" in names or (module == "plastinka_api.platform" and names))


def test_every_domain_has_endpoints_and_a_service() -> None:
    for domain in DOMAINS:
        assert (ROOT / domain / "endpoints.py").is_file(), domain
        assert (ROOT / domain / "service.py").is_file(), domain


def test_no_endpoint_module_imports_another() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _endpoint_modules()
        for module, names in _imports(path)
        if _is_endpoint_module(module, names)
    ]
    assert offenders == []


def test_sql_is_written_in_repositories_only() -> None:
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name == "repository.py" or path.name == "database.py":
            continue
        for module, names in _imports(path):
            if module.split(".")[0] in ("sqlalchemy", "sqlmodel") and names & SQL_NAMES:
                offenders.append(f"{path.relative_to(ROOT)}: {module} {sorted(names & SQL_NAMES)}")
            if module == "sqlalchemy" and not names:  # ``import sqlalchemy as sa``
                offenders.append(f"{path.relative_to(ROOT)}: import sqlalchemy")
    assert offenders == []
