"""A model directory as one object: a deterministic tar, and its safe extraction."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

MAX_ARCHIVE_MEMBERS = 64


class ArchiveError(ValueError):
    """Not a model archive this function wrote (or one that tries to escape its directory)."""


def pack_directory(directory: Path) -> bytes:
    """The regular files of ``directory`` (no subdirectories) as an uncompressed tar with fixed metadata."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(p for p in directory.iterdir() if p.is_file()):
            data = path.read_bytes()
            info = tarfile.TarInfo(path.name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack_archive(data: bytes, directory: Path) -> list[str]:
    """Extract a ``pack_directory`` archive into ``directory``: flat regular files only."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            members = tar.getmembers()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise ArchiveError(f"the model archive has {len(members)} entries")
            for member in members:
                if not member.isfile() or "/" in member.name or member.name.startswith("."):
                    raise ArchiveError(f"unexpected entry {member.name!r} in the model archive")
            tar.extractall(directory, filter="data")
    except tarfile.TarError as exc:
        raise ArchiveError(f"not a model archive: {exc}") from exc
    return sorted(m.name for m in members)
