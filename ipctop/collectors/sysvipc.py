"""Parsers for /proc/sysvipc/{shm,msg,sem}: one typed row per object.

The columns are read by their header names, so a kernel that adds a column does
not shift the others.  Keys are printed as signed decimals and come out here as
unsigned 32-bit numbers; perms are octal and keep the SHM_DEST / SHM_LOCKED bits.
"""

from __future__ import annotations

from dataclasses import dataclass

from ipctop.collectors.procfs import ProcFS


@dataclass(frozen=True, slots=True)
class ShmRow:
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


@dataclass(frozen=True, slots=True)
class MsgRow:
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


@dataclass(frozen=True, slots=True)
class SemRow:
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


def _rows(text: str) -> list[dict[str, str]]:
    lines = text.splitlines()
    if not lines:
        return []
    header = lines[0].split()
    rows = []
    for line in lines[1:]:
        values = line.split()
        if len(values) >= len(header):
            rows.append(dict(zip(header, values, strict=False)))
    return rows


def _build(row_type: type, id_name: str, row: dict[str, str]) -> object:
    values: dict[str, int] = {}
    for name in row_type.__slots__:
        raw = row.get(name)
        if name == "key":
            values[name] = unsigned_key(raw or "0")
        elif name == "perms":
            values[name] = int(raw or "0", 8)
        elif raw is None:
            if name == id_name:
                raise ValueError(f"no {id_name} column")
            values[name] = 0
        else:
            values[name] = int(raw)
    return row_type(**values)


def _parse(text: str, row_type: type, id_name: str) -> list:
    parsed = []
    for row in _rows(text):
        try:
            parsed.append(_build(row_type, id_name, row))
        except ValueError:
            continue  # a torn or malformed line: skip it rather than fail the scan
    return parsed


def parse_shm(text: str) -> list[ShmRow]:
    return _parse(text, ShmRow, "shmid")


def parse_msg(text: str) -> list[MsgRow]:
    return _parse(text, MsgRow, "msqid")


def parse_sem(text: str) -> list[SemRow]:
    return _parse(text, SemRow, "semid")


def _read(proc: ProcFS, name: str) -> str:
    try:
        return proc.read_text("sysvipc", name)
    except FileNotFoundError:
        return ""  # a kernel built without System V IPC


def read_shm(proc: ProcFS) -> list[ShmRow]:
    return parse_shm(_read(proc, "shm"))


def read_msg(proc: ProcFS) -> list[MsgRow]:
    return parse_msg(_read(proc, "msg"))


def read_sem(proc: ProcFS) -> list[SemRow]:
    return parse_sem(_read(proc, "sem"))
