"""A fixed, made-up machine for the monitor's snapshot tests and the screenshots.

`fixture_snapshots()` is a series of scans two seconds apart in which a queue
fills up and drains a little, a segment is marked for removal, one segment goes
and another comes, a semaphore changes and a process exits, so that every pane
(events and fading rows included) has something to show.  Nothing here touches
the kernel; every value is chosen, so the pictures are the same on any machine
(given TZ=UTC for the clock times).
"""

from __future__ import annotations

from types import MappingProxyType

from ipctop.model import (
    Attacher,
    Fifo,
    HeldPipeEnd,
    Limits,
    MsgQueue,
    Pipe,
    PipeEnd,
    Process,
    SemSet,
    ShmSegment,
    Snapshot,
    Uninspectable,
    Wait,
)

T0 = 1_700_000_000.0
STEP = 2.0
SCANS = 8
NS = "ipc:[4026531839]"
QUEUE_DEPTHS = (0, 2, 5, 9, 12, 15, 14, 12)
LIMITS = Limits(
    shmmax=18446744073692774399,
    shmall=18446744073692774399,
    shmmni=4096,
    msgmax=8192,
    msgmnb=16384,
    msgmni=32000,
    semmsl=32000,
    semmns=1024000000,
    semopm=500,
    semmni=32000,
    pipe_max_size=1048576,
)
USERS = {0: "root", 999: "postgres", 1000: "alice"}
# pid: (ppid, comm, cmdline, uid, state, wchan, started seconds before T0)
PROCESSES = {
    2101: (2100, "sleep", "sleep 1000", 1000, "S", "hrtimer_nanosleep", 300),
    2102: (2100, "sleep", "sleep 2000", 1000, "S", "hrtimer_nanosleep", 300),
    2103: (2100, "sleep", "sleep 3000", 1000, "S", "hrtimer_nanosleep", 300),
    3001: (1, "postgres", "postgres -D /var/lib/postgresql", 999, "S", "do_epoll_wait", 86400 * 3),
    3002: (3001, "postgres", "postgres: checkpointer", 999, "S", "do_epoll_wait", 86400 * 3),
    3100: (1000, "viewer", "./viewer --attach", 1000, "S", "do_nanosleep", 3600),
    4001: (4000, "producer", "./producer", 1000, "S", "pipe_write", 90),
    4002: (4000, "consumer", "./consumer --slow", 1000, "S", "do_nanosleep", 90),
    4101: (1, "reader", "./reader", 1000, "S", "pipe_read", 600),
    4102: (1, "writer", "./writer --idle", 1000, "S", "do_nanosleep", 600),
    4201: (1000, "logger", "./logger", 1000, "S", "do_nanosleep", 45),
    5001: (1, "mq-server", "./mq-server", 0, "S", "do_msgrcv", 7200),
    5002: (1000, "mq-client", "./mq-client", 1000, "R", "", 120),
    6001: (1000, "worker-a", "./worker a", 1000, "S", "do_semtimedop", 400),
    6002: (1000, "worker-b", "./worker b", 1000, "S", "do_semtimedop", 400),
    7001: (1000, "cat", "cat /var/log/syslog", 1000, "S", "hrtimer_nanosleep", 30),
    7002: (1000, "tail", "tail -f /tmp/ipctop-demo.fifo", 1000, "S", "do_sys_poll", 30),
    8500: (1000, "oneshot", "./oneshot", 1000, "S", "do_nanosleep", 20),
}
# pid: (call, kind, id, detail, mode), each as its system call would be read
WAITS = {
    4001: ("write", "pipe", 50003, "fd 1", "w"),
    4101: ("read", "pipe", 50004, "fd 0", "r"),
    5001: ("msgrcv", "msg", 1, "type 9", "r"),
    6001: ("semtimedop", "sem", 2, "sem 1 op -1", ""),
    6002: ("semtimedop", "sem", 2, "sem 1 op -1", ""),
}
PARENTS_ALIVE = (1, 1000, 2100, 4000)
# The parents above that hold nothing, as the monitor's scanner reads them (Snapshot.ancestors): alice's
# login shell and the two shells it ran pipelines from, under init.
ANCESTORS = {
    1: (0, "systemd", "/sbin/init", 0, "S", "ep_poll", 86400 * 9),
    1000: (1, "bash", "-bash", 1000, "S", "do_wait", 7200),
    2100: (1000, "bash", "bash", 1000, "S", "do_wait", 300),
    4000: (1000, "bash", "bash", 1000, "S", "do_wait", 90),
}
EXITS_AT = {8500: 6}  # pid -> first scan it is gone from


