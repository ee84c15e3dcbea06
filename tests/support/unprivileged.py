"""Run test code as the unprivileged user `nobody`, in a child forked after the imports.

`nobody` cannot read /root, where this Python lives, so a fresh interpreter would
not start as that user: everything the function needs must already be imported.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

from tests.support.forked import answer, answer_of

NOBODY = 65534
CAP_SYS_PTRACE = 19
_PR_SET_KEEPCAPS = 8
_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def keep_only(capabilities: tuple[int, ...]) -> None:
    """After setuid with PR_SET_KEEPCAPS: these capabilities (below 32) effective, and no other."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    data = (_CapData * 2)()
    for cap in capabilities:
        data[0].effective |= 1 << cap
        data[0].permitted |= 1 << cap
    if libc.capset(ctypes.byref(_CapHeader(_CAPABILITY_VERSION_3, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def run_as_nobody(function: Callable[[], object], capabilities: tuple[int, ...] = ()) -> object:
    """Call `function` in a forked child running as nobody; return what it returns (as JSON).
    `capabilities` (e.g. CAP_SYS_PTRACE alone, as some monitoring agents are given) are kept."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:

        def as_nobody() -> object:
            os.close(read_fd)
            os.setgroups([])
            if capabilities:
                ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            if capabilities:
                keep_only(capabilities)
            return function()

        answer(write_fd, as_nobody)
    os.close(write_fd)
    return answer_of(read_fd, pid)
