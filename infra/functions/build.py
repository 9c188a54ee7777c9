"""Build the function zips Terraform deploys: self-contained, so the platform's builder installs nothing.

Run as ``hatch run build:functions`` (the ``build`` environment has every function's dependencies installed, and
the pins come from it). Each zip holds ``index.py`` at the root, our packages as source, and every third-party
distribution of the pins unpacked from its manylinux x86_64 / CPython 3.12 wheel, minus what never runs (tests,
stubs, C sources and headers, botocore's models of services other than S3, the parts of scipy lightgbm does not
import); native libraries that the wheels expect from the system (libgomp for LightGBM) go to ``shared-libs/``,
which the runtime puts on ``LD_LIBRARY_PATH``, with their licence. The build refuses a zip over
``MAX_ZIP_BYTES`` or a native library with a ``NEEDED`` entry that resolves neither inside the zip nor to the
manylinux base set.

Wheels are downloaded once per set of pins into a cache (``$PLASTINKA_WHEEL_CACHE``, default
``~/.cache/plastinka/function-wheels``). Output: ``dist/functions/<name>.zip`` and ``dist/functions/manifest.json``.
Rebuilding the same commit from the same pins gives byte-identical zips: entries are sorted, timestamps and
permissions are fixed, caches and tests are left out.

``--source-only`` builds the small zip of before (our sources and a ``requirements.txt`` for the platform to
install), for a quick look; it is not what Terraform deploys.
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import hashlib
import io
import json
import os
import re
import struct
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ("train-function", "predict-function")
FIRST_PARTY = re.compile(r"^plastinka-")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DIRECT_UPLOAD_LIMIT = 3_500_000  # the console/API upload limit is 3.5 MB; larger zips go through a bucket
# The bucket route takes "128 MB"; whether Yandex means 10^6 or 2^20 bytes, 100,000,000 leaves headroom under both.
MAX_ZIP_BYTES = 100_000_000
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

# What the vendored wheels carry that never runs in a function: bytecode (the runtime compiles what it imports),
# RECORD (its hashes would lie once files are dropped), test suites, type stubs, Cython and C sources, headers and
# static libraries (for building against the package, not for running it).
VENDOR_SKIPPED_DIRS = {"__pycache__", "tests", "include"}
VENDOR_SKIPPED_SUFFIXES = {".pyc", ".pyo", ".pyi", ".pyx", ".pxd", ".pxi", ".c", ".cpp", ".h", ".hpp", ".a"}
# botocore ships the API models of every AWS service (about 13 MB zipped); the functions only talk to S3.
BOTOCORE_SERVICES = frozenset({"s3"})


@dataclass(frozen=True)
class Subset:
    """A distribution that only other distributions need, cut to the part they import (``keep`` minus ``drop``;
    a pattern ending in ``/`` is a folder, any other is matched segment by segment with fnmatch). While a
    workspace project depends on the distribution by name, all of it ships."""

    keep: tuple[str, ...]
    drop: tuple[str, ...] = ()
    why: str = ""


SUBSETS: dict[str, Subset] = {
    # lightgbm's basic.py does `import scipy.sparse` and uses only its matrix types; plastinka-forecasting's
    # distributions need no scipy. scipy.sparse.linalg (and scipy.libs' OpenBLAS it links) stays out.
    "scipy": Subset(
        keep=("scipy/*.py", "scipy/*.so", "scipy/_lib/", "scipy/sparse/", "scipy-*.dist-info/"),
        drop=("scipy/sparse/linalg/", "scipy/_lib/_test_*"),
        why="lightgbm imports scipy.sparse only",
    ),
}


@dataclass(frozen=True)
class SharedLib:
    """A native library a wheel expects from the system, taken from a manylinux wheel that bundles it (built
    against the manylinux base set, so it runs wherever the other wheels do), shipped as ``shared-libs/<name>``
    with the licence section of the donor's licence file."""

    name: str
    donor: str  # an exact pin
    member: str  # fnmatch pattern of the library inside the donor wheel
    licence_member: str
    licence_section: str  # the heading the donor's licence file gives the bundled library


