"""Typed requests for the POSIX actions: what a form asks for, validated, before it is done.

Each carries itself out (`perform(cancel)`) over ipctop/actions/posix.py and says
in one sentence what it did; `waits` marks those that may block (a receive, a
semaphore wait, a send to a full queue), which the monitor runs off its UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ipctop.actions import posix as act
from ipctop.actions.operations import Outcome
from ipctop.actions.waiting import Waits

NOUNS = {"pshm": "shared memory object", "psem": "semaphore", "pmsg": "queue"}


def _created(created: act.PosixCreated) -> Outcome:
    noun = NOUNS[created.kind]
    verb = "created" if created.created else "found the existing"
    return Outcome(f"{verb} {noun} {created.name}", created)


@dataclass(frozen=True, slots=True)
class PosixShmCreateRequest:
    name: str
    size: int
    mode: int
    excl: bool
    waits: ClassVar[bool] = False

    def perform(self, cancel: Waits | None = None) -> Outcome:
        return _created(act.create_pshm(self.name, self.size, self.mode, self.excl))


@dataclass(frozen=True, slots=True)
class PosixSemCreateRequest:
    name: str
    value: int
    mode: int
    excl: bool
    waits: ClassVar[bool] = False

    def perform(self, cancel: Waits | None = None) -> Outcome:
        return _created(act.create_psem(self.name, self.value, self.mode, self.excl))


@dataclass(frozen=True, slots=True)
class PosixQueueCreateRequest:
    name: str
    mode: int
    excl: bool
    max_messages: int | None
    message_size: int | None
    waits: ClassVar[bool] = False

    def perform(self, cancel: Waits | None = None) -> Outcome:
        return _created(act.create_pmsg(self.name, self.mode, self.excl, self.max_messages, self.message_size))


@dataclass(frozen=True, slots=True)
class PosixUnlinkRequest:
    kind: str
    name: str
    waits: ClassVar[bool] = False

    def perform(self, cancel: Waits | None = None) -> Outcome:
        act.unlink(self.kind, self.name)
        return Outcome(f"unlinked {NOUNS[self.kind]} {self.name}")


@dataclass(frozen=True, slots=True)
class PosixWriteRequest:
    name: str
    offset: int
    data: bytes
    waits: ClassVar[bool] = False

    def perform(self, cancel: Waits | None = None) -> Outcome:
        act.write_pshm(self.name, self.offset, self.data)
        return Outcome(f"wrote {len(self.data)} bytes at offset {self.offset} of {self.name}")


@dataclass(frozen=True, slots=True)
class PosixSendRequest:
    name: str
    data: bytes
    priority: int
    nowait: bool
    waits: ClassVar[bool] = True

    def perform(self, cancel: Waits | None = None) -> Outcome:
        act.send_pmsg(self.name, self.data, self.priority, self.nowait, cancel)
        return Outcome(f"sent {len(self.data)} bytes of priority {self.priority} to queue {self.name}")


@dataclass(frozen=True, slots=True)
class PosixReceiveRequest:
    name: str
    nowait: bool
    waits: ClassVar[bool] = True

    def perform(self, cancel: Waits | None = None) -> Outcome:
        data, priority = act.receive_pmsg(self.name, self.nowait, None, cancel)  # type: ignore[misc]
        text = data.decode("utf-8", "replace")
        return Outcome(f"received a message of priority {priority} from queue {self.name}: {text!r}")


@dataclass(frozen=True, slots=True)
class PosixPostRequest:
    name: str
    count: int
    waits: ClassVar[bool] = False

    def perform(self, cancel: Waits | None = None) -> Outcome:
        value = act.post_psem(self.name, self.count)
        return Outcome(f"posted semaphore {self.name} {self.count} time{'s' if self.count > 1 else ''}: "
                       f"its value is {value}")


@dataclass(frozen=True, slots=True)
class PosixWaitRequest:
    name: str
    nowait: bool
    waits: ClassVar[bool] = True

    def perform(self, cancel: Waits | None = None) -> Outcome:
        act.wait_psem(self.name, self.nowait, None, cancel)
        return Outcome(f"took 1 from semaphore {self.name}")


@dataclass(frozen=True, slots=True)
class PosixSetRequest:
    name: str
    value: int
    max_steps: int
    waits: ClassVar[bool] = False

    def perform(self, cancel: Waits | None = None) -> Outcome:
        before, after = act.set_psem(self.name, self.value, self.max_steps)
        if after != self.value:
            return Outcome(f"semaphore {self.name} went from {before} to {after}, not {self.value}: other "
                           "processes took from it meanwhile")
        return Outcome(f"set semaphore {self.name} from {before} to {after}")


@dataclass(frozen=True, slots=True)
class PosixOwnerRequest:
    kind: str
    name: str
    mode: int | None
    uid: int | None
    gid: int | None
    waits: ClassVar[bool] = False

    def perform(self, cancel: Waits | None = None) -> Outcome:
        act.set_owner(self.kind, self.name, self.mode, -1 if self.uid is None else self.uid,
                      -1 if self.gid is None else self.gid)
        return Outcome(f"changed the mode or owner of {NOUNS[self.kind]} {self.name}")


PosixRequest = (
    PosixShmCreateRequest | PosixSemCreateRequest | PosixQueueCreateRequest | PosixUnlinkRequest
    | PosixWriteRequest | PosixSendRequest | PosixReceiveRequest | PosixPostRequest | PosixWaitRequest
    | PosixSetRequest | PosixOwnerRequest
)
