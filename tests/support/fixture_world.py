"""A busier made-up machine for the screenshots: the snapshot tests' fixture (fixture_snapshot.py)
with the work of a real server on top, System V and the modern half alike.

- PostgreSQL 15 as it is: the postmaster and its checkpointer, background writer, WAL writer,
  autovacuum launcher and client backends all attach its 56-byte System V segment (segment 3,
  key 0x0052e2c1: port 5432), and map its ~143 MB buffer pool, shared anonymous memory
  (`/dev/zero (deleted)`, inherited across fork), and its dynamic shared memory control segment
  `/dev/shm/PostgreSQL.NNNN` (a client connects during the scans, as two parallel workers of a
  query start: each attaches and maps them all);
- a Python multiprocessing job (`python3 train.py`, a resource tracker and two spawned workers):
  `/dev/shm/psm_…` shared memory, and a `sem.mp-…` semaphore at 0 with a worker asleep in sem_wait;
- a frame producer that passed a memfd to a viewer (both map it, each with an fd on it);
- a POSIX message queue `/jobs` with a worker blocked in mq_timedreceive on it (empty);
- `/dev/shm/psm_…` of a job that crashed two days ago: nobody holds it (the Leaks pane);
- a container (docker) in an IPC namespace of its own, with a PostgreSQL of its own: its segment
  has the same key as the host's, in another namespace (the Namespace column);
- a backup pipeline, `tar cf - /srv | gzip -6 | ssh backup …`, whose first pipe is full (tar
  blocked writing) while ssh sends slowly;
- `make -j4`: four sub-makes waiting in read on the jobserver pipe for a token;
- root sees every process: no "not inspected" line.

The records are the model's own (ipctop/model.py), as the real scan builds them: System V
segments with attachers, PosixShm, PosixSem and PosixQueue with their holders and waiters,
UnnamedShm for the memfd and the anonymous mappings, IpcNamespace for each namespace.  Nothing
here touches the kernel; every value is chosen (given TZ=UTC for the clock times).
"""

from __future__ import annotations

from types import MappingProxyType

from ipctop.frozen import replace
from ipctop.model import (
    Attacher,
    HeldObject,
    HeldPipeEnd,
    Holder,
    IpcNamespace,
    Pipe,
    PipeEnd,
    PosixQueue,
    PosixSem,
    PosixShm,
    Process,
    ShmSegment,
    Snapshot,
    UnnamedShm,
    Wait,
)
from tests.support import fixture_snapshot as base

