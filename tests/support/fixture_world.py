"""A busier made-up machine for the screenshots: the snapshot tests' fixture (fixture_snapshot.py)
with the work of a real server on top.

- PostgreSQL: the postmaster and its checkpointer, background writer, WAL writer, autovacuum
  launcher and client backends, all attached to its shared buffers (a client connects during
  the scans: an attach event);
- a backup pipeline, `tar cf - /srv | gzip -6 | ssh backup …`, whose first pipe is full (tar
  blocked writing) while ssh sends slowly;
- `make -j4`: four sub-makes waiting in read on the jobserver pipe for a token;
- root sees every process: no "not inspected" line.

Nothing here touches the kernel; every value is chosen (given TZ=UTC for the clock times).
"""

from __future__ import annotations

from dataclasses import replace

from ipctop.model import Attacher, HeldPipeEnd, Pipe, PipeEnd, Process, Snapshot, Wait
from tests.support import fixture_snapshot as base

USERS = {**base.USERS, 33: "www-data", 1001: "build"}
# pid: (ppid, comm, cmdline, uid, state, wchan, started seconds before T0), as in the base fixture
PROCESSES = {
    3003: (3001, "postgres", "postgres: background writer", 999, "S", "do_epoll_wait", 86400 * 3),
    3004: (3001, "postgres", "postgres: walwriter", 999, "S", "do_epoll_wait", 86400 * 3),
    3005: (3001, "postgres", "postgres: autovacuum launcher", 999, "S", "do_epoll_wait", 86400 * 3),
    3010: (3001, "postgres", "postgres: shop shop 10.0.0.7(51234) idle", 999, "S", "do_epoll_wait", 5400),
    3011: (3001, "postgres", "postgres: shop shop 10.0.0.8(40112) SELECT", 999, "R", "", 3300),
    3012: (3001, "postgres", "postgres: report shop 10.0.0.9(35544) idle", 999, "S", "do_epoll_wait", 6),
    2301: (2300, "tar", "tar cf - /srv", 0, "S", "pipe_write", 240),
    2302: (2300, "gzip", "gzip -6", 0, "S", "pipe_write", 240),
    2303: (2300, "ssh", "ssh backup@vault cat > srv.tar.gz", 0, "S", "do_sys_poll", 240),
    2400: (2399, "make", "make -j4", 1001, "S", "do_wait", 95),
    2401: (2400, "make", "make -C src/core", 1001, "S", "pipe_read", 90),
    2402: (2400, "make", "make -C src/net", 1001, "S", "pipe_read", 90),
    2403: (2400, "make", "make -C src/ui", 1001, "S", "pipe_read", 90),
    2404: (2400, "make", "make -C tests", 1001, "S", "pipe_read", 90),
}
CONNECTS_AT = {3012: 5}  # pid -> first scan it is in (a client connecting: it attaches the buffers)
BUFFERS = (3003, 3004, 3005, 3010, 3011, 3012)  # attached to the base fixture's segment 3 besides 3001, 3002
BACKUP, COMPRESSED, JOBSERVER = 60001, 60002, 60003
# pid: (call, kind, id, detail, mode)
WAITS = {
    2301: ("write", "pipe", BACKUP, "fd 1", "w"),
    2302: ("write", "pipe", COMPRESSED, "fd 1", "w"),
    **{pid: ("read", "pipe", JOBSERVER, "fd 3", "r") for pid in (2401, 2402, 2403, 2404)},
}


def _here(pid: int, scan: int) -> bool:
    return scan >= CONNECTS_AT.get(pid, 0)


def _wait(pid: int) -> Wait:
    call, kind, ident, detail, mode = WAITS[pid]
    return Wait(pid, pid, PROCESSES[pid][1], call, kind, ident, detail, mode)


def _ends(*ends: tuple[int, int, str]) -> tuple[PipeEnd, ...]:
    return tuple(PipeEnd(pid, PROCESSES[pid][1], fd, mode) for pid, fd, mode in ends)  # type: ignore[arg-type]


def _pipes(scan: int) -> dict[int, Pipe]:
    def waiters(inode: int) -> tuple[Wait, ...]:
        return tuple(_wait(pid) for pid, (_, _, ident, _, _) in WAITS.items() if ident == inode)

    sent = (24 + 5 * scan) * 1024  # ssh sends slowly: gzip's pipe fills
    return {
        BACKUP: Pipe(BACKUP, 65536, 65536, _ends((2301, 1, "w"), (2302, 0, "r")), waiters(BACKUP)),
        COMPRESSED: Pipe(COMPRESSED, sent, 65536, _ends((2302, 1, "w"), (2303, 0, "r")), waiters(COMPRESSED)),
        JOBSERVER: Pipe(JOBSERVER, 0, 65536, _ends((2400, 3, "r"), (2400, 4, "w"),
                                                  *((pid, 3, "r") for pid in (2401, 2402, 2403, 2404)),
                                                  *((pid, 4, "w") for pid in (2401, 2402, 2403, 2404))),
                        waiters(JOBSERVER)),
    }  # fmt: skip


def _processes(scan: int, pipes: dict[int, Pipe]) -> dict[int, Process]:
    held: dict[int, list[HeldPipeEnd]] = {}
    for inode, pipe in pipes.items():
        for end in pipe.ends:
            held.setdefault(end.pid, []).append(HeldPipeEnd("pipe", inode, end.fd, end.mode))
    return {
        pid: Process(
            pid=pid, ppid=ppid, comm=comm, cmdline=cmdline, uid=uid, user=USERS[uid], state=state, wchan=wchan,
            start_time=base.T0 - started, ipc_ns=base.NS, shm=(3,) if pid in BUFFERS else (),
            pipes=tuple(sorted(held.get(pid, ()), key=lambda h: h.fd)),
            waits=(_wait(pid),) if pid in WAITS else (),
        )  # fmt: skip
        for pid, (ppid, comm, cmdline, uid, state, wchan, started) in PROCESSES.items()
        if _here(pid, scan)
    }


def world_snapshot(scan: int) -> Snapshot:
    snapshot = base.fixture_snapshot(scan)
    pipes = _pipes(scan)
    extra = _processes(scan, pipes)
    buffers = snapshot.shm[3]
    address = buffers.attachers[0].start
    attachers = buffers.attachers + tuple(
        Attacher(pid, "postgres", address, address + buffers.size, "rw") for pid in BUFFERS if pid in extra
    )
    shm = {**snapshot.shm, 3: replace(buffers, attachers=attachers, nattch=len(attachers), lpid=attachers[-1].pid)}
    return replace(
        snapshot,
        shm=shm,
        pipes={**snapshot.pipes, **pipes},
        processes={**snapshot.processes, **extra},
        uninspectable=(),
        live_pids=snapshot.live_pids | frozenset(extra) | {2300, 2399},
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
