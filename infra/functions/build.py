"""Build the function zips: ``index.py`` at the root, our packages as source, exact pins in ``requirements.txt``.

Run as ``hatch run build:functions`` (the ``build`` environment has every function's dependencies installed, and
the pins come from it). Output: ``dist/functions/<name>.zip`` and ``dist/functions/manifest.json``. Rebuilding the
same commit in the same environment gives byte-identical zips: entries are sorted, timestamps and permissions are
fixed, caches and tests are left out.

``--vendor`` instead downloads the manylinux x86_64 wheels for Python 3.12 and unpacks them into the zip (for the
bucket route, when the platform should not install anything), checking the platform's size limits.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ("train-function", "predict-function")
FIRST_PARTY = re.compile(r"^plastinka-")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DIRECT_UPLOAD_LIMIT = 3_500_000  # the console/API upload limit is 3.5 MB; larger zips go through a bucket
BUCKET_ZIP_LIMIT = 128 * 1024 * 1024
UNZIPPED_LIMIT = 680 * 1024 * 1024
TARGET_PYTHON = "3.12"
TARGET_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")
# The Yandex python312 runtime: Linux on x86_64, CPython 3.12.
TARGET_ENVIRONMENT = {
    "python_version": TARGET_PYTHON,
    "python_full_version": f"{TARGET_PYTHON}.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "x86_64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
}
SKIPPED_PARTS = {"__pycache__", "tests", ".mypy_cache", ".pytest_cache"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


class BuildError(RuntimeError):
    """The zip cannot be built as asked (missing dependency, over a size limit...)."""


@dataclass(frozen=True)
class Project:
    name: str
    directory: Path
    dependencies: tuple[Requirement, ...]
    function: dict[str, object]

    @property
    def sources(self) -> list[Path]:
        return sorted(p for p in (self.directory / "src").iterdir() if p.is_dir() and not p.name.startswith("."))


@dataclass(frozen=True)
class Built:
    name: str
    path: Path
    sha256: str
    size: int
    unzipped_size: int
    requirements: tuple[str, ...]
    vendored: bool
    function: dict[str, object]

    def manifest_entry(self) -> dict[str, object]:
        return {
            "name": self.name,
            "zip": self.path.name,
            "sha256": self.sha256,
            "size": self.size,
            "unzipped_size": self.unzipped_size,
            "runtime": self.function["runtime"],
            "entrypoint": self.function["entrypoint"],
            "memory_mb": self.function["memory_mb"],
            "timeout_s": self.function["timeout_s"],
            "vendored": self.vendored,
            "excluded": list(self.function.get("exclude", [])),  # type: ignore[call-overload]
            "requirements": list(self.requirements),
        }


def workspace_projects(root: Path = ROOT) -> dict[str, Project]:
    """Every pyproject under packages/ and services/, by canonical project name."""
    projects: dict[str, Project] = {}
    for pyproject in sorted([*root.glob("packages/*/pyproject.toml"), *root.glob("services/*/pyproject.toml")]):
        data = tomllib.loads(pyproject.read_text("utf-8"))
        project = data["project"]
        name = canonicalize_name(project["name"])
        deps = tuple(Requirement(d) for d in project.get("dependencies", []))
        function = data.get("tool", {}).get("plastinka", {}).get("function", {})
        projects[name] = Project(name, pyproject.parent, deps, function)
    return projects


def first_party_closure(name: str, projects: dict[str, Project]) -> list[Project]:
    """The function's project and every sibling it needs, by name."""
    seen: dict[str, Project] = {}
    todo = [canonicalize_name(name)]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        if current not in projects:
            raise BuildError(f"{current} is not a workspace project")
        seen[current] = projects[current]
        todo.extend(canonicalize_name(r.name) for r in projects[current].dependencies if FIRST_PARTY.match(r.name))
    return [seen[n] for n in sorted(seen)]


def _applies(requirement: Requirement, extras: Iterable[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**TARGET_ENVIRONMENT, "extra": extra}) for extra in [*extras, ""])


