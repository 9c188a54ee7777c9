"""The API image is validated statically (no Docker engine here): structure, user, health check, secrets, inputs."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from plastinka_infra_checks import check_dockerfile, parse_dockerfile
from plastinka_infra_checks.dockerfile_rules import stages

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "infra" / "docker" / "Dockerfile"

Edit = Callable[[Path, str, str], None]


def rules(path: Path) -> set[str]:
    return {f.rule for f in check_dockerfile(path)}


def test_the_repository_dockerfile_has_no_findings() -> None:
    assert check_dockerfile(DOCKERFILE) == []


def test_runtime_stage_runs_the_api_as_non_root_with_a_health_check() -> None:
    final = stages(parse_dockerfile(DOCKERFILE))[-1]
    names = [i.name for i in final]
    assert names.index("USER") < names.index("ENTRYPOINT")
    user = next(i for i in final if i.name == "USER").value
    assert user.split(":")[0] not in ("root", "0")
    health = next(i for i in final if i.name == "HEALTHCHECK").value
    assert "/health" in health and "PLASTINKA_PORT" in health
    assert next(i for i in final if i.name == "ENTRYPOINT").value == '["plastinka-api"]'
    assert next(i for i in final if i.name == "CMD").value == '["serve"]'


def _project(path: Path) -> dict[str, object]:
    return tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _workspace_closure(start: Path) -> dict[str, Path]:
    """Every plastinka-* project the API needs, by name, found through the by-name sibling requirements."""
    where = {str(_project(p.parent)["name"]): p.parent for p in REPO.glob("*/*/pyproject.toml")}
    todo, seen = [str(_project(start)["name"])], {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen[name] = where[name]
        for req in _project(where[name]).get("dependencies", []):  # type: ignore[union-attr]
            dep = re.split(r"[\s\[<>=!~;]", str(req), maxsplit=1)[0]
            if dep.startswith("plastinka-"):
                todo.append(dep)
    return seen


def test_the_image_builds_and_installs_exactly_the_apis_workspace_closure() -> None:
    closure = _workspace_closure(REPO / "services" / "api")
    built = stages(parse_dockerfile(DOCKERFILE))
    copied = {i.value.split()[0] for i in built[0] if i.name == "COPY"}
    assert copied == {str(p.relative_to(REPO)) for p in closure.values()}
    for source in copied:
        assert (REPO / source / "pyproject.toml").is_file(), source
    install = next(i.value for i in built[-1] if i.name == "RUN" and "pip install" in i.value)
    installed = {re.split(r"[\[\"]", tok.strip('"'), maxsplit=1)[0] for tok in install.split() if "plastinka-" in tok}
    assert installed == set(closure)
    # every extra the image asks for is declared by that project
    for name, extra in re.findall(r"(plastinka-[a-z]+)\[(\w+)\]", install):
        assert extra in _project(closure[name]).get("optional-dependencies", {}), (name, extra)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ("USER 10001:10001\n", "", "docker-user"),
        ("USER 10001:10001", "USER root", "docker-user"),
        ("HEALTHCHECK --interval", "#HEALTHCHECK --interval", "docker-healthcheck"),
        ("/health'", "/metrics'", "docker-healthcheck"),
        ("FROM python:3.12-slim-bookworm AS runtime", "COPY --from=wheels /wheels /wheels", "docker-multistage"),
        ("ENV PYTHONDONTWRITEBYTECODE=1", "ENV PLASTINKA_SECRET_KEY=abc PYTHONDONTWRITEBYTECODE=1", "docker-secret"),
        (
            "FROM python:3.12-slim-bookworm AS wheels",
            "ARG YC_TOKEN\nFROM python:3.12-slim-bookworm AS wheels",
            "docker-secret",
        ),
        (
            "ENV PYTHONDONTWRITEBYTECODE=1",
            "ENV LEGACY t1.9euelZqXjZrNyM-XkZKaypDHx5CZmu3rnpWajJaWmZLGi8aQno2Ji5aZ\nENV PYTHONDONTWRITEBYTECODE=1",
            "docker-secret",
        ),
        ("pip install --no-index --find-links /wheels", "pip install --find-links /wheels", "docker-wheels"),
        ("WORKDIR /var/lib/plastinka", "COPY . /app\nWORKDIR /var/lib/plastinka", "docker-wheels"),
        ('CMD ["serve"]', '#checkov:skip=CKV_DOCKER_2\nCMD ["serve"]', "checkov-skip-reason"),
    ],
)
def test_each_dockerfile_rule_fires(infra_copy: Path, edit: Edit, old: str, new: str, rule: str) -> None:
    dockerfile = infra_copy / "docker" / "Dockerfile"
    edit(dockerfile, old, new)
    assert rule in rules(dockerfile)


def test_the_dockerignore_beside_the_dockerfile_is_required(infra_copy: Path) -> None:
    (infra_copy / "docker" / "Dockerfile.dockerignore").unlink()
    assert "dockerignore" in rules(infra_copy / "docker" / "Dockerfile")


def test_the_dockerignore_keeps_local_secrets_out_of_the_context() -> None:
    patterns = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert patterns[patterns.index("*")] == "*"  # deny by default, then re-include the workspace packages
    assert "**/.env" in patterns and "**/tests/" in patterns


def test_the_smoke_run_reads_the_runtime_stage_the_way_docker_would() -> None:
    from plastinka_infra_checks.image_smoke import _env_of, _exec_form

    final = stages(parse_dockerfile(DOCKERFILE))[-1]
    env = _env_of(final)
    assert env["PLASTINKA_PORT"] == "8000" and env["PLASTINKA_DATA_DIR"] == "/var/lib/plastinka"
    health = _exec_form(next(i for i in final if i.name == "HEALTHCHECK").value)
    assert health[:2] == ["python", "-c"] and "/health" in health[2]
    assert _exec_form(next(i for i in final if i.name == "ENTRYPOINT").value) == ["plastinka-api"]