def _wait(pid: int) -> Wait:
    call, kind, ident, detail, mode = WAITS[pid]
    return Wait(pid, pid, PROCESSES[pid][1], call, kind, ident, detail, mode)


def _waiters(kind: str, ident: int) -> tuple[Wait, ...]:
    return tuple(_wait(pid) for pid, (_, k, i, _, _) in WAITS.items() if (k, i) == (kind, ident))


def _ends(*ends: tuple[int, int, str]) -> tuple[PipeEnd, ...]:
    return tuple(PipeEnd(pid, PROCESSES[pid][1], fd, mode) for pid, fd, mode in ends)  # type: ignore[arg-type]


def _pipes(scan: int) -> tuple[dict[int, Pipe], dict[int, Fifo]]:
    pipes = {
        50001: Pipe(50001, 0, 65536, _ends((2101, 1, "w"), (2102, 0, "r"))),
        50002: Pipe(50002, 0, 65536, _ends((2102, 1, "w"), (2103, 0, "r"))),
        50003: Pipe(50003, 65536, 65536, _ends((4001, 1, "w"), (4002, 0, "r")), _waiters("pipe", 50003)),
        50004: Pipe(50004, 0, 65536, _ends((4101, 0, "r"), (4102, 1, "w")), _waiters("pipe", 50004)),
        50005: Pipe(50005, 4096, 65536, _ends((4201, 1, "w"))),
    }
    if scan < EXITS_AT[8500]:
        pipes[50006] = Pipe(50006, 0, 65536, _ends((8500, 3, "r"), (8500, 4, "w")))
    fifos = {70001: Fifo("/tmp/ipctop-demo.fifo", 70001, 120, 65536, _ends((7001, 1, "w"), (7002, 3, "r")))}
    return pipes, fifos


def _segment(shmid: int, key: int, size: int, cpid: int, uid: int, attachers: tuple[int, ...], **extra) -> ShmSegment:
    base = 0x7F00_0000_0000 + shmid * 0x1000_0000
    return ShmSegment(
        shmid=shmid,
        key=key,
        perms=extra.pop("perms", 0o600),
        size=size,
        nattch=len(attachers),
        cpid=cpid,
        lpid=attachers[-1] if attachers else cpid,
        uid=uid,
        gid=uid,
        cuid=uid,
        cgid=uid,
        owner=USERS[uid],
        atime=int(T0 - 100),
        dtime=0,
        ctime=int(T0 - extra.pop("age", 3600)),
        rss=size // 2,
        swap=0,
        attachers=tuple(Attacher(pid, PROCESSES[pid][1], base, base + size, "rw") for pid in attachers),
        **extra,
    )


def _shm(scan: int) -> dict[int, ShmSegment]:
    segments = {
        3: _segment(3, 0x0052E2C1, 148 * 1024 * 1024, 3001, 999, (3001, 3002), age=86400 * 3),
        9: _segment(9, 0, 65536, 8888, 1000, (), perms=0o644, age=7200),
    }
    if scan < 4:
        segments[7] = _segment(7, 0x4950D001, 4096, 3099, 1000, (3100,), perms=0o640)
    else:
        segments[7] = _segment(
            7, 0, 4096, 3099, 1000, (3100,), perms=0o640, status=("dest",), original_key=0x4950D001
        )
    if scan < SCANS - 1:
        segments[11] = _segment(11, 0x4950D011, 1 << 20, 3100, 1000, (), age=900)
    else:
        segments[12] = _segment(12, 0x4950D012, 2 << 20, 5002, 1000, (), perms=0o666, age=1)
    return segments


def _msg(scan: int) -> dict[int, MsgQueue]:
    depth = QUEUE_DEPTHS[scan]
    busy = MsgQueue(
        msqid=1, key=0x4950D100, perms=0o660, cbytes=depth * 1024, qnum=depth, qbytes=16384,
        lspid=5002, lrpid=5001, uid=1000, gid=1000, cuid=1000, cgid=1000, owner="alice",
        stime=int(T0 + scan * STEP), rtime=int(T0 - 30), ctime=int(T0 - 7200), waiters=_waiters("msg", 1),
    )  # fmt: skip
    idle = MsgQueue(
        msqid=2, key=0x12345678, perms=0o600, cbytes=0, qnum=0, qbytes=16384,
        lspid=0, lrpid=0, uid=0, gid=0, cuid=0, cgid=0, owner="root",
        stime=0, rtime=0, ctime=int(T0 - 86400),
    )  # fmt: skip
    return {1: busy, 2: idle}