def pinned_requirements(projects: Iterable[Project], exclude: Iterable[str] = ()) -> list[str]:
    """Exact ``name==version`` pins of every third-party distribution the projects need on the target runtime.

    Versions come from the environment this script runs in; markers are evaluated for Linux x86_64 CPython 3.12.
    ``exclude`` names distributions (and so whatever only they need) that the function never imports.
    """
    skipped = {canonicalize_name(name) for name in exclude}
    todo: list[tuple[Requirement, frozenset[str]]] = [
        (r, frozenset()) for p in projects for r in p.dependencies if not FIRST_PARTY.match(r.name)
    ]
    pins: dict[str, str] = {}
    done: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement, parent_extras = todo.pop()
        if not _applies(requirement, parent_extras):
            continue
        name = canonicalize_name(requirement.name)
        extras = frozenset(requirement.extras)
        if name in skipped or (name, extras) in done:
            continue
        done.add((name, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise BuildError(f"{name} is needed but not installed here: build from the `build` environment") from None
        if not requirement.specifier.contains(dist.version, prereleases=True):
            raise BuildError(f"installed {name} {dist.version} does not satisfy {requirement}")
        pins[name] = dist.version
        for child in dist.requires or []:
            child_requirement = Requirement(child)
            if child_requirement.marker is None or _applies(child_requirement, extras):
                todo.append((child_requirement, extras))
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def _source_files(project: Project) -> Iterator[tuple[str, Path]]:
    for package in project.sources:
        for path in sorted(package.rglob("*")):
            relative = path.relative_to(package.parent)
            if path.is_dir() or SKIPPED_PARTS & set(relative.parts) or path.suffix in SKIPPED_SUFFIXES:
                continue
            yield relative.as_posix(), path


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so the permission bits below are honoured
    info.external_attr = 0o644 << 16
    return info


def write_zip(path: Path, files: dict[str, bytes]) -> None:
    """A zip whose bytes depend only on ``files``: sorted names, fixed dates and modes, fixed compression."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(files):
            archive.writestr(_entry(name), files[name])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def check_limits(name: str, size: int, unzipped: int, *, vendored: bool) -> None:
    if vendored:
        if size > BUCKET_ZIP_LIMIT:
            raise BuildError(f"{name}: {size} bytes zipped is over the {BUCKET_ZIP_LIMIT} byte limit")
        if unzipped > UNZIPPED_LIMIT:
            raise BuildError(f"{name}: {unzipped} bytes unzipped is over the {UNZIPPED_LIMIT} byte limit")
    elif size > DIRECT_UPLOAD_LIMIT:
        raise BuildError(f"{name}: {size} bytes is over the {DIRECT_UPLOAD_LIMIT} byte direct-upload limit")


def download_wheels(requirements: list[str], into: Path) -> list[Path]:
    """The manylinux x86_64 / CPython 3.12 wheels of the pins (binary only, no resolution: the pins are complete)."""
    platforms = [arg for platform in TARGET_PLATFORMS for arg in ("--platform", platform)]
    lock = into / "requirements.txt"
    lock.write_text("\n".join(requirements) + "\n")
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
        "--python-version", TARGET_PYTHON, "--implementation", "cp", *platforms, "-r", str(lock), "-d", str(into),
    ]  # fmt: skip
    subprocess.run(command, check=True)  # noqa: S603 - our own interpreter's pip
    return sorted(into.glob("*.whl"))


def _vendored_entry_ships(info: zipfile.ZipInfo) -> bool:
    """Wheel contents minus what never runs: bytecode, RECORD (its hashes would lie once we drop files), test suites."""
    parts = info.filename.split("/")
    return not info.is_dir() and not info.filename.endswith((".pyc", "/RECORD")) and "tests" not in parts[:-1]


def vendored_files(requirements: list[str]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="plastinka-wheels-") as scratch:
        for wheel in download_wheels(requirements, Path(scratch)):
            with zipfile.ZipFile(wheel) as archive:
                for info in archive.infolist():
                    if _vendored_entry_ships(info):
                        files[info.filename] = archive.read(info)
    return files


def build_function(name: str, out_dir: Path, *, vendor: bool = False, root: Path = ROOT) -> Built:
    projects = workspace_projects(root)
    closure = first_party_closure(f"plastinka-{name}", projects)
    function_project = projects[canonicalize_name(f"plastinka-{name}")]
    excluded = [str(name) for name in function_project.function.get("exclude", [])]  # type: ignore[attr-defined]
    requirements = pinned_requirements(closure, excluded)
    files: dict[str, bytes] = {"index.py": (function_project.directory / "index.py").read_bytes()}
    for project in closure:
        for relative, path in _source_files(project):
            if relative in files:
                raise BuildError(f"{relative} is shipped by two projects")
            files[relative] = path.read_bytes()
    if vendor:
        for relative, data in vendored_files(requirements).items():
            files.setdefault(relative, data)
        files["vendored-requirements.txt"] = ("\n".join(requirements) + "\n").encode()
    else:
        header = f"# {name}: every third-party distribution, pinned for CPython {TARGET_PYTHON} on Linux x86_64.\n"
        files["requirements.txt"] = (header + "\n".join(requirements) + "\n").encode()
    path = out_dir / f"{name}.zip"
    write_zip(path, files)
    data = path.read_bytes()
    unzipped = sum(len(v) for v in files.values())
    check_limits(name, len(data), unzipped, vendored=vendor)
    return Built(
        name=name,
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        unzipped_size=unzipped,
        requirements=tuple(requirements),
        vendored=vendor,
        function=function_project.function,
    )


def build_all(out_dir: Path, *, vendor: bool = False, names: Iterable[str] = FUNCTIONS) -> list[Built]:
    built = [build_function(name, out_dir, vendor=vendor) for name in names]
    manifest = {"schema": 1, "functions": [b.manifest_entry() for b in built]}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "functions", help="output directory")
    parser.add_argument("--vendor", action="store_true", help="unpack manylinux x86_64 cp312 wheels into the zips")
    parser.add_argument("names", nargs="*", default=list(FUNCTIONS), help="functions to build (default: all)")
    args = parser.parse_args(argv)
    try:
        built = build_all(args.out, vendor=args.vendor, names=args.names)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for b in built:
        print(f"{b.path}  {b.size:>10,} bytes  sha256 {b.sha256}  {len(b.requirements)} pinned requirements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