T0 = base.T0
MiB = 1024 * 1024
USERS = {**base.USERS, 33: "www-data", 1001: "build"}
PG_AGE = 86400 * 3
# pid: (ppid, comm, cmdline, uid, state, wchan, started seconds before T0), as in the base fixture
PROCESSES = {
    3003: (3001, "postgres", "postgres: background writer", 999, "S", "do_epoll_wait", PG_AGE),
    3004: (3001, "postgres", "postgres: walwriter", 999, "S", "do_epoll_wait", PG_AGE),
    3005: (3001, "postgres", "postgres: autovacuum launcher", 999, "S", "do_epoll_wait", PG_AGE),
    3010: (3001, "postgres", "postgres: shop shop 10.0.0.7(51234) idle", 999, "S", "do_epoll_wait", 5400),
    3011: (3001, "postgres", "postgres: shop shop 10.0.0.8(40112) SELECT", 999, "R", "", 3300),
    3012: (3001, "postgres", "postgres: report shop 10.0.0.9(35544) idle", 999, "S", "do_epoll_wait", 6),
    3013: (3001, "postgres", "postgres: parallel worker for PID 3011", 999, "R", "", 1),
    3014: (3001, "postgres", "postgres: parallel worker for PID 3011", 999, "R", "", 1),
    2301: (2300, "tar", "tar cf - /srv", 0, "S", "pipe_write", 240),
    2302: (2300, "gzip", "gzip -6", 0, "S", "pipe_write", 240),
    2303: (2300, "ssh", "ssh backup@vault cat > srv.tar.gz", 0, "S", "do_sys_poll", 240),
    2400: (2399, "make", "make -j4", 1001, "S", "do_wait", 95),
    2401: (2400, "make", "make -C src/core", 1001, "S", "pipe_read", 90),
    2402: (2400, "make", "make -C src/net", 1001, "S", "pipe_read", 90),
    2403: (2400, "make", "make -C src/ui", 1001, "S", "pipe_read", 90),
    2404: (2400, "make", "make -C tests", 1001, "S", "pipe_read", 90),
    2600: (1200, "python3", "python3 train.py", 1000, "S", "do_wait", 1500),
    2601: (2600, "python3", "python3 -c from multiprocessing.resource_tracker import main;main(6)", 1000, "S",
           "pipe_read", 1500),
    2602: (2600, "python3", "python3 -c from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=7, "
           "pipe_handle=9) --multiprocessing-fork", 1000, "R", "", 1499),
    2603: (2600, "python3", "python3 -c from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=7, "
           "pipe_handle=11) --multiprocessing-fork", 1000, "S", "futex_wait_queue", 1499),
    2701: (1200, "frame-producer", "./frame-producer --fps 30", 1000, "S", "do_nanosleep", 700),
    2702: (2701, "frame-viewer", "./frame-viewer", 1000, "S", "do_epoll_wait", 700),
    2801: (1, "job-worker", "job-worker --queue /jobs", 33, "S", "do_mq_timedreceive", 3 * 3600),
    2802: (1, "php-fpm8.2", "php-fpm: pool www", 33, "S", "do_epoll_wait", 3 * 3600),
    9101: (9000, "postgres", "postgres", 999, "S", "do_epoll_wait", 86400),
    9102: (9101, "postgres", "postgres: checkpointer", 999, "S", "do_epoll_wait", 86400),
}  # fmt: skip
# The parents above that hold nothing, as the monitor's scanner reads them (Snapshot.ancestors), as in the
# base fixture: the backup's shell under cron, the build user's shell, alice's second shell, the container's shim.
ANCESTORS = {
    2299: (1, "cron", "/usr/sbin/cron -f", 0, "S", "hrtimer_nanosleep", 86400 * 9),
    2300: (2299, "sh", "/bin/sh -c /usr/local/bin/backup", 0, "S", "do_wait", 240),
    2399: (1, "bash", "-bash", 1001, "S", "do_wait", 600),
    1200: (1000, "bash", "bash", 1000, "S", "do_wait", 3000),
    9000: (1, "containerd-shim", "/usr/bin/containerd-shim-runc-v2 -namespace moby -id 3f2a1b4c5d6e", 0, "S",
           "futex_wait_queue", 86400),
}  # fmt: skip
# pid -> first scan it is in: a client connecting, and two parallel workers of a query, in the same scan;
# each attaches and maps the buffers (the event log tells each change once: `attached ×3`)
CONNECTS_AT = {3012: 5, 3013: 5, 3014: 5}
POSTGRES = (3001, 3002, 3003, 3004, 3005, 3010, 3011, 3012, 3013, 3014)  # the host's server, postmaster first
BUFFERS = POSTGRES[2:]  # attached to the base fixture's segment 3 besides 3001, 3002
BACKUP, COMPRESSED, JOBSERVER = 60001, 60002, 60003

# POSIX and unnamed shared memory, by inode
PG_DSM, PSM, PSM_LEAKED, MP_SEM = 41001, 41002, 41003, 41004
PG_POOL, CONTAINER_POOL, FRAMES = 195201, 195202, 195203
JOBS = 52001
PG_POOL_SIZE = 150_208_512  # shared_buffers 128MB and the rest: what PostgreSQL 15 maps by default
PG_DSM_SIZE = 26_976
CONTAINER_POOL_SIZE = 42_991_616  # the container's server runs with shared_buffers 32MB
CONTAINER = IpcNamespace(
    inode=4026532518, name="docker:7c1f0e9ab2d4", kind="docker", container_id="7c1f0e9ab2d4" + "5e8a" * 13,
    cgroup="/system.slice/docker-7c1f0e9ab2d4.scope", leader=9101, members=(9101, 9102), own=False,
)  # fmt: skip
NAMESPACE_OF = {9101: CONTAINER, 9102: CONTAINER}
# the POSIX limits too: /proc/sys/fs/mqueue, and a /dev/shm of half of a 24 GiB machine
LIMITS = replace(
    base.LIMITS, mq_queues_max=256, mq_msg_max=10, mq_msgsize_max=8192, mq_msg_default=10, mq_msgsize_default=8192,
    dev_shm_size=12 * 1024 * MiB, dev_shm_used=28672 + 8 * MiB + 64 * MiB + 4096,
)

