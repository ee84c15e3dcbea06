"""What a benchmark world holds: counts of processes, pipes, System V and POSIX objects, shared memory.

The default world is the one the targets of issue 7 are stated for; `large` has
10,000 attached segments; `idle` holds nothing (for start-up times); `ns10` and
`ns100` are the default world with 10 and 100 IPC namespaces beside it (issue 14),
each holding 10 objects of its own (4 segments attached twice, 3 queues, 3 sets).
Issue 17's worlds look like real machines: `pipe1000` is the default world with one
pipe inherited by every process (as make's jobserver is); `busy` the same with every
process a Python interpreter (forks of the host, with an interpreter's maps) instead
of `sleep`; `10k` has 10,000 processes and 100,000 fds; `pipes9900` one process
holding 9,900 pipes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class WorldSpec:
    name: str
    processes: int = 1000  # every process of the world, the host included
    pipes: int = 500  # anonymous pipes, in pipelines of `pipeline_length` sleeps
    pipeline_length: int = 3
    segments: int = 200  # System V segments, every one attached twice
    servers: int = 25  # processes that attach the segments; each forks one worker that inherits them
    queues: int = 50
    messages_per_queue: int = 8
    sem_sets: int = 50
    sems_per_set: int = 4
    sem_waiters: int = 10  # processes blocked in semop on one set each
    fifos: int = 20  # each held open by a reader and a writer process
    segment_size: int = 4096
    # POSIX objects (named in ipctop's bench range) and shared memory without a name, held by forks of the host
    posix_shm: int = 50  # each mapped by a holder, half of them with the fd kept open too
    posix_sems: int = 20  # named semaphores, each mapped by a holder
    posix_queues: int = 10  # each held open by a holder, with messages in it
    posix_holders: int = 10  # each also makes a memfd and maps it
    anon_shared: int = 10  # shared anonymous mappings, two per process, each process with a child that inherits them
    namespaces: int = 0  # other IPC namespaces, each with a process of its own and a worker it forked
    objects_per_namespace: int = 10  # in each: 4 segments (attached by both), 3 queues, 3 semaphore sets
    python_processes: bool = False  # the world's plain processes are forks of the Python host, not `sleep`
    shared_pipe: bool = False  # one pipe whose two ends every process of the world inherits
    extra_fds: int = 0  # more fds each plain process holds (pipes, sockets, files shared by groups of 100)
    pipe_hoarder: int = 0  # one more process holding this many pipes (both ends of each)

    @property
    def pipelines(self) -> int:
        return self.pipes // (self.pipeline_length - 1) if self.pipes else 0

    @property
    def attaching_processes(self) -> int:
        return 2 * self.servers if self.segments else 0

    @property
    def idle_processes(self) -> int:
        """Plain sleeps with no IPC at all, to make up `processes`."""
        busy = (
            1
            + self.pipelines * self.pipeline_length
            + self.attaching_processes
            + self.sem_waiters
            + 2 * self.fifos
            + self.posix_holders
            + self.anon_processes
            + 2 * self.namespaces
            + (1 if self.pipe_hoarder else 0)
        )
        return max(0, self.processes - busy)

    @property
    def anon_processes(self) -> int:
        """Processes sharing anonymous memory: a maker (two mappings) and its child per pair of mappings."""
        return 2 * -(-self.anon_shared // 2)

    @property
    def fds(self) -> int:
        """About how many fds the world's processes hold: three each, and the extra ones."""
        return 3 * self.processes + self.extra_fds * self.idle_processes + 2 * self.pipe_hoarder \
            + (2 * self.processes if self.shared_pipe else 0)

    @property
    def keys_needed(self) -> int:
        return self.segments + self.queues + self.sem_sets

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorldSpec:
        return cls(**json.loads(text))


WORLDS = {
    "default": WorldSpec("default"),
    "large": WorldSpec("large", segments=10_000),
    "ns10": WorldSpec("ns10", namespaces=10),
    "ns100": WorldSpec("ns100", namespaces=100),
    "pipe1000": WorldSpec("pipe1000", shared_pipe=True),
    "busy": WorldSpec("busy", shared_pipe=True, python_processes=True),
    "10k": WorldSpec("10k", processes=10_000, extra_fds=7),
    "pipes9900": WorldSpec("pipes9900", pipe_hoarder=9_900),
    # issue 7's default world as it was: System V objects and pipes only, to compare with code from before POSIX
    "sysv": WorldSpec("sysv", posix_shm=0, posix_sems=0, posix_queues=0, posix_holders=0, anon_shared=0),
    "idle": WorldSpec(
        "idle", processes=0, pipes=0, segments=0, servers=0, queues=0, sem_sets=0, sem_waiters=0, fifos=0,
        posix_shm=0, posix_sems=0, posix_queues=0, posix_holders=0, anon_shared=0,
    ),
}
