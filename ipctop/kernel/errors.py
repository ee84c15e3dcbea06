"""The one error type for a refusal by the kernel, with a sentence for the user.

Raised by the kernel layer and shown as-is by the CLI (one line on stderr, exit 1)
and by the TUI (a notification), so the wording lives in one place.
"""

from __future__ import annotations

import errno as errno_codes
import os

# What an errno means for each kind of object; a missing entry falls back to strerror.
_MEANINGS: dict[str, dict[int, str]] = {
    "shm": {
        errno_codes.EEXIST: "a segment with that key exists",
        errno_codes.EACCES: "its mode does not let you",
        errno_codes.EPERM: "you are neither its owner nor its creator nor privileged",
        errno_codes.EINVAL: (
            "the size is outside SHMMIN..SHMMAX or larger than the existing segment, or the id is not valid"
        ),
        errno_codes.ENOENT: "no segment has that key",
        errno_codes.EIDRM: "it was removed meanwhile",
        errno_codes.ENOSPC: "the system limit of segments (shmmni) or of shared memory (shmall) is reached",
        errno_codes.ENOMEM: "there is not enough memory",
    },
    "msg": {
        errno_codes.EEXIST: "a queue with that key exists",
        errno_codes.EACCES: "its mode does not let you",
        errno_codes.EPERM: "you are neither its owner nor its creator nor privileged",
        errno_codes.EINVAL: "the id is not a queue, or the message type or size is not valid",
        errno_codes.ENOENT: "no queue has that key",
        errno_codes.EIDRM: "it was removed meanwhile",
        errno_codes.E2BIG: "the message is longer than msgmax, or than the buffer",
        errno_codes.EAGAIN: "the queue is full and IPC_NOWAIT was asked",
        errno_codes.ENOMSG: "no message of that type is waiting and IPC_NOWAIT was asked",
        errno_codes.ENOSPC: "the system limit of queues (msgmni) is reached",
    },
    "sem": {
        errno_codes.EEXIST: "a semaphore set with that key exists",
        errno_codes.EACCES: "its mode does not let you",
        errno_codes.EPERM: "you are neither its owner nor its creator nor privileged",
        errno_codes.EINVAL: "the id, the number of semaphores or the index is not valid",
        errno_codes.ENOENT: "no semaphore set has that key",
        errno_codes.EIDRM: "it was removed meanwhile",
        errno_codes.EAGAIN: "the operation would block and IPC_NOWAIT was asked",
        errno_codes.ERANGE: "the value would be outside 0..SEMVMX",
        errno_codes.EFBIG: "the index is outside the set",
        errno_codes.ENOSPC: "the system limit of semaphores (semmni or semmns) is reached",
    },
    "pshm": {
        errno_codes.EEXIST: "an object with that name exists in /dev/shm",
        errno_codes.ENOENT: "no POSIX shared memory object has that name",
        errno_codes.EACCES: "its mode does not let you",
        errno_codes.EPERM: "you are not its owner",
        errno_codes.EINVAL: "the name or the size is not valid",
        errno_codes.ENOSPC: "/dev/shm is full",
        errno_codes.EFBIG: "the size is larger than /dev/shm allows",
        errno_codes.ELOOP: "the name is a symbolic link, which shm_open never follows",
    },
    "pmsg": {
        errno_codes.EEXIST: "a queue with that name exists",
        errno_codes.ENOENT: "no queue has that name",
        errno_codes.EACCES: "its mode does not let you",
        errno_codes.EPERM: "you are not its owner",
        errno_codes.EINVAL: (
            "the capacity is outside the limits (fs/mqueue/msg_max, msgsize_max) or the name is not valid"
        ),
        errno_codes.ENOSPC: "the system limit of queues (fs/mqueue/queues_max) is reached",
        errno_codes.EMFILE: "the RLIMIT_MSGQUEUE of this user, or the limit of open files, is reached",
        errno_codes.EAGAIN: "the queue is full (send) or empty (receive) and ipctop was asked not to wait",
        errno_codes.EMSGSIZE: "the message is longer than the queue's message size",
        errno_codes.EBUSY: "another process is registered for its notification",
    },
    "psem": {
        errno_codes.EEXIST: "a semaphore with that name exists",
        errno_codes.ENOENT: "no named semaphore has that name",
        errno_codes.EACCES: "its mode does not let you",
        errno_codes.EPERM: "you are not its owner",
        errno_codes.EINVAL: "the value is above SEM_VALUE_MAX or the name is not valid",
        errno_codes.EAGAIN: "its value is 0 and ipctop was asked not to wait",
        errno_codes.EOVERFLOW: "the value would pass SEM_VALUE_MAX",
    },
    "process": {
        errno_codes.ESRCH: "no such process; it has exited",
        errno_codes.EPERM: "you may not signal a process of another user",
        errno_codes.EINVAL: "that is not a valid signal",
    },
}


def describe_errno(kind: str, err: int) -> str:
    """What `err` means when it comes back from a call on an object of `kind`."""
    meaning = _MEANINGS.get(kind, {}).get(err)
    return meaning or os.strerror(err).lower()


class IpcError(Exception):
    """The kernel refused an operation on an IPC object.

    `str(error)` is one sentence naming the object, the errno and its meaning.
    """

    def __init__(self, kind: str, target: str, err: int, call: str = "") -> None:
        self.kind = kind
        self.target = target
        self.errno = err
        self.call = call
        name = errno_codes.errorcode.get(err, str(err))
        what = f"{call} on {target}" if call else target
        super().__init__(f"{what}: {name}: {describe_errno(kind, err)}")
