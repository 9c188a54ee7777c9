"""Heuristics that tell a secret name or a secret-looking literal from a plain setting."""

from __future__ import annotations

import math
import re
from collections import Counter

SECRET_NAME = re.compile(r"(password|passwd|secret|token|private[_-]?key|access[_-]?key|api[_-]?key|credential)", re.I)

# Shapes of real credentials: PEM blocks, Yandex IAM/OAuth tokens and key ids, AWS-style key ids.
SECRET_VALUE = re.compile(
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----|\bt1\.[A-Za-z0-9_-]{20,}|\by[0-3]_[A-Za-z0-9_-]{20,}"
    r"|\bYC[A-Za-z0-9_-]{30,}|\bAQVN[A-Za-z0-9_-]{20,}|\bAKIA[A-Z0-9]{16}\b)"
)


def is_expression(value: str) -> bool:
    """A Terraform interpolation (a reference, not a literal)."""
    return value.startswith("${") and value.endswith("}")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_secret(value: str) -> bool:
    """A literal that is a known credential shape, or a long random-looking token without spaces."""
    if SECRET_VALUE.search(value):
        return True
    bare = value.strip()
    return len(bare) >= 32 and " " not in bare and "/" not in bare and entropy(bare) >= 4.2