SHARED_LIBS: tuple[SharedLib, ...] = (
    # lib_lightgbm.so NEEDs libgomp.so.1 (OpenMP); scikit-learn's manylinux wheel bundles GCC's libgomp (needing
    # glibc 2.17 at most) with the GCC Runtime Library Exception in its COPYING.
    SharedLib(
        name="libgomp.so.1",
        donor="scikit-learn==1.9.1",
        member="scikit_learn.libs/libgomp-*.so*",
        licence_member="scikit_learn-*.dist-info/licenses/COPYING",
        licence_section="Name: GCC runtime library",
    ),
)
SHARED_LIBS_DIR = "shared-libs"
# What a vendored library may take from the system: glibc's and GCC's runtime, as every manylinux policy allows,
# and zlib (libgfortran in numpy.libs and scipy.libs needs it): also on the manylinux allowlist, and CPython's own
# zlib module links it, so no python312 runtime is without it.
MANYLINUX_BASE = frozenset(
    {
        "libc.so.6", "libm.so.6", "libdl.so.2", "librt.so.1", "libpthread.so.0", "libgcc_s.so.1",
        "libstdc++.so.6", "ld-linux-x86-64.so.2", "libz.so.1",
    }
)  # fmt: skip
ELF_MAGIC = b"\x7fELF"
EM_X86_64 = 62


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
    shared_libs: tuple[str, ...] = ()
    contents: dict[str, tuple[int, int]] = field(default_factory=dict)  # top-level entry -> (zipped, unpacked)

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
            "shared_libs": list(self.shared_libs),
            "contents": {name: {"zipped": z, "unpacked": u} for name, (z, u) in sorted(self.contents.items())},
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
        if size > MAX_ZIP_BYTES:
            raise BuildError(f"{name}: {size} bytes zipped is over the {MAX_ZIP_BYTES} byte limit")
        if unzipped > UNZIPPED_LIMIT:
            raise BuildError(f"{name}: {unzipped} bytes unzipped is over the {UNZIPPED_LIMIT} byte limit")
    elif size > DIRECT_UPLOAD_LIMIT:
        raise BuildError(f"{name}: {size} bytes is over the {DIRECT_UPLOAD_LIMIT} byte direct-upload limit")


def wheel_cache() -> Path:
    configured = os.environ.get("PLASTINKA_WHEEL_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "plastinka" / "function-wheels"


def download_wheels(requirements: list[str], into: Path) -> list[Path]:
    """The manylinux x86_64 / CPython 3.12 wheels of the pins (binary only, no resolution: the pins are complete).

    ``into`` is a cache folder for exactly these pins: once a download completed there, it is reused as it is.
    """
    done = into / ".complete"
    if not done.exists():
        into.mkdir(parents=True, exist_ok=True)
        platforms = [arg for platform in TARGET_PLATFORMS for arg in ("--platform", platform)]
        lock = into / "requirements.txt"
        lock.write_text("\n".join(requirements) + "\n")
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--python-version", TARGET_PYTHON, "--implementation", "cp", *platforms,
            "-r", str(lock), "-d", str(into),
        ]  # fmt: skip
        subprocess.run(command, check=True)  # noqa: S603 - our own interpreter's pip
        done.write_text("")
    wheels = sorted(into.glob("*.whl"))
    expected = {canonicalize_name(r.split("==")[0]) for r in requirements}
    got = {canonicalize_name(w.name.split("-")[0]) for w in wheels}
    if got != expected:
        raise BuildError(f"wheel cache {into} does not match the pins: missing {sorted(expected - got)}")
    return wheels


def _pins_cache(requirements: list[str]) -> Path:
    key = hashlib.sha256(("\n".join(requirements) + f"\n{TARGET_PYTHON} {TARGET_PLATFORMS}").encode()).hexdigest()
    return wheel_cache() / key[:24]


def _vendored_entry_ships(info: zipfile.ZipInfo) -> bool:
    """Wheel contents minus what never runs (see ``VENDOR_SKIPPED_*``) and botocore's other services."""
    if info.is_dir() or info.filename.endswith("/RECORD"):
        return False
    parts = info.filename.split("/")
    if parts[0].endswith(".data") and parts[1:2] == ["scripts"]:  # console scripts: nothing runs them here
        return False
    if VENDOR_SKIPPED_DIRS & set(parts[:-1]) or Path(parts[-1]).suffix in VENDOR_SKIPPED_SUFFIXES:
        return False
    return not (parts[:2] == ["botocore", "data"] and len(parts) > 3 and parts[2] not in BOTOCORE_SERVICES)


