"""Bytes as an `xxd`-style hex dump: offset, eight groups of two bytes, the text."""

from __future__ import annotations

from collections.abc import Iterator

BYTES_PER_LINE = 16


def _printable(byte: int) -> str:
    return chr(byte) if 0x20 <= byte < 0x7F else "."


def hexdump_line(chunk: bytes, offset: int) -> str:
    """One line for up to 16 bytes that start at `offset` in the segment."""
    hex_pairs = chunk.hex()
    groups = " ".join(hex_pairs[i : i + 4] for i in range(0, len(hex_pairs), 4))
    width = BYTES_PER_LINE * 2 + BYTES_PER_LINE // 2 - 1
    return f"{offset:08x}: {groups:<{width}}  {''.join(_printable(b) for b in chunk)}"


def hexdump_lines(data: bytes, start: int = 0) -> Iterator[str]:
    """Lines for `data` read from offset `start`, numbered by their offset in the segment."""
    for index in range(0, len(data), BYTES_PER_LINE):
        yield hexdump_line(data[index : index + BYTES_PER_LINE], start + index)


def hexdump(data: bytes, start: int = 0) -> str:
    return "\n".join(hexdump_lines(data, start))
