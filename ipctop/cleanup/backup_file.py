"""Reading a backup file: strict, bounded in memory, one sentence for anything wrong.

A backup is JSON, but a general JSON parser holds the whole document, and a
segment's base64 can be gigabytes.  This reader knows the one shape a backup
has and walks the file in small pieces: the short fields are read as values,
the long ones (a segment's `data`, each message's `data`) are only checked
(base64, length) and their place in the file kept, to be read again piece by
piece when the object is restored.  Memory does not grow with the object.

It is strict, because a backup may come from anyone (restore runs as root):
every field has one type (a bool is not a number, a float is not an int), a
number has at most MAX_DIGITS characters, times are finite, nothing nests
deeper than a backup does, text fields are short, and a file larger than its
object could be is refused before it is read further.  Every refusal is a
BackupFileError whose str() is one sentence without the path (the caller adds it).
"""

from __future__ import annotations

import binascii
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

PIECE = 64 * 1024  # bytes read from the file at a time
MAX_DIGITS = 40  # characters of a number: far more than any field needs
MAX_TEXT = 64 * 1024  # characters of a text field (reason, host)
MAX_KEY = 64  # characters of a field name
MAX_DEPTH = 8  # nesting of a field this reader does not know (kept for later versions), skipped
MAX_VALUES = 65536  # semaphores in a set (SEMMSL is at most 32000)
ALLOWANCE = 1 << 20  # bytes a backup may hold besides its contents' base64
MESSAGE_ALLOWANCE = 128  # bytes of JSON around each message
MAX_PRIORITY = 32767  # of a POSIX queue's message (the kernel's MQ_PRIO_MAX - 1)
_NUMBER = re.compile(rb"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


class BackupFileError(Exception):
    """What is wrong with the file, in one sentence."""


@dataclass(frozen=True, slots=True)
class Span:
    """Where a long base64 text is in the file, and how many bytes it decodes to."""

    offset: int  # of its first character, after the opening quote
    length: int  # characters of base64
    decoded: int


@dataclass
class Parsed:
    """The short fields by name, the segment's data, and the messages' count and sizes."""

    fields: dict[str, Any] = field(default_factory=dict)
    data: Span | None = None
    messages: int = 0
    message_bytes: int = 0
    largest_message: int = 0


def base64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


class _Reader:
    """The file, read forward in pieces, with one character of look-ahead."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.at = 0  # index in buffer
        self.base = 0  # file offset of buffer[0]
        os.lseek(fd, 0, os.SEEK_SET)

    @property
    def offset(self) -> int:
        return self.base + self.at

    def _fill(self) -> bool:
        if self.at < len(self.buffer):
            return True
        self.base += len(self.buffer)
        self.buffer = os.read(self.fd, PIECE)
        self.at = 0
        return bool(self.buffer)

    def peek(self) -> int:
        """The next byte without taking it; -1 at the end."""
        if not self._fill():
            return -1
        return self.buffer[self.at]

    def take(self) -> int:
        byte = self.peek()
        if byte < 0:
            raise BackupFileError("it ends in the middle")
        self.at += 1
        return byte

    def skip_space(self) -> int:
        while (byte := self.peek()) in (0x20, 0x09, 0x0A, 0x0D):
            self.at += 1
        return byte

    def expect(self, char: str, what: str) -> None:
        if self.skip_space() != ord(char):
            raise BackupFileError(f"it is not a backup's JSON: {what} expected at byte {self.offset}")
        self.at += 1

    def text(self, limit: int) -> str:
        """A JSON string of at most `limit` characters (escapes decoded by json itself)."""
        import json

        self.expect('"', "a text")
        raw = bytearray(b'"')
        while True:
            byte = self.take()
            raw.append(byte)
            if byte == 0x5C:  # backslash: the next character is escaped
                raw.append(self.take())
            elif byte == 0x22:
                break
            if len(raw) > limit * 6 + 2:  # \\uXXXX is six characters for one
                raise BackupFileError(f"a text field is longer than {limit} characters")
        try:
            value = json.loads(bytes(raw))
        except (ValueError, UnicodeDecodeError):
            raise BackupFileError(f"a text field is not valid JSON text, at byte {self.offset}") from None
        if len(value) > limit:
            raise BackupFileError(f"a text field is longer than {limit} characters")
        return value

    def base64(self, sink: Callable[[bytes], None] | None = None) -> Span:
        """A long base64 string: checked piece by piece (and handed to `sink` decoded), never held whole."""
        self.expect('"', "a base64 text")
        start = self.offset
        pending = b""
        decoded = 0
        ended = False  # padding seen: nothing may follow
        while True:
            if not self._fill():
                raise BackupFileError("it ends in the middle of a base64 text")
            end = self.buffer.find(b'"', self.at)
            piece = self.buffer[self.at : end if end >= 0 else len(self.buffer)]
            self.at += len(piece)
            chunk = pending + piece
            whole = len(chunk) - len(chunk) % 4 if end < 0 else len(chunk)
            pending = chunk[whole:]
            if whole:
                if ended:
                    raise BackupFileError("a data field is not base64 (text after its padding)")
                try:
                    decoded_piece = binascii.a2b_base64(chunk[:whole], strict_mode=True)
                except binascii.Error:
                    raise BackupFileError("a data field is not base64") from None
                ended = chunk[whole - 1 : whole] == b"="
                decoded += len(decoded_piece)
                if sink is not None:
                    sink(decoded_piece)
            if end >= 0:
                self.at += 1  # the closing quote
                return Span(start, self.offset - 1 - start, decoded)

    def number(self) -> int | float:
        self.skip_space()
        raw = bytearray()
        while (byte := self.peek()) >= 0 and byte in b"-+.eE0123456789":
            raw.append(byte)
            self.at += 1
            if len(raw) > MAX_DIGITS:
                raise BackupFileError(f"a number is longer than {MAX_DIGITS} characters")
        if not _NUMBER.fullmatch(raw):
            raise BackupFileError(f"it is not a backup's JSON: a value expected at byte {self.offset}")
        if b"." in raw or b"e" in raw or b"E" in raw:
            value = float(raw)
            if not math.isfinite(value):
                raise BackupFileError("a number is too large")
            return value
        return int(raw)

    def word(self) -> bool | None:
        self.skip_space()
        raw = bytearray()
        while (byte := self.peek()) >= 0 and (0x61 <= byte <= 0x7A) and len(raw) < 5:
            raw.append(byte)
            self.at += 1
        words = {b"true": True, b"false": False, b"null": None}
        if bytes(raw) not in words:
            raise BackupFileError(f"it is not a backup's JSON: a value expected at byte {self.offset}")
        return words[bytes(raw)]

    def scalar(self) -> Any:
        """A text, number, true, false or null; or a list or object skipped (unknown fields)."""
        byte = self.skip_space()
        if byte == 0x22:
            return self.text(MAX_TEXT)
        if byte in (0x5B, 0x7B):
            self.skip_nested(0)
            return _SKIPPED
        if byte in b"-0123456789":
            return self.number()
        return self.word()

    def skip_nested(self, depth: int) -> None:
        if depth >= MAX_DEPTH:
            raise BackupFileError("it nests deeper than a backup does")
        opening = self.take()
        closing = 0x5D if opening == 0x5B else 0x7D
        if self.skip_space() == closing:
            self.at += 1
            return
        while True:
            if opening == 0x7B:
                self.text(MAX_KEY)
                self.expect(":", "':'")
            byte = self.skip_space()
            if byte in (0x5B, 0x7B):
                self.skip_nested(depth + 1)
            else:
                self.scalar()
            byte = self.skip_space()
            self.at += 1
            if byte == closing:
                return
            if byte != 0x2C:
                raise BackupFileError(f"it is not a backup's JSON: ',' expected at byte {self.offset - 1}")

    def items(self, closing: str) -> Iterator[None]:
        """Yield before each element of the list or object just opened, until `closing`."""
        if self.skip_space() == ord(closing):
            self.at += 1
            return
        while True:
            yield None
            byte = self.skip_space()
            self.at += 1
            if byte == ord(closing):
                return
            if byte != 0x2C:
                raise BackupFileError(
                    f"it is not a backup's JSON: ',' or '{closing}' expected at byte {self.offset - 1}")


_SKIPPED = object()


def parse(fd: int, size: int, bound: Callable[[dict[str, Any]], int | None],
          on_message: Callable[[int, bytes], None] | None = None, max_message: int | None = None) -> Parsed:
    """Walk the whole file: its short fields, and each long one checked, never held whole.

    `bound(fields)` gives the largest size the file may have for the fields read
    so far, or None while it cannot be known; it is asked before each long field.
    `on_message(type, data)` gets each message, decoded (at most `max_message`
    bytes each: what the first walk found, should the file change under a second).
    """
    reader = _Reader(fd)
    parsed = Parsed()
    seen: set[str] = set()

    def check_size() -> None:
        limit = bound(parsed.fields)
        if limit is not None and size > limit:
            raise BackupFileError(f"it is larger ({size} bytes) than a backup of the object it describes could be "
                                  f"({limit} bytes at most)")

    if reader.skip_space() != ord("{"):
        raise BackupFileError("it is not JSON (a backup starts with '{')")
    reader.expect("{", "'{'")
    for _ in reader.items("}"):
        name = reader.text(MAX_KEY)
        if name in seen:
            raise BackupFileError(f"the field {name!r} appears twice")
        seen.add(name)
        reader.expect(":", "':'")
        if name == "data":
            check_size()
            parsed.data = reader.base64()
        elif name == "messages":
            check_size()
            reader.expect("[", "a list of messages")
            for _ in reader.items("]"):
                _message(reader, parsed, on_message, max_message)
        elif name == "values":
            reader.expect("[", "a list of values")
            values = []
            for _ in reader.items("]"):
                if len(values) >= MAX_VALUES:
                    raise BackupFileError(f"it has more than {MAX_VALUES} values")
                values.append(reader.scalar())
            parsed.fields[name] = values
        else:
            value = reader.scalar()
            if value is not _SKIPPED:
                parsed.fields[name] = value
    if reader.skip_space() != -1:
        raise BackupFileError(f"it is not a backup's JSON: something follows it at byte {reader.offset}")
    check_size()
    return parsed


def _message(reader: _Reader, parsed: Parsed, on_message: Callable[[int, bytes], None] | None,
             max_message: int | None) -> None:
    reader.expect("{", "a message")
    mtype: Any = None
    numbered = "type"
    pieces: list[bytes] = []
    held = 0

    def keep(piece: bytes) -> None:
        nonlocal held
        held += len(piece)
        if max_message is not None and held > max_message:
            raise BackupFileError("it changed while it was read")
        pieces.append(piece)

    span = None
    for _ in reader.items("}"):
        name = reader.text(MAX_KEY)
        reader.expect(":", "':'")
        if name == "data" and span is None:
            span = reader.base64(keep if on_message is not None else None)
        elif name in ("type", "priority") and mtype is None:
            mtype, numbered = reader.scalar(), name
        else:
            raise BackupFileError(f"a message has a field {name!r} (only type or priority, and data, once each)")
    if numbered == "priority":  # a POSIX queue's message
        if type(mtype) is not int or not 0 <= mtype <= MAX_PRIORITY:
            raise BackupFileError(f"a message's priority is not a number in 0..{MAX_PRIORITY}")
    elif type(mtype) is not int or not 1 <= mtype < 2**63:
        raise BackupFileError("a message's type is not a number in 1..2**63-1")
    if span is None:
        raise BackupFileError("a message has no data")
    parsed.messages += 1
    parsed.message_bytes += span.decoded
    parsed.largest_message = max(parsed.largest_message, span.decoded)
    if on_message is not None:
        on_message(mtype, b"".join(pieces))


def read_span(fd: int, span: Span, piece: int = 4 * PIECE) -> Iterator[bytes]:
    """The decoded bytes of `span`, piece by piece (`piece` characters of base64 at a time)."""
    piece -= piece % 4
    done = 0
    while done < span.length:
        count = min(piece, span.length - done)
        text = os.pread(fd, count, span.offset + done)
        if len(text) != count:
            raise BackupFileError("it changed while it was read")
        done += count
        yield binascii.a2b_base64(text, strict_mode=True)