# pid: (call, kind, id, detail, mode), each as its system call would be read
WAITS = {
    2301: ("write", "pipe", BACKUP, "fd 1", "w"),
    2302: ("write", "pipe", COMPRESSED, "fd 1", "w"),
    **{pid: ("read", "pipe", JOBSERVER, "fd 3", "r") for pid in (2401, 2402, 2403, 2404)},
    2603: ("futex", "psem", MP_SEM, "/mp-4hx_kq2z (sem_wait)", ""),
    2801: ("mq_timedreceive", "pmsg", JOBS, "/jobs (fd 3)", "r"),
}


def _here(pid: int, scan: int) -> bool:
    return scan >= CONNECTS_AT.get(pid, 0)


def _comm(pid: int) -> str:
    return PROCESSES[pid][1] if pid in PROCESSES else base.PROCESSES[pid][1]


def _wait(pid: int) -> Wait:
    call, kind, ident, detail, mode = WAITS[pid]
    return Wait(pid, pid, PROCESSES[pid][1], call, kind, ident, detail, mode)


def _waiters(kind: str, ident: int) -> tuple[Wait, ...]:
    return tuple(_wait(pid) for pid, (_, k, i, _, _) in WAITS.items() if (k, i) == (kind, ident))


def _ends(*ends: tuple[int, int, str]) -> tuple[PipeEnd, ...]:
    return tuple(PipeEnd(pid, PROCESSES[pid][1], fd, mode) for pid, fd, mode in ends)  # type: ignore[arg-type]


def _pipes(scan: int) -> dict[int, Pipe]:
    def waiters(inode: int) -> tuple[Wait, ...]:
        return _waiters("pipe", inode)

    sent = (24 + 5 * scan) * 1024  # ssh sends slowly: gzip's pipe fills
    return {
        BACKUP: Pipe(BACKUP, 65536, 65536, _ends((2301, 1, "w"), (2302, 0, "r")), waiters(BACKUP)),
        COMPRESSED: Pipe(COMPRESSED, sent, 65536, _ends((2302, 1, "w"), (2303, 0, "r")), waiters(COMPRESSED)),
        JOBSERVER: Pipe(JOBSERVER, 0, 65536, _ends((2400, 3, "r"), (2400, 4, "w"),
                                                  *((pid, 3, "r") for pid in (2401, 2402, 2403, 2404)),
                                                  *((pid, 4, "w") for pid in (2401, 2402, 2403, 2404))),
                        waiters(JOBSERVER)),
    }  # fmt: skip


# --- the modern half ---------------------------------------------------------------------


def _maps(pids: tuple[int, ...], start: int, size: int, fds: dict[int, int] | None = None) -> tuple[Holder, ...]:
    """Each process maps it read-write at `start` (inherited across fork: the same address in all), and
    holds it as an fd where `fds` says so; in the collector's order (pid, fds before mappings)."""
    holders = []
    for pid in sorted(pids):
        if fds and pid in fds:
            holders.append(Holder(pid, _comm(pid), "rw", fds[pid]))
        holders.append(Holder(pid, _comm(pid), "rw", None, start, start + size))
    return tuple(holders)


def _pshm(postgres: tuple[int, ...]) -> dict[int, PosixShm]:
    made = T0 - PG_AGE
    dsm = PosixShm(
        name="/PostgreSQL.1804289383", inode=PG_DSM, size=PG_DSM_SIZE, allocated=28672, perms=0o600, uid=999,
        gid=999, owner="postgres", atime=made, mtime=made, ctime=made,
        holders=_maps(postgres, 0x7F3A_3C7E_1000, PG_DSM_SIZE), made=made,
    )  # fmt: skip
    job = T0 - 1500
    psm = PosixShm(
        name="/psm_5f0c9e3a", inode=PSM, size=8 * MiB, allocated=8 * MiB, perms=0o600, uid=1000, gid=1000,
        owner="alice", atime=T0 - 4, mtime=T0 - 4, ctime=job,
        holders=_maps((2600, 2602, 2603), 0x7F61_2A40_0000, 8 * MiB, {2600: 4, 2602: 5, 2603: 5}), made=job,
    )  # fmt: skip
    crashed = T0 - 2 * 86400 - 5000
    leaked = PosixShm(
        name="/psm_0b7e1d44", inode=PSM_LEAKED, size=64 * MiB, allocated=64 * MiB, perms=0o600, uid=1000,
        gid=1000, owner="alice", atime=crashed + 900, mtime=crashed + 900, ctime=crashed, made=crashed,
    )  # fmt: skip
    return {PG_DSM: dsm, PSM: psm, PSM_LEAKED: leaked}


