"""The one module that builds object keys, and the rules every key must pass.

Layout::

    datasets/<sha256>/<safe filename>          content-addressed uploads: identical bytes are stored once
    models/<model_id>/<name>                   a registered model's files
    jobs/<job_id>/attempt-<n>/<name>           what one attempt of a job wrote
    jobs/<job_id>/attempt-<n>/status.json      the attempt's final status (reconciles a lost callback)

A key is 1..1024 bytes of ``/``-separated segments; each segment starts with a letter or digit and holds only
``A-Z a-z 0-9 . _ = -``. That refuses absolute paths, ``..``, empty segments, backslashes, NUL and hidden
(dot) names, so a key can never escape a local store's root or collide with its sidecar files, and every key
is a valid ``plastinka_schemas.ArtifactRef.key``.
"""

from __future__ import annotations

import re
import unicodedata

from plastinka_storage.errors import InvalidKey

__all__ = [
    "STATUS_OBJECT_NAME",
    "dataset_key",
    "dataset_prefix",
    "job_artifact_key",
    "job_attempt_prefix",
    "job_prefix",
    "job_status_key",
    "model_key",
    "model_prefix",
    "safe_filename",
    "validate_key",
    "validate_prefix",
    "validate_sha256",
]

STATUS_OBJECT_NAME = "status.json"
MAX_KEY_BYTES = 1024
_MAX_FILENAME = 150
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=-]*")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._=-]+")

# The shop's files are often named in Russian: keep them readable rather than reducing them to underscores.
_TRANSLIT = (
    "а=a б=b в=v г=g д=d е=e ё=e ж=zh з=z и=i й=i к=k л=l м=m н=n о=o п=p р=r с=s т=t у=u ф=f х=kh ц=ts ч=ch "
    "ш=sh щ=shch ъ= ы=y ь= э=e ю=yu я=ya"
)
_CYRILLIC = dict(pair.split("=") for pair in _TRANSLIT.split())


def validate_key(key: object) -> str:
    """Return ``key`` if it is an acceptable object key, else raise ``InvalidKey`` saying why."""
    if not isinstance(key, str):
        raise InvalidKey(key, "a key must be a string")
    if not key:
        raise InvalidKey(key, "a key cannot be empty")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKey(key, f"longer than {MAX_KEY_BYTES} bytes")
    if "\x00" in key:
        raise InvalidKey(key, "contains NUL")
    if "\\" in key:
        raise InvalidKey(key, "contains a backslash")
    if key.startswith("/"):
        raise InvalidKey(key, "absolute keys are not allowed")
    if key.endswith("/"):
        raise InvalidKey(key, "a key cannot end with '/' (that is a prefix)")
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey(key, "empty path segment ('//')")
        if segment in {".", ".."}:
            raise InvalidKey(key, f"path segment {segment!r} is not allowed")
        if segment.startswith("."):
            raise InvalidKey(key, f"hidden segment {segment!r} is not allowed")
        if not _SEGMENT.fullmatch(segment):
            raise InvalidKey(key, f"segment {segment!r} must start with a letter or digit and use only A-Za-z0-9._=-")
    return key


def validate_prefix(prefix: object) -> str:
    """Return ``prefix`` if it can start keys: empty, or a key optionally followed by one ``/``."""
    if prefix == "":
        return ""
    if not isinstance(prefix, str):
        raise InvalidKey(prefix, "a prefix must be a string")
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def validate_sha256(value: object) -> str:
    """Return a lowercase hex sha256 digest, or raise ``InvalidKey``."""
    if not isinstance(value, str) or not _SHA256.fullmatch(value.lower()):
        raise InvalidKey(value, "not a hex sha256 digest (64 hex characters)")
    return value.lower()


def safe_filename(name: str) -> str:
    """Reduce a client-supplied file name to one safe key segment, keeping its extension.

    Directory parts (``/`` or ``\\``) are dropped, Cyrillic is transliterated, other unsafe runs become ``_``.
    """
    base = re.split(r"[/\\]", name)[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(_translit(ch) for ch in base)
    base = _UNSAFE_RUN.sub("_", base)
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem.strip("._=-"):
        stem, ext = base, ""
    ext = ext.strip("._=-")[:16]
    stem = stem.strip("._=-")
    stem = stem[: _MAX_FILENAME - len(ext) - 1] or "file"
    return f"{stem}.{ext}" if ext else stem


def _translit(ch: str) -> str:
    low = ch.lower()
    if low not in _CYRILLIC:
        return ch
    out = _CYRILLIC[low]
    return out.capitalize() if ch != low else out


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidKey(value, f"{what} must be 1-64 characters of A-Za-z0-9_- starting with a letter or digit")
    return value


def _check_attempt(attempt: object) -> int:
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise InvalidKey(attempt, "attempt must be an integer >= 1")
    return attempt


def _check_name(name: object) -> str:
    """An artifact name chosen by our code: a relative key such as ``model.txt`` or ``plots/item.png``."""
    return validate_key(name)


def dataset_prefix(sha256: str) -> str:
    """``datasets/<sha256>/``: every stored copy of these bytes lives under it."""
    return f"datasets/{validate_sha256(sha256)}/"


def dataset_key(sha256: str, filename: str) -> str:
    """``datasets/<sha256>/<safe filename>`` for an uploaded dataset."""
    return validate_key(dataset_prefix(sha256) + safe_filename(filename))


def model_prefix(model_id: str) -> str:
    """``models/<model_id>/``."""
    return f"models/{_check_id(model_id, 'model_id')}/"


def model_key(model_id: str, name: str) -> str:
    """``models/<model_id>/<name>``."""
    return validate_key(model_prefix(model_id) + _check_name(name))


def job_prefix(job_id: str) -> str:
    """``jobs/<job_id>/``: all attempts of one job."""
    return f"jobs/{_check_id(job_id, 'job_id')}/"


def job_attempt_prefix(job_id: str, attempt: int) -> str:
    """``jobs/<job_id>/attempt-<n>/``: where one attempt writes (the function request's ``output_prefix``)."""
    return f"{job_prefix(job_id)}attempt-{_check_attempt(attempt)}/"


def job_artifact_key(job_id: str, attempt: int, name: str) -> str:
    """``jobs/<job_id>/attempt-<n>/<name>``."""
    return validate_key(job_attempt_prefix(job_id, attempt) + _check_name(name))


def job_status_key(job_id: str, attempt: int) -> str:
    """``jobs/<job_id>/attempt-<n>/status.json``: the final status object a function writes."""
    return job_artifact_key(job_id, attempt, STATUS_OBJECT_NAME)
