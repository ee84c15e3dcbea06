"""Typed requests: what a form asks for, already validated, before it is done.

The TUI forms dismiss with one of these; `operations.perform` carries it out.
A key of 0 (IPC_PRIVATE) asks for a new private object.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ShmCreateRequest:
    key: int  # 0: IPC_PRIVATE
    size: int
    mode: int
    excl: bool


@dataclass(frozen=True, slots=True)
class AttachRequest:
    shmid: int
    readonly: bool


@dataclass(frozen=True, slots=True)
class DetachRequest:
    shmid: int


@dataclass(frozen=True, slots=True)
class WriteRequest:
    shmid: int
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ShmSetRequest:
    """IPC_SET: a new mode and/or owner; None leaves that part as it is."""

    shmid: int
    mode: int | None
    uid: int | None
    gid: int | None


@dataclass(frozen=True, slots=True)
class RemoveRequest:
    kind: str  # "shm", "msg" or "sem"
    ident: int


@dataclass(frozen=True, slots=True)
class MsgCreateRequest:
    key: int
    mode: int
    excl: bool


@dataclass(frozen=True, slots=True)
class MsgSendRequest:
    msqid: int
    mtype: int
    data: bytes
    nowait: bool


@dataclass(frozen=True, slots=True)
class MsgReceiveRequest:
    msqid: int
    mtype: int  # 0 the first message, > 0 that type, < 0 the lowest type <= |mtype|
    nowait: bool


@dataclass(frozen=True, slots=True)
class SemCreateRequest:
    key: int
    values: tuple[int, ...]
    mode: int
    excl: bool


@dataclass(frozen=True, slots=True)
class SemOpRequest:
    semid: int
    index: int
    delta: int
    nowait: bool


@dataclass(frozen=True, slots=True)
class SemSetRequest:
    semid: int
    index: int
    value: int


@dataclass(frozen=True, slots=True)
class KillRequest:
    pid: int
    signal: int


Request = (
    ShmCreateRequest
    | AttachRequest
    | DetachRequest
    | WriteRequest
    | ShmSetRequest
    | RemoveRequest
    | MsgCreateRequest
    | MsgSendRequest
    | MsgReceiveRequest
    | SemCreateRequest
    | SemOpRequest
    | SemSetRequest
    | KillRequest
)
