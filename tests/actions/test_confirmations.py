"""The confirmation texts name the object and say what will really happen."""

from __future__ import annotations

import signal

from ipctop.actions.confirmations import kill_text, msg_remove_text, sem_remove_text, shm_remove_text
from ipctop.frozen import replace
from ipctop.kernel import sysv
from ipctop.model import Attacher, MsgQueue, Process, SemSet, ShmSegment
from ipctop.snapshot import take_snapshot


def segment(nattch: int, attachers: tuple[Attacher, ...] = (), status: tuple[str, ...] = (), key: int = 0x49501234):
    return ShmSegment(
        shmid=7, key=key, perms=0o600, size=4096, nattch=nattch, cpid=1, lpid=1, uid=0, gid=0, cuid=0, cgid=0,
        owner="root", atime=0, dtime=0, ctime=0, rss=0, swap=0, status=status, attachers=attachers,
    )


def attacher(pid: int, comm: str) -> Attacher:
    return Attacher(pid=pid, comm=comm, start=0, end=4096, mode="rw")


def test_unattached_segment_is_destroyed_at_once():
    text = shm_remove_text(segment(0))
    assert text == "Remove segment 7 (key 0x49501234, 4K)? It is destroyed at once with its contents."


def test_attached_segment_is_only_marked_and_the_attached_processes_are_named():
    text = shm_remove_text(segment(3, (attacher(10, "worker"), attacher(10, "worker"), attacher(22, "cat"))))
    assert text == (
        "Mark segment 7 (key 0x49501234, 4K) for removal? It is still attached 3 times, by worker[10] "
        "(2 attachments) and cat[22], so IPC_RMID only marks it (its key becomes 0); "
        "it goes away when the last one detaches."
    )
    one = shm_remove_text(segment(1, (attacher(10, "worker"),)))
    assert "attached once, by worker[10]" in one and "it goes away when worker[10] detaches" in one


def test_attachers_ipctop_cannot_see_are_said_to_be_there():
    hidden = shm_remove_text(segment(2), privileged=False)
    assert "attached 2 times, by processes ipctop cannot inspect (run as root to see them)" in hidden
    partly = shm_remove_text(segment(2, (attacher(5, "a"),)), privileged=False)
    assert "by a[5] and by processes ipctop cannot inspect" in partly


def test_root_is_not_told_to_run_as_root():
    hidden = shm_remove_text(segment(2), privileged=True)
    assert "attached 2 times, by processes ipctop could not find" in hidden and "run as root" not in hidden


def test_already_marked_segment_keeps_its_original_key_in_the_text():
    marked = segment(1, (attacher(5, "a"),), status=("dest",), key=0)
    marked = ShmSegment(**{**{f: getattr(marked, f) for f in marked.__slots__}, "original_key": 0x49505555})
    assert shm_remove_text(marked) == (
        "Remove segment 7 (key 0x49505555, 4K)? It is already marked for removal and is still attached once, "
        "by a[5]; it goes away when the last of them detaches."
    )


def test_queue_set_and_kill_texts():
    queue = MsgQueue(msqid=3, key=0, perms=0o600, cbytes=120, qnum=2, qbytes=16384, lspid=0, lrpid=0, uid=0,
                     gid=0, cuid=0, cgid=0, owner="root", stime=0, rtime=0, ctime=0)
    assert msg_remove_text(queue) == (
        "Remove queue 3 (private)? It is removed at once: its 2 waiting messages (120 bytes) are lost, "
        "and processes waiting on it wake with EIDRM."
    )
    semset = SemSet(semid=4, key=0x49500001, perms=0o600, nsems=2, values=(0, 0), ncnt=(1, 0), zcnt=(0, 1),
                    pids=(0, 0), uid=0, gid=0, cuid=0, cgid=0, owner="root", otime=0, ctime=0)
    assert sem_remove_text(semset) == (
        "Remove semaphore set 4 (key 0x49500001, 2 semaphores)? It is removed at once; "
        "the 2 processes waiting on it wake with EIDRM."
    )
    process = Process(pid=42, ppid=1, comm="sleep", cmdline="sleep 100", uid=0, user="root", state="S", wchan="",
                      start_time=0.0, ipc_ns="")
    assert kill_text(42, signal.SIGTERM, process) == "Send SIGTERM to sleep[42] (user root)?"
    assert kill_text(42, signal.SIGKILL) == "Send SIGKILL to process 42?"
    stopped = replace(process, state="T")
    assert kill_text(42, signal.SIGTERM, stopped) == (
        "Send SIGTERM to sleep[42] (user root)? It is stopped: SIGTERM will wait until it is continued "
        "(SIGCONT); SIGKILL ends it at once.")
    assert kill_text(42, signal.SIGKILL, stopped) == "Send SIGKILL to sleep[42] (user root)?"


def test_text_for_a_real_attached_segment_names_its_holder(ipc_key, holders):
    shmid = sysv.shmget(ipc_key(), 4096, sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600)
    try:
        holder = holders.spawn("shm-attach", shmid)
        seen = take_snapshot().shm[shmid]
        text = shm_remove_text(seen)
        comm = seen.attachers[0].comm
        assert f"still attached once, by {comm}[{holder.pid}]" in text
        assert text.startswith(f"Mark segment {shmid} (key ") and "only marks it" in text
    finally:
        sysv.shm_remove(shmid)