def _sem(scan: int) -> dict[int, SemSet]:
    blocked = SemSet(
        semid=2, key=0x4950D200, perms=0o600, nsems=3, values=(1, 0, 2), ncnt=(0, 2, 0), zcnt=(0, 0, 0),
        pids=(6001, 6001, 6002), uid=1000, gid=1000, cuid=1000, cgid=1000, owner="alice",
        otime=int(T0 - 60), ctime=int(T0 - 400), waiters=_waiters("sem", 2),
    )  # fmt: skip
    value = 5 if scan < SCANS - 1 else 4
    free = SemSet(
        semid=4, key=0x0000ABCD, perms=0o666, nsems=1, values=(value,), ncnt=(0,), zcnt=(0,),
        pids=(5001,), uid=0, gid=0, cuid=0, cgid=0, owner="root",
        otime=int(T0 + scan * STEP), ctime=int(T0 - 86400),
    )  # fmt: skip
    return {2: blocked, 4: free}


def _processes(scan: int, shm, msg, sem, pipes, fifos) -> dict[int, Process]:  # type: ignore[no-untyped-def]
    held: dict[int, list[HeldPipeEnd]] = {}
    for kind, table in (("pipe", pipes), ("fifo", fifos)):
        for inode, pipe in table.items():
            for end in pipe.ends:
                held.setdefault(end.pid, []).append(HeldPipeEnd(kind, inode, end.fd, end.mode))
    result = {}
    for pid, (ppid, comm, cmdline, uid, state, wchan, started) in PROCESSES.items():
        if scan >= EXITS_AT.get(pid, SCANS):
            continue
        result[pid] = Process(
            pid=pid, ppid=ppid, comm=comm, cmdline=cmdline, uid=uid, user=USERS[uid], state=state,
            wchan=wchan, start_time=T0 - started, ipc_ns=NS,
            shm=tuple(sorted(s for s, seg in shm.items() if any(a.pid == pid for a in seg.attachers))),
            pipes=tuple(sorted(held.get(pid, ()), key=lambda h: h.fd)),
            msg=tuple(sorted(q for q, queue in msg.items() if pid in (queue.lspid, queue.lrpid))),
            sem=tuple(sorted(s for s, sem_set in sem.items() if pid in sem_set.pids)),
            waits=(_wait(pid),) if pid in WAITS else (),
        )  # fmt: skip
    return result


def fixture_snapshot(scan: int) -> Snapshot:
    shm, msg, sem = _shm(scan), _msg(scan), _sem(scan)
    pipes, fifos = _pipes(scan)
    processes = _processes(scan, shm, msg, sem, pipes, fifos)
    return Snapshot(
        time=T0 + scan * STEP,
        ipc_ns=NS,
        shm=shm,
        msg=msg,
        sem=sem,
        pipes=pipes,
        fifos=fifos,
        processes=processes,
        limits=LIMITS,
        uninspectable=(Uninspectable(412, "permission denied"), Uninspectable(977, "permission denied")),
        live_pids=frozenset(processes) | frozenset(PARENTS_ALIVE),
        ancestors=ANCESTORS_RECORDS,
    )


ANCESTORS_RECORDS = MappingProxyType({
    pid: Process(pid=pid, ppid=ppid, comm=comm, cmdline=cmdline, uid=uid, user=USERS[uid], state=state, wchan=wchan,
                 start_time=T0 - started, ipc_ns=NS)
    for pid, (ppid, comm, cmdline, uid, state, wchan, started) in ANCESTORS.items()
})  # fmt: skip


def fixture_snapshots() -> list[Snapshot]:
    return [fixture_snapshot(scan) for scan in range(SCANS)]


class FixtureFeed:
    """A snapshot provider for the monitor: the fixture's scans in order, then the last one again."""

    def __init__(self) -> None:
        self.snapshots = fixture_snapshots()
        self.calls = 0

    def __call__(self) -> Snapshot:
        snapshot = self.snapshots[min(self.calls, len(self.snapshots) - 1)]
        self.calls += 1
        return snapshot
