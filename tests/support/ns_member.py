"""A process in an IPC namespace of its own that makes real System V objects in it for a test.

Run as `unshare --ipc [--pid --fork --kill-child --mount-proc] python ns_member.py LIFELINE SPEC`:
SPEC is JSON, a list of objects to make, each one of
  {"kind": "shm", "key": K, "size": N, "attach": A, "forks": F}  (A attaches here, F children that
                                                                 fork after attaching and keep them)
  {"kind": "msg", "key": K, "messages": [[TYPE, "text"], ...]}
  {"kind": "sem", "key": K, "values": [V, ...]}
  {"kind": "sysctl", "name": "kernel/shmmni", "value": "1234"}  (a limit of this namespace's own)
It prints one line, `ready {"ids": [...], "children": [...]}` (the ids of the objects, in SPEC's order), or
`error ...`, and then waits.  LIFELINE is the fd of a pipe's read end whose write end only
the test holds: when the test ends, even by SIGKILL, the pipe reads end-of-file and every
process here exits, and with the last of them the namespace and its objects go.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

from ipctop.kernel import sysv


def _watch(lifeline: int) -> None:
    """Exit as soon as the test that made us is gone (its end of the lifeline closes)."""

    def wait() -> None:
        try:
            while os.read(lifeline, 1):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=wait, daemon=True).start()


def _make(spec: list[dict], lifeline: int) -> tuple[list[int], list[int]]:
    ids, children = [], []
    for item in spec:
        kind, key = item["kind"], item.get("key", 0)
        if kind == "shm":
            shmid = sysv.shmget(key, item.get("size", 4096), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
            for _ in range(item.get("attach", 0)):
                sysv.shmat(shmid)
            for _ in range(item.get("forks", 0)):
                pid = os.fork()
                if pid == 0:  # keeps the attachments a fork copies; lives as long as the lifeline
                    _watch(lifeline)
                    while True:
                        signal.pause()
                children.append(pid)
            ids.append(shmid)
        elif kind == "msg":
            msqid = sysv.msgget(key, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
            for mtype, text in item.get("messages", []):
                sysv.msgsnd(msqid, mtype, text.encode())
            ids.append(msqid)
        elif kind == "sem":
            values = item.get("values", [0])
            semid = sysv.semget(key, len(values), sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
            sysv.sem_setall(semid, values)
            ids.append(semid)
        elif kind == "sysctl":
            with open(f"/proc/sys/{item['name']}", "w") as limit:
                limit.write(str(item["value"]))
        else:
            raise ValueError(f"unknown kind {kind!r}")
    return ids, children


def main(argv: list[str]) -> None:
    lifeline = int(argv[0])
    _watch(lifeline)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        ids, children = _make(json.loads(argv[1]), lifeline)
    except Exception as error:  # noqa: BLE001 - the test reads the reason
        print(f"error {error}", flush=True)
        sys.exit(2)
    print("ready " + json.dumps({"ids": ids, "children": children}), flush=True)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    while True:
        signal.pause()


if __name__ == "__main__":
    main(sys.argv[1:])
