"""One spelling per record: leading zeros a number cell lost are restored only where they are proven.

Excel saves ``014407281110`` typed as a number as ``14407281110`` (or ``14407281110.0``): the same record, two
spellings. A spelling without leading zeros is restored to a padded one when

- the stock file or other rows name exactly one padded form of it (``014407281110`` beside ``14407281110``), or
- no row names a padded form and the GTIN check digit proves the standard length (EAN-8, UPC-A 12); a barcode
  of 8, 12 or 13 digits is already a standard length and is left alone.

Distinct padded spellings (``0012345670`` and ``012345670``) are distinct records and never merge; a bare
spelling that could belong to either stays its own record (with a warning). A bare spelling the stock file
itself uses is kept as the stock file writes it. Digits never change otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final

#: (bare lengths, standard length): 4..7 digits pad to EAN-8, 9..11 to UPC-A; 8, 12 and 13 are standard already.
_GTIN_TARGETS: Final = ((range(4, 8), 8), (range(9, 12), 12))


def gtin_check_ok(digits: str) -> bool:
    """The GS1 mod-10 check: weights 3, 1, 3, ... from the digit before the check digit leftwards."""
    if len(digits) < 2 or not digits.isdigit():
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def gtin_padded(bare: str) -> str | None:
    """The standard-length form of digits that lost their leading zeros, when the check digit proves it."""
    if not bare.isdigit() or not gtin_check_ok(bare):
        return None
    for lengths, target in _GTIN_TARGETS:
        if len(bare) in lengths:
            return bare.zfill(target)
    return None


@dataclass
class Spellings:
    """The decision for every barcode spelling of a dataset."""

    #: spelling -> the record's canonical spelling (only where they differ)
    restored: dict[str, str] = field(default_factory=dict)
    #: spelling -> why it was restored (for the report)
    reasons: dict[str, str] = field(default_factory=dict)
    #: bare spelling -> the padded spellings it could belong to (left as is)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)

    def canonical(self, spelling: str) -> str:
        return self.restored.get(spelling, spelling)


def decide(counts: dict[str, int], in_stock: set[str]) -> Spellings:
    """Group spellings by their digits without leading zeros and pick the record each bare spelling belongs to.

    ``counts`` holds every distinct digit-only spelling and how many rows use it; ``in_stock`` those the stock
    file uses. Spellings with letters are never touched.
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for spelling in counts:
        if spelling.isdigit():
            groups[spelling.lstrip("0")].append(spelling)
    result = Spellings()
    for bare, spellings in groups.items():
        if bare not in counts or not bare:
            continue  # no bare spelling: every spelling is its own record
        if bare in in_stock:
            continue  # the stock file writes it without zeros: that is the shop's spelling
        padded = sorted(s for s in spellings if s != bare)
        target, why = None, ""
        gtin = gtin_padded(bare)
        if len(padded) == 1:
            target = padded[0]
            source = "the stock file's spelling" if target in in_stock else "the spelling other rows use"
            why = f"leading zeros restored: {source}"
        elif len(padded) > 1:
            stocked = [s for s in padded if s in in_stock]
            if gtin in padded:
                target, why = gtin, "leading zeros restored: the GTIN check digit proves this length"
            elif len(stocked) == 1:
                target, why = stocked[0], "leading zeros restored: the stock file's spelling"
            else:
                result.ambiguous[bare] = padded
        elif gtin is not None and gtin != bare:
            target, why = gtin, "leading zeros restored: the GTIN check digit proves this length"
        if target is not None:
            result.restored[bare] = target
            result.reasons[bare] = why
    return result
