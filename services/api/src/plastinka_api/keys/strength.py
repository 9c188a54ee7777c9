"""Is a chosen key strong enough to be an admin key? (Generated keys always are: 256 random bits.)"""

from __future__ import annotations

import math
from collections import Counter

MIN_LENGTH = 32
#: Shannon estimate over the key's own characters (length x per-character entropy), in bits. A key from
#: ``secrets.token_urlsafe(32)`` scores about 200, a 32-digit hex one 95 or more; ``"a" * 40`` scores 0.
MIN_ESTIMATED_BITS = 88
HOW_TO_MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def estimated_bits(secret: str) -> float:
    counts = Counter(secret)
    n = len(secret)
    return max(0.0, -n * sum(c / n * math.log2(c / n) for c in counts.values())) if n else 0.0


def weakness(secret: str) -> str | None:
    """Why ``secret`` is too weak to be a key (with how to make a good one), or None when it will do."""
    if len(secret) < MIN_LENGTH:
        problem = f"is {len(secret)} characters long; at least {MIN_LENGTH} are needed"
    elif estimated_bits(secret) < MIN_ESTIMATED_BITS:
        problem = f"repeats too few different characters (about {estimated_bits(secret):.0f} bits of variety)"
    else:
        return None
    return f"the key {problem}. Make one with: {HOW_TO_MAKE_ONE}"