def path_matches(name: str, pattern: str) -> bool:
    """``pattern`` ending in ``/``: ``name`` is under that folder (its first segments may be globs); otherwise
    the same number of segments, each matching."""
    parts, wanted = name.split("/"), pattern.rstrip("/").split("/")
    if pattern.endswith("/"):
        return len(parts) > len(wanted) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, wanted, strict=False))
    return len(parts) == len(wanted) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, wanted, strict=True))


def _subset_ships(subset: Subset, name: str) -> bool:
    return any(path_matches(name, p) for p in subset.keep) and not any(path_matches(name, p) for p in subset.drop)


def vendored_files(
    requirements: list[str], *, subsets: dict[str, Subset] | None = None, cache: Path | None = None
) -> dict[str, bytes]:
    """Every pinned wheel unpacked, pruned; ``subsets`` cut the distributions they name."""
    subsets = subsets or {}
    files: dict[str, bytes] = {}
    for wheel in download_wheels(requirements, cache or _pins_cache(requirements)):
        subset = subsets.get(canonicalize_name(wheel.name.split("-")[0]))
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if _vendored_entry_ships(info) and (subset is None or _subset_ships(subset, info.filename)):
                    files[info.filename] = archive.read(info)
    return files


def _licence_section(text: str, heading: str) -> str:
    """The section of a bundled-software licence file that starts at ``heading`` (up to the next ``----``)."""
    start = text.find(heading)
    if start < 0:
        raise BuildError(f"licence file has no section {heading!r}")
    end = text.find("\n----", start)
    return text[start : end if end >= 0 else len(text)].rstrip() + "\n"


def shared_lib_files(libs: Iterable[SharedLib]) -> dict[str, bytes]:
    """``shared-libs/<name>`` and ``shared-libs/<name>.LICENSE.txt`` for each library, from its donor wheel."""
    files: dict[str, bytes] = {}
    for lib in libs:
        [wheel] = download_wheels([lib.donor], wheel_cache() / f"donor-{lib.donor.replace('==', '-')}")
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            members = [n for n in names if fnmatch.fnmatch(n, lib.member)]
            licences = [n for n in names if fnmatch.fnmatch(n, lib.licence_member)]
            if len(members) != 1 or len(licences) != 1:
                raise BuildError(f"{lib.donor}: expected one {lib.member} and one {lib.licence_member}")
            section = _licence_section(archive.read(licences[0]).decode("utf-8"), lib.licence_section)
            files[f"{SHARED_LIBS_DIR}/{lib.name}"] = archive.read(members[0])
        header = f"{lib.name} is {members[0]} from the {wheel.name} wheel ({lib.donor}), whose licence file says:\n\n"
        files[f"{SHARED_LIBS_DIR}/{lib.name}.LICENSE.txt"] = (header + section).encode()
    return files


def elf_needed(data: bytes) -> list[str] | None:
    """The ``DT_NEEDED`` names of an x86_64 ELF shared object; None when ``data`` is not ELF."""
    if not data.startswith(ELF_MAGIC):
        return None
    if data[4] != 2 or data[5] != 1 or struct.unpack_from("<H", data, 18)[0] != EM_X86_64:
        raise BuildError("not a little-endian ELF64 x86_64 object")
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads: list[tuple[int, int, int]] = []
    dynamic: tuple[int, int] | None = None
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == 1:  # PT_LOAD
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 2:  # PT_DYNAMIC
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return []
    needed: list[int] = []
    strtab = None
    for offset in range(dynamic[0], dynamic[0] + dynamic[1], 16):
        tag, value = struct.unpack_from("<qQ", data, offset)
        if tag == 0:  # DT_NULL
            break
        if tag == 1:  # DT_NEEDED
            needed.append(value)
        elif tag == 5:  # DT_STRTAB (an address)
            strtab = value
    if not needed:
        return []
    base = next((strtab - v + o for v, o, n in loads if strtab is not None and v <= strtab < v + n), None)
    if base is None:
        raise BuildError("DT_STRTAB is outside every loaded segment")
    return [data[base + n : data.index(b"\0", base + n)].decode() for n in needed]


