"""The messages between a demo's processes and the DemoRun that watches them.

A demo runs in a process of its own (see worker.py) so that ipctop's process
holds none of the demo's objects and never forks while other threads run.  The
demo and its children send JSON records over one AF_UNIX SOCK_SEQPACKET
socketpair: a record is sent and read whole, so several processes can share the
demo's end without their lines mixing.  Sockets are not pipes: the monitor does
not show the channel among the demo's pipes.

Demo -> runner: line, call, return, step, made, exit, gone, kept, result, end.
Runner -> demo: go (after the step gate), stop.

A system call is told in two records, `call` just before it is made and `return`
just after, so that the runner can print the calls of several processes in the
order they happened, as strace does (runner.CallLines).
"""

from __future__ import annotations

import json
import socket
from typing import Any

MAX_RECORD = 65536

LINE = "line"  # text: one line of narration
CALL = "call"  # pid, role, text: a call this process is about to make (`write(4, "y", 1)`)
RETURN = "return"  # pid, result: what that call returned (`1`, `-1 EAGAIN (…)`)
STEP = "step"  # number, slug, title: the demo is about to take this step
MADE = "made"  # what: pid|shm|msg|sem|path|pshm|psem|pmsg, and pid/start/role, id/key, path, or name
EXIT = "exit"  # pid, status: a child has ended (not reaped yet), with its wait status
GONE = "gone"  # same fields as made (and a reaped pid's wait status): the demo removed or reaped it itself
KEPT = "kept"  # what, id: left behind on purpose (shm-leak)
RESULT = "result"  # name, value: a measured figure
END = "end"  # outcome: finished|stopped|failed, error: a sentence or None
GO = "go"
STOP = "stop"


def socket_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def send(sock: socket.socket, kind: str, **fields: Any) -> None:
    fields["m"] = kind
    # MSG_NOSIGNAL: a child must not die of SIGPIPE because the runner went away.
    sock.send(json.dumps(fields).encode(), socket.MSG_NOSIGNAL)


def decode(record: bytes) -> dict[str, Any]:
    return json.loads(record.decode())
