"""Parsers for /proc/sysvipc/{shm,msg,sem}: one typed row per object.

The columns are read by their header names, so a kernel that adds a column does
not shift the others.  Keys are printed as signed decimals and come out here as
unsigned 32-bit numbers; perms are octal and keep the SHM_DEST / SHM_LOCKED bits.
"""

from __future__ import annotations

from operator import itemgetter
from typing import NamedTuple

from ipctop.collectors.procfs import ProcFS


class ShmRow(NamedTuple):
    key: int
    shmid: int
    perms: int  # with SHM_DEST / SHM_LOCKED bits
    size: int
    cpid: int
    lpid: int
    nattch: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    atime: int
    dtime: int
    ctime: int
    rss: int
    swap: int


class MsgRow(NamedTuple):
    key: int
    msqid: int
    perms: int
    cbytes: int
    qnum: int
    lspid: int
    lrpid: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    stime: int
    rtime: int
    ctime: int


class SemRow(NamedTuple):
    key: int
    semid: int
    perms: int
    nsems: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    otime: int
    ctime: int


def unsigned_key(text: str) -> int:
    """The table prints key_t signed; a key is an unsigned 32-bit number."""
    return int(text) & 0xFFFFFFFF


class TableParser:
    """Parses the tables, remembering the latest parse of each so that an unchanged table, or an
    unchanged line of one, gives the very same rows again (a Scanner holds one; at 10,000
    segments most lines are unchanged from one scan to the next).  The rows are immutable and
    the same list is returned for a text equal to the previous one's: callers must not change it."""

    __slots__ = ("_tables", "_rows")

    def __init__(self) -> None:
        self._tables: dict[type, tuple[str, list]] = {}  # row type -> (text, rows) of the latest parse
        self._rows: dict[type, tuple[str, dict[str, object]]] = {}  # row type -> (header, {line: row})

    def parse(self, text: str, row_type: type, id_name: str) -> list:
        earlier_text, earlier_rows = self._tables.get(row_type, ("", []))
        if text == earlier_text:
            return earlier_rows
        lines = text.splitlines()
        earlier_header, earlier = self._rows.get(row_type, ("", {}))
        now: dict[str, object] = {}
        rows = _parse_lines(lines, row_type, id_name, earlier if lines and earlier_header == lines[0] else {}, now)
        self._tables[row_type] = (text, rows)
        self._rows[row_type] = (lines[0] if lines else "", now)
        return rows

    def shm(self, text: str) -> list[ShmRow]:
        return self.parse(text, ShmRow, "shmid")

    def msg(self, text: str) -> list[MsgRow]:
        return self.parse(text, MsgRow, "msqid")

    def sem(self, text: str) -> list[SemRow]:
        return self.parse(text, SemRow, "semid")


def _parse_lines(lines: list[str], row_type: type, id_name: str, earlier: dict[str, object],
                 now: dict[str, object]) -> list:
    """One row per line; columns found by header name once per table, not once per line.
    A row is a function of its line (under one header): rows in `earlier` are reused for
    lines that did not change; every row made or reused is put in `now`."""
    if not lines:
        return []
    header = lines[0].split()
    position = {name: i for i, name in enumerate(header)}  # a repeated name: the last one, as dict(zip()) did
    if id_name not in position:
        return []
    names = row_type._fields
    key_at, perms_at = position.get("key"), position.get("perms")
    plain = [(i, position.get(name)) for i, name in enumerate(names) if name not in ("key", "perms")]
    blank = [0] * len(names)
    key_slot, perms_slot = names.index("key"), names.index("perms")

    def parse_used_columns(values: list[str]) -> object | None:
        try:
            fields = blank[:]
            for slot, at in plain:
                if at is not None:
                    fields[slot] = int(values[at])
            if key_at is not None:
                fields[key_slot] = int(values[key_at]) & 0xFFFFFFFF
            if perms_at is not None:
                fields[perms_slot] = int(values[perms_at], 8)
        except ValueError:
            return None  # a torn or malformed line: skip it rather than fail the scan
        return row_type._make(fields)

    width = len(header)
    # Every column of the kernel's tables is a number: convert a whole line at C speed
    # and pick the columns; a line that does not convert falls back to the column loop.
    pick = itemgetter(*(position[n] for n in names)) if all(n in position for n in names) else None
    parsed = []
    for line in lines[1:]:
        row = earlier.get(line)
        if row is not None:
            now[line] = row
            parsed.append(row)
            continue
        values = line.split()
        if len(values) < width:
            continue
        if pick is not None:
            try:
                numbers = list(map(int, values))
                numbers[perms_at] = int(values[perms_at], 8)  # type: ignore[index]
            except ValueError:
                pass
            else:
                numbers[key_at] &= 0xFFFFFFFF  # type: ignore[index]
                row = now[line] = row_type._make(pick(numbers))
                parsed.append(row)
                continue
        row = parse_used_columns(values)
        if row is not None:
            now[line] = row
            parsed.append(row)
    return parsed


def parse_shm(text: str) -> list[ShmRow]:
    return TableParser().shm(text)


def parse_msg(text: str) -> list[MsgRow]:
    return TableParser().msg(text)


def parse_sem(text: str) -> list[SemRow]:
    return TableParser().sem(text)


def _read(proc: ProcFS, name: str) -> str:
    try:
        return proc.read_text("sysvipc", name)
    except FileNotFoundError:
        return ""  # a kernel built without System V IPC


def read_shm(proc: ProcFS, parser: TableParser | None = None) -> list[ShmRow]:
    return (parser or TableParser()).shm(_read(proc, "shm"))


def read_msg(proc: ProcFS, parser: TableParser | None = None) -> list[MsgRow]:
    return (parser or TableParser()).msg(_read(proc, "msg"))


def read_sem(proc: ProcFS, parser: TableParser | None = None) -> list[SemRow]:
    return (parser or TableParser()).sem(_read(proc, "sem"))