def _psem() -> dict[int, PosixSem]:
    made = T0 - 1500
    sem = PosixSem(
        name="/mp-4hx_kq2z", inode=MP_SEM, perms=0o600, uid=1000, gid=1000, owner="alice", mtime=T0 - 40,
        ctime=made, value=0, blocked=1, layout="glibc",
        holders=_maps((2600, 2602, 2603), 0x7F61_2C1F_3000, 32), made=made, waiters=_waiters("psem", MP_SEM),
    )  # fmt: skip
    return {MP_SEM: sem}


def _pmsg(scan: int) -> dict[int, PosixQueue]:
    made = T0 - 3 * 3600
    jobs = PosixQueue(
        name="/jobs", inode=JOBS, perms=0o660, uid=33, gid=33, owner="www-data", mtime=T0 - 75, messages=0,
        max_messages=10, message_size=8192,
        holders=(Holder(2801, "job-worker", "r", 3), Holder(2802, "php-fpm8.2", "w", 9)), made=made,
        waiters=_waiters("pmsg", JOBS),
    )  # fmt: skip
    return {JOBS: jobs}


def _memfd(postgres: tuple[int, ...]) -> dict[int, UnnamedShm]:
    pool = UnnamedShm(
        inode=PG_POOL, source="anonymous", name="", size=PG_POOL_SIZE, allocated=37 * MiB, uid=999, owner="postgres",
        holders=_maps(postgres, 0x7F3A_3304_0000, PG_POOL_SIZE),
    )  # fmt: skip
    container_pool = UnnamedShm(
        inode=CONTAINER_POOL, source="anonymous", name="", size=CONTAINER_POOL_SIZE, allocated=18 * MiB, uid=999,
        owner="postgres", holders=_maps((9101, 9102), 0x7F9C_11A0_0000, CONTAINER_POOL_SIZE),
    )  # fmt: skip
    frames = UnnamedShm(
        inode=FRAMES, source="memfd", name="frames", size=4 * MiB, allocated=4 * MiB, uid=1000, owner="alice",
        holders=(*_maps((2701,), 0x7F20_8800_0000, 4 * MiB, {2701: 5}),
                 *_maps((2702,), 0x7F44_1200_0000, 4 * MiB, {2702: 7})),
    )  # fmt: skip
    return {PG_POOL: pool, CONTAINER_POOL: container_pool, FRAMES: frames}


def _held(*tables: tuple[str, dict]) -> dict[int, list[HeldObject]]:
    """What each process holds of the modern half, as the snapshot lists it per process."""
    held: dict[int, list[HeldObject]] = {}
    for kind, table in tables:
        for inode, obj in table.items():
            for h in obj.holders:
                held.setdefault(h.pid, []).append(HeldObject(kind, inode, h.fd, h.mode, h.start))  # type: ignore[arg-type]
    return held


def _container_segment(scan: int) -> ShmSegment:
    """The container's PostgreSQL has its 56-byte segment too, with the same key: another namespace."""
    start = 0x7F9C_2360_0000
    attachers = tuple(Attacher(pid, "postgres", start, start + 56, "rw") for pid in (9101, 9102))
    return ShmSegment(
        shmid=0, key=0x0052E2C1, perms=0o600, size=56, nattch=2, cpid=9101, lpid=9102, uid=999, gid=999, cuid=999,
        cgid=999, owner="postgres", atime=int(T0 - 86400), dtime=0, ctime=int(T0 - 86400), rss=4096, swap=0,
        attachers=attachers, ipc_ns=CONTAINER.inode, container=CONTAINER.name,
    )  # fmt: skip


