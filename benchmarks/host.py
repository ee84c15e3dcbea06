"""The leader of a benchmark world's process group: builds the load, then waits to be killed.

Run by benchmarks.world as `python -m benchmarks.host SPEC_JSON DIR READY_FD` in a
session of its own, so that the whole world is one process group that the runner
kills by its pgid.  Every IPC object is written to DIR/manifest the moment it is
made (with SIGTERM blocked in between, so that a SIGTERM from the runner lands
only between objects), so the runner can remove each one by id whatever happens.

Memory stays small: pipelines, FIFO holders and idle processes are `sleep`
processes; only segment servers and semaphore waiters are forks of this process.
A world of `python_processes` makes those plain processes forks of this process
too (real interpreters, with an interpreter's maps; they share its pages until
they write), each keeping only the fds a `sleep` would have.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import mmap
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import IO

from benchmarks.spec import WorldSpec
from ipctop.demos.syscalls import mmap_shared as libc_mmap
from ipctop.kernel import posix, sysv
from ipctop.kernel.errors import IpcError
from ipctop.keys import BENCH_KEYS, POSIX_BENCH_PREFIX, posix_name

_kept: list[object] = []  # mappings a fork keeps until it is killed

_DEFERRED = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
CLONE_NEWIPC = 0x0800_0000


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold back termination while an object is made and not yet in the manifest."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class Builder:
    def __init__(self, spec: WorldSpec, directory: str, ready_fd: int) -> None:
        self.spec = spec
        self.directory = directory
        self.ready_fd = ready_fd
        self.manifest: IO[str] = open(os.path.join(directory, "manifest"), "a", encoding="ascii")  # noqa: SIM115
        self.keys = iter(BENCH_KEYS)
        self.sleep = shutil.which("sleep") or "/bin/sleep"
        self.children: list[subprocess.Popen[bytes]] = []
        # a pipe every process of the world holds both ends of (forks inherit it, sleeps are passed it)
        self.inherited: tuple[int, ...] = os.pipe() if spec.shared_pipe else ()

    def _record(self, kind: str, ident: int, key: int) -> None:
        self.manifest.write(f"{kind} {ident} {key}\n")
        self.manifest.flush()

    def _create(self, kind: str, make) -> tuple[int, int]:  # type: ignore[no-untyped-def]
        """Make one object with the next free bench key (IPC_EXCL); never touches an existing one."""
        for key in self.keys:
            with deferred_signals():
                try:
                    ident = make(key)
                except IpcError as error:
                    if error.errno == errno.EEXIST:
                        continue
                    raise
                self._record(kind, ident, key)
            return ident, key
        raise RuntimeError("ran out of BENCH_KEYS")

    def _fork(self, body) -> int:  # type: ignore[no-untyped-def]
        pid = os.fork()
        if pid == 0:
            try:
                with contextlib.suppress(OSError):
                    os.close(self.ready_fd)
                self.manifest.close()
                signal.pthread_sigmask(signal.SIG_SETMASK, set())
                body()
                while True:
                    signal.pause()
            finally:
                os._exit(0)
        return pid

    def _sleep(self, stdin: int = subprocess.DEVNULL, stdout: int = subprocess.DEVNULL,
               keep: tuple[int, ...] = ()) -> None:
        """A plain process holding `stdin`, `stdout` and the fds `keep` (and the shared pipe): a `sleep`,
        or with `python_processes` a fork of this interpreter that closed every other fd."""
        keep = (*self.inherited, *keep)
        if not self.spec.python_processes:
            self.children.append(subprocess.Popen([self.sleep, "infinity"], stdin=stdin, stdout=stdout,
                                                  stderr=subprocess.DEVNULL, pass_fds=keep))
            return

        def hold_only() -> None:
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null if stdin == subprocess.DEVNULL else stdin, 0)
            os.dup2(null if stdout == subprocess.DEVNULL else stdout, 1)
            os.dup2(null, 2)
            kept = {0, 1, 2, *keep}
            for name in os.listdir("/proc/self/fd"):
                if int(name) not in kept:
                    with contextlib.suppress(OSError):
                        os.close(int(name))

        self._fork(hold_only)

    # -- the parts of the world, in pid order: attaching processes get the lowest pids,
    #    so a scan from the highest pid down meets them last.

    def segments(self) -> None:
        spec = self.spec
        flags = sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600
        shmids = [
            self._create("shm", lambda k: sysv.shmget(k, spec.segment_size, flags))[0] for _ in range(spec.segments)
        ]
        if not shmids:
            return
        per_server = -(-len(shmids) // spec.servers)
        for start in range(0, len(shmids), per_server):
            mine = shmids[start : start + per_server]

            def serve(mine: list[int] = mine) -> None:
                for shmid in mine:
                    sysv.shmat(shmid)
                self._fork(lambda: None)  # a pre-fork worker: inherits every attachment

            self._fork(serve)
        self._wait_for(lambda: all(sysv.shm_stat(s).nattch >= 2 for s in shmids), "segment attachments")

    def queues(self) -> None:
        flags = sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600
        for n in range(self.spec.queues):
            msqid, _ = self._create("msg", lambda k: sysv.msgget(k, flags))
            for m in range(self.spec.messages_per_queue):
                sysv.msgsnd(msqid, 1 + m % 3, bytes(64 + (n * 7 + m) % 128), nowait=True)

    def semaphores(self) -> None:
        spec = self.spec
        flags = sysv.IPC_CREAT | sysv.IPC_EXCL | 0o600
        semids = []
        for n in range(spec.sem_sets):
            semid, _ = self._create("sem", lambda k: sysv.semget(k, spec.sems_per_set, flags))
            sysv.sem_setall(semid, [(n + i) % 5 for i in range(spec.sems_per_set)])
            semids.append(semid)
        waited = []
        for semid in semids[: spec.sem_waiters]:
            sysv.sem_setval(semid, 0, 0)
            self._fork(lambda semid=semid: sysv.semop(semid, 0, -1))
            waited.append(semid)
        self._wait_for(lambda: all(sysv.sem_get(s, 0, sysv.GETNCNT) == 1 for s in waited), "semaphore waiters")

    def fifos(self) -> None:
        fifo_dir = os.path.join(self.directory, "fifos")
        os.makedirs(fifo_dir, exist_ok=True)
        for n in range(self.spec.fifos):
            path = os.path.join(fifo_dir, f"fifo-{n}")
            os.mkfifo(path, 0o600)
            reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            writer = os.open(path, os.O_WRONLY)
            os.write(writer, bytes(100 * n))
            self._sleep(stdin=reader)
            self._sleep(stdout=writer)
            os.close(reader)
            os.close(writer)

    def pipelines(self) -> None:
        length = self.spec.pipeline_length
        for n in range(self.spec.pipelines):
            pipes = [os.pipe() for _ in range(length - 1)]
            for i, (_, w) in enumerate(pipes):
                os.write(w, bytes((n * 37 + i * 101) % 4096))
            for stage in range(length):
                stdin = pipes[stage - 1][0] if stage > 0 else subprocess.DEVNULL
                stdout = pipes[stage][1] if stage < length - 1 else subprocess.DEVNULL
                self._sleep(stdin=stdin, stdout=stdout)
            for r, w in pipes:
                os.close(r)
                os.close(w)

    def _create_posix(self, kind: str, make) -> str:  # type: ignore[no-untyped-def]
        """Make one POSIX object under a fresh name of the bench range (O_EXCL); returns the name."""
        for _ in range(100):
            name = "/" + posix_name(POSIX_BENCH_PREFIX)
            with deferred_signals():
                try:
                    make(name)
                except IpcError as error:
                    if error.errno == errno.EEXIST:
                        continue
                    raise
                self._record(kind, name, 0)  # type: ignore[arg-type]
            return name
        raise RuntimeError("no free name in the bench range")

    def posix_objects(self) -> None:
        """Shared memory, named semaphores and queues, each held by one of `posix_holders` forks (which also
        make a memfd each); the host itself holds none of them."""
        spec = self.spec
        if not spec.posix_holders:
            return
        excl = os.O_CREAT | os.O_EXCL | os.O_RDWR

        def make_shm(name: str) -> None:
            fd = posix.shm_open(name, excl, 0o600)
            os.ftruncate(fd, 4096)
            os.close(fd)

        shms = [self._create_posix("pshm", make_shm) for _ in range(spec.posix_shm)]
        sems = [self._create_posix("psem", lambda n: posix.sem_close(posix.sem_open(n, os.O_CREAT | os.O_EXCL,
                                                                                       0o600, 1)))
                for _ in range(spec.posix_sems)]

        def make_queue(name: str) -> None:
            fd = posix.mq_open(name, excl, 0o600, 8, 128)
            for n in range(3):
                posix.mq_send(fd, bytes(16 + n), n)
            os.close(fd)

        queues = [self._create_posix("pmsg", make_queue) for _ in range(spec.posix_queues)]

        def hold(index: int) -> None:
            for n, name in enumerate(shms[index :: spec.posix_holders]):
                fd = posix.shm_open(name, os.O_RDWR)
                libc_mmap(fd, 4096)
                if n % 2:
                    os.close(fd)  # mapped only, as PostgreSQL does
            for name in sems[index :: spec.posix_holders]:
                posix.sem_open(name, 0)
            for name in queues[index :: spec.posix_holders]:
                posix.mq_open(name, os.O_RDWR)
            memfd = os.memfd_create(f"bench-{index}")
            os.ftruncate(memfd, 8192)
            libc_mmap(memfd, 8192)

        for index in range(spec.posix_holders):
            self._fork(lambda index=index: hold(index))

    def anonymous_memory(self) -> None:
        """Shared anonymous mappings, two per process, each process with a forked child sharing them."""
        for start in range(0, self.spec.anon_shared, 2):
            count = min(2, self.spec.anon_shared - start)

            def share(count: int = count) -> None:
                for _ in range(count):
                    area = mmap.mmap(-1, 1 << 20, flags=mmap.MAP_SHARED)
                    area[:: 1 << 14] = bytes(64)  # some pages resident
                    _kept.append(area)
                self._fork(lambda: None)

            self._fork(share)

    def namespaces(self) -> None:
        """Processes in IPC namespaces of their own (unshare), each with its objects: they are in the
        world's process group, and a namespace's objects go with its last process."""
        per = self.spec.objects_per_namespace
        shm, msg = (per * 4 + 9) // 10, (per * 3 + 9) // 10
        sem = max(0, per - shm - msg)
        ready_read, ready_write = os.pipe()
        libc = ctypes.CDLL(None, use_errno=True)

        def inhabit() -> None:
            if libc.unshare(CLONE_NEWIPC) != 0:
                os._exit(1)
            flags = sysv.IPC_CREAT | 0o600
            for _ in range(shm):
                sysv.shmat(sysv.shmget(sysv.IPC_PRIVATE, self.spec.segment_size, flags))
            for n in range(msg):
                msqid = sysv.msgget(sysv.IPC_PRIVATE, flags)
                for m in range(2):
                    sysv.msgsnd(msqid, 1 + m, bytes(32 + n), nowait=True)
            for n in range(sem):
                sysv.sem_setall(sysv.semget(sysv.IPC_PRIVATE, 2, flags), [n % 3, 1])
            self._fork(lambda: None)  # a worker that inherits the attachments: nattch 2
            os.write(ready_write, b".")

        for _ in range(self.spec.namespaces):
            self._fork(inhabit)
        os.close(ready_write)
        got = b""
        deadline = time.monotonic() + 120
        while len(got) < self.spec.namespaces and time.monotonic() < deadline:
            got += os.read(ready_read, 4096)
        os.close(ready_read)
        if len(got) < self.spec.namespaces:
            raise RuntimeError(f"only {len(got)} of {self.spec.namespaces} IPC namespaces came up")

    def pipe_hoard(self) -> None:
        """One process holding `pipe_hoarder` pipes, both ends of each (a byte in every tenth)."""
        count = self.spec.pipe_hoarder
        if not count:
            return
        ready_read, ready_write = os.pipe()

        def hoard() -> None:
            # the soft limit up to the hard one (raising the hard one needs CAP_SYS_RESOURCE, which a
            # container's root may lack); the few fds the fork inherited fit in what is left
            wanted = 2 * count + 64
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            try:
                if soft < wanted:
                    limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
                    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
                for n in range(count):
                    _, w = os.pipe()
                    if n % 10 == 0:
                        os.write(w, b".")
            except OSError as error:
                os.write(ready_write, f"x{error} (fd limit {soft}/{hard})".encode())
                return
            os.write(ready_write, b".")

        self._fork(hoard)
        os.close(ready_write)
        got = os.read(ready_read, 4096)
        os.close(ready_read)
        if got != b".":
            raise RuntimeError(f"the process holding {count} pipes could not make them: "
                               f"{got[1:].decode(errors='replace') or 'it died'}")

    def idle(self) -> None:
        """The plain processes that make up the count; with `extra_fds`, groups of 100 share a pipe (both
        ends), a socket pair, a file and /dev/null and /dev/zero, the first `extra_fds` of those."""
        group: tuple[int, ...] = ()
        for n in range(self.spec.idle_processes):
            if self.spec.extra_fds and n % 100 == 0:
                for fd in group:
                    os.close(fd)
                group = self._group_fds(n // 100)[: self.spec.extra_fds]
            self._sleep(keep=group)
        for fd in group:
            os.close(fd)

    def _group_fds(self, index: int) -> tuple[int, ...]:
        r, w = os.pipe()
        a, b = socket.socketpair()
        path = os.path.join(self.directory, f"group-{index}")
        file_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        null, zero = os.open(os.devnull, os.O_RDONLY), os.open("/dev/zero", os.O_RDONLY)
        return r, w, a.detach(), b.detach(), file_fd, null, zero

    def _wait_for(self, predicate, what: str, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            time.sleep(0.02)

    def build(self) -> None:
        self.segments()
        self.posix_objects()
        self.anonymous_memory()
        self.semaphores()
        self.queues()
        self.fifos()
        self.pipelines()
        self.namespaces()
        self.pipe_hoard()
        self.idle()
        self.manifest.close()
        os.write(self.ready_fd, f"ready {os.getpid()}\n".encode())
        os.close(self.ready_fd)


def main(argv: list[str]) -> None:
    spec = WorldSpec.from_json(argv[0])
    builder = Builder(spec, argv[1], int(argv[2]))
    try:
        builder.build()
    except Exception as error:  # the runner shows this line and tears the world down
        with contextlib.suppress(OSError):
            os.write(builder.ready_fd, f"error {error}\n".encode())
        raise
    while True:
        signal.pause()


if __name__ == "__main__":
    main(sys.argv[1:])
