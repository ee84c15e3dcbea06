"""The text of a confirmation: it names the object and says what will really happen.

Pure functions of snapshot records, so that the wording is unit-tested and the
TUI's ConfirmScreen only shows it.
"""

from __future__ import annotations

import os
import signal

from ipctop.actions.validators import signal_name
from ipctop.model import STOPPED_STATES, MsgQueue, Process, SemSet, ShmSegment
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
    question = f"Send {signal_name(signum)} to {who}?"
    if process is not None and process.state in STOPPED_STATES and signum not in (signal.SIGKILL, signal.SIGCONT):
        # a stopped process acts on no other signal until it is continued
        return (f"{question} It is stopped: {signal_name(signum)} will wait until it is continued (SIGCONT); "
                "SIGKILL ends it at once.")
    return question


def remove_text(obj: ShmSegment | MsgQueue | SemSet, namespace: str = "") -> str:
    if isinstance(obj, ShmSegment):
        return shm_remove_text(obj, namespace=namespace)
    if isinstance(obj, MsgQueue):
        return msg_remove_text(obj, namespace)
    return sem_remove_text(obj, namespace)


LISTED_IN_FULL = 12  # objects of a question on several named with what happens to each; the rest by name


def removal_line(obj: ShmSegment | MsgQueue | SemSet, namespace: str = "") -> str:
    """One object of a removal of several: its name (and namespace, where there are several), and what
    IPC_RMID does to it."""
    if isinstance(obj, ShmSegment):
        name = f"segment {obj.shmid} ({_key_label(obj.display_key)}, {human_bytes(obj.size)}){_in(namespace)}"
        if obj.nattch == 0:
            return f"{name}: destroyed at once with its contents"
        times = "once" if obj.nattch == 1 else f"{obj.nattch} times"
        labels = _attacher_labels(obj)
        by = f" by {_list(labels)}" if labels else ""
        if obj.marked_for_removal:
            return f"{name}: already marked for removal, attached {times}{by}; it goes when the last detaches"
        return f"{name}: attached {times}{by}, so only marked for removal (it goes when the last detaches)"
    if isinstance(obj, MsgQueue):
        lost = f"{count(obj.qnum, 'waiting message')} ({obj.cbytes} bytes) lost" if obj.qnum else "empty"
        return f"queue {obj.msqid} ({_key_label(obj.key)}){_in(namespace)}: {lost}"
    waiting = f"{count(obj.waiters, 'waiting process', 'waiting processes')} wake with EIDRM" \
        if obj.waiters else "nobody waits on it"  # fmt: skip
    semaphores = count(obj.nsems, "semaphore")
    return f"semaphore set {obj.semid} ({_key_label(obj.key)}, {semaphores}){_in(namespace)}: {waiting}"


def object_name(obj: ShmSegment | MsgQueue | SemSet) -> str:
    if isinstance(obj, ShmSegment):
        return f"segment {obj.shmid}"
    if isinstance(obj, MsgQueue):
        return f"queue {obj.msqid}"
    return f"semaphore set {obj.semid}"


def several(question: str, lines: list[str], names: list[str], after: str = "") -> str:
    """A question on several objects: each on a line of its own, the ones past LISTED_IN_FULL by name."""
    text = [question, ""] + [f"• {line}" for line in lines[:LISTED_IN_FULL]]
    if len(lines) > LISTED_IN_FULL:
        text.append(f"• and {len(lines) - LISTED_IN_FULL} more: {', '.join(names[LISTED_IN_FULL:])}")
    if after:
        text += ["", after]
    return "\n".join(text)


def remove_several_text(objects: list[ShmSegment | MsgQueue | SemSet], namespaces: list[str] | None = None) -> str:
    """The confirmation of removing every tagged object, naming each (and its namespace, where there
    are several) with what happens to it."""
    return several(
        f"Remove these {len(objects)} objects (IPC_RMID)?",
        [removal_line(obj, ns) for obj, ns in zip(objects, namespaces or [""] * len(objects), strict=True)],
        [object_name(obj) for obj in objects],
    )


def kill_several_text(signum: int, processes: list[Process]) -> str:
    """The confirmation of a signal to every tagged process, naming each."""
    return several(
        f"Send {signal_name(signum)} to these {len(processes)} processes?",
        [f"{name_of(p)}[{p.pid}] (user {p.user}): {p.cmdline or p.comm}" for p in processes],
        [f"{p.comm}[{p.pid}]" for p in processes],
    )
