"""A minimal, bounds-checked FlatBuffers table reader.

Only what the TFLite schema needs: tables, scalars, vectors of scalars, vectors of
tables, strings. Every read is checked so that a truncated or corrupt file raises
`FlatBufferError` instead of returning garbage or an IndexError deep in the stack.
"""

from __future__ import annotations

import struct

import numpy as np


class FlatBufferError(ValueError):
    """The bytes are not a well-formed flatbuffer."""


class Table:
    """A view of one flatbuffer table at `pos` in `buf`."""

    __slots__ = ("buf", "pos", "_vtable", "_vtable_len")

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf = buf
        self.pos = pos
        vt_off = _unpack(buf, "<i", pos)
        vtable = pos - vt_off
        self._vtable = vtable
        self._vtable_len = _unpack(buf, "<H", vtable)
        if self._vtable_len < 4 or self._vtable_len % 2:
            raise FlatBufferError(f"bad vtable at offset {vtable}")
        _check(buf, vtable, self._vtable_len)

    @classmethod
    def root(cls, buf: bytes) -> "Table":
        return cls(buf, _unpack(buf, "<I", 0))

    def _field(self, index: int) -> int:
        """Absolute position of field `index`, or 0 when absent."""
        slot = 4 + 2 * index
        if slot >= self._vtable_len:
            return 0
        off = _unpack(self.buf, "<H", self._vtable + slot)
        return self.pos + off if off else 0

    def has(self, index: int) -> bool:
        return self._field(index) != 0

    def scalar(self, index: int, fmt: str, default: int | float | bool = 0):
        at = self._field(index)
        return _unpack(self.buf, "<" + fmt, at) if at else default

    def _indirect(self, at: int) -> int:
        return at + _unpack(self.buf, "<I", at)

    def table(self, index: int) -> "Table | None":
        at = self._field(index)
        return Table(self.buf, self._indirect(at)) if at else None

    def _vector(self, index: int) -> tuple[int, int] | None:
        at = self._field(index)
        if not at:
            return None
        start = self._indirect(at)
        return start + 4, _unpack(self.buf, "<I", start)

    def vector_len(self, index: int) -> int:
        vec = self._vector(index)
        return vec[1] if vec else 0

    def numpy(self, index: int, dtype: str) -> np.ndarray:
        """A vector of scalars as a read-only numpy array (empty when absent)."""
        vec = self._vector(index)
        dt = np.dtype(dtype).newbyteorder("<")
        if vec is None:
            return np.zeros(0, dt)
        start, n = vec
        _check(self.buf, start, n * dt.itemsize)
        return np.frombuffer(self.buf, dt, n, start)

    def tables(self, index: int) -> list["Table"]:
        vec = self._vector(index)
        if vec is None:
            return []
        start, n = vec
        _check(self.buf, start, 4 * n)
        return [Table(self.buf, self._indirect(start + 4 * i)) for i in range(n)]

    def string(self, index: int) -> str:
        vec = self._vector(index)
        if vec is None:
            return ""
        start, n = vec
        _check(self.buf, start, n)
        return self.buf[start : start + n].decode("utf-8", "replace")


def _check(buf: bytes, pos: int, size: int) -> None:
    if pos < 0 or size < 0 or pos + size > len(buf):
        raise FlatBufferError(f"reference past the end of the data (offset {pos}, {len(buf)} bytes)")


def _unpack(buf: bytes, fmt: str, pos: int):
    size = struct.calcsize(fmt)
    _check(buf, pos, size)
    return struct.unpack_from(fmt, buf, pos)[0]