def unresolved_libraries(files: dict[str, bytes]) -> list[str]:
    """``path: NEEDED`` for every native library entry that resolves neither in the zip (the object's own folder,
    a ``*.libs/`` folder as auditwheel lays them out, ``shared-libs/``) nor to the manylinux base set."""
    by_folder: dict[str, set[str]] = collections.defaultdict(set)
    for name in files:
        folder, _, base = name.rpartition("/")
        by_folder[folder].add(base)
    shared = {b for folder, bases in by_folder.items() for b in bases if folder.endswith(".libs")}
    shared |= by_folder.get(SHARED_LIBS_DIR, set())
    missing = []
    for name, data in sorted(files.items()):
        for needed in elf_needed(data) or []:
            folder = name.rpartition("/")[0]
            if needed not in MANYLINUX_BASE and needed not in by_folder[folder] and needed not in shared:
                missing.append(f"{name}: {needed}")
    return missing


def contents_sizes(path: Path) -> dict[str, tuple[int, int]]:
    """Zipped and unpacked bytes per top-level entry (a package, its ``*.libs``, dist-info folders together)."""
    sizes: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            top = info.filename.split("/")[0]
            top = "*.dist-info" if top.endswith(".dist-info") else top
            sizes[top][0] += info.compress_size
            sizes[top][1] += info.file_size
    return {name: (z, u) for name, (z, u) in sizes.items()}


def build_function(name: str, out_dir: Path, *, vendor: bool = True, root: Path = ROOT) -> Built:
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
    shared: tuple[str, ...] = ()
    if vendor:
        direct = {canonicalize_name(r.name) for p in closure for r in p.dependencies if not FIRST_PARTY.match(r.name)}
        subsets = {dist: subset for dist, subset in SUBSETS.items() if dist not in direct}
        for relative, data in vendored_files(requirements, subsets=subsets).items():
            files.setdefault(relative, data)
        libs = shared_lib_files(SHARED_LIBS)
        files.update(libs)
        shared = tuple(sorted(n.rpartition("/")[2] for n in libs if not n.endswith(".txt")))
        files["vendored-requirements.txt"] = ("\n".join(requirements) + "\n").encode()
        missing = unresolved_libraries(files)
        if missing:
            raise BuildError(f"{name}: native libraries need what the zip does not ship: {'; '.join(missing)}")
    else:
        header = f"# {name}: every third-party distribution, pinned for CPython {TARGET_PYTHON} on Linux x86_64.\n"
        files["requirements.txt"] = (header + "\n".join(requirements) + "\n").encode()
    path = out_dir / f"{name}.zip"
    write_zip(path, files)
    data = path.read_bytes()
    unzipped = sum(len(v) for v in files.values())
    built = Built(
        name=name,
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        unzipped_size=unzipped,
        requirements=tuple(requirements),
        vendored=vendor,
        function=function_project.function,
        shared_libs=shared,
        contents=contents_sizes(path),
    )
    check_limits(name, len(data), unzipped, vendored=vendor)
    return built


def build_all(out_dir: Path, *, vendor: bool = True, names: Iterable[str] = FUNCTIONS) -> list[Built]:
    built = [build_function(name, out_dir, vendor=vendor) for name in names]
    manifest = {"schema": 1, "functions": [b.manifest_entry() for b in built]}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "functions", help="output directory")
    parser.add_argument(
        "--source-only",
        action="store_true",
        help="our sources and a requirements.txt only (small; not what Terraform deploys)",
    )
    parser.add_argument("--sizes", action="store_true", help="print zipped/unpacked bytes per top-level entry")
    parser.add_argument("names", nargs="*", default=list(FUNCTIONS), help="functions to build (default: all)")
    args = parser.parse_args(argv)
    try:
        built = build_all(args.out, vendor=not args.source_only, names=args.names)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for b in built:
        print(f"{b.path}  {b.size:>12,} bytes ({b.unzipped_size:,} unpacked)  sha256 {b.sha256}")
        if args.sizes:
            for entry, (zipped, unpacked) in sorted(b.contents.items(), key=lambda item: -item[1][0]):
                print(f"    {entry:<32} {zipped:>12,} {unpacked:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