# --- the snapshot ------------------------------------------------------------------------


def _processes(scan: int, pipes: dict[int, Pipe], held: dict[int, list[HeldObject]]) -> dict[int, Process]:
    held_ends: dict[int, list[HeldPipeEnd]] = {}
    for inode, pipe in pipes.items():
        for end in pipe.ends:
            held_ends.setdefault(end.pid, []).append(HeldPipeEnd("pipe", inode, end.fd, end.mode))
    result = {}
    for pid, (ppid, comm, cmdline, uid, state, wchan, started) in PROCESSES.items():
        if not _here(pid, scan):
            continue
        namespace = NAMESPACE_OF.get(pid)
        result[pid] = Process(
            pid=pid, ppid=ppid, comm=comm, cmdline=cmdline, uid=uid, user=USERS[uid], state=state, wchan=wchan,
            start_time=T0 - started, ipc_ns=f"ipc:[{namespace.inode}]" if namespace else base.NS,
            shm=(0,) if namespace else (3,) if pid in BUFFERS else (),
            pipes=tuple(sorted(held_ends.get(pid, ()), key=lambda h: h.fd)),
            posix=tuple(held.get(pid, ())), waits=(_wait(pid),) if pid in WAITS else (),
        )  # fmt: skip
    return result


ANCESTORS_RECORDS = MappingProxyType({
    **base.ANCESTORS_RECORDS,
    **{pid: Process(pid=pid, ppid=ppid, comm=comm, cmdline=cmdline, uid=uid, user=USERS[uid], state=state,
                    wchan=wchan, start_time=T0 - started, ipc_ns=base.NS)
       for pid, (ppid, comm, cmdline, uid, state, wchan, started) in ANCESTORS.items()},
})  # fmt: skip


def world_snapshot(scan: int) -> Snapshot:
    snapshot = base.fixture_snapshot(scan)
    postgres = tuple(pid for pid in POSTGRES if _here(pid, scan))
    pshm, psem, pmsg, memfd = _pshm(postgres), _psem(), _pmsg(scan), _memfd(postgres)
    held = _held(("pshm", pshm), ("psem", psem), ("pmsg", pmsg), ("memfd", memfd))
    pipes = _pipes(scan)
    extra = _processes(scan, pipes, held)
    processes = {
        **{pid: replace(process, posix=tuple(held.get(pid, ()))) for pid, process in snapshot.processes.items()},
        **extra,
    }
    # PostgreSQL's System V segment is 56 bytes: its buffers are the shared anonymous memory above
    buffers = snapshot.shm[3]
    address = buffers.attachers[0].start
    attachers = tuple(
        Attacher(pid, "postgres", address, address + 56, "rw") for pid in POSTGRES if pid in processes
    )
    shm = {**snapshot.shm, 3: replace(buffers, size=56, rss=4096, attachers=attachers, nattch=len(attachers),
                                      lpid=attachers[-1].pid)}  # fmt: skip
    host = IpcNamespace(
        inode=snapshot.own_inode, name="host", kind="host", container_id="", cgroup="/", leader=1,
        members=tuple(sorted(pid for pid in processes if pid not in NAMESPACE_OF)), own=True,
        shm=shm, msg=snapshot.msg, sem=snapshot.sem, limits=LIMITS,
    )  # fmt: skip
    container = replace(CONTAINER, shm={0: _container_segment(scan)}, limits=base.LIMITS)
    return replace(
        snapshot,
        shm=shm,
        pipes={**snapshot.pipes, **pipes},
        processes=processes,
        pshm=pshm,
        psem=psem,
        pmsg=pmsg,
        memfd=memfd,
        limits=LIMITS,
        namespaces=(host, container),
        uninspectable=(),
        live_pids=snapshot.live_pids | frozenset(extra) | frozenset(ANCESTORS),
        ancestors=ANCESTORS_RECORDS,
    )


class WorldFeed:
    """The busier machine's scans in order, then the last one again (as base.FixtureFeed)."""

    def __init__(self) -> None:
        self.snapshots = [world_snapshot(scan) for scan in range(base.SCANS)]
        self.calls = 0

    def __call__(self) -> Snapshot:
        snapshot = self.snapshots[min(self.calls, len(self.snapshots) - 1)]
        self.calls += 1
        return snapshot
