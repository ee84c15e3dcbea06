"""The sem-race demo: a counter in shared memory, incremented by two processes
without and then with a semaphore.  See catalog.py for the lesson.

Each increment is `v = *counter; sched_yield(); *counter = v + 1;`: the yield
between the read and the write lets the other worker in, so that the race
loses updates every time on one core or two, in a fraction of a second.
"""

from __future__ import annotations

import ctypes
import os

from ipctop.demos.context import ChildContext, DemoContext
from ipctop.demos.shm import SIZE, attach, detach, tell_nattch
from ipctop.kernel import sysv

INCREMENTS = 20_000  # per worker and per run
MUTEX, DONE = 0, 1  # the set's two semaphores: the lock, and a count of workers that finished


def sem_race(ctx: DemoContext) -> None:
    ctx.step("create", "A counter in a shared segment, and a semaphore set: [0] the lock, [1] done")
    shmid, _ = ctx.create_shm(SIZE, 0o600)
    semid, _ = ctx.create_sem(2, 0o600)
    sysv.sem_setval(semid, MUTEX, 1)
    ctx.call(f"semctl({semid}, {MUTEX}, SETVAL, 1)", 0)
    address = attach(ctx, shmid)
    counter = ctypes.c_long.from_address(address)
    counter.value = 0
    ctx.call(f"*(long *){address:#x} = 0")

    def worker_body(child: ChildContext) -> None:
        child.wait_poke()
        for _ in range(INCREMENTS):
            value = counter.value
            os.sched_yield()
            counter.value = value + 1
        child.call(f"{INCREMENTS} × {{ v = *counter; sched_yield(); *counter = v + 1; }} done")
        child.around(f"semop({semid}, {{{DONE}, +1, 0}}, 1)", lambda: sysv.semop(semid, DONE, 1), lambda _none: 0)
        child.wait_poke()
        for _ in range(INCREMENTS):
            sysv.semop(semid, MUTEX, -1, undo=True)
            value = counter.value
            os.sched_yield()
            counter.value = value + 1
            sysv.semop(semid, MUTEX, 1, undo=True)
        child.call(f"{INCREMENTS} × {{ semop({semid}, {{{MUTEX}, -1, SEM_UNDO}}, 1); v = *counter; sched_yield(); "
                   f"*counter = v + 1; semop({semid}, {{{MUTEX}, +1, SEM_UNDO}}, 1); }} done")
        child.around(f"semop({semid}, {{{DONE}, +1, 0}}, 1)", lambda: sysv.semop(semid, DONE, 1), lambda _none: 0)
        child.wait_poke()
        child.call("exit(0)")

    ctx.step("workers", "Two workers are forked: they inherit the attachment (nattch 3)")
    workers = [ctx.fork("worker", worker_body) for _ in range(2)]
    tell_nattch(ctx, shmid)
    expected = 2 * INCREMENTS
    ctx.result("expected", expected)

    def run(label: str) -> int:
        for worker in workers:
            ctx.poke(worker)
        ctx.around(f"semop({semid}, {{{DONE}, -2, 0}}, 1)", lambda: sysv.semop(semid, DONE, -2),
                   lambda _none: "0 (both workers are done)")  # fmt: skip
        got = counter.value
        ctx.note(f"{label}: expected {expected}, got {got}: {expected - got} updates lost")
        return got

    ctx.step("race", f"Each worker adds 1 to the counter {INCREMENTS} times, with no lock")
    got = run("without a semaphore")
    ctx.result("race_got", got)
    ctx.result("race_lost", expected - got)
    ctx.note("both read the same value, both write value + 1: one increment vanishes")

    ctx.step("locked", "Again from 0, each increment between semop -1 and semop +1 on the lock")
    counter.value = 0
    ctx.call(f"*(long *){address:#x} = 0")
    got = run("with a semaphore")
    ctx.result("locked_got", got)
    ctx.result("locked_lost", expected - got)
    ctx.note("SEM_UNDO gives the lock back if a worker dies holding it")

    ctx.step("end", "The workers exit; the parent detaches and removes both objects")
    for worker in workers:
        ctx.poke(worker)
        ctx.reap_and_tell(worker)
    detach(ctx, address)
    ctx.remove("shm", shmid)
    ctx.remove("sem", semid)
