"""Static checks of the API image's Dockerfile (no Docker engine runs here, so it is parsed, not built)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dockerfile_parse import DockerfileParser

from plastinka_infra_checks.findings import Finding
from plastinka_infra_checks.secrets import SECRET_NAME, looks_secret

_ROOT_USERS = {"root", "0"}
_SKIP = re.compile(r"checkov:skip=(?P<id>[A-Z0-9_]+)(?::(?P<reason>.*))?")


@dataclass(frozen=True)
class Instruction:
    name: str
    value: str
    line: int


def parse_dockerfile(path: Path) -> list[Instruction]:
    """Instructions in order, continuation lines joined, with 1-based line numbers."""
    parser = DockerfileParser(path=str(path), cache_content=True)
    return [Instruction(i["instruction"].upper(), i["value"], i["startline"] + 1) for i in parser.structure]


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions split into build stages, each starting at its FROM (global ARGs before it are dropped)."""
    out: list[list[Instruction]] = []
    for ins in instructions:
        if ins.name == "FROM":
            out.append([ins])
        elif out:
            out[-1].append(ins)
    return out


def _assignments(ins: Instruction) -> Iterator[tuple[str, str]]:
    """``(name, value)`` pairs of an ENV or ARG instruction, in both ``k=v`` and legacy ``ENV k v`` forms."""
    try:
        tokens = shlex.split(ins.value, posix=True)
    except ValueError:
        tokens = ins.value.split()
    if ins.name == "ENV" and tokens and "=" not in tokens[0]:
        yield tokens[0], " ".join(tokens[1:])
        return
    for token in tokens:
        name, _, value = token.partition("=")
        yield name, value


def check_dockerfile(path: Path) -> list[Finding]:
    """Multi-stage, installs wheels only, non-root USER, HEALTHCHECK on /health, no secret in ENV/ARG."""
    where = str(path)
    try:
        instructions = parse_dockerfile(path)
    except OSError as exc:
        return [Finding("dockerfile", where, f"unreadable: {exc}")]
    findings: list[Finding] = []
    built = stages(instructions)
    if len(built) < 2:
        findings.append(Finding("docker-multistage", where, "needs a build stage and a runtime stage"))
    final = built[-1] if built else []
    findings.extend(_final_stage(where, final))
    for ins in instructions:
        if ins.name in ("ENV", "ARG"):
            for name, value in _assignments(ins):
                at = f"{where}:{ins.line}"
                if SECRET_NAME.search(name):
                    findings.append(Finding("docker-secret", at, f"{ins.name} {name} names a secret"))
                elif value and looks_secret(value):
                    findings.append(Finding("docker-secret", at, f"{ins.name} {name} looks like a credential"))
    findings.extend(_skip_reasons(path))
    findings.extend(_dockerignore(path))
    return sorted(findings)


def _final_stage(where: str, final: list[Instruction]) -> Iterator[Finding]:
    users = [i for i in final if i.name == "USER"]
    if not users:
        yield Finding("docker-user", where, "the runtime stage sets no USER (it would run as root)")
    else:
        user = users[-1].value.strip().split(":")[0]
        if user in _ROOT_USERS:
            yield Finding("docker-user", f"{where}:{users[-1].line}", "the runtime stage runs as root")
    checks = [i for i in final if i.name == "HEALTHCHECK"]
    if not checks or checks[-1].value.strip().upper() == "NONE":
        yield Finding("docker-healthcheck", where, "the runtime stage has no HEALTHCHECK")
    elif "/health" not in checks[-1].value:
        yield Finding("docker-healthcheck", f"{where}:{checks[-1].line}", "HEALTHCHECK does not probe /health")
    if not any(i.name in ("CMD", "ENTRYPOINT") for i in final):
        yield Finding("docker-command", where, "the runtime stage has no CMD or ENTRYPOINT")
    installs = [i for i in final if i.name == "RUN" and "pip install" in i.value]
    if not any("--no-index" in i.value for i in installs):
        yield Finding("docker-wheels", where, "the runtime stage must install the built wheels only (--no-index)")
    for ins in final:
        if ins.name in ("COPY", "ADD") and re.search(r"(^|\s)\.\s", ins.value + " ") and "--from=" not in ins.value:
            yield Finding("docker-wheels", f"{where}:{ins.line}", "the runtime stage copies the source tree")


def _skip_reasons(path: Path) -> Iterator[Finding]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _SKIP.search(line)
        if match and not (match.group("reason") or "").strip():
            yield Finding("checkov-skip-reason", f"{path}:{number}", f"skip of {match.group('id')} has no reason")


def _dockerignore(path: Path) -> Iterator[Finding]:
    """BuildKit reads ``<Dockerfile>.dockerignore`` beside the Dockerfile; it must keep secrets out of the context."""
    ignore = path.with_name(f"{path.name}.dockerignore")
    if not ignore.is_file():
        yield Finding("dockerignore", str(path), f"{ignore.name} is missing")
        return
    lines = (p.strip() for p in ignore.read_text(encoding="utf-8").splitlines())
    patterns = [p for p in lines if p and not p.startswith("#")]
    if "*" not in patterns and not any(".env" in p for p in patterns):
        yield Finding("dockerignore", str(ignore), "neither ignores everything by default nor excludes .env files")
