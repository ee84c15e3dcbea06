"""The posix-sem demo: a counter in POSIX shared memory incremented by two processes, without and then
with a named semaphore.  See catalog.py for the lesson.

As in sem-race, each increment is `v = *counter; sched_yield(); *counter = v + 1;`
so that the race loses updates on one core or two.  A second named semaphore,
`done`, counts the workers that finished a round.
"""

from __future__ import annotations

import ctypes
import os

from ipctop.demos import ccalls
from ipctop.demos.context import ChildContext, DemoContext
from ipctop.demos.posix_shm import map_fd, unmap
from ipctop.kernel import posix

INCREMENTS = 20_000
SIZE = 4096


def posix_sem(ctx: DemoContext) -> None:
    ctx.step("create", "A counter in POSIX shared memory, and two named semaphores: the lock (1) and done (0)")
    fd, shm_name = ctx.create_posix(
        "pshm", lambda n: posix.shm_open(n, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600),
        lambda n: f"shm_open({ccalls.cstr(n.encode(), 64)}, O_CREAT|O_EXCL|O_RDWR, 0600)")
    os.ftruncate(fd, SIZE)
    ctx.call(f"ftruncate({fd}, {SIZE})", 0)
    area = map_fd(ctx, fd, SIZE)
    ctx.close(fd)
    counter = ctypes.c_long.from_address(area)
    lock, lock_name = ctx.create_posix(
        "psem", lambda n: posix.sem_open(n, os.O_CREAT | os.O_EXCL, 0o600, 1),
        lambda n: f"sem_open({ccalls.cstr(n.encode(), 64)}, O_CREAT|O_EXCL, 0600, 1)", ccalls.pointer)
    done, done_name = ctx.create_posix(
        "psem", lambda n: posix.sem_open(n, os.O_CREAT | os.O_EXCL, 0o600, 0),
        lambda n: f"sem_open({ccalls.cstr(n.encode(), 64)}, O_CREAT|O_EXCL, 0600, 0)", ccalls.pointer)
    ctx.note(f"they are the files /dev/shm/sem.{lock_name[1:]} and sem.{done_name[1:]}: glibc maps each and "
             "closes its fd, so a semaphore's holders are the processes that map it")

    def worker_body(child: ChildContext) -> None:
        my_lock = posix.sem_open(lock_name, 0)
        child.call(f"sem_open({ccalls.cstr(lock_name.encode(), 64)}, 0)", ccalls.pointer(my_lock))
        child.ack()
        child.wait_poke()
        for _ in range(INCREMENTS):
            value = counter.value
            os.sched_yield()
            counter.value = value + 1
        child.call(f"{INCREMENTS} × {{ v = *counter; sched_yield(); *counter = v + 1; }} done; sem_post(done)")
        posix.sem_post(done)
        child.wait_poke()
        for _ in range(INCREMENTS):
            posix.sem_wait(my_lock)
            value = counter.value
            os.sched_yield()
            counter.value = value + 1
            posix.sem_post(my_lock)
        child.call(f"{INCREMENTS} × {{ sem_wait(lock); v = *counter; sched_yield(); *counter = v + 1; "
                   "sem_post(lock); } done; sem_post(done)")
        posix.sem_post(done)
        child.wait_poke()
        posix.sem_close(my_lock)
        child.call("sem_close(lock); exit(0)")

    ctx.step("workers", "Two workers are forked; each opens the lock by its name")
    workers = [ctx.fork("worker", worker_body) for _ in range(2)]
    for worker in workers:
        ctx.wait_ack(worker)
    ctx.note("look: the lock is mapped by three processes, the counter's memory too (inherited)")
    expected = 2 * INCREMENTS
    ctx.result("expected", expected)

    def run(label: str) -> int:
        for worker in workers:
            ctx.poke(worker)
        for _ in workers:
            posix.sem_wait(done)
        ctx.call("sem_wait(done); sem_wait(done)", "0 (both workers are done)")
        got = counter.value
        ctx.note(f"{label}: expected {expected}, got {got}: {expected - got} updates lost")
        return got

    ctx.step("race", f"Each worker adds 1 to the counter {INCREMENTS} times, with no lock")
    counter.value = 0
    got = run("without the semaphore")
    ctx.result("race_got", got)
    ctx.result("race_lost", expected - got)

    ctx.step("locked", "Again from 0, each increment between sem_wait and sem_post on the lock")
    counter.value = 0
    got = run("with the semaphore")
    ctx.result("locked_got", got)
    ctx.result("locked_lost", expected - got)
    ctx.note("unlike SEM_UNDO in System V, nothing gives a POSIX semaphore back if a worker dies holding it")

    ctx.step("end", "The workers exit; the parent closes and unlinks everything")
    for worker in workers:
        ctx.poke(worker)
        ctx.reap_and_tell(worker)
    unmap(ctx, area, SIZE)
    for address, name in ((lock, lock_name), (done, done_name)):
        posix.sem_close(address)
        ctx.call(f"sem_close({ccalls.pointer(address)})", 0)
        ctx.unlink_posix("psem", name)
    ctx.unlink_posix("pshm", shm_name)
