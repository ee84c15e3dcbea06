"""The text of a confirmation: it names the object and says what will really happen.

Pure functions of snapshot records, so that the wording is unit-tested and the
TUI's ConfirmScreen only shows it.
"""

from __future__ import annotations

import os

from ipctop.actions.validators import signal_name
from ipctop.model import MsgQueue, Process, SemSet, ShmSegment
from ipctop.render.formatting import count, hex_key, human_bytes, proc_label
from ipctop.render.procinfo import name_of


def _key_label(key: int) -> str:
    return "private" if key == 0 else f"key {hex_key(key)}"


def _list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _attacher_labels(segment: ShmSegment) -> list[str]:
    counts: dict[tuple[int, str], int] = {}
    for attacher in segment.attachers:
        counts[(attacher.pid, attacher.comm)] = counts.get((attacher.pid, attacher.comm), 0) + 1
    return [
        proc_label(comm, pid) + (f" ({count} attachments)" if count > 1 else "")
        for (pid, comm), count in counts.items()
    ]


def _in(namespace: str) -> str:
    """Where an object is, when there is more than one IPC namespace to tell apart (`host`, a container)."""
    return f" in {namespace}" if namespace else ""


def shm_remove_text(segment: ShmSegment, privileged: bool | None = None, namespace: str = "") -> str:
    """What IPC_RMID on this segment will do, naming the processes still attached; `privileged`
    (root by default) says whether attachers not found are ones ipctop may not read; `namespace`
    names its IPC namespace, where there are several."""
    name = f"segment {segment.shmid} ({_key_label(segment.display_key)}, {human_bytes(segment.size)}){_in(namespace)}"
    if segment.nattch == 0:
        return f"Remove {name}? It is destroyed at once with its contents."
    times = "once" if segment.nattch == 1 else f"{segment.nattch} times"
    labels = _attacher_labels(segment)
    if privileged is None:
        privileged = os.geteuid() == 0
    unknown = (
        "processes ipctop could not find" if privileged else "processes ipctop cannot inspect (run as root to see them)"
    )
    if not labels:
        by = f"by {unknown}"
    elif segment.attachments_found < segment.nattch:
        by = f"by {_list(labels)} and by {unknown}"
    else:
        by = f"by {_list(labels)}"
    if segment.marked_for_removal:
        return (
            f"Remove {name}? It is already marked for removal and is still attached {times}, {by}; "
            "it goes away when the last of them detaches."
        )
    alone = segment.nattch == 1 and segment.attachments_found == 1
    last = f"{labels[0]} detaches" if alone else "the last one detaches"
    return (
        f"Mark {name} for removal? It is still attached {times}, {by}, so IPC_RMID only marks it "
        f"(its key becomes 0); it goes away when {last}."
    )


def msg_remove_text(queue: MsgQueue, namespace: str = "") -> str:
    name = f"queue {queue.msqid} ({_key_label(queue.key)}){_in(namespace)}"
    if queue.qnum:
        waiting = f"its {queue.qnum} waiting message{'s' if queue.qnum != 1 else ''} ({queue.cbytes} bytes) are lost"
    else:
        waiting = "it is empty"
    return f"Remove {name}? It is removed at once: {waiting}, and processes waiting on it wake with EIDRM."


def sem_remove_text(semset: SemSet, namespace: str = "") -> str:
    semaphores = count(semset.nsems, "semaphore")
    name = f"semaphore set {semset.semid} ({_key_label(semset.key)}, {semaphores}){_in(namespace)}"
    waiters = semset.blocked
    if waiters:
        who = f"the {waiters} process{'es' if waiters != 1 else ''} waiting on it wake with EIDRM"
    else:
        who = "no process is waiting on it now"
    return f"Remove {name}? It is removed at once; {who}."


def kill_text(pid: int, signum: int, process: Process | None = None) -> str:
    who = f"{name_of(process)}[{pid}] (user {process.user})" if process else f"process {pid}"
    return f"Send {signal_name(signum)} to {who}?"


def remove_text(obj: ShmSegment | MsgQueue | SemSet, namespace: str = "") -> str:
    if isinstance(obj, ShmSegment):
        return shm_remove_text(obj, namespace=namespace)
    if isinstance(obj, MsgQueue):
        return msg_remove_text(obj, namespace)
    return sem_remove_text(obj, namespace)
