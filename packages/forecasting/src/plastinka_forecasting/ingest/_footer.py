"""The uncompressed size a parquet file declares, read from its footer without decoding a page.

polars exposes the row count of a footer but not its sizes, so the footer (Thrift compact protocol) is walked here:
``FileMetaData.row_groups[*].total_byte_size`` is the uncompressed size of each row group's column data. A
plain-encoded column of one long string repeated compresses to almost nothing and declares its real size here.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

_MAGIC = b"PAR1"
_MAX_DEPTH = 32
#: FileMetaData field 4: list<RowGroup>; RowGroup field 2: i64 total_byte_size.
_ROW_GROUPS, _TOTAL_BYTE_SIZE = 4, 2
_STRUCT, _LIST, _SET, _MAP, _BINARY, _I64 = 12, 9, 10, 11, 8, 6
#: Compact-protocol types of a fixed width (booleans: none, in a field header), and the varint ones.
_FIXED = {1: 0, 2: 0, 3: 1, 7: 8}
_VARINTS = (4, 5, _I64)


class FooterError(ValueError):
    """The footer is not valid Thrift compact protocol."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def byte(self) -> int:
        if self.at >= len(self.data):
            raise FooterError("footer ends early")
        self.at += 1
        return self.data[self.at - 1]

    def varint(self) -> int:
        value = shift = 0
        while True:
            part = self.byte()
            value |= (part & 0x7F) << shift
            if part < 0x80:
                return value
            shift += 7
            if shift > 70:
                raise FooterError("varint too long")

    def zigzag(self) -> int:
        value = self.varint()
        return (value >> 1) ^ -(value & 1)

    def skip(self, kind: int, depth: int) -> None:
        """Step over one value of ``kind`` (a struct field's: booleans live in the field header)."""
        if depth > _MAX_DEPTH:
            raise FooterError("footer nested too deep")
        if kind in _FIXED:
            self.at += _FIXED[kind]
        elif kind in _VARINTS:
            self.varint()
        elif kind == _BINARY:
            size = self.varint()  # read before ``self.at`` is: ``+=`` would load the old position first
            self.at += size
        elif kind in (_LIST, _SET):
            size, element = self.list_header()
            for _ in range(size):
                self.element(element, depth + 1)
        elif kind == _MAP:
            self.skip_map(depth)
        elif kind == _STRUCT:
            for _, field_kind in self.fields():
                self.skip(field_kind, depth + 1)
        else:
            raise FooterError(f"unknown type {kind}")
        if self.at > len(self.data):
            raise FooterError("footer ends early")

    def skip_map(self, depth: int) -> None:
        size = self.varint()
        if size > len(self.data) - self.at:
            raise FooterError("map longer than the footer")
        if size:
            types = self.byte()
            for _ in range(size):
                self.element(types >> 4, depth + 1)
                self.element(types & 0x0F, depth + 1)

    def element(self, kind: int, depth: int) -> None:
        """A container's element: unlike a struct field, a boolean here is a byte of its own."""
        if kind in (1, 2):
            self.byte()
        else:
            self.skip(kind, depth)

    def list_header(self) -> tuple[int, int]:
        header = self.byte()
        size = header >> 4
        if size == 15:
            size = self.varint()
        if size > len(self.data) - self.at:  # every element takes a byte at least
            raise FooterError("list longer than the footer")
        return size, header & 0x0F

    def fields(self) -> Iterator[tuple[int, int]]:
        """A struct's ``(field id, type)`` pairs up to its stop byte; the caller reads or skips each value."""
        last = 0
        while True:
            header = self.byte()
            if header == 0:
                return
            delta, kind = header >> 4, header & 0x0F
            last = last + delta if delta else self.zigzag()
            yield last, kind


def uncompressed_bytes(data: bytes) -> int:
    """The sum of the row groups' ``total_byte_size``; FooterError when the footer cannot be walked."""
    if len(data) < 12 or not data.endswith(_MAGIC):
        raise FooterError("no parquet footer")
    (length,) = struct.unpack("<I", data[-8:-4])
    if length > len(data) - 12:
        raise FooterError("footer longer than the file")
    reader = _Reader(data[-8 - length : -8])
    total = 0
    for field, kind in reader.fields():
        if field != _ROW_GROUPS or kind != _LIST:
            reader.skip(kind, 1)
            continue
        size, element = reader.list_header()
        if element != _STRUCT:
            raise FooterError("row groups are not structs")
        for _ in range(size):
            for group_field, group_kind in reader.fields():
                if group_field == _TOTAL_BYTE_SIZE and group_kind == _I64:
                    total += max(reader.zigzag(), 0)
                else:
                    reader.skip(group_kind, 2)
    return total
